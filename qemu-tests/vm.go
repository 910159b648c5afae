package qemutests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	// DefaultBootTimeout bounds one boot from QEMU's start to its exit; a good boot takes about 5 s.
	DefaultBootTimeout = 120 * time.Second
	// MAC is the guest NIC's address. The NIC sits at PCI 00:03.0 (bdf 0x18), which iBFT tables name.
	MAC = "52:54:00:12:34:56"
	// BaseAppend is the kernel command line every direct-kernel boot starts with. no_timer_check: under TCG on
	// a loaded host the kernel's IO-APIC timer check can miss its ticks and panic ("IO-APIC + timer doesn't
	// work!"), seen when other guests ran at the same time; the check proves nothing about QEMU's timer.
	BaseAppend = "console=ttyS0 panic=-1 quiet no_timer_check"
	// maxVMs is how many guests run at once: two TCG guests on two cores keep their single-boot speed.
	maxVMs = 2
)

// slots limits the guests running at once across all tests of the package.
var slots = make(chan struct{}, maxVMs)

// BootOptions describes one QEMU run.
type BootOptions struct {
	Name      string   // log file name; defaults to "boot1", "boot2"... within the test
	Initrd    string   // initramfs image; required unless Firmware
	Append    string   // added to BaseAppend
	ExtraArgs []string // more QEMU arguments, e.g. "-acpitable", "sig=iBFT,file=ibft.bin"
	Netdev    string   // added to "-netdev user,id=n0", e.g. ",tftp=DIR,bootfile=boot.ipxe"
	// NetdevSpec replaces the whole -netdev value, e.g. "tap,id=n0,ifname=tap0,script=no,downscript=no"
	// for a guest on a tap in the test's own namespace; the id must stay n0.
	NetdevSpec string
	// MAC replaces the NIC's address MAC, for two guests on one QEMU socket network.
	MAC     string
	Timeout time.Duration // defaults to DefaultBootTimeout
	// BzImage boots the compressed kernel instead of the PVH vmlinux (2.5 s slower under TCG).
	BzImage bool
	// Firmware boots without -kernel, -initrd and -append: the BIOS and ExtraArgs (such as "-boot n" for
	// iPXE) decide what runs.
	Firmware bool
}

// VM is one running or finished QEMU.
type VM struct {
	Name       string
	ConsoleLog string // the console, each line prefixed with the host seconds since QEMU started

	t       testing.TB
	cmd     *exec.Cmd
	con     *console
	stderr  bytes.Buffer
	exited  chan struct{} // closed after QEMU exited and its console was read to the end
	waitErr error
	start   time.Time
}

// Started is when QEMU was started; console and mark host times count from it.
func (vm *VM) Started() time.Time { return vm.start }

// qemuArgs returns QEMU's command line for opts with kernel k.
func qemuArgs(k Kernel, opts BootOptions) []string {
	netdev := "user,id=n0" + opts.Netdev
	if opts.NetdevSpec != "" {
		netdev = opts.NetdevSpec
	}
	mac := MAC
	if opts.MAC != "" {
		mac = opts.MAC
	}
	args := []string{
		"-M", "pc", "-accel", "tcg", "-m", "512", "-nodefaults", "-display", "none",
		"-serial", "stdio", "-no-reboot",
		"-netdev", netdev,
		"-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",addr=0x3",
	}
	if !opts.Firmware {
		kernel := k.VMLinux()
		if opts.BzImage {
			kernel = k.BzImage()
		}
		cmdline := strings.TrimSpace(BaseAppend + " " + opts.Append)
		args = append(args, "-kernel", kernel, "-initrd", opts.Initrd, "-append", cmdline)
	}
	return append(args, opts.ExtraArgs...)
}

// Boot starts QEMU and returns at once; the VM runs until the guest powers off, the timeout passes, ctx
// ends, or the test ends. It waits first for one of the two VM slots. It fails t if QEMU cannot start.
func (h *Harness) Boot(ctx context.Context, opts BootOptions) *VM {
	h.t.Helper()
	vm, err := h.boot(ctx, opts)
	if err != nil {
		h.t.Fatalf("boot: %v", err)
	}
	return vm
}

