package pid1

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/iscsiboot/iscsiboot/internal/modlist"

	"golang.org/x/sys/unix"
)

// LoadModules loads the modules listed in the file list (ModuleList)
// with finit_module(2), each after those its #@after line names and beside
// the others (loadConcurrently). A module that is already loaded counts as
// loaded. A module that fails does not stop the others, since one missing
// driver need not stop the boot; the failures come back joined in the error.
// A missing list means nothing to load. It returns the names of the
// modules loaded (virtio_net), for the line of a boot that misses a driver.
func LoadModules(ctx context.Context, list string) ([]string, error) {
	mods, err := readModuleList(list)
	if err != nil {
		return nil, err
	}
	return loadConcurrently(ctx, mods, loadModule)
}

// readModuleList reads and parses the list file; a missing one lists nothing.
func readModuleList(list string) ([]modlist.Module, error) {
	data, err := os.ReadFile(list)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load modules: %w", err)
	}
	mods, err := modlist.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load modules: %s: %w", list, err)
	}
	return mods, nil
}

// ModuleLoad is LoadModules in two steps, from StartModules: the modules
// the boot needs are loaded when it returns, and those only mounting the
// root needs (the file systems) go on loading while the network comes up
// and the login runs, which mostly wait on the wire; Wait takes them
// before MountRoot. Under QEMU's TCG this takes ext4 and jbd2, half of the
// module bytes of a virtio guest's image, off the boot's critical path.
type ModuleLoad struct {
	Loaded []string // the modules the boot needs that loaded
	Err    error    // their failures, joined
	late   chan moduleResult
}

type moduleResult struct {
	loaded []string
	err    error
}

// StartModules loads the boot's modules of the list file (ModuleList) as
// LoadModules does and starts loading the rest (splitForMount); an error
// is one that reading or parsing the list met, with nothing loaded.
func StartModules(ctx context.Context, list string) (*ModuleLoad, error) {
	mods, err := readModuleList(list)
	if err != nil {
		return nil, err
	}
	early, late := splitForMount(mods)
	m := &ModuleLoad{late: make(chan moduleResult, 1)}
	m.Loaded, m.Err = loadConcurrently(ctx, early, loadModule)
	go func() {
		var r moduleResult
		r.loaded, r.err = loadConcurrently(ctx, late, loadModule)
		m.late <- r
	}()
	return m, nil
}

// noModules is a ModuleLoad with nothing loaded and nothing to wait for.
func noModules() *ModuleLoad {
	m := &ModuleLoad{late: make(chan moduleResult, 1)}
	m.late <- moduleResult{}
	return m
}

// Wait waits for the modules only mounting the root needs and returns the
// names of those that loaded and their failures, joined. Call it once.
func (m *ModuleLoad) Wait() ([]string, error) {
	r := <-m.late
	return r.loaded, r.err
}

func loadModule(m modlist.Module) error {
	f, err := os.Open(m.Path)
	if err != nil {
		return fmt.Errorf("load module: %w", err)
	}
	defer f.Close()
	flags := 0
	if ext := path.Ext(m.Path); ext == ".xz" || ext == ".zst" {
		// The build kept the file compressed because this kernel
		// decompresses modules itself (CONFIG_MODULE_DECOMPRESS).
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	err = unix.FinitModule(int(f.Fd()), m.Params, flags)
	// EEXIST: built in, loaded earlier, or pulled in by another module.
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("load module %s: %w", m.Path, err)
	}
	return nil
}
