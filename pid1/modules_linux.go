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
	return loadConcurrently(ctx, mods, loadModule)
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
