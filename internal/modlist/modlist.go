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
)

var (
	errRelativeModule = errors.New("path is not absolute")
	errNulInModule    = errors.New("line holds a NUL byte")
)

// Path is the file in the image that names the kernel modules to load,
// in load order, dependencies first. It is written by package initramfs.
//
// Format: one module per line, "PATH [PARAMS]", where PATH is the absolute
// path of the .ko (or .ko.xz, .ko.zst) file in the image and PARAMS, if any,
// are passed to the module as insmod would ("iscsi_tcp.ko max_lun=1").
// Empty lines and lines starting with '#' are ignored.
const Path = "/etc/iscsiboot/modules"

// Module is one entry of the module list.
type Module struct {
	Path   string // absolute path of the module file
	Params string // module parameters, space separated; may be empty
}

// Parse parses the contents of a module list.
func Parse(data []byte) ([]Module, error) {
	var mods []Module
	for i, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		p, params := s, ""
		if j := strings.IndexAny(s, " \t"); j >= 0 {
			p, params = s[:j], s[j+1:]
		}
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("module list line %d: path %q: %w", i+1, p, errRelativeModule)
		}
		if strings.ContainsRune(s, 0) {
			return nil, fmt.Errorf("module list line %d: %q: %w", i+1, s, errNulInModule)
		}
		mods = append(mods, Module{Path: p, Params: strings.TrimSpace(params)})
	}
	return mods, nil
}

// Format returns mods in the format Parse reads.
func Format(mods []Module) []byte {
	var b bytes.Buffer
	b.WriteString("# Kernel modules iscsiboot's init loads, in this order: PATH [PARAMS]\n")
	for _, m := range mods {
		b.WriteString(m.Path)
		if m.Params != "" {
			b.WriteString(" ")
			b.WriteString(m.Params)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}
