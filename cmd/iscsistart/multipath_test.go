package main

import (
	"encoding/json"
	"testing"
)

// TestPlanMultipath: --plan says whether the boot is a multipath one and
// with which timers: two portals of one target are, one portal is not,
// rd.multipath=0 turns it off, -P wins, and --multipath asks for it with
// one portal (the drop-in's flag).
func TestPlanMultipath(t *testing.T) {
	const two = "netroot=iscsi:10.0.2.2::3260::iqn.2025-01.test:disk1 netroot=iscsi:[fd00::2]::3260::iqn.2025-01.test:disk1"
	const one = "netroot=iscsi:10.0.2.2::3260::iqn.2025-01.test:disk1"
	for _, c := range []struct {
		name      string
		args      []string
		multipath bool
		want      [3]string // replacement, NOP-Out interval, NOP-Out timeout
	}{
		{"two portals", []string{"--cmdline", two}, true, [3]string{"5", "5", "10"}},
		{"one portal", []string{"--cmdline", one}, false, [3]string{"86400", "0", "0"}},
		{"rd.multipath=0", []string{"--cmdline", two + " rd.multipath=0"}, false, [3]string{"86400", "0", "0"}},
		{"-P wins", []string{"--cmdline", two, "-P", "node.session.timeo.replacement_timeout=15"}, true, [3]string{"15", "5", "10"}},
		{"--multipath", []string{"--cmdline", one, "--multipath"}, true, [3]string{"5", "5", "10"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runCLI(t, append([]string{"--plan"}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var p struct {
				Multipath bool              `json:"multipath"`
				Params    map[string]string `json:"params"`
			}
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatal(err)
			}
			got := [3]string{p.Params["node.session.timeo.replacement_timeout"], p.Params["node.conn[0].timeo.noop_out_interval"],
				p.Params["node.conn[0].timeo.noop_out_timeout"]}
			if p.Multipath != c.multipath || got != c.want {
				t.Errorf("multipath %v timers %v, want %v %v", p.Multipath, got, c.multipath, c.want)
			}
		})
	}
}
