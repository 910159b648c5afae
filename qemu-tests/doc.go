// Package qemutests boots Debian's own kernel in QEMU (TCG) against a real tgtd and checks what the guest
// prints on its serial console. It is the end-to-end test of iscsiboot and the yardstick `make bench` uses.
//
// Everything runs inside the private namespaces of package nstest: tgtd listens on 127.0.0.1 there, and the
// guest reaches it as 10.0.2.2 through QEMU's user-mode network (slirp). No packet leaves the machine.
//
// The kernel comes from scripts/deps.sh's cache (Debian's current linux-image-amd64, depmod'ed, with an
// uncompressed vmlinux that QEMU boots through PVH, 2.5 s faster than the bzImage under TCG). TestMain resolves
// it before entering the namespaces, where there is no network to download it; ISCSIBOOT_KERNEL_DIR names a
// kernel directory to use instead.
//
// A scenario is a test function:
//
//	h := qemutests.New(t)
//	srv := h.Target(ctx, 1, "iqn.2025-01.test:disk1", h.RootDisk(ctx))
//	vm := h.Boot(ctx, qemutests.BootOptions{Initrd: h.Initramfs(ctx, qemutests.ReferenceGuest(srv.Port))})
//	vm.Expect(ctx, qemutests.RootMarker)
//
// A second target implementation runs in a guest of its own: h.StartLIO boots the kernel's LIO target
// with ib_isert on soft-RoCE, on a QEMU socket network that initiator guests join (LIO.Netdev), serving
// each disk over TCP and iSER at 10.0.2.2:3260 (TestLIO).
//
// Firmware boots go through QEMU's iPXE ROM with h.IPXEBoot, which hooks the target with sanhook and so
// publishes an iBFT, as a NIC's boot ROM does.
//
// The floor of a login, the simplest client of the kernel's iSCSI transport (qemu-tests/internal/floor), boots
// beside ours and open-iscsi's in BenchmarkTrace, which reads the steps ISCSIBOOT_TRACE=1 prints.
//
// The guest's /init (GuestScript) prints "ISCSIBOOT[<uptime>] <step>" at each step; VM.Marks returns them with
// the host time each line arrived. At most two VMs run at once (Boot waits for a slot), which is what two cores
// take without slowing each boot down. The console, QEMU's stderr and the images of a failed test are kept
// under a directory whose path the test prints.
package qemutests
