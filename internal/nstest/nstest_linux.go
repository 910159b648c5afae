package nstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envMarker tells the re-executed test binary that it already runs in its private namespaces.
const envMarker = "ISCSIBOOT_NSTEST"

// Main runs the tests of m in private namespaces and exits with their status. Call it from TestMain.
func Main(m *testing.M) {
	if Inside() {
		if err := setup(); err != nil {
			fmt.Fprintf(os.Stderr, "nstest: %v\n", err)
			os.Exit(1)
		}
		os.Exit(m.Run())
	}
	code, err := reexec()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nstest: %v\n", err)
	}
	os.Exit(code)
}

// Inside reports whether this process is the test binary Main re-executed in private namespaces.
func Inside() bool {
	return os.Getenv(envMarker) == "1"
}

// Require fails t unless it runs inside the namespaces of Main. Helpers that start daemons call it, so a
// package that forgot its TestMain gets a clear error instead of a daemon on the host.
func Require(t testing.TB) {
	t.Helper()
	if !Inside() {
		t.Fatal("nstest: not in a private namespace; add `func TestMain(m *testing.M) { nstest.Main(m) }`")
	}
}

// reexec runs this binary again in new namespaces and returns its exit status.
func reexec() (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 1, fmt.Errorf("find test binary: %w", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envMarker+"=1")
	cmd.SysProcAttr = sysProcAttr(os.Geteuid(), os.Getegid())

	// On ^C or a go test timeout, kill the child: it is PID 1 of its namespace, so its death takes tgtd, QEMU
	// and everything else the tests started with it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("start %s in new namespaces (unprivileged user namespaces disabled?): %w", exe, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "nstest: %v: killing the namespaced tests\n", s)
			_ = cmd.Process.Kill()
		case err := <-done:
			var ee *exec.ExitError
			switch {
			case err == nil:
				return 0, nil
			case errors.As(err, &ee) && ee.ExitCode() >= 0:
				return ee.ExitCode(), nil
			default:
				return 1, fmt.Errorf("namespaced tests: %w", err)
			}
		}
	}
}

// sysProcAttr asks for new network, mount and PID namespaces. Root gets them directly and keeps its full
// privileges; anyone else first gets a user namespace with their own uid and gid mapped to root, as
// `unshare -r` does.
func sysProcAttr(uid, gid int) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID,
		// Without this an orphaned tgtd or QEMU would outlive a killed go test.
		Pdeathsig: syscall.SIGKILL,
	}
	if uid != 0 {
		a.Cloneflags |= syscall.CLONE_NEWUSER
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
		a.GidMappingsEnableSetgroups = false
	}
	return a
}

// setup prepares the fresh namespaces: private mounts, a tmpfs on /run, lo up.
func setup() error {
	// A new mount namespace inherits shared propagation when root made it: without this the tmpfs below
	// would appear on the host's /run.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Mount("nstest-run", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on /run: %w", err)
	}
	if err := linkUp("lo"); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// linkUp sets IFF_UP on the named interface.
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("ifreq %q: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get flags of %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set flags of %s: %w", name, err)
	}
	return nil
}
