package tgtd

import "syscall"

// daemonAttr makes the kernel kill tgtd when the test process dies, so a crashed test leaves no daemon.
func daemonAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
