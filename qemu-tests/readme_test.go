package qemutests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestReadmeImage builds our own image with the README's command for a virtio guest, word for word
// (-modules virtio_net,iscsi_tcp,sd_mod,ext4: no virtio_pci, which the NIC's device needs and no module
// metadata names; -compress zstd, which the kernel must unpack), and boots it from the README's boot line.
func TestReadmeImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := New(t)
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	out := readmeImage(ctx, t, h, "virtio_net,iscsi_tcp,sd_mod,ext4")
	vm := h.Boot(ctx, BootOptions{Initrd: out, Timeout: 90 * time.Second,
		Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rd.retry=20", HostAddr, srv.Port, TargetIQN)})
	if _, err := vm.WaitFor(ctx, disk.Marker); err != nil {
		t.Fatalf("%v; console:\n%s", err, consoleText(vm))
	}
}

// readmeImage builds our own image as the README says, with iscsiboot-initramfs -init, zstd and modules, and the
// initiator name the target's ACL expects; it returns the image's path.
func readmeImage(ctx context.Context, t *testing.T, h *Harness, modules string) string {
	t.Helper()
	tool := h.GoBinary(ctx, "./cmd/iscsiboot-initramfs")
	bin := h.GoBinary(ctx, "./cmd/iscsistart")
	name := filepath.Join(h.Dir, "initiatorname.iscsi")
	if err := os.WriteFile(name, []byte("InitiatorName="+InitiatorIQN+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(h.Dir, "initrd.img")
	cmd := exec.CommandContext(ctx, tool, "-o", out, "-binary", bin, "-init", "-compress", "zstd", "-modules", modules,
		"-kernel-dir", h.Kernel.Dir, "-kver", h.Kernel.Version, "-file", name+":/etc/iscsi/initiatorname.iscsi")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("iscsiboot-initramfs: %v\n%s", err, b)
	}
	return out
}
