package qemutests

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/initramfs"
)

// The kernel's own iSCSI target (LIO) in a second guest: a target implementation beside tgtd, and the only
// one here that speaks iSER. The two guests share one Ethernet through QEMU's socket network on the test's
// loopback (`-netdev socket,listen=` in the target, `connect=` in the initiator); each adds a soft-RoCE
// device (rdma_rxe) on its virtio NIC, so RDMA runs over that Ethernet as RoCEv2 in UDP.
//
// The target guest takes HostAddr (10.0.2.2), which the initiator's GuestScript already routes to, and
// serves each LIOTarget's disk (a virtio drive of its own, as an iblock backstore) as LUN 0 on one portal,
// 10.0.2.2:3260, over TCP and over iSER at once.
const (
	// LIOReady is the line the target guest prints once every target is configured and enabled.
	LIOReady = "ISCSIBOOT-LIO: ready"
	// lioFail starts the line the target guest prints when a configuration step fails.
	lioFail = "ISCSIBOOT-LIO-FAIL: "
	// lioMAC is the target guest's NIC address, apart from the initiator's MAC.
	lioMAC = "52:54:00:12:34:57"
	// LIOPort is the iSCSI port of the target guest's portal.
	LIOPort = 3260
)

// lioModules are what the target guest loads: LIO with its iblock backstore, its iSCSI fabric and the
// fabric's iSER transport, soft-RoCE, and the virtio disk and NIC. rdma_rxe needs crc32_generic and LIO
// crc32c_generic, even for iSER, and no module's metadata says so (LAB.md).
var lioModules = []string{"virtio_pci", "virtio_net", "virtio_blk", "crc32_generic", "crc32c_generic",
	"rdma_rxe", "target_core_iblock", "iscsi_target_mod", "ib_isert"}

// ISERModules are what an initiator guest adds to DefaultModules for iSER over soft-RoCE.
var ISERModules = []string{"crc32_generic", "rdma_rxe", "ib_iser"}

// LIOTarget is one iSCSI target of the LIO guest.
type LIOTarget struct {
	IQN  string
	Disk string // a disk image on the host, attached to the target guest as a virtio drive
	// DropPort, when not 0, is a TCP port on which the target guest waits for one connection (an
	// initiator's `nc 10.0.2.2 PORT`); then it ends the target's sessions by disabling its portal group
	// for DropFor (rounded to whole seconds; 0 enables it again at once), and prints LIODropped.
	DropPort int
	DropFor  time.Duration
}

// LIODropped starts the line the target guest prints when it drops a DropAfterLogin target's session.
const LIODropped = "ISCSIBOOT-LIO: dropped "

// LIO is the running target guest.
type LIO struct {
	VM *VM
	// Port is the loopback port of the QEMU socket network the initiators connect to.
	Port int
}

// lioScript is the target guest's /init: modules, the address and soft-RoCE device, then LIO through
// configfs (target/core for backstores, target/iscsi for the fabric), then it waits to be killed.
func lioScript(targets []LIOTarget) string {
	var cfg strings.Builder
	for i, t := range targets {
		dev := fmt.Sprintf("/dev/vd%c", 'a'+i)
		bs := fmt.Sprintf("$T/core/iblock_%d/disk%d", i, i)
		tpg := "$T/iscsi/" + t.IQN + "/tpgt_1"
		np := fmt.Sprintf("%s/np/%s:%d", tpg, HostAddr, LIOPort)
		fmt.Fprintf(&cfg, `mkdir -p %[1]s || fail "backstore %[2]s"
echo udev_path=%[2]s > %[1]s/control || fail "udev_path %[2]s"
echo 1 > %[1]s/enable || fail "enable %[2]s"
mkdir -p %[3]s/lun/lun_0 || fail "tpg %[4]s"
ln -s %[1]s %[3]s/lun/lun_0/disk || fail "lun %[4]s"
mkdir %[5]s || fail "portal %[4]s"
echo 1 > %[5]s/iser || fail "iser portal %[4]s"
for a in generate_node_acls:1 cache_dynamic_acls:1 demo_mode_write_protect:0 authentication:0; do
	echo ${a#*:} > %[3]s/attrib/${a%%%%:*} || fail "attrib $a %[4]s"
done
echo 1 > %[3]s/enable || fail "enable %[4]s"
`, bs, dev, tpg, t.IQN, np)
		if t.DropPort != 0 {
			fmt.Fprintf(&cfg, `(nc -l -p %[3]d < /dev/null > /dev/null; echo 0 > %[1]s/enable; echo "`+LIODropped+`%[2]s"; sleep %[4]d; echo 1 > %[1]s/enable) &
`, tpg, t.IQN, t.DropPort, int(t.DropFor/time.Second))
		}
	}
	return `#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
` + guestMounts + guestFail(lioFail, 40) + guestModules + `ip link set lo up
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
ip addr add ` + HostAddr + `/24 dev eth0 || fail "address"
ip link set eth0 up
rdma link add rxe0 type rxe netdev eth0 || fail "rdma link add"
mount -t configfs none /sys/kernel/config || fail "configfs"
T=/sys/kernel/config/target
` + cfg.String() + `echo "` + LIOReady + `"
while :; do sleep 60; done
`
}

