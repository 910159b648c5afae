//go:build !linux

package qemutests

import "syscall"

// qemuAttr has nothing to ask for: the tests run only on Linux, inside nstest's namespaces.
func qemuAttr() *syscall.SysProcAttr { return nil }
