package handoff

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/core/kernel"
)

// TestNodeRecordsFromSysfs keys each session's record by what the kernel
// shows for it, as iscsid does: the persistent portal (the original one
// after a temporary redirect, not the portal logged in to) and the portal
// group tag the target sent, not the plan's. Sessions without a kernel
// session, or of a target not in the plan, get none.
func TestNodeRecordsFromSysfs(t *testing.T) {
	root := t.TempDir()
	write := func(rel, v string) {
		p := filepath.Join(root, "sys", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("class/iscsi_session/session3/targetname", "iqn.2025-01.test:disk1")
	write("class/iscsi_session/session3/state", "LOGGED_IN")
	write("class/iscsi_session/session3/tpgt", "5")
	write("class/iscsi_connection/connection3:0/persistent_address", "10.0.2.2")
	write("class/iscsi_connection/connection3:0/persistent_port", "3260")
	write("class/iscsi_session/session4/targetname", "iqn.2025-01.test:other")
	write("class/iscsi_session/session4/tpgt", "1")

	p := handoffPlan()
	p.Targets[0].Auth = plan.Auth{Method: plan.AuthCHAP, Username: "u", Password: "p"}
	k := &boot.Kernel{Initiator: kernel.NewInitiator(nil, kernel.Sysfs{Root: root}, 0)}
	got := NodeRecords(k, p, []*boot.Session{
		{Target: "iqn.2025-01.test:disk1", Portal: plan.Portal{Address: "10.0.2.9", Port: 3260}, SID: 3}, // redirected there
		{Target: "iqn.2025-01.test:disk1", SID: -1},
		{Target: "iqn.2025-01.test:other", SID: 4},
	})
	want := []NodeRecord{NewNodeRecord(p, &p.Targets[0], plan.Portal{Address: "10.0.2.2", Port: 3260}, 5)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if got := got[0].Path(); got != "iqn.2025-01.test:disk1/10.0.2.2,3260,5/default" {
		t.Errorf("path %q", got)
	}
}
