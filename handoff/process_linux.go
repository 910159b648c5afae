package handoff

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/iscsiboot/iscsiboot/boot"
)

// ResidentArg, as the first argument, runs the resident loop: StartResident
// passes it to the process it starts. It is not a flag users give.
const ResidentArg = "--resident-loop"

// residentName is the loop's argv[0]. The leading @ is systemd's mark of a
// root storage daemon, which its initrd does not kill at switch_root.
const residentName = "@iscsiboot-resident"

// StartResident starts the resident loop (Resident) as a detached
// process of its own, hands it st through a pipe, and returns once it has
// opened what it keeps using (the netlink socket, /proc), so that the
// caller may move /proc into the new root and switch to it.
func StartResident(st ResidentState) error {
	stateR, stateW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("resident loop: %w", err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		stateR.Close()
		stateW.Close()
		return fmt.Errorf("resident loop: %w", err)
	}
	defer readyR.Close()
	p, err := os.StartProcess("/proc/self/exe", []string{residentName, ResidentArg}, &os.ProcAttr{
		Files: []*os.File{stateR, os.Stdout, os.Stderr, readyW},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	stateR.Close()
	readyW.Close()
	if err != nil {
		stateW.Close()
		return fmt.Errorf("resident loop: %w", err)
	}
	defer p.Release()
	err = st.Encode(stateW)
	stateW.Close()
	if err != nil {
		p.Kill()
		return fmt.Errorf("resident loop: hand over the sessions: %w", err)
	}
	readyR.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := readyR.Read(b[:]); err != nil {
		p.Kill()
		return fmt.Errorf("resident loop did not start: %w", err)
	}
	return nil
}

// ResidentMain is the resident loop's process: it reads the state from
// stdin, opens the netlink socket and /proc, says it is ready on fd 3,
// and runs Resident until iscsid runs.
func ResidentMain() int {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stdout, "iscsiboot-resident: "+format+"\n", args...)
	}
	st, err := DecodeResidentState(os.Stdin)
	if err != nil {
		logf("read the sessions: %v", err)
		return 1
	}
	proc, err := os.Open("/proc")
	if err != nil {
		logf("%v", err)
		return 1
	}
	k, err := boot.OpenKernelHandle(cmp.Or(st.Plan.Transport, "tcp"), st.Handle)
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer k.Close()
	relogged := reinstater(st, logf) // dm-multipath (multipath_linux.go)
	ready := os.NewFile(3, "ready")
	ready.Write([]byte{1})
	ready.Close()
	self := os.Getpid()
	err = Resident(context.Background(), k, st, ResidentOptions{
		Iscsid:   func() (int, bool) { return IscsidRunning(proc, self) },
		Logf:     logf,
		Relogged: relogged,
	})
	if err != nil {
		logf("%v", err)
		return 1
	}
	return 0
}
