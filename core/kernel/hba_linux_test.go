package kernel

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iscsiboot/iscsiboot/internal/sysfstree"
)

func qla4xxx(t *testing.T) (*tree, Transport) {
	tr := newTree(t)
	sysfstree.Load(t, tr.root, sysfstree.QLA4xxx)
	tp, err := tr.sysfs().Transport("qla4xxx")
	if err != nil {
		t.Fatal(err)
	}
	return tr, tp
}

func TestHBATransportRoute(t *testing.T) {
	_, tp := qla4xxx(t)
	if tp.Route() != RouteHBA {
		t.Errorf("qla4xxx caps %#x: route %v, want %v", tp.Caps, tp.Route(), RouteHBA)
	}
}

func TestHBASessionLogin(t *testing.T) {
	tr, tp := qla4xxx(t)
	k := NewHBAInitiator(tr.sysfs(), tp)
	for _, tt := range []struct {
		name string
		l    Login
		want Session
	}{
		{"boot target, any LUN", Login{Portal: "192.0.2.9:3260", HBA: "host3", AnyLUN: true}, Session{SID: 1, Host: 3, Device: "sdb", Portal: "192.0.2.9:3260"}},
		{"boot target, LUN 1, any host", Login{Portal: "192.0.2.9:3260", LUN: 1}, Session{SID: 1, Host: 3, Device: "sdb", Portal: "192.0.2.9:3260"}},
		{"IPv4-mapped portal", Login{Portal: "[::ffff:192.0.2.9]:3260", HBA: "host3", AnyLUN: true}, Session{SID: 1, Host: 3, Device: "sdb", Portal: "[::ffff:192.0.2.9]:3260"}},
		{"no scan", Login{Portal: "192.0.2.9:3260", HBA: "host3", NoScan: true}, Session{SID: 1, Host: 3, Portal: "192.0.2.9:3260"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.l
			l.Config.TargetName = "iqn.2025-01.test:hba-disk"
			got, err := k.Login(context.Background(), &l)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, *got); d != "" {
				t.Errorf("Login (-want +got):\n%s", d)
			}
		})
	}
}

// TestHBASessionMissing: the HBA has sessions, but none to the boot
// target on its host (another host, another portal, not logged in): the
// wait is bounded and ends in one line naming the transport, the target,
// the portal and the host, and what the host has.
func TestHBASessionMissing(t *testing.T) {
	tr, tp := qla4xxx(t)
	tr.file("class/iscsi_session/session2/state", "FAILED\n")
	k := NewHBAInitiator(tr.sysfs(), tp)
	k.HBAWait = 300 * time.Millisecond
	for _, tt := range []struct {
		name, target, portal, host string
		has                        []string
	}{
		{"other host", "iqn.2025-01.test:hba-disk", "192.0.2.9:3260", "host4", []string{"on host4", "(it has: none)"}},
		{"other port", "iqn.2025-01.test:hba-disk", "192.0.2.9:3261", "host3", []string{"at 192.0.2.9:3261 on host3", "iqn.2025-01.test:hba-disk at 192.0.2.9:3260 (LOGGED_IN)"}},
		{"not logged in", "iqn.2025-01.test:hba-data", "192.0.2.9:3260", "host3", []string{"iqn.2025-01.test:hba-data at 192.0.2.9:3260 (FAILED)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := &Login{Portal: tt.portal, HBA: tt.host, AnyLUN: true}
			l.Config.TargetName = tt.target
			begin := time.Now()
			_, err := k.Login(context.Background(), l)
			if !errors.Is(err, ErrNoHBASession) || !errors.Is(err, ErrFatal) {
				t.Fatalf("Login = %v, want ErrNoHBASession, fatal", err)
			}
			if took := time.Since(begin); took > 5*time.Second {
				t.Errorf("took %v, want about HBAWait", took)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "qla4xxx logs in by itself") || !strings.Contains(msg, tt.target) {
				t.Errorf("error %q: want one line naming qla4xxx and %s", msg, tt.target)
			}
			for _, s := range tt.has {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q: want %q", msg, s)
				}
			}
		})
	}
}

