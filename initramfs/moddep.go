package initramfs

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// depIndex is what depmod wrote about one kernel's modules: the files of
// modules.dep, modules.softdep, modules.alias, modules.builtin and
// modules.builtin.alias, in the formats documented in depmod(8),
// modules.dep(5) and modprobe.d(5).
type depIndex struct {
	paths   map[string]string   // module name -> file, relative to the modules directory
	deps    map[string][]string // module name -> names of its dependencies, as listed
	softPre map[string][]string // module name -> names or aliases to load before it
	aliases map[string][]string // normalized alias -> module names, sorted
	builtin map[string]bool     // names of modules built into the kernel
}

func newDepIndex() *depIndex {
	return &depIndex{
		paths:   make(map[string]string),
		deps:    make(map[string][]string),
		softPre: make(map[string][]string),
		aliases: make(map[string][]string),
		builtin: make(map[string]bool),
	}
}

// moduleSuffixes are the file name endings of loadable modules, longest
// first so that trimming one leaves the bare name.
var moduleSuffixes = []string{".ko.zst", ".ko.xz", ".ko.gz", ".ko"}

// normalizeName turns a module or alias name into the form the kernel and
// kmod compare: '-' and '_' are the same character in module names, so the
// file crc-t10dif.ko is the module crc_t10dif.
func normalizeName(name string) string {
	return strings.ReplaceAll(name, "-", "_")
}

// moduleName returns the module name of a module file path, or "" if the
// path does not name a module file.
func moduleName(p string) string {
	base := path.Base(p)
	for _, s := range moduleSuffixes {
		if n, ok := strings.CutSuffix(base, s); ok && n != "" {
			return normalizeName(n)
		}
	}
	return ""
}

// checkModulePath rejects paths that would leave the modules directory or
// do not name a module file: the files come from a kernel tree the packager
// points at, and a bad line must not make us copy /etc/shadow.
func checkModulePath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") || moduleName(p) == "" {
		return fmt.Errorf("path %q: %w", p, errBadDepLine)
	}
	return nil
}

// parseModulesDep reads modules.dep: "kernel/a/b.ko: kernel/c.ko kernel/d.ko".
func (x *depIndex) parseModulesDep(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		file, list, ok := strings.Cut(s, ":")
		if !ok {
			return fmt.Errorf("modules.dep line %d: %q: %w", line, s, errBadDepLine)
		}
		if err := checkModulePath(file); err != nil {
			return fmt.Errorf("modules.dep line %d: %w", line, err)
		}
		name := moduleName(file)
		var deps []string
		for _, d := range strings.Fields(list) {
			if err := checkModulePath(d); err != nil {
				return fmt.Errorf("modules.dep line %d: %w", line, err)
			}
			deps = append(deps, moduleName(d))
		}
		x.paths[name] = file
		x.deps[name] = deps
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("modules.dep: %w", err)
	}
	return nil
}

// parseAliases reads modules.alias or modules.builtin.alias:
// "alias PATTERN MODULE". Patterns with wildcards describe hardware
// (pci:v00001AF4d...*) and never match a name a person types, so only
// literal aliases are kept.
func (x *depIndex) parseAliases(data []byte) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "alias" || strings.ContainsAny(f[1], "*?[") {
			continue
		}
		a, m := normalizeName(f[1]), normalizeName(f[2])
		i := sort.SearchStrings(x.aliases[a], m)
		if i < len(x.aliases[a]) && x.aliases[a][i] == m {
			continue
		}
		x.aliases[a] = append(x.aliases[a], "")
		copy(x.aliases[a][i+1:], x.aliases[a][i:])
		x.aliases[a][i] = m
	}
}

// parseSoftdeps reads modules.softdep: "softdep MODULE pre: A B post: C".
// Only pre: matters here (ext4 and jbd2 name crypto-crc32c there); post:
// and words outside either list are ignored, as modprobe does.
func (x *depIndex) parseSoftdeps(data []byte) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "softdep" {
			continue
		}
		name, pre := normalizeName(f[1]), false
		for _, w := range f[2:] {
			switch w {
			case "pre:":
				pre = true
			case "post:":
				pre = false
			default:
				if pre {
					x.softPre[name] = append(x.softPre[name], w)
				}
			}
		}
	}
}

// parseBuiltin reads modules.builtin: one module path per line.
func (x *depIndex) parseBuiltin(data []byte) {
	for _, line := range strings.Split(string(data), "\n") {
		if n := moduleName(strings.TrimSpace(line)); n != "" {
			x.builtin[n] = true
		}
	}
}

