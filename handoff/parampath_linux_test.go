package handoff

import (
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/plan"
)

// TestParamPath follows one value from the command line to the three
// places that use it: the plan, the kernel's parameters before the login,
// and the node record for iscsid.
func TestParamPath(t *testing.T) {
	p, err := plan.FromCmdline("netroot=iscsi:10.0.2.2::::iqn.2025-01.test:disk1 rd.iscsi.initiator=iqn.2025-01.test:i " +
		"rd.iscsi.param=node.session.timeo.replacement_timeout=25 rd.iscsi.param=node.session.iscsi.FastAbort=No " +
		"rd.iscsi.param=node.sesion.scan=manual")
	if err != nil {
		t.Fatal(err)
	}
	p = plan.Merge(nil, p, nil)
	if _, ok := p.Params["node.sesion.scan"]; ok || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "node.sesion.scan ignored") {
		t.Errorf("misspelled name: params %v, warnings %q: want it warned about and left out", p.Params, p.Warnings)
	}
	l, err := boot.KernelLogin(p, &p.Targets[0], p.Targets[0].Portals[0])
	if err != nil {
		t.Fatal(err)
	}
	kernel := map[string]string{}
	for _, x := range l.Params {
		kernel[x.Param.String()] = x.Value
	}
	for k, want := range map[string]string{"ISCSI_PARAM_SESS_RECOVERY_TMO": "25", "ISCSI_PARAM_FAST_ABORT": "0",
		"ISCSI_PARAM_PING_TMO": "0", "ISCSI_PARAM_RECV_TMO": "0", "ISCSI_PARAM_ABORT_TMO": "15"} {
		if kernel[k] != want {
			t.Errorf("kernel %s = %q, want %q", k, kernel[k], want)
		}
	}
	b, err := NewNodeRecord(p, &p.Targets[0], p.Targets[0].Portals[0], 1).MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"node.session.timeo.replacement_timeout = 25\n", "node.session.iscsi.FastAbort = No\n",
		"node.conn[0].timeo.noop_out_interval = 0\n", "node.session.scan = auto\n"} {
		if !strings.Contains(string(b), line) {
			t.Errorf("record lacks %q:\n%s", line, b)
		}
	}
}
