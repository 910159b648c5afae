package qemutests

import "syscall"

// qemuAttr makes the kernel kill QEMU when the test process dies, so a crashed test leaves no VM.
func qemuAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