// resolve turns a name as a person or the kernel writes it (virtio-net,
// crc32c, crypto-crc32c) into a module name. It returns "" with no error for
// modules built into the kernel: there is nothing to load.
func (x *depIndex) resolve(name string) (string, error) {
	n := normalizeName(name)
	if _, ok := x.paths[n]; ok {
		return n, nil
	}
	if x.builtin[n] {
		return "", nil
	}
	cands := x.aliases[n]
	if len(cands) == 0 {
		return "", ErrModuleNotFound
	}
	// Several modules can provide one alias: crc32c is crc32c_generic and
	// crc32c_intel. The generic one works on every CPU the kernel runs on,
	// so it wins; otherwise the first by name, so builds are repeatable.
	pick := cands[0]
	for _, c := range cands {
		if strings.HasSuffix(c, "_generic") {
			pick = c
			break
		}
	}
	if _, ok := x.paths[pick]; ok {
		return pick, nil
	}
	if x.builtin[pick] {
		return "", nil
	}
	return "", fmt.Errorf("alias of %s, not in modules.dep: %w", pick, ErrModuleNotFound)
}

// closure returns the modules to load for names, dependencies first, each
// once. Dependencies are visited in the reverse of their modules.dep order,
// the order modprobe loads them in.
//
// iscsi_tcp gets crc32c before it: it allocates a crc32c transform when a
// connection is created and fails with "crc32c loading error" if none is
// registered, yet neither modules.dep nor a softdep says so.
func (x *depIndex) closure(names []string) ([]string, error) {
	order, _, err := x.closureAfter(names)
	return order, err
}

// closureAfter is closure that also says, for each module of the order,
// the modules it was found to need loaded before it (its dependencies,
// the softdeps it loads first, crc32c for iscsi_tcp, a NIC's bus driver),
// each earlier in the order: modules neither of which needs the other
// can be loaded at the same time.
func (x *depIndex) closureAfter(names []string) ([]string, map[string][]string, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[string]int)
	var order []string
	after := make(map[string][]string)
	var visit func(name, neededBy string) error
	visit = func(name, neededBy string) error {
		switch state[name] {
		case visiting:
			return &ModuleError{Name: name, Needed: neededBy, Err: errDepCycle}
		case done:
			if neededBy != "" && !slices.Contains(after[neededBy], name) {
				after[neededBy] = append(after[neededBy], name)
			}
			return nil
		}
		state[name] = visiting
		deps := x.deps[name]
		for i := len(deps) - 1; i >= 0; i-- {
			d := deps[i]
			if _, ok := x.paths[d]; !ok {
				if x.builtin[d] {
					continue
				}
				return &ModuleError{Name: d, Needed: name, Err: ErrModuleNotFound}
			}
			if err := visit(d, name); err != nil {
				return err
			}
		}
		// Soft dependencies are best effort, as for modprobe: one the
		// kernel lacks, or one that loops back, is left out.
		for _, s := range x.softPre[name] {
			if m, err := x.resolve(s); err == nil && m != "" && state[m] != visiting {
				if err := visit(m, name); err != nil {
					return err
				}
			}
		}
		if alg, ok := cryptoNeeds[name]; ok {
			c, err := x.resolveCrypto(alg)
			if err != nil {
				return &ModuleError{Name: alg, Needed: name, Err: err}
			}
			if c != "" {
				if err := visit(c, name); err != nil {
					return err
				}
			}
		}
		for _, bus := range busDrivers[name] {
			if m, err := x.resolve(bus); err == nil && m != "" && state[m] != visiting {
				if err := visit(m, name); err != nil {
					return err
				}
			}
		}
		state[name] = done
		order = append(order, name)
		if neededBy != "" {
			after[neededBy] = append(after[neededBy], name)
		}
		return nil
	}
	for _, n := range names {
		m, err := x.resolve(n)
		if err != nil {
			return nil, nil, &ModuleError{Name: n, Err: err}
		}
		if m == "" {
			continue
		}
		if err := visit(m, ""); err != nil {
			return nil, nil, err
		}
	}
	return order, after, nil
}

// cryptoNeeds names the crypto transform a module allocates by name when it
// starts work, which no module metadata names: iscsi_tcp's crc32c for the
// digests (without it: "Could not create connection due to crc32c loading
// error"), rdma_rxe's crc32 for RoCE's ICRC when a device is added
// (drivers/infiniband/sw/rxe/rxe_verbs.c: "failed to allocate crc
// algorithm").
var cryptoNeeds = map[string]string{"iscsi_tcp": "crc32c", "rdma_rxe": "crc32"}

// resolveCrypto finds the module that registers the transform alg. The
// crypto API asks for "crypto-ALG" when it loads one on demand, so that
// alias names the right module even where a library module is called ALG.
func (x *depIndex) resolveCrypto(alg string) (string, error) {
	m, err := x.resolve("crypto-" + alg)
	if err == nil {
		return m, nil
	}
	return x.resolve(alg)
}
