package pid1

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/iscsiboot/iscsiboot/internal/modlist"
)

// ModuleList is the file in an image built or extended by
// iscsiboot-initramfs (-append too) that lists the kernel modules to load,
// for LoadModules. A uinit under u-root's init needs it: that init loads
// only /lib/modules/*.ko and modules-load.d, not this list.
const ModuleList = modlist.Path

// loadConcurrently runs load for every module of mods, each as soon as the
// modules its After names are done (loaded or failed), so that modules
// neither of which needs the other load at the same time, as modprobe
// would order them. mods is a parsed list: After names only modules listed
// earlier, so nothing waits for itself. A module that fails does not stop
// the others (one whose dependency failed is still tried, as insmod would,
// and fails on its own); the failures come back joined, in list order,
// with one for ctx when it ended before every module was tried. It returns
// the names of those that loaded (ModuleName), in list order, after every
// started load has returned.
func loadConcurrently(ctx context.Context, mods []modlist.Module, load func(modlist.Module) error) ([]string, error) {
	return loadConcurrentlyN(ctx, mods, load, runtime.NumCPU())
}

// loadConcurrentlyN is loadConcurrently with at most n loads at a time:
// loading is CPU work in the kernel (decompression, relocation), so more
// loads than CPUs only make threads wait.
func loadConcurrentlyN(ctx context.Context, mods []modlist.Module, load func(modlist.Module) error, n int) ([]string, error) {
	slots := make(chan struct{}, max(1, n))
	done := make([]chan struct{}, len(mods))
	waits := make([][]chan struct{}, len(mods))
	latest := make(map[string]chan struct{}, len(mods))
	for i, m := range mods {
		done[i] = make(chan struct{})
		for _, a := range m.After {
			if c, ok := latest[a]; ok {
				waits[i] = append(waits[i], c)
			}
		}
		latest[m.Path] = done[i]
	}
	errs := make([]error, len(mods))
	tried := make([]bool, len(mods))
	var wg sync.WaitGroup
	for i, m := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			for _, c := range waits[i] {
				select {
				case <-c:
				case <-ctx.Done():
				}
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				return
			}
			tried[i] = true
			errs[i] = load(m)
			<-slots
		}()
	}
	wg.Wait()
	var loaded []string
	var failed []error
	skipped := false
	for i, err := range errs {
		switch {
		case !tried[i]:
			skipped = true
		case err == nil:
			loaded = append(loaded, ModuleName(mods[i].Path))
		default:
			failed = append(failed, err)
		}
	}
	if skipped {
		failed = append(failed, fmt.Errorf("load modules: %w", ctx.Err()))
	}
	return loaded, errors.Join(failed...)
}

// splitForMount parts a parsed module list into the modules the boot needs
// (network, iSCSI and disk drivers, with everything their After names) and
// those only mounting the root needs: the file systems, the modules under a
// kernel/fs/ directory (ext4, jbd2, mbcache, xfs) that no early module
// names in its After. A list without #@after lines makes every module
// "after" the one before it, so there an fs module listed before a driver
// stays early: that costs overlap, never order. Libraries only a file
// system needs (crc16) stay early for the same reason. Both halves keep
// list order; a late module's After may name early ones, loaded by then.
func splitForMount(mods []modlist.Module) (early, late []modlist.Module) {
	needed := make(map[string]bool, len(mods)) // by the boot itself
	for i := len(mods) - 1; i >= 0; i-- {
		m := mods[i]
		if needed[m.Path] || !strings.Contains(m.Path, "/kernel/fs/") {
			needed[m.Path] = true
			for _, a := range m.After {
				needed[a] = true
			}
		}
	}
	for _, m := range mods {
		if needed[m.Path] {
			early = append(early, m)
		} else {
			late = append(late, m)
		}
	}
	return early, late
}