// StartLIO boots the target guest serving targets and returns once it is ready; QEMU runs until the test
// ends. It takes one of the two VM slots for that whole time.
func (h *Harness) StartLIO(ctx context.Context, targets []LIOTarget) *LIO {
	h.t.Helper()
	port, err := freePort()
	if err != nil {
		h.t.Fatalf("LIO guest: %v", err)
	}
	initrd, err := buildLIOInitramfs(ctx, h.Kernel, targets, filepath.Join(h.Dir, "lio.cpio"))
	if err != nil {
		h.t.Fatalf("LIO guest: %v", err)
	}
	var drives []string
	for _, t := range targets {
		drives = append(drives, "-drive", "file="+t.Disk+",if=virtio,format=raw,cache=unsafe")
	}
	vm := h.Boot(ctx, BootOptions{
		Name:       "lio",
		Initrd:     initrd,
		NetdevSpec: fmt.Sprintf("socket,id=n0,listen=127.0.0.1:%d", port),
		MAC:        lioMAC,
		ExtraArgs:  drives,
		// The guest waits to be killed; the test's context ends it.
		Timeout: 30 * time.Minute,
	})
	rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := vm.WaitFor(rctx, LIOReady); err != nil {
		if f, ok, _, _ := vm.con.find(lioFail); ok {
			h.t.Fatalf("LIO guest: %s\nlast console lines:\n%s", f.Text, vm.tail(40))
		}
		h.t.Fatalf("LIO guest: %v\nlast console lines:\n%s", err, vm.tail(40))
	}
	return &LIO{VM: vm, Port: port}
}

// Netdev returns the BootOptions network of an initiator guest on the target guest's Ethernet.
func (l *LIO) Netdev() string { return fmt.Sprintf("socket,id=n0,connect=127.0.0.1:%d", l.Port) }

func buildLIOInitramfs(ctx context.Context, k Kernel, targets []LIOTarget, out string) (string, error) {
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := initramfs.New(f, initramfs.Uncompressed())
	if err := addBusybox(ctx, b); err != nil {
		return "", err
	}
	for _, d := range []string{"/proc", "/sys", "/dev", "/run", "/tmp", "/etc"} {
		if err := b.AddDir(d, 0o755); err != nil {
			return "", fmt.Errorf("dir %s: %w", d, err)
		}
	}
	if err := b.AddCharDev("/dev/console", 0o600, 5, 1); err != nil {
		return "", fmt.Errorf("/dev/console: %w", err)
	}
	if err := b.AddBytes("/init", []byte(lioScript(targets)), 0o755); err != nil {
		return "", fmt.Errorf("/init: %w", err)
	}
	if err := addBinary(ctx, b, "/sbin/rdma", rdmaTool); err != nil {
		return "", fmt.Errorf("%w (scripts/deps.sh installs iproute2)", err)
	}
	if _, err := b.AddModules(k.Dir, k.Version, lioModules...); err != nil {
		return "", fmt.Errorf("modules: %w", err)
	}
	if err := b.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", out, err)
	}
	return out, f.Close()
}

// rdmaTool is iproute2's rdma, which adds the soft-RoCE device (`rdma link add`); it brings its libraries.
const rdmaTool = "/usr/bin/rdma"

// freePort returns a loopback TCP port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