func (h *Harness) boot(ctx context.Context, opts BootOptions) (*VM, error) {
	h.boots++
	if opts.Name == "" {
		opts.Name = fmt.Sprintf("boot%d", h.boots)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultBootTimeout
	}
	if !opts.Firmware && opts.Initrd == "" {
		return nil, errors.New("no Initrd for a direct kernel boot")
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a VM slot: %w", ctx.Err())
	}
	vm := &VM{Name: opts.Name, ConsoleLog: filepath.Join(h.LogDir, opts.Name+".console"), t: h.t,
		exited: make(chan struct{})}
	logf, err := os.Create(vm.ConsoleLog)
	if err != nil {
		<-slots
		return nil, fmt.Errorf("console log: %w", err)
	}
	qctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	args := qemuArgs(h.Kernel, opts)
	fmt.Fprintf(logf, "# qemu-system-x86_64 %s\n", strings.Join(args, " "))
	vm.cmd = exec.CommandContext(qctx, "qemu-system-x86_64", args...)
	vm.cmd.Stderr = &vm.stderr
	vm.cmd.SysProcAttr = qemuAttr()
	out, err := vm.cmd.StdoutPipe()
	if err != nil {
		cancel()
		logf.Close()
		<-slots
		return nil, fmt.Errorf("console pipe: %w", err)
	}
	start := time.Now()
	vm.start = start
	vm.con = newConsole(start, logf)
	if err := vm.cmd.Start(); err != nil {
		cancel()
		logf.Close()
		<-slots
		return nil, fmt.Errorf("run qemu-system-x86_64 (scripts/deps.sh installs it): %w", err)
	}
	go func() {
		vm.con.read(out)
		err := vm.cmd.Wait()
		if qctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("killed after the %v boot timeout: %w", opts.Timeout, err)
		}
		vm.waitErr = err
		cancel()
		fmt.Fprintf(logf, "# qemu exited after %.3f s: %v\n# stderr:\n%s", time.Since(start).Seconds(),
			err, vm.stderr.Bytes())
		logf.Close()
		<-slots
		close(vm.exited)
	}()
	h.t.Cleanup(func() {
		// Ends a VM the test left running; its death also releases the slot.
		cancel()
		<-vm.exited
		if h.t.Failed() {
			h.t.Logf("%s: console %s", vm.Name, vm.ConsoleLog)
		}
	})
	return vm, nil
}

// WaitFor returns the first console line containing s, waiting until it appears, QEMU exits, or ctx ends.
func (vm *VM) WaitFor(ctx context.Context, s string) (Line, error) {
	for {
		l, found, done, wake := vm.con.find(s)
		if found {
			return l, nil
		}
		if done {
			<-vm.exited
			// The guest's own reason, when its /init gave one, says more than QEMU's exit status.
			if f, ok, _, _ := vm.con.find(FailMarker); ok {
				return Line{}, fmt.Errorf("%s: console has no %q; guest: %s", vm.Name, s, f.Text)
			}
			return Line{}, fmt.Errorf("%s: console has no %q; qemu ended: %v", vm.Name, s, vm.waitErr)
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return Line{}, fmt.Errorf("%s: waiting for %q: %w", vm.Name, s, ctx.Err())
		}
	}
}

// Expect is WaitFor that fails the test, showing the console's last lines.
func (vm *VM) Expect(ctx context.Context, s string) Line {
	vm.t.Helper()
	l, err := vm.WaitFor(ctx, s)
	if err != nil {
		vm.t.Fatalf("%v\nlast console lines:\n%s", err, vm.tail(30))
	}
	return l
}

// Wait waits until QEMU exits and returns its error: nil after the guest powered off.
func (vm *VM) Wait(ctx context.Context) error {
	select {
	case <-vm.exited:
		if vm.waitErr != nil {
			return fmt.Errorf("%s: qemu: %w: %s", vm.Name, vm.waitErr, bytes.TrimSpace(vm.stderr.Bytes()))
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: waiting for qemu to exit: %w", vm.Name, ctx.Err())
	}
}

// Lines returns the console lines read so far.
func (vm *VM) Lines() []Line { return vm.con.snapshot() }

// Marks returns the guest's timestamped steps read so far.
func (vm *VM) Marks() []Mark { return marks(vm.con.snapshot()) }

// Mark returns the first timestamped step whose text starts with prefix.
func (vm *VM) Mark(prefix string) (Mark, bool) {
	for _, m := range vm.Marks() {
		if strings.HasPrefix(m.Text, prefix) {
			return m, true
		}
	}
	return Mark{}, false
}

// since returns the guest time from vm's step from to its step to, and fails tb when either is missing.
func since(tb testing.TB, vm *VM, from, to string) time.Duration {
	tb.Helper()
	a, ok1 := vm.Mark(from)
	b, ok2 := vm.Mark(to)
	if !ok1 || !ok2 {
		tb.Fatalf("%s: no %q or %q step in:\n%s", vm.Name, from, to, FormatMarks(vm.Marks()))
	}
	return b.Uptime - a.Uptime
}

// benchBoot is one boot of a benchmark's loop: run i of the image named name, until the guest prints marker
// and powers off; the boot's marks go to raw under "NAME run I".
func (h *Harness) benchBoot(ctx context.Context, name string, i int, opts BootOptions, marker string, raw *strings.Builder) *VM {
	opts.Name = fmt.Sprintf("%s-%d", name, i)
	vm := h.Boot(ctx, opts)
	vm.Expect(ctx, marker)
	vm.Wait(ctx)
	fmt.Fprintf(raw, "%s run %d:\n%s", name, i, FormatMarks(vm.Marks()))
	return vm
}

// LoginExitCode returns the login command's exit status from GuestScript's "login exit rc=N" step.
func (vm *VM) LoginExitCode() (int, error) {
	m, ok := vm.Mark(StepLoginExit)
	if !ok {
		return 0, fmt.Errorf("%s: no %q step on the console", vm.Name, StepLoginExit)
	}
	v, _ := strings.CutPrefix(m.Text, StepLoginExit+" rc=")
	rc, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: step %q: %w", vm.Name, m.Text, err)
	}
	return rc, nil
}

// tail returns the last n console lines as text.
func (vm *VM) tail(n int) string {
	lines := vm.con.snapshot()
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%8.3f %s\n", l.Host.Seconds(), l.Text)
	}
	return b.String()
}
