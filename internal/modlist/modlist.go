// Package modlist is the format of the file that names the kernel modules
// the guest /init loads: written by the image builder on the build host
// (package initramfs), read by the /init in the guest (package pid1). It
// imports nothing of this project.
package modlist

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

var (
	errRelativeModule = errors.New("path is not absolute")
	errNulInModule    = errors.New("line holds a NUL byte")
	errUnknownAfter   = errors.New("names no module listed before it")
	errDanglingAfter  = errors.New("is not followed by a module line")
)

// Path is the file in the image that names the kernel modules to load,
// in load order, dependencies first. It is written by package initramfs.
//
// Format: one module per line, "PATH [PARAMS]", where PATH is the absolute
// path of the .ko (or .ko.xz, .ko.zst) file in the image and PARAMS, if any,
// are passed to the module as insmod would ("iscsi_tcp.ko max_lun=1").
// Empty lines and lines starting with '#' are ignored, except that a line
// "#@after [PATH...]" right before a module's line names the modules listed
// earlier that must be loaded before it (its modules.dep dependencies, the
// softdeps it loads first, crc32c for iscsi_tcp); "#@after" alone says none.
// A module without such a line comes after the module listed before it, so
// a list without them loads one module after the other, and a reader that
// knows nothing of "#@after" (a comment to it) loads the list in order.
const Path = "/etc/iscsiboot/modules"

// afterDirective starts the line that names a module's prerequisites.
const afterDirective = "#@after"

// Module is one entry of the module list.
type Module struct {
	Path   string   // absolute path of the module file
	Params string   // module parameters, space separated; may be empty
	After  []string // paths of modules listed earlier that must be loaded first; nil: none
}

// Parse parses the contents of a module list.
func Parse(data []byte) ([]Module, error) {
	var mods []Module
	seen := make(map[string]bool)
	var after []string
	afterLine := 0 // line of a pending #@after, 0 when none
	for i, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if f := strings.Fields(s); len(f) > 0 && f[0] == afterDirective {
			if afterLine != 0 {
				return nil, fmt.Errorf("module list line %d: %s %w", afterLine, afterDirective, errDanglingAfter)
			}
			if strings.ContainsRune(s, 0) {
				return nil, fmt.Errorf("module list line %d: %q: %w", i+1, s, errNulInModule)
			}
			for _, p := range f[1:] {
				if !seen[p] {
					return nil, fmt.Errorf("module list line %d: %s %q %w", i+1, afterDirective, p, errUnknownAfter)
				}
			}
			after, afterLine = nil, i+1
			if len(f) > 1 {
				after = f[1:]
			}
			continue
		}
		if s == "" || s[0] == '#' {
			continue
		}
		p, params := s, ""
		// The path ends at white space of any kind, as strings.Fields
		// splits an #@after line: a path must read the same in both.
		if j := strings.IndexFunc(s, unicode.IsSpace); j >= 0 {
			p, params = s[:j], s[j+1:]
		}
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("module list line %d: path %q: %w", i+1, p, errRelativeModule)
		}
		if strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("module list line %d: %q: %w", i+1, s, errNulInModule)
		}
		if afterLine == 0 && len(mods) > 0 {
			after = []string{mods[len(mods)-1].Path}
		}
		mods = append(mods, Module{Path: p, Params: strings.TrimSpace(params), After: after})
		seen[p] = true
		after, afterLine = nil, 0
	}
	if afterLine != 0 {
		return nil, fmt.Errorf("module list line %d: %s %w", afterLine, afterDirective, errDanglingAfter)
	}
	return mods, nil
}

// Format returns mods in the format Parse reads. Each module's After names
// modules earlier in mods.
func Format(mods []Module) []byte {
	var b bytes.Buffer
	b.WriteString("# Kernel modules iscsiboot's init loads: PATH [PARAMS], each after those its #@after line names\n")
	for _, m := range mods {
		b.WriteString(afterDirective)
		for _, a := range m.After {
			b.WriteString(" ")
			b.WriteString(a)
		}
		b.WriteString("\n")
		b.WriteString(m.Path)
		if m.Params != "" {
			b.WriteString(" ")
			b.WriteString(m.Params)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}
