package handoff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/internal/nstest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { nstest.Main(m) }

// bootWithRecords returns an initramfs root holding what Boot leaves for
// two sessions, the records, and their paths under a node database.
func bootWithRecords(t *testing.T) (string, []NodeRecord, []string) {
	t.Helper()
	initramfs := t.TempDir()
	p := &plan.Plan{Initiator: "iqn.2025-01.test:i", Params: plan.DefaultParams(), Targets: []plan.Target{
		{Name: "iqn.2025-01.test:a", Portals: []plan.Portal{{Address: "10.0.2.2", Port: 3260}}},
		{Name: "iqn.2025-01.test:b", Portals: []plan.Portal{{Address: "10.0.2.3", Port: 3261}},
			Auth: plan.Auth{Method: plan.AuthCHAP, Username: "u", Password: "pw-secret-1"}},
	}}
	var recs []NodeRecord
	var paths []string
	for i := range p.Targets {
		r := NewNodeRecord(p, &p.Targets[i], p.Targets[i].Portals[0], 1)
		recs = append(recs, r)
		paths = append(paths, r.Path())
	}
	if err := WriteHandoff(initramfs, p, recs); err != nil {
		t.Fatal(err)
	}
	return initramfs, recs, paths
}

func mkdirs(t *testing.T, root string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInstallNodeRecords(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dirs    []string
		db      string // "" when nothing may be installed
		wantMsg string
	}{
		{"Debian", []string{"etc/iscsi"}, "etc/iscsi/nodes", "node records: 2 installed in /etc/iscsi/nodes"},
		{"Fedora", []string{"etc/iscsi", "var/lib/iscsi"}, "var/lib/iscsi/nodes", "node records: 2 installed in /var/lib/iscsi/nodes"},
		{"no open-iscsi", []string{"etc"}, "", "the root has no /etc/iscsi or /var/lib/iscsi (no open-iscsi): 2 left in /run/iscsiboot/nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			initramfs, recs, paths := bootWithRecords(t)
			root := t.TempDir()
			mkdirs(t, root, tc.dirs...)
			msg, err := installNodeRecords(initramfs, root, recs)
			if err != nil || !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("got %q, %v; want %q", msg, err, tc.wantMsg)
			}
			if tc.db == "" {
				if _, err := os.Stat(filepath.Join(root, NodeDB)); err == nil {
					t.Errorf("%s made in a root without open-iscsi", NodeDB)
				}
				return
			}
			for _, p := range paths {
				want, _ := os.ReadFile(filepath.Join(initramfs, RunNodeDB, p))
				path := filepath.Join(root, tc.db, p)
				got, err := os.ReadFile(path)
				if err != nil || string(got) != string(want) || len(want) == 0 {
					t.Errorf("%s: %v; differs from the boot's record", path, err)
				}
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v, want 0600", path, fi.Mode())
				}
			}
			if fi, err := os.Stat(filepath.Join(root, tc.db)); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: %v, want mode 0700", tc.db, err)
			}
		})
	}
}

