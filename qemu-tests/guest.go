package qemutests

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/initramfs"
)

// The steps GuestScript stamps, in order; VM.Mark finds them by these prefixes.
const (
	StepInit      = "init start"
	StepModules   = "modules loaded"
	StepNet       = "net up"
	StepLoginExec = "login exec"
	StepLoginExit = "login exit" // followed by " rc=N"
	StepBlockDev  = "block device present"
	StepRoot      = "root mounted"
	StepRootInit  = "root init" // printed by the root disk's own init after switch_root
	// FailMarker starts the line GuestScript prints before powering off when a step fails.
	FailMarker = "ISCSIBOOT-FAIL: "
)

// The login command runs from its own script under busybox timeout: open-iscsi's iscsistart, for one,
// retries a refused connection forever.
const (
	loginScript = "/etc/iscsiboot-test/login.sh"
	// DefaultLoginTimeout is generous: a good login takes 1-2 s under TCG.
	DefaultLoginTimeout = 60 * time.Second
)

// Reference guest identities, as in the lab.
const (
	InitiatorIQN = "iqn.2025-01.test:init"
	TargetIQN    = "iqn.2025-01.test:disk1"
	// HostAddr is the host, and tgtd, as the guest sees it through slirp.
	HostAddr = "10.0.2.2"
)

// DefaultModules are what every guest loads: the NIC, SCSI disks, iSCSI over TCP (the initramfs package adds
// the crc32c iscsi_tcp needs), and ext4 for the root disk.
var DefaultModules = []string{"virtio_pci", "virtio_net", "sd_mod", "iscsi_tcp", "ext4"}

// Guest describes a busybox initramfs whose /init logs in to the root disk with one command, mounts it and
// switches to it. Swapping Login and Binaries compares login tools on the same boot.
type Guest struct {
	// Login is the shell command line that logs in, run after the network is up.
	Login string
	// LoginTimeout kills Login (SIGKILL, exit status 137) after this long, in whole seconds; default
	// DefaultLoginTimeout.
	LoginTimeout time.Duration
	// Binaries maps image paths to host files; dynamically linked ones bring the libraries ldd names.
	Binaries map[string]string
	// Files maps image paths to contents, installed with mode 0644.
	Files map[string]string
	// Modules are loaded in addition to DefaultModules, with their dependencies.
	Modules []string
	// NoNet skips the static 10.0.2.15/24 on eth0, for a login tool that configures the network itself.
	NoNet bool
	// RootDev is the block device the root disk appears as; default /dev/sda (tgt's LUN 1 on the only
	// session).
	RootDev string
	// Gzip compresses the image, as distributions ship it; by default it is a plain cpio archive.
	Gzip bool
}

// ReferenceGuest logs in with Debian's own open-iscsi iscsistart, the yardstick for iscsiboot's.
func ReferenceGuest(port int) Guest {
	return Guest{
		Login: fmt.Sprintf("iscsistart -i %s -t %s -g 1 -a %s -p %d", InitiatorIQN, TargetIQN, HostAddr, port),
		Binaries: map[string]string{
			"/sbin/iscsistart": "/usr/sbin/iscsistart",
		},
		Files: map[string]string{
			"/etc/iscsi/initiatorname.iscsi": "InitiatorName=" + InitiatorIQN + "\n",
		},
	}
}

// Pieces of every busybox /init here: GuestScript's, the LIO target guest's, the RAID preparation guest's.
const (
	// guestMounts mounts what the rest needs.
	guestMounts = `mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
`
	// guestModules loads the image's module list in order, failing (guestFail) on the first that does not load.
	guestModules = `# nothing in the image can load modules on demand; fail such requests at once
echo /bin/false > /proc/sys/kernel/modprobe
while read -r mod params; do
	case "$mod" in ''|'#'*) continue ;; esac
	insmod "$mod" $params || fail "insmod $mod"
done < ` + initramfs.ModuleListPath + `
`
)

// guestFail is the shell function fail: marker and its arguments on the console, the kernel's last
// dmesgLines lines, and power off, so a broken guest ends at once.
func guestFail(marker string, dmesgLines int) string {
	return `fail() { echo "` + marker + `$*"; dmesg | tail -` + strconv.Itoa(dmesgLines) + `; poweroff -f; }
`
}

// GuestScript returns the busybox /init for g. Each step prints "ISCSIBOOT[<uptime>] <step>"; a failed step
// prints FailMarker and the kernel's last messages, then powers off, so a broken boot ends at once.
func GuestScript(g Guest) string {
	dev := g.RootDev
	if dev == "" {
		dev = "/dev/sda"
	}
	loginSecs := int((g.LoginTimeout + time.Second - 1) / time.Second)
	if g.LoginTimeout <= 0 {
		loginSecs = int(DefaultLoginTimeout / time.Second)
	}
	net := `ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via ` + HostAddr + `
ts "` + StepNet + `"`
	if g.NoNet {
		net = `ip link set eth0 up
ts "` + StepNet + ` (left to the login tool)"`
	}
	return `#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
` + guestMounts + `ts() { read up _ < /proc/uptime; echo "ISCSIBOOT[$up] $*"; }
` + guestFail(FailMarker, 40) + `ts "` + StepInit + `"
` + guestModules + `ts "` + StepModules + `"
ip link set lo up
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
[ -e /sys/class/net/eth0 ] || fail "no eth0"
` + net + `
ts "` + StepLoginExec + `"
timeout -s KILL ` + strconv.Itoa(loginSecs) + ` /bin/sh ` + loginScript + `
rc=$?
ts "` + StepLoginExit + ` rc=$rc"
[ $rc = 0 ] || fail "login rc=$rc"
i=0; while [ ! -b ` + dev + ` ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
[ -b ` + dev + ` ] || fail "no ` + dev + `"
ts "` + StepBlockDev + `"
mkdir -p /newroot
mount -t ext4 -o ro ` + dev + ` /newroot || fail "mount ` + dev + `"
ts "` + StepRoot + `"
for d in dev proc sys; do mount --move /$d /newroot/$d || fail "move /$d"; done
exec switch_root /newroot /sbin/init
`
}

