//go:build !linux

package tgtd

import "syscall"

// daemonAttr has nothing to ask for: tgtd runs only on Linux, where Start finds its namespace.
func daemonAttr() *syscall.SysProcAttr { return nil }
