package handoff

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/sysfstree"
	"github.com/iscsiboot/iscsiboot/plan"
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

// TestNodeRecordsHBA: a QLogic HBA that logged in to its flash boot
// target by itself, from its /sys/firmware/iscsi_boot3 to the node record:
// the firmware's plan, the HBA's session found (no login of ours), and
// the record open-iscsi's firmware mode would write for it, with the iface
// named after the host's transport, MAC and address family.
func TestNodeRecordsHBA(t *testing.T) {
	root := t.TempDir()
	sysfstree.Load(t, root, sysfstree.QLA4xxx)
	ctx := context.Background()
	tab, err := ibft.Load(ctx, ibft.WithRoot(root), ibft.WithMemory(bytes.NewReader(nil)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.FromIBFT(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys := kernel.Sysfs{Root: root}
	tr, err := sys.Transport(p.Transport)
	if err != nil {
		t.Fatal(err)
	}
	k := &boot.Kernel{Initiator: kernel.NewHBAInitiator(sys, tr)}
	tg := &p.Targets[0]
	s, err := k.Login(ctx, p, tg, tg.Portals[0])
	if err != nil {
		t.Fatal(err)
	}
	if s.SID != 1 || s.Device != "sdb" || !s.Already {
		t.Errorf("session %+v: want the HBA's session 1 with sdb, already there", s)
	}
	recs := NodeRecords(k, p, []*boot.Session{s})
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	const iface = "qla4xxx.00:0e:1e:00:00:01.ipv4.0"
	if got, want := recs[0].Path(), "iqn.2025-01.test:hba-disk/192.0.2.9,3260,1/"+iface; got != want {
		t.Errorf("record path %s, want %s", got, want)
	}
	text, err := recs[0].MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"node.name = iqn.2025-01.test:hba-disk",
		"iface.iscsi_ifacename = " + iface,
		"iface.ipaddress = 192.0.2.7",
		"iface.hwaddress = 00:0e:1e:00:00:01",
		"iface.transport_name = qla4xxx",
		"node.conn[0].address = 192.0.2.9",
		"node.session.auth.username = hbauser",
	} {
		if !strings.Contains(string(text), "\n"+line+"\n") {
			t.Errorf("record lacks %q:\n%s", line, text)
		}
	}
}
