package pid1

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// newRoot is where the root file system is mounted before switch_root.
const newRoot = "/root"

// Main is the init process of an initramfs. It runs the boot in order,
// printing one line per phase, and on success never returns: the process
// becomes the real root's init. On failure it prints the error, offers a
// shell if the command line asks for one, and reboots or powers off as
// panic= says. It returns only if even that failed.
func Main(ctx context.Context, boot BootFunc) error {
	con := console{w: os.Stdout, uptime: readUptime}
	// Before /proc is mounted there is no uptime; the first line waits.
	if err := mountKernelFS(); err != nil {
		con.printf("FAILED: %v", err)
		return finish(con, Config{}, err)
	}
	con.printf("init started")

	cmdline, err := ReadCmdline("/proc/cmdline")
	if err != nil {
		return finish(con, Config{}, err)
	}
	cfg, err := ParseCmdline(cmdline)
	if err != nil {
		for _, e := range unjoin(err) {
			con.printf("warning: %v", e)
		}
	}

	oldModprobe, err := disableModprobe()
	if err != nil {
		con.printf("warning: %v", err)
	}

	mods, err := StartModules(ctx, ModuleList)
	if err != nil {
		con.printf("warning: %v", err)
		mods = noModules()
	}
	loaded := mods.Loaded
	for _, e := range unjoin(mods.Err) {
		con.printf("warning: %v", e)
	}
	con.printf("modules loaded (%d)", len(loaded))

	root, err := boot(ctx, cmdline)
	if err != nil {
		return finish(con, cfg, fmt.Errorf("boot: %w%s", err, MissingDriverNote(err, loaded)))
	}
	con.printf("boot step done")

	dev, err := WaitRoot(ctx, cfg, root.Device)
	if err != nil {
		return finish(con, cfg, err)
	}
	con.printf("root device %s", dev)
	fsMods, err := mods.Wait()
	for _, e := range unjoin(err) {
		con.printf("warning: %v", e)
	}
	if len(fsMods) > 0 {
		con.printf("file system modules loaded (%d)", len(fsMods))
	}
	if cfg.Break == BreakPreMount {
		rescueShell(con, "rd.break=pre-mount")
	}

	fstype, err := MountRoot(dev, cfg, newRoot)
	if err != nil {
		return finish(con, cfg, err)
	}
	con.printf("root %s (%s) mounted on %s", dev, fstype, newRoot)
	if cfg.Break == BreakPrePivot {
		rescueShell(con, "rd.break")
	}

	init, err := FindInit(newRoot, cfg.Init)
	if err != nil {
		return finish(con, cfg, err)
	}
	if root.Handoff != nil {
		msg, err := root.Handoff(newRoot)
		if msg != "" {
			con.printf("%s", msg)
		}
		if err != nil {
			con.printf("warning: %v", err)
		}
	}
	// The real system loads modules on demand through this path; give it
	// back before leaving.
	if oldModprobe != "" {
		if err := os.WriteFile(modprobePath, []byte(oldModprobe), 0); err != nil {
			con.printf("warning: restore %s: %v", modprobePath, err)
		}
	}
	con.printf("switching root to %s, exec %s", newRoot, init)
	err = SwitchRoot(newRoot, init)
	// The mounts may have moved already; nothing to undo, only to report.
	return finish(con, cfg, err)
}

// unjoin splits an errors.Join result into one error per console line.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// readUptime returns /proc/uptime, or "" before /proc is mounted.
func readUptime() string {
	b, _ := os.ReadFile("/proc/uptime")
	return string(b)
}

const modprobePath = "/proc/sys/kernel/modprobe"

// disableModprobe makes the kernel's on-demand module loading fail at once
// when the image has no modprobe: an empty path makes request_module return
// -ENOENT without spawning anything. It returns the old path to restore.
func disableModprobe() (string, error) {
	old, err := os.ReadFile(modprobePath)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", modprobePath, err)
	}
	p := strings.TrimSpace(string(old))
	if _, err := os.Stat(p); err == nil {
		return "", nil // the image has one: let the kernel use it
	}
	if err := os.WriteFile(modprobePath, []byte("\n"), 0); err != nil {
		return "", fmt.Errorf("write %s: %w", modprobePath, err)
	}
	return p, nil
}

// FindInit returns the init to run in the root mounted at root: want
// (init=, Config.Init) if given, or else the first of the kernel's own
// candidates that is an executable file. The path it returns is the one
// inside that root, for switch_root.
func FindInit(root, want string) (string, error) {
	cands := []string{"/sbin/init", "/etc/init", "/bin/init", "/bin/sh"}
	if want != "" {
		cands = []string{want}
	}
	for _, c := range cands {
		if fi, err := os.Stat(root + c); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s: looked for %s: %w", root, strings.Join(cands, ", "), errNoInit)
}

// rescueShell runs /bin/sh on the console, if the image has one, and waits
// for it to exit.
func rescueShell(con console, why string) {
	const sh = "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		con.printf("%s: no %s in the image, continuing", why, sh)
		return
	}
	con.printf("%s: starting %s; exit it to continue", why, sh)
	p, err := os.StartProcess(sh, []string{sh}, &os.ProcAttr{
		Env:   append(os.Environ(), "PS1=iscsiboot# "),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		con.printf("%s: %v", why, err)
		return
	}
	if _, err := p.Wait(); err != nil {
		con.printf("%s: %v", why, err)
	}
}

// finish ends a failed boot: the error, a shell if rd.shell or rd.break
// asked for one, then reboot or power-off per panic=.
func finish(con console, cfg Config, err error) error {
	con.printf("FAILED: %v", err)
	if cfg.Shell || cfg.Break != "" {
		rescueShell(con, "rd.shell")
	}
	unix.Sync()
	cmd, what := unix.LINUX_REBOOT_CMD_POWER_OFF, "powering off (set panic=N to reboot after N seconds)"
	switch {
	case cfg.Panic > 0:
		cmd, what = unix.LINUX_REBOOT_CMD_RESTART, fmt.Sprintf("rebooting in %d s", cfg.Panic)
	case cfg.Panic < 0:
		cmd, what = unix.LINUX_REBOOT_CMD_RESTART, "rebooting"
	}
	con.printf("%s", what)
	if cfg.Panic > 0 {
		time.Sleep(time.Duration(cfg.Panic) * time.Second)
	}
	if rerr := unix.Reboot(cmd); rerr != nil {
		return errors.Join(err, fmt.Errorf("reboot: %w", rerr))
	}
	return err
}
