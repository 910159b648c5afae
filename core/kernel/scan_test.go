package kernel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeScanner plays the SCSI midlayer of host 3 on a fake sysfs: it
// watches the host's scan file, records each request written to it with
// the disks there when it came ("0 0 - after sda"), and adds the disks a
// request reaches: "0 0 L" LUN L's, "0 0 -" every LUN's. LUN 0 is tgt's
// controller, with no disk. Unlike the kernel it answers after the write
// returned, not before.
type fakeScanner struct {
	tr    *tree
	disks map[int]string // LUN -> disk
	// ignore leaves the disks out: a LUN that never appears.
	ignore bool

	done   chan struct{}
	writes chan []string
}

func newFakeScanner(tr *tree, disks map[int]string, ignore bool) *fakeScanner {
	tr.file("devices/platform/host3/scsi_host/host3/scan", "")
	tr.link("class/scsi_host/host3", "../../devices/platform/host3/scsi_host/host3")
	tr.lun(3, 0, "")
	for l := range disks {
		tr.lun(3, l, "")
	}
	f := &fakeScanner{tr: tr, disks: disks, ignore: ignore, done: make(chan struct{}), writes: make(chan []string, 1)}
	go f.run()
	return f
}

// stop ends the watch and returns the requests seen, in order.
func (f *fakeScanner) stop() []string {
	close(f.done)
	return <-f.writes
}

func (f *fakeScanner) run() {
	var seen []string
	defer func() { f.writes <- seen }()
	scan := filepath.Join(f.tr.root, "sys/class/scsi_host/host3/scan")
	last := ""
	for {
		select {
		case <-f.done:
			return
		case <-time.After(time.Millisecond):
		}
		b, _ := os.ReadFile(scan)
		req := string(b)
		if req == "" || req == last { // between the truncation and the write, or no news
			continue
		}
		last = req
		var there []string
		for _, d := range []string{"sda", "sdb"} {
			if f.tr.sysfs().DiskReady(d) {
				there = append(there, d)
			}
		}
		seen = append(seen, strings.TrimSpace(req+" after "+strings.Join(there, ",")))
		if f.ignore {
			continue
		}
		for l, disk := range f.disks {
			if req == "0 0 -" || req == "0 0 "+itoa(l) {
				f.addDisk(l, disk)
			}
		}
	}
}

// addDisk gives LUN l its ready disk and device node; errors show as a
// disk that never appears.
func (f *fakeScanner) addDisk(l int, disk string) {
	r := f.tr.root
	os.MkdirAll(filepath.Join(r, "sys/devices/platform/host3/session1/target3:0:0/3:0:0:"+itoa(l), "block", disk), 0o755)
	os.MkdirAll(filepath.Join(r, "sys/class/block", disk), 0o755)
	os.WriteFile(filepath.Join(r, "sys/class/block", disk, "size"), []byte("65536\n"), 0o644)
	os.MkdirAll(filepath.Join(r, "dev"), 0o755)
	os.WriteFile(filepath.Join(r, "dev", disk), nil, 0o644)
}

// TestScanBoot: a named LUN is probed alone and its disk waited for, and
// only then is every other LUN the target reports scanned (open-iscsi's
// whole-target scan), so a second LUN appears too; a login that names
// no LUN scans the whole target at once.
func TestScanBoot(t *testing.T) {
	tests := []struct {
		name   string
		lun    uint64
		any    bool
		ignore bool
		want   string   // the disk ScanBoot returns
		scans  []string // the requests, in order, with the disks there before each
		disks  []string // the disks there after ScanBoot
		errHas string
	}{
		{name: "LUN 1 first, then the rest", lun: 1, want: "sda", scans: []string{"0 0 1 after", "0 0 - after sda"}, disks: []string{"sda", "sdb"}},
		{name: "LUN 2 first, then the rest", lun: 2, want: "sdb", scans: []string{"0 0 2 after", "0 0 - after sdb"}, disks: []string{"sda", "sdb"}},
		{name: "no LUN named: the whole target", any: true, want: "sda", scans: []string{"0 0 - after"}, disks: []string{"sda", "sdb"}},
		{name: "the root LUN never appears", lun: 1, ignore: true, scans: []string{"0 0 1 after"},
			errHas: "no block device for LUN 1 on host3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			f := newFakeScanner(tr, map[int]string{1: "sda", 2: "sdb"}, tt.ignore)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if tt.ignore {
				ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
			}
			defer cancel()
			got, err := tr.sysfs().ScanBoot(ctx, 3, tt.lun, tt.any)
			// The fake answers the last request after ScanBoot wrote it.
			var disks []string
			for i := 0; i < 100 && len(disks) < len(tt.disks); i++ {
				time.Sleep(10 * time.Millisecond)
				disks = nil
				for _, d := range []string{"sda", "sdb"} {
					if tr.sysfs().DiskReady(d) {
						disks = append(disks, d)
					}
				}
			}
			scans := f.stop()
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("ScanBoot = %q, %v; want an error mentioning %q", got, err, tt.errHas)
				}
			} else if err != nil || got != tt.want {
				t.Errorf("ScanBoot = %q, %v; want %q", got, err, tt.want)
			}
			if diff := cmp.Diff(tt.scans, scans); diff != "" {
				t.Errorf("scan requests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.disks, disks); diff != "" {
				t.Errorf("disks after ScanBoot (-want +got):\n%s", diff)
			}
		})
	}
}
