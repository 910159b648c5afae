package pid1

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/modlist"
)

// recorder is a fake finit_module: it notes when each module starts and
// ends and how many loads run at once.
type recorder struct {
	mu       sync.Mutex
	finished map[string]bool
	running  int
	maxRun   int
	bad      []string // modules that started before a module of their After finished
	started  []string
}

func (r *recorder) load(hold time.Duration, fail map[string]bool) func(modlist.Module) error {
	return func(m modlist.Module) error {
		r.mu.Lock()
		for _, a := range m.After {
			if !r.finished[a] {
				r.bad = append(r.bad, m.Path+" before "+a)
			}
		}
		r.started = append(r.started, m.Path)
		r.running++
		r.maxRun = max(r.maxRun, r.running)
		r.mu.Unlock()
		time.Sleep(hold)
		r.mu.Lock()
		r.running--
		r.finished[m.Path] = true
		r.mu.Unlock()
		if fail[m.Path] {
			return errors.New("load module " + m.Path + ": unknown symbol")
		}
		return nil
	}
}

// parse reads a module list as the image holds it.
func parse(t *testing.T, list string) []modlist.Module {
	t.Helper()
	mods, err := modlist.Parse([]byte(list))
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// The lab's stacks as the builder lists them: the SCSI one and the NIC one
// need nothing of each other.
const labList = `#@after
/m/scsi_common.ko
#@after /m/scsi_common.ko
/m/scsi_mod.ko
#@after
/m/virtio_ring.ko
#@after /m/virtio_ring.ko
/m/virtio.ko
#@after /m/scsi_common.ko /m/scsi_mod.ko
/m/scsi_transport_iscsi.ko
#@after
/m/crc32c_generic.ko
#@after /m/virtio.ko /m/virtio_ring.ko
/m/virtio_net.ko
#@after /m/scsi_transport_iscsi.ko /m/crc32c_generic.ko /m/scsi_mod.ko
/m/iscsi_tcp.ko
`

func TestLoadConcurrently(t *testing.T) {
	for _, tc := range []struct {
		name       string
		list       string
		slots      int
		fail       map[string]bool
		wantN      int
		wantErrs   int
		wantMaxRun func(int) bool
	}{
		{name: "independent stacks side by side", list: labList, slots: 8, wantN: 8,
			wantMaxRun: func(n int) bool { return n >= 3 }}, // scsi_common, virtio_ring, crc32c at once
		{name: "no more at once than slots", list: labList, slots: 2, wantN: 8,
			wantMaxRun: func(n int) bool { return n == 2 }},
		{name: "one slot", list: labList, slots: 1, wantN: 8,
			wantMaxRun: func(n int) bool { return n == 1 }},
		{name: "a list without #@after lines, one by one", list: "/m/a.ko\n/m/b.ko\n/m/c.ko p=1\n/m/d.ko\n", slots: 8, wantN: 4,
			wantMaxRun: func(n int) bool { return n == 1 }},
		{name: "a failed dependency: its dependents still tried, the rest loaded", list: labList, slots: 8,
			fail: map[string]bool{"/m/scsi_mod.ko": true, "/m/iscsi_tcp.ko": true}, wantN: 6, wantErrs: 2,
			wantMaxRun: func(n int) bool { return n >= 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mods := parse(t, tc.list)
			r := &recorder{finished: make(map[string]bool)}
			loaded, err := loadConcurrentlyN(context.Background(), mods, r.load(50*time.Millisecond, tc.fail), tc.slots)
			if n := len(loaded); n != tc.wantN {
				t.Errorf("loaded %d (%q), want %d", n, loaded, tc.wantN)
			}
			if got := len(unjoinErrs(err)); got != tc.wantErrs {
				t.Errorf("%d errors (%v), want %d", got, err, tc.wantErrs)
			}
			if len(r.started) != len(mods) {
				t.Errorf("tried %v, want all %d", r.started, len(mods))
			}
			if len(r.bad) > 0 {
				t.Errorf("loaded before their dependencies: %v", r.bad)
			}
			if !tc.wantMaxRun(r.maxRun) {
				t.Errorf("at most %d loads at once", r.maxRun)
			}
		})
	}
}

func TestLoadConcurrentlyCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	mods := parse(t, labList)
	r := &recorder{finished: make(map[string]bool)}
	load := r.load(0, nil)
	loaded, err := loadConcurrentlyN(ctx, mods, func(m modlist.Module) error {
		if m.Path == "/m/scsi_common.ko" {
			cancel() // scsi_mod, waiting for it, is then never tried
		}
		return load(m)
	}, 8)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	for _, p := range r.started {
		if p == "/m/scsi_mod.ko" || p == "/m/iscsi_tcp.ko" {
			t.Errorf("%s tried after the context ended", p)
		}
	}
	if len(loaded) != len(r.started) {
		t.Errorf("loaded %d, but %d tried without error", len(loaded), len(r.started))
	}
}