// TestHBASessionLate: the HBA's session appears while the boot waits.
func TestHBASessionLate(t *testing.T) {
	tr, tp := qla4xxx(t)
	tr.file("class/iscsi_session/session1/state", "FAILED\n")
	k := NewHBAInitiator(tr.sysfs(), tp)
	k.HBAWait = 10 * time.Second
	go func() {
		time.Sleep(3 * HBAPoll)
		os.WriteFile(tr.root+"/sys/class/iscsi_session/session1/state", []byte("LOGGED_IN\n"), 0o644)
	}()
	l := &Login{Portal: "192.0.2.9:3260", HBA: "iscsi_boot3", AnyLUN: true}
	l.Config.TargetName = "iqn.2025-01.test:hba-disk"
	s, err := k.Login(context.Background(), l)
	if err != nil || s.Device != "sdb" {
		t.Fatalf("Login = %+v, %v; want session 1 with sdb", s, err)
	}
}

// TestHBASessionHostile: values a broken or hostile HBA or target puts in
// sysfs: control bytes in the target name (escaped in the error, never
// matched), an attribute longer than the kernel's page (refused, not read
// whole), a host name that is not one.
func TestHBASessionHostile(t *testing.T) {
	tr, tp := qla4xxx(t)
	tr.file("class/iscsi_session/session2/targetname", "iqn.2025-01.test:evil\x1b[2J\r\n")
	tr.file("class/iscsi_connection/connection1:0/persistent_address", strings.Repeat("9", 1<<20))
	k := NewHBAInitiator(tr.sysfs(), tp)
	k.HBAWait = 200 * time.Millisecond

	l := &Login{Portal: "192.0.2.9:3260", HBA: "host3", AnyLUN: true}
	l.Config.TargetName = "iqn.2025-01.test:hba-disk"
	_, err := k.Login(context.Background(), l)
	if !errors.Is(err, ErrNoHBASession) {
		t.Fatalf("Login with a 1 MiB persistent_address = %v, want ErrNoHBASession", err)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\r\n") || len(msg) > 1000 {
		t.Errorf("error %q: want control bytes escaped, the huge value left out", msg)
	}
	if !strings.Contains(msg, `iqn.2025-01.test:evil\x1b[2J`) {
		t.Errorf("error %q: want the hostile name escaped", msg)
	}

	l.HBA = "host3/../../etc"
	if _, err := k.Login(context.Background(), l); !errors.Is(err, errHostName) || !strings.Contains(err.Error(), "qla4xxx") {
		t.Errorf("Login on host %q = %v, want errHostName naming qla4xxx", l.HBA, err)
	}
	if _, err := tr.sysfs().read("class", "iscsi_connection", "connection1:0", "persistent_address"); !errors.Is(err, errAttrSize) {
		t.Errorf("read of a 1 MiB attribute = %v, want errAttrSize", err)
	}
}

func TestParseHostName(t *testing.T) {
	for in, want := range map[string]int{"host3": 3, "iscsi_boot12": 12, "host0": 0, "host": -1, "host03": -1, "host-1": -1, "sda": -1, "host1x": -1} {
		got, err := ParseHostName(in)
		if got != want || (want < 0) != (err != nil) {
			t.Errorf("ParseHostName(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestISCSIHost(t *testing.T) {
	tr, _ := qla4xxx(t)
	got, err := tr.sysfs().ISCSIHost(3)
	if want := (HostInfo{HWAddress: "00:0e:1e:00:00:01", IPAddress: "192.0.2.7"}); err != nil || got != want {
		t.Errorf("ISCSIHost(3) = %+v, %v; want %+v", got, err, want)
	}
	// What the HBA's firmware may put there that is no MAC or address.
	tr.file("class/iscsi_host/host3/hwaddress", "00:0e:1e:00:00:01\nnode.startup = automatic\n")
	tr.file("class/iscsi_host/host3/ipaddress", "192.0.2.7/../x")
	tr.file("class/iscsi_host/host3/netdev", "eth\x1b0")
	if got, err := tr.sysfs().ISCSIHost(3); err != nil || got != (HostInfo{}) {
		t.Errorf("ISCSIHost(3) of hostile values = %+v, %v; want them all left empty", got, err)
	}
	if _, err := tr.sysfs().ISCSIHost(4); err == nil || !strings.Contains(err.Error(), "host4") {
		t.Errorf("ISCSIHost(4) = %v, want an error naming host4", err)
	}
}
