package initramfs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/modlist"
)

// ModuleListPath is where the image lists its modules in load order.
const ModuleListPath = modlist.Path

// ModulesDir returns the directory holding the modules of kernel kver in the
// tree rooted at kernelDir ("/" for the running system): lib/modules/KVER, or
// usr/lib/modules/KVER on systems that keep them only there.
func ModulesDir(kernelDir, kver string) (string, error) {
	if kver == "" || strings.ContainsRune(kver, '/') || kver == "." || kver == ".." {
		return "", fmt.Errorf("kernel version %q: %w", kver, errBadPath)
	}
	var tried []string
	for _, d := range []string{"lib/modules", "usr/lib/modules"} {
		dir := filepath.Join(kernelDir, d, kver)
		if _, err := os.Stat(filepath.Join(dir, "modules.dep")); err == nil {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	// A kernel package unpacked by hand has its modules but no modules.dep
	// until depmod has run over it.
	return "", fmt.Errorf("no modules.dep in %s (run depmod -b %s %s): %w",
		strings.Join(tried, " or "), kernelDir, kver, fs.ErrNotExist)
}

// loadIndex reads the module metadata of modDir. modules.dep is required;
// the alias and builtin files are optional, as in a minimal kernel build.
func loadIndex(modDir string) (*depIndex, error) {
	x := newDepIndex()
	dep, err := os.ReadFile(filepath.Join(modDir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	if err := x.parseModulesDep(dep); err != nil {
		return nil, err
	}
	for _, f := range []string{"modules.softdep", "modules.alias", "modules.builtin.alias", "modules.builtin"} {
		data, err := os.ReadFile(filepath.Join(modDir, f))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		switch f {
		case "modules.softdep":
			x.parseSoftdeps(data)
		case "modules.builtin":
			x.parseBuiltin(data)
		default:
			x.parseAliases(data)
		}
	}
	return x, nil
}

// AddModules adds the named kernel modules and everything they depend on,
// from the modules of kernel kver under kernelDir ("/" for the running
// system), with the modules their softdeps load first (ext4 needs crc32c),
// and lists them for the guest's init in load order. Names may be
// module names or aliases, with '-' or '_' alike (virtio_net, crc-t10dif,
// crc32c). Modules built into the kernel are skipped. When iscsi_tcp is
// among them, the module providing crc32c is added before it.
//
// Modules compressed with gzip are stored decompressed. Modules compressed
// with xz or zstd are stored as they are and the kernel decompresses them
// when they are loaded; if the kernel's config (boot/config-KVER under
// kernelDir) shows it cannot, AddModules returns an error naming the file.
//
// It returns the module names added, in load order.
func (b *Builder) AddModules(kernelDir, kver string, names ...string) ([]string, error) {
	modDir, err := ModulesDir(kernelDir, kver)
	if err != nil {
		return nil, fmt.Errorf("add modules: %w", err)
	}
	x, err := loadIndex(modDir)
	if err != nil {
		return nil, fmt.Errorf("add modules: %w", err)
	}
	order, after, err := x.closureAfter(names)
	if err != nil {
		return nil, fmt.Errorf("add modules: %w", err)
	}
	kconfig, err := os.ReadFile(filepath.Join(kernelDir, "boot", "config-"+kver))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("add modules: %w", err)
	}
	dsts := make(map[string]string, len(order))
	for _, name := range order {
		rel := x.paths[name]
		data, rel, err := readModule(filepath.Join(modDir, filepath.FromSlash(rel)), rel, kconfig)
		if err != nil {
			return nil, fmt.Errorf("add modules: %w", &ModuleError{Name: name, Err: err})
		}
		dst := path.Join("/lib/modules", kver, rel)
		dsts[name] = dst
		if err := b.AddBytes(dst, data, 0o644); err != nil {
			return nil, fmt.Errorf("add modules: %w", err)
		}
		if !b.modSeen[dst] {
			b.modSeen[dst] = true
			m := modlist.Module{Path: dst}
			for _, a := range after[name] {
				m.After = append(m.After, dsts[a]) // earlier in order, so known
			}
			b.modules = append(b.modules, m)
		}
	}
	return order, nil
}

// compressions maps the module suffixes the kernel can decompress itself to
// the config option that selects that decompressor (kernel/module/decompress.c
// builds exactly one).
var compressions = map[string]string{
	".xz":  "CONFIG_MODULE_COMPRESS_XZ=y",
	".zst": "CONFIG_MODULE_COMPRESS_ZSTD=y",
}

// readModule returns the bytes to store for the module file src (rel is its
// path in the modules directory) and the path to store them under.
func readModule(src, rel string, kconfig []byte) ([]byte, string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, "", err
	}
	ext := path.Ext(rel)
	switch ext {
	case ".ko":
		return data, rel, nil
	case ".gz":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", src, err)
		}
		ko, err := io.ReadAll(zr)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", src, err)
		}
		return ko, strings.TrimSuffix(rel, ext), nil
	}
	if kconfig != nil && (!hasConfigLine(kconfig, "CONFIG_MODULE_DECOMPRESS=y") || !hasConfigLine(kconfig, compressions[ext])) {
		return nil, "", fmt.Errorf("%s: %w: its config lacks CONFIG_MODULE_DECOMPRESS=y or %s; decompress the modules and run depmod again",
			src, errNoDecompress, compressions[ext])
	}
	return data, rel, nil
}

// hasConfigLine reports whether a kernel .config holds the line want.
func hasConfigLine(config []byte, want string) bool {
	for _, l := range bytes.Split(config, []byte("\n")) {
		if string(bytes.TrimSpace(l)) == want {
			return true
		}
	}
	return false
}