func TestSplitForMount(t *testing.T) {
	k := "/lib/modules/6.1.0-56-amd64/kernel/"
	// The list iscsiboot-initramfs writes for virtio_net,iscsi_tcp,sd_mod,ext4 (shortened).
	list := "#@after\n" + k + "drivers/net/virtio_net.ko\n" +
		"#@after\n" + k + "drivers/scsi/scsi_mod.ko\n" +
		"#@after\n" + k + "crypto/crc32c_generic.ko\n" +
		"#@after " + k + "drivers/scsi/scsi_mod.ko " + k + "crypto/crc32c_generic.ko\n" + k + "drivers/scsi/iscsi_tcp.ko\n" +
		"#@after " + k + "drivers/scsi/scsi_mod.ko\n" + k + "drivers/scsi/sd_mod.ko\n" +
		"#@after " + k + "crypto/crc32c_generic.ko\n" + k + "fs/jbd2/jbd2.ko\n" +
		"#@after\n" + k + "fs/mbcache.ko\n" +
		"#@after\n" + k + "lib/crc16.ko\n" +
		"#@after " + k + "fs/jbd2/jbd2.ko " + k + "fs/mbcache.ko " + k + "lib/crc16.ko " + k + "crypto/crc32c_generic.ko\n" + k + "fs/ext4/ext4.ko\n"
	// A list without #@after lines: each module after the one before, so jbd2 amid the drivers stays early.
	// And an fs module a driver after it really needs (fs/configfs for a made-up driver t).
	plain := k + "drivers/net/virtio_net.ko\n" + k + "fs/jbd2/jbd2.ko\n" + k + "drivers/scsi/iscsi_tcp.ko\n" +
		k + "fs/ext4/ext4.ko\n"
	needs := "#@after\n" + k + "fs/configfs/configfs.ko\n#@after " + k + "fs/configfs/configfs.ko\n" + k + "drivers/target/t.ko\n" +
		"#@after\n" + k + "fs/xfs/xfs.ko\n"
	for _, tc := range []struct {
		name, list  string
		early, late []string
	}{
		{"iscsiboot-initramfs", list,
			[]string{"virtio_net", "scsi_mod", "crc32c_generic", "iscsi_tcp", "sd_mod", "crc16"},
			[]string{"jbd2", "mbcache", "ext4"}},
		{"no #@after lines", plain, []string{"virtio_net", "jbd2", "iscsi_tcp"}, []string{"ext4"}},
		{"a driver needs an fs module", needs, []string{"configfs", "t"}, []string{"xfs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mods, err := modlist.Parse([]byte(tc.list))
			if err != nil {
				t.Fatal(err)
			}
			early, late := splitForMount(mods)
			names := func(ms []modlist.Module) []string {
				var out []string
				for _, m := range ms {
					out = append(out, ModuleName(m.Path))
				}
				return out
			}
			if got := names(early); !slices.Equal(got, tc.early) {
				t.Errorf("early = %v, want %v", got, tc.early)
			}
			if got := names(late); !slices.Equal(got, tc.late) {
				t.Errorf("late = %v, want %v", got, tc.late)
			}
		})
	}
}
