package kernel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tree builds a fake sysfs under a temporary root: files with their
// contents, and symlinks laid out as the kernel's class directories are
// (a class entry links into /sys/devices, relative to where it sits).
type tree struct {
	t    *testing.T
	root string
}

func newTree(t *testing.T) *tree { return &tree{t: t, root: t.TempDir()} }

func (tr *tree) sysfs() Sysfs { return Sysfs{Root: tr.root} }

// file writes /sys/<p> with content, making its directories.
func (tr *tree) file(p, content string) {
	tr.t.Helper()
	full := filepath.Join(tr.root, "sys", p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) dir(p string) {
	tr.t.Helper()
	if err := os.MkdirAll(filepath.Join(tr.root, "sys", p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
}

// link makes /sys/<p> a symlink to target, relative to p's directory as in
// the real sysfs.
func (tr *tree) link(p, target string) {
	tr.t.Helper()
	full := filepath.Join(tr.root, "sys", p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Symlink(target, full); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) read(p string) string {
	tr.t.Helper()
	b, err := os.ReadFile(filepath.Join(tr.root, "sys", p))
	if err != nil {
		tr.t.Fatal(err)
	}
	return string(b)
}

// session lays out session sid on SCSI host host as iscsi_tcp does on
// Linux: the session device under platform/hostN, its iscsi_session and
// iscsi_connection class devices below it, and the class symlinks.
func (tr *tree) session(sid, host int, target, tpgt, state, addr, port string) {
	dev := "devices/platform/host" + itoa(host) + "/session" + itoa(sid)
	s := dev + "/iscsi_session/session" + itoa(sid)
	tr.file(s+"/targetname", target+"\n")
	tr.file(s+"/tpgt", tpgt+"\n")
	tr.file(s+"/state", state+"\n")
	tr.link(s+"/device", "../../../session"+itoa(sid))
	tr.link("class/iscsi_session/session"+itoa(sid), "../../"+s)
	conn := "connection" + itoa(sid) + ":0"
	c := dev + "/" + conn + "/iscsi_connection/" + conn
	tr.file(c+"/persistent_address", addr+"\n")
	tr.file(c+"/persistent_port", port+"\n")
	tr.link("class/iscsi_connection/"+conn, "../../"+c)
}

// lun lays out SCSI device host:0:0:lun, with a block device if disk is
// not "" (tgt's LUN 0, the controller, has none).
func (tr *tree) lun(host, lun int, disk string) {
	hctl := itoa(host) + ":0:0:" + itoa(lun)
	d := "devices/platform/host" + itoa(host) + "/session1/target" + itoa(host) + ":0:0/" + hctl
	tr.dir(d + "/scsi_device/" + hctl)
	tr.link(d+"/scsi_device/"+hctl+"/device", "../../../"+hctl)
	if disk != "" {
		tr.dir(d + "/block/" + disk)
	}
	tr.link("class/scsi_device/"+hctl, "../../"+d+"/scsi_device/"+hctl)
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestTransportHandle(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" for no tcp transport
		want    uint64
		errHas  []string
		wantErr error
	}{{
		name:    "registered",
		content: "18446744072645783552\n", // a kernel address, above 2^63
		want:    18446744072645783552,
	}, {
		name:    "iscsi_tcp not loaded",
		errHas:  []string{`"tcp"`, "load iscsi_tcp"},
		wantErr: os.ErrNotExist,
	}, {
		name:    "malformed",
		content: "0xffff\n",
		errHas:  []string{`"tcp"`, `handle "0xffff"`},
	}, {
		name:    "empty",
		content: "\n",
		errHas:  []string{`handle ""`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			tr.dir("class/iscsi_transport")
			if tt.content != "" {
				tr.file("class/iscsi_transport/tcp/handle", tt.content)
			}
			got, err := tr.sysfs().TransportHandle("tcp")
			if tt.errHas == nil {
				if err != nil || got != tt.want {
					t.Fatalf("TransportHandle = %d, %v; want %d", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("TransportHandle = %d, want an error", got)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	tr := newTree(t)
	tr.session(5, 3, "iqn.2003-01.org.example:disk1", "1", "LOGGED_IN", "192.0.2.10", "3260")
	tr.session(12, 14, "iqn.2003-01.org.example:disk2", "7", "FAILED", "2001:db8::10", "3261")
	// A session whose host is gone mid-teardown: no device link, no tpgt,
	// no connection.
	tr.file("class/iscsi_session/session9/targetname", "iqn.2003-01.org.example:gone\n")
	tr.file("class/iscsi_session/session9/state", "FREE\n")
	// Not sessions.
	tr.dir("class/iscsi_session/sessionX")
	tr.dir("class/iscsi_session/power")

	got, err := tr.sysfs().Sessions()
	if err != nil {
		t.Fatal(err)
	}
	want := []SessionInfo{
		{SID: 12, Host: 14, TargetName: "iqn.2003-01.org.example:disk2", TPGT: 7, Address: "2001:db8::10", Port: 3261, State: "FAILED"},
		{SID: 5, Host: 3, TargetName: "iqn.2003-01.org.example:disk1", TPGT: 1, Address: "192.0.2.10", Port: 3260, State: "LOGGED_IN"},
		{SID: 9, Host: -1, TargetName: "iqn.2003-01.org.example:gone", TPGT: -1, State: "FREE"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sessions (-want +got):\n%s", diff)
	}
}

func TestSessionsNoClass(t *testing.T) {
	got, err := newTree(t).sysfs().Sessions()
	if err != nil || got != nil {
		t.Errorf("Sessions without scsi_transport_iscsi = %v, %v; want none and no error", got, err)
	}
}

func TestHostOf(t *testing.T) {
	tr := newTree(t)
	tr.session(5, 3, "iqn.x", "1", "LOGGED_IN", "192.0.2.10", "3260")
	tr.session(40, 127, "iqn.y", "1", "LOGGED_IN", "192.0.2.10", "3260")
	// A device link that leads to no SCSI host.
	tr.dir("devices/virtual/session8")
	tr.dir("class/iscsi_session/session8")
	tr.link("class/iscsi_session/session8/device", "../../../devices/virtual/session8")

	for _, tt := range []struct {
		sid, want int
		errHas    string
	}{
		{sid: 5, want: 3},
		{sid: 40, want: 127},
		{sid: 8, want: -1, errHas: "session 8: no SCSI host above"},
		{sid: 6, want: -1, errHas: "session 6:"},
	} {
		got, err := tr.sysfs().HostOf(tt.sid)
		if got != tt.want {
			t.Errorf("HostOf(%d) = %d, want %d", tt.sid, got, tt.want)
		}
		if tt.errHas == "" && err != nil || tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
			t.Errorf("HostOf(%d) error = %v, want one mentioning %q", tt.sid, err, tt.errHas)
		}
	}
}

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		scan func(Sysfs) error
		want string
	}{
		{"LUN 1", func(s Sysfs) error { return s.ScanLUN(3, 1) }, "0 0 1"},
		{"LUN 0", func(s Sysfs) error { return s.ScanLUN(3, 0) }, "0 0 0"},
		{"LUN 16383", func(s Sysfs) error { return s.ScanLUN(3, 16383) }, "0 0 16383"},
		{"all", func(s Sysfs) error { return s.ScanAll(3) }, "0 0 -"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			tr.file("devices/platform/host3/scsi_host/host3/scan", "")
			tr.link("class/scsi_host/host3", "../../devices/platform/host3/scsi_host/host3")
			if err := tt.scan(tr.sysfs()); err != nil {
				t.Fatal(err)
			}
			if got := tr.read("devices/platform/host3/scsi_host/host3/scan"); got != tt.want {
				t.Errorf("wrote %q to host3/scan, want %q", got, tt.want)
			}
		})
	}
}

func TestScanMissingHost(t *testing.T) {
	tr := newTree(t)
	tr.dir("class/scsi_host")
	if err := tr.sysfs().ScanLUN(9, 1); err == nil || !strings.Contains(err.Error(), "LUN 1 of host9") {
		t.Errorf("ScanLUN on a missing host = %v, want an error naming LUN 1 and host9", err)
	}
	if err := tr.sysfs().ScanAll(9); err == nil || !strings.Contains(err.Error(), "host9") {
		t.Errorf("ScanAll on a missing host = %v, want an error naming host9", err)
	}
}

func TestBlockDevice(t *testing.T) {
	tr := newTree(t)
	tr.lun(3, 0, "") // tgt's controller LUN: no disk
	tr.lun(3, 10, "sdc")
	tr.lun(3, 2, "sdb") // read after 3:0:0:10 in directory order, still the lowest disk
	tr.lun(4, 1, "sdd") // another session's host
	tr.lun(30, 1, "sde")
	s := tr.sysfs()

	for _, tt := range []struct {
		host int
		lun  uint64
		want string
	}{
		{3, 0, ""}, {3, 2, "sdb"}, {3, 10, "sdc"}, {3, 5, ""}, {4, 1, "sdd"}, {5, 0, ""},
	} {
		if got := s.BlockDevice(tt.host, tt.lun); got != tt.want {
			t.Errorf("BlockDevice(%d, %d) = %q, want %q", tt.host, tt.lun, got, tt.want)
		}
	}

	for _, tt := range []struct {
		host int
		lun  uint64
		want string
	}{
		{3, 2, "sdb"}, {4, 1, "sdd"}, {30, 1, "sde"}, {5, 0, ""},
	} {
		lun, dev := s.AnyBlockDevice(tt.host)
		if lun != tt.lun || dev != tt.want {
			t.Errorf("AnyBlockDevice(%d) = %d, %q; want %d, %q", tt.host, lun, dev, tt.lun, tt.want)
		}
	}
}

func TestWaitBlockDevice(t *testing.T) {
	for _, anyLUN := range []bool{false, true} {
		t.Run(map[bool]string{false: "LUN 1", true: "any LUN"}[anyLUN], func(t *testing.T) {
			tr := newTree(t)
			tr.lun(3, 0, "")
			tr.lun(3, 1, "")
			// The disk appears once the SCSI scan finished, after 50 ms,
			// and is ready once sd has read its capacity, 50 ms later.
			blk := filepath.Join(tr.root, "sys/devices/platform/host3/session1/target3:0:0/3:0:0:1/block/sda")
			size := filepath.Join(tr.root, "sys/class/block/sda/size")
			appeared := make(chan error, 1)
			// The clock starts before the disk's timer: on a loaded host the
			// timer may fire before the next line runs.
			start := time.Now()
			time.AfterFunc(50*time.Millisecond, func() {
				err := errors.Join(os.MkdirAll(blk, 0o755), os.MkdirAll(filepath.Dir(size), 0o755), os.WriteFile(size, []byte("0\n"), 0o644))
				time.Sleep(50 * time.Millisecond)
				appeared <- errors.Join(err, os.WriteFile(size, []byte("65536\n"), 0o644))
			})

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := tr.sysfs().WaitBlockDevice(ctx, 3, 1, anyLUN)
			if err != nil || got != "sda" {
				t.Fatalf("WaitBlockDevice = %q, %v; want sda", got, err)
			}
			if err := <-appeared; err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < 90*time.Millisecond || d > 2*time.Second {
				t.Errorf("WaitBlockDevice returned after %v, want soon after the disk was ready at 100ms", d)
			}
		})
	}
}

func TestWaitBlockDeviceDeadline(t *testing.T) {
	tests := []struct {
		any    bool
		errHas string
	}{
		{false, "no block device for LUN 1 on host3 (3:0:0:1)"},
		{true, "no disk on any LUN of host3"},
	}
	for _, tt := range tests {
		tr := newTree(t)
		tr.lun(3, 0, "")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
		start := time.Now()
		got, err := tr.sysfs().WaitBlockDevice(ctx, 3, 1, tt.any)
		cancel()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("WaitBlockDevice(any=%v) took %v past a 60ms deadline", tt.any, d)
		}
		if got != "" || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("WaitBlockDevice(any=%v) = %q, %v; want %v mentioning %q", tt.any, got, err, context.DeadlineExceeded, tt.errHas)
		}
	}
}