// TestInstallNodeRecordsKeeps: a record the root already has for the same
// target, portal and iface is the administrator's and stays.
func TestInstallNodeRecordsKeeps(t *testing.T) {
	initramfs, recs, paths := bootWithRecords(t)
	root := t.TempDir()
	own := filepath.Join(root, NodeDB, paths[0])
	mkdirs(t, root, filepath.Dir(filepath.Join(NodeDB, paths[0])))
	if err := os.WriteFile(own, []byte("node.session.timeo.replacement_timeout = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg, err := installNodeRecords(initramfs, root, recs)
	if err != nil || msg != "node records: 1 installed in /etc/iscsi/nodes, 1 kept as the root has them" {
		t.Fatalf("got %q, %v", msg, err)
	}
	if b, _ := os.ReadFile(own); string(b) != "node.session.timeo.replacement_timeout = 5\n" {
		t.Errorf("the root's own record was replaced:\n%s", b)
	}
}

// TestInstallNodeRecordsReadOnly mounts the root read-only, as a kernel
// command line with ro (the default) has it: with systemd the copy is left
// to a drop-in for iscsid.service, without it to the administrator.
func TestInstallNodeRecordsReadOnly(t *testing.T) {
	nstest.Require(t)
	for _, systemd := range []bool{true, false} {
		initramfs, recs, _ := bootWithRecords(t)
		root := t.TempDir()
		mkdirs(t, root, "etc/iscsi")
		if systemd {
			mkdirs(t, root, "usr/lib/systemd")
			if err := os.WriteFile(filepath.Join(root, "usr/lib/systemd/systemd"), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := unix.Mount(root, root, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		defer unix.Unmount(root, unix.MNT_DETACH)
		if err := unix.Mount("", root, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			t.Fatal(err)
		}
		msg, err := installNodeRecords(initramfs, root, recs)
		if err != nil {
			t.Fatal(err)
		}
		unit, uerr := os.ReadFile(filepath.Join(initramfs, IscsidDropIn))
		if !systemd {
			if msg != "node records: the root is read-only and has no systemd: 2 left in /run/iscsiboot/nodes; copy them to /etc/iscsi/nodes before iscsid starts" || uerr == nil {
				t.Errorf("no systemd: %q, drop-in %v", msg, uerr)
			}
			continue
		}
		if msg != "node records: the root is read-only: 2 in /run/iscsiboot/nodes, installed in /etc/iscsi/nodes when iscsid starts (/run/systemd/system/iscsid.service.d/50-iscsiboot-nodes.conf)" {
			t.Errorf("systemd: %q", msg)
		}
		for _, w := range []string{"[Service]\n" +
			"ExecStartPre=-/bin/mkdir -p -m 0700 \"/etc/iscsi/nodes\"\n" +
			"ExecStartPre=-/bin/mkdir -p -m 0700 \"/etc/iscsi/nodes/iqn.2025-01.test:a\"\n" +
			"ExecStartPre=-/bin/mkdir -p -m 0700 \"/etc/iscsi/nodes/iqn.2025-01.test:a/10.0.2.2,3260,1\"\n" +
			"ExecStartPre=-/bin/cp -p -n \"/run/iscsiboot/nodes/iqn.2025-01.test:a/10.0.2.2,3260,1/default\" \"/etc/iscsi/nodes/iqn.2025-01.test:a/10.0.2.2,3260,1/default\"\n" +
			"ExecStartPre=-/bin/mkdir -p -m 0700 \"/etc/iscsi/nodes/iqn.2025-01.test:b\"\n"} {
			if !strings.Contains(string(unit), w) {
				t.Errorf("drop-in lacks %q:\n%s", w, unit)
			}
		}
	}
}

// TestInstallNodeRecordsConf: the installed records take the root's
// iscsid.conf settings, as its iscsiadm would have written them, except
// what the boot decides: the root-disk timers, node.startup, CHAP.
func TestInstallNodeRecordsConf(t *testing.T) {
	initramfs := t.TempDir()
	p := &plan.Plan{Initiator: "iqn.2025-01.test:i", Params: plan.DefaultParams(), Targets: []plan.Target{
		{Name: "iqn.2025-01.test:a", Portals: []plan.Portal{{Address: "10.0.2.2", Port: 3260}}}}}
	p.Params["node.session.err_timeo.abort_timeout"] = "7" // as -P or rd.iscsi.param would
	rec := NewNodeRecord(p, &p.Targets[0], p.Targets[0].Portals[0], 1)
	if err := WriteHandoff(initramfs, p, []NodeRecord{rec}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	mkdirs(t, root, "etc/iscsi")
	conf := `# iscsid.conf
node.startup = manual
node.session.timeo.replacement_timeout = 120
node.conn[0].timeo.login_timeout = 15
node.conn[0].timeo.noop_out_interval = 5
node.session.err_timeo.abort_timeout = 20
   node.session.cmds_max   =  64
node.session.auth.authmethod = CHAP
node.session.auth.username = someone
#node.session.queue_depth = 1
discovery.sendtargets.auth.authmethod = CHAP
`
	if err := os.WriteFile(filepath.Join(root, "etc/iscsi/iscsid.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := installNodeRecords(initramfs, root, []NodeRecord{rec}); err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{filepath.Join(root, NodeDB), filepath.Join(initramfs, RunNodeDB)} {
		b, err := os.ReadFile(filepath.Join(db, rec.Path()))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{
			"node.conn[0].timeo.login_timeout = 15\n",          // the root's
			"node.session.cmds_max = 64\n",                     // the root's
			"node.session.queue_depth = 32\n",                  // commented out there: built in
			"node.session.timeo.replacement_timeout = 86400\n", // the boot's timers
			"node.conn[0].timeo.noop_out_interval = 0\n",       //
			"node.session.err_timeo.abort_timeout = 7\n",       // the plan's
			"node.startup = onboot\n",                          // the boot's
			"node.session.auth.authmethod = None\n",            // the boot session's
		} {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q:\n%s", db, w, b)
			}
		}
		if strings.Contains(string(b), "someone") {
			t.Errorf("%s took CHAP from iscsid.conf:\n%s", db, b)
		}
	}
}

// TestInstallNodeRecordsNone: a boot that left no records touches nothing.
func TestUnitQuote(t *testing.T) {
	if got := unitQuote(`/a b/%i/$X/"q"/\\`); got != `"/a b/%%i/$$X/\"q\"/\\\\"` {
		t.Errorf("got %s", got)
	}
}

func TestInstallNodeRecordsNone(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "etc/iscsi")
	if msg, err := installNodeRecords(t.TempDir(), root, nil); msg != "" || err != nil {
		t.Errorf("got %q, %v", msg, err)
	}
	if _, err := os.Stat(filepath.Join(root, NodeDB)); err == nil {
		t.Errorf("%s made with no records", NodeDB)
	}
}
