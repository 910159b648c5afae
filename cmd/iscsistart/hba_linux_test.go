package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
	"github.com/iscsiboot/iscsiboot/internal/nstest"
	"github.com/iscsiboot/iscsiboot/internal/sysfstree"
	"github.com/iscsiboot/iscsiboot/pid1"
)

// hbaMachine makes this test's mount namespace a machine with a QLogic
// HBA that logged in to its flash boot target by itself: tmpfs over /sys
// and /dev, laid out as qla4xxx shows itself (internal/sysfstree), gone
// again after the test.
func hbaMachine(t *testing.T) {
	t.Helper()
	nstest.Require(t)
	for _, dir := range []string{"/sys", "/dev"} {
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
			t.Fatalf("mount tmpfs on %s: %v", dir, err)
		}
		t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	}
	sysfstree.Load(t, "/", sysfstree.QLA4xxx)
}

// TestBootHBA: iscsistart -b on a machine whose qla4xxx HBA logged in by
// itself finds the HBA's session to the boot target and reports it with
// its disk, as open-iscsi's does; -f prints the HBA's boot record with its
// transport; --plan shows the host.
func TestBootHBA(t *testing.T) {
	hbaMachine(t)

	_, stderr, code := runCLI(t, "-b")
	if code != 0 {
		t.Fatalf("-b: exit %d, want 0; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		// nothing of ours logs in to an HBA's target, and the progress line says so
		"Looking for the HBA's own session to iqn.2025-01.test:hba-disk 192.0.2.9:3260,1",
		"iscsistart: already logged in to iqn.2025-01.test:hba-disk at 192.0.2.9:3260: session 1 (transport qla4xxx), sdb",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-b stderr:\n%s\nwant %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "Logging into") {
		t.Errorf("-b stderr says it logs in to the HBA's target:\n%s", stderr)
	}
	if strings.Contains(stderr, "hba-secret-1") {
		t.Errorf("-b stderr shows the CHAP secret:\n%s", stderr)
	}

	stdout, stderr, code := runCLI(t, "-f")
	if code != 0 {
		t.Fatalf("-f: exit %d; stderr:\n%s", code, stderr)
	}
	for _, line := range []string{"iface.transport_name = qla4xxx", "node.name = iqn.2025-01.test:hba-disk", "node.conn[0].address = 192.0.2.9"} {
		if !strings.Contains(stdout, line+"\n") {
			t.Errorf("-f lacks %q:\n%s", line, stdout)
		}
	}

	stdout, stderr, code = runCLI(t, "--plan", "--cmdline", "rd.iscsi.firmware=1")
	if code != 0 || !strings.Contains(stdout, `"hba": "host3"`) || !strings.Contains(stdout, `"transport": "qla4xxx"`) {
		t.Errorf("--plan: exit %d, stdout:\n%s\nstderr:\n%s\nwant hba host3 over qla4xxx", code, stdout, stderr)
	}
}

// TestBootHBANoSession: the HBA's flash names a target it has no
// session to: -b waits, bounded by --timeout, then fails with exit code 2 (ISCSI_ERR_SESS_NOT_FOUND) in one line
// naming the transport, target, portal and host, and what the host has.
func TestBootHBANoSession(t *testing.T) {
	hbaMachine(t)
	if err := unix.Unlink("/sys/class/iscsi_session/session1"); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	_, stderr, code := runCLI(t, "-b", "--timeout=2s")
	if code != iscsierr.SessNotFound {
		t.Errorf("-b without the HBA's session: exit %d, want %d; stderr:\n%s", code, iscsierr.SessNotFound, stderr)
	}
	if took := time.Since(begin); took > 20*time.Second {
		t.Errorf("-b took %v with --timeout=2s", took)
	}
	last := stderr[strings.LastIndex(strings.TrimSuffix(stderr, "\n"), "\n")+1:]
	for _, s := range []string{"qla4xxx logs in by itself", "iqn.2025-01.test:hba-disk at 192.0.2.9:3260 on host3", "iqn.2025-01.test:hba-data"} {
		if !strings.Contains(last, s) {
			t.Errorf("last line %q lacks %q", last, s)
		}
	}
}

// TestInitBootHBA: our /init's Boot on the qla4xxx machine, from the
// firmware alone (no target on the command line): the HBA's session is
// the root's, its disk the root device, and the hand-off leaves the
// node record open-iscsi's firmware mode would, under the iface it makes
// for the host. /etc is a tmpfs of the test's too: Boot writes there.
func TestInitBootHBA(t *testing.T) {
	hbaMachine(t)
	if err := unix.Mount("tmpfs", "/etc", "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount("/etc", unix.MNT_DETACH) })
	var log strings.Builder
	b, err := pid1.Boot(context.Background(), "rd.retry=5", &log)
	if err != nil {
		t.Fatalf("Boot: %v\nlog:\n%s", err, log.String())
	}
	if b.Device != "/dev/sdb" {
		t.Errorf("root device %q, want /dev/sdb; log:\n%s", b.Device, log.String())
	}
	rec := "/etc/iscsi/nodes/iqn.2025-01.test:hba-disk/192.0.2.9,3260,1/qla4xxx.00:0e:1e:00:00:01.ipv4.0"
	text, err := os.ReadFile(rec)
	if err != nil || !strings.Contains(string(text), "\niface.transport_name = qla4xxx\n") {
		t.Errorf("node record %s: %v\n%s", rec, err, text)
	}
	if b.Resident != nil {
		t.Errorf("a resident loop for the HBA's session: %+v", b.Resident)
	}
}