// Initramfs builds the image for g and returns its path.
func (h *Harness) Initramfs(ctx context.Context, g Guest) string {
	h.t.Helper()
	start := time.Now()
	h.images++
	name := fmt.Sprintf("initrd%d.cpio", h.images)
	if g.Gzip {
		name += ".gz"
	}
	p, err := buildInitramfs(ctx, h.Kernel, g, filepath.Join(h.Dir, name))
	if err != nil {
		h.t.Fatalf("initramfs: %v", err)
	}
	if fi, err := os.Stat(p); err == nil {
		h.t.Logf("initramfs %s: %d bytes, built in %v", filepath.Base(p), fi.Size(), time.Since(start).Round(time.Millisecond))
	}
	return p
}

func buildInitramfs(ctx context.Context, k Kernel, g Guest, out string) (string, error) {
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// An uncompressed image boots 0.6 s sooner under TCG and builds in milliseconds instead of seconds.
	opt := initramfs.Uncompressed()
	if g.Gzip {
		// BestSpeed: within 10% of the size of -9, built in 0.15 s instead of 2.5 s.
		opt = initramfs.GzipLevel(gzip.BestSpeed)
	}
	b := initramfs.New(f, opt)
	if err := addBusybox(ctx, b); err != nil {
		return "", err
	}
	for _, d := range []string{"/proc", "/sys", "/dev", "/run", "/tmp", "/newroot", "/etc", "/var/lock"} {
		if err := b.AddDir(d, 0o755); err != nil {
			return "", fmt.Errorf("dir %s: %w", d, err)
		}
	}
	// The kernel opens init's stdin, stdout and stderr on /dev/console before /init mounts devtmpfs.
	if err := b.AddCharDev("/dev/console", 0o600, 5, 1); err != nil {
		return "", fmt.Errorf("/dev/console: %w", err)
	}
	if err := b.AddBytes("/init", []byte(GuestScript(g)), 0o755); err != nil {
		return "", fmt.Errorf("/init: %w", err)
	}
	if err := b.AddBytes(loginScript, []byte(g.Login+"\n"), 0o755); err != nil {
		return "", fmt.Errorf("%s: %w", loginScript, err)
	}
	for _, dst := range sortedKeys(g.Files) {
		if err := b.AddBytes(dst, []byte(g.Files[dst]), 0o644); err != nil {
			return "", fmt.Errorf("file %s: %w", dst, err)
		}
	}
	for _, dst := range sortedKeys(g.Binaries) {
		if err := addBinary(ctx, b, dst, g.Binaries[dst]); err != nil {
			return "", err
		}
	}
	mods := append(append([]string(nil), DefaultModules...), g.Modules...)
	if _, err := b.AddModules(k.Dir, k.Version, mods...); err != nil {
		return "", fmt.Errorf("modules: %w", err)
	}
	if err := b.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", out, err)
	}
	return out, f.Close()
}

// addBusybox adds static busybox as /bin/busybox and a link for each of its applets.
func addBusybox(ctx context.Context, b *initramfs.Builder) error {
	if err := b.AddFile("/bin/busybox", "/bin/busybox"); err != nil {
		return fmt.Errorf("busybox (scripts/deps.sh installs busybox-static): %w", err)
	}
	out, err := exec.CommandContext(ctx, "/bin/busybox", "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, a := range strings.Fields(string(out)) {
		if a == "busybox" {
			continue
		}
		if err := b.AddSymlink("/bin/"+a, "busybox"); err != nil {
			return fmt.Errorf("busybox applet %s: %w", a, err)
		}
	}
	return nil
}

// addBinary adds the host file src at dst with every shared library it loads, at the library's host path.
func addBinary(ctx context.Context, b *initramfs.Builder, dst, src string) error {
	if err := b.AddFile(dst, src); err != nil {
		return fmt.Errorf("binary %s: %w", src, err)
	}
	libs, err := sharedLibs(ctx, src)
	if err != nil {
		return err
	}
	for _, l := range libs {
		if err := b.AddFile(l, l); err != nil {
			return fmt.Errorf("library %s of %s: %w", l, src, err)
		}
	}
	return nil
}

// lddPath matches the absolute paths in ldd's lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)"
// and "/lib64/ld-linux-x86-64.so.2 (0x...)".
var lddPath = regexp.MustCompile(`(?m)(?:^\s*|=> )(/\S+) \(0x[0-9a-f]+\)$`)

// sharedLibs returns the libraries ldd says path loads, and none for a static binary.
func sharedLibs(ctx context.Context, path string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ldd", path).CombinedOutput()
	if bytes.Contains(out, []byte("not a dynamic executable")) || bytes.Contains(out, []byte("statically linked")) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w: %s", path, err, bytes.TrimSpace(out))
	}
	return parseLdd(out), nil
}

func parseLdd(out []byte) []string {
	var libs []string
	for _, m := range lddPath.FindAllSubmatch(out, -1) {
		libs = append(libs, string(m[1]))
	}
	return libs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
