package handoff

import (
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/plan"
)

// TestPlanMultipath: the path role decides the timers. A target with two
// portals is a multipath root with the open-iscsi README's section 8.1
// timers; one portal keeps section 8.2's; rd.multipath=0 turns it off;
// rd.iscsi.param wins over either, and the node records for iscsid carry
// the same values.
func TestPlanMultipath(t *testing.T) {
	const two = "netroot=iscsi:10.0.2.2::3260::iqn.2025-01.test:disk1 netroot=iscsi:[fec0::2]::3260::iqn.2025-01.test:disk1"
	for _, c := range []struct {
		name, cmdline string
		multipath     bool
		// replacement, noop interval, noop timeout
		want [3]string
	}{
		{"one portal", "netroot=iscsi:10.0.2.2::3260::iqn.2025-01.test:disk1", false, [3]string{"86400", "0", "0"}},
		{"two portals", two, true, [3]string{"5", "5", "10"}},
		{"two portals, rd.multipath=0", two + " rd.multipath=0", false, [3]string{"86400", "0", "0"}},
		{"two portals, rd.multipath=default", two + " rd.multipath=default", true, [3]string{"5", "5", "10"}},
		{"rd.iscsi.param wins", two + " rd.iscsi.param=node.session.timeo.replacement_timeout=30 rd.iscsi.param=node.conn[0].timeo.noop_out_interval=0",
			true, [3]string{"30", "0", "10"}},
		{"one portal, its own timers", "netroot=iscsi:10.0.2.2::3260::iqn.2025-01.test:disk1 rd.iscsi.param=node.session.timeo.replacement_timeout=15",
			false, [3]string{"15", "0", "0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cp, err := plan.FromCmdline(c.cmdline)
			if err != nil {
				t.Fatal(err)
			}
			p := plan.Merge(nil, cp, nil)
			plan.PlanMultipath(p, cp)
			if p.Multipath != c.multipath {
				t.Errorf("multipath %v, want %v", p.Multipath, c.multipath)
			}
			got := [3]string{p.ParamValue("node.session.timeo.replacement_timeout"), p.ParamValue("node.conn[0].timeo.noop_out_interval"), p.ParamValue("node.conn[0].timeo.noop_out_timeout")}
			if got != c.want {
				t.Errorf("timers %v, want %v", got, c.want)
			}
			rec := NewNodeRecord(p, &p.Targets[0], p.Targets[0].Portals[0], 1)
			text, err := rec.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			if w := "node.session.timeo.replacement_timeout = " + c.want[0] + "\n"; !strings.Contains(string(text), w) {
				t.Errorf("node record lacks %q", w)
			}
			if w := "node.conn[0].timeo.noop_out_timeout = " + c.want[2] + "\n"; !strings.Contains(string(text), w) {
				t.Errorf("node record lacks %q", w)
			}
		})
	}
}
