package boot

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// TestTargetsFromDHCPHostile: a DHCP lease's initiator name (option 203)
// and root path (option 17) come from any machine on the segment. One with
// a line break, a NUL (a forged login key) or an escape sequence is dropped
// with a warning that names the option and shows the value escaped; it
// never becomes the plan's initiator or a target.
func TestTargetsFromDHCPHostile(t *testing.T) {
	const good = "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1"
	for _, tc := range []struct {
		name      string
		lease     netcfg.Result
		option    string
		initiator string // the plan's initiator after the step
		targets   int
	}{
		{"initiator with newline", netcfg.Result{Name: "eth0", RootPath: good, InitiatorName: "iqn.2025-01.test:a\nInitiatorName=iqn.2025-01.evil:x"}, "option 203", "", 1},
		{"initiator with NUL", netcfg.Result{Name: "eth0", RootPath: good, InitiatorName: "iqn.2025-01.test:a\x00TargetName=iqn.2025-01.evil:x"}, "option 203", "", 1},
		{"initiator not an iSCSI name", netcfg.Result{Name: "eth0", RootPath: good, InitiatorName: "root"}, "option 203", "", 1},
		{"root path with newline", netcfg.Result{Name: "eth0", RootPath: good + "\nx", InitiatorName: "iqn.2025-01.test:init"}, "option 17", "iqn.2025-01.test:init", 0},
		{"root path with escape", netcfg.Result{Name: "eth0", RootPath: "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:\x1b[2J"}, "option 17", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			logf := func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
			p := &plan.Plan{DHCPRootPath: true}
			err := TargetsFromDHCP(p, []netcfg.Result{tc.lease}, logf)
			if p.Initiator != tc.initiator || len(p.Targets) != tc.targets {
				t.Errorf("initiator %q, %d targets; want %q, %d", p.Initiator, len(p.Targets), tc.initiator, tc.targets)
			}
			if (err != nil) != (tc.targets == 0) {
				t.Errorf("error %v with %d targets", err, tc.targets)
			}
			bad := tc.lease.InitiatorName
			if tc.option == "option 17" {
				bad = tc.lease.RootPath
			}
			found := false
			for _, l := range log {
				if strings.ContainsAny(l, "\n\x00\x1b") {
					t.Errorf("log line %q holds a control byte", l)
				}
				if strings.HasPrefix(l, "warning: eth0: DHCP "+tc.option+" ") && strings.Contains(l, esc.String(bad)) {
					found = true
				}
			}
			if !found {
				t.Errorf("no warning naming %s and %q in %q", tc.option, bad, log)
			}
		})
	}
	// A good lease still gives both.
	p := &plan.Plan{DHCPRootPath: true}
	if err := TargetsFromDHCP(p, []netcfg.Result{{Name: "eth0", RootPath: good, InitiatorName: "iqn.2025-01.test:init", ServerAddr: netip.MustParseAddr("10.0.0.1")}}, func(string, ...any) {}); err != nil || p.Initiator != "iqn.2025-01.test:init" || len(p.Targets) != 1 {
		t.Errorf("good lease: %v, initiator %q, targets %v", err, p.Initiator, p.Targets)
	}
}
