package qemutests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ourInitramfs builds an image the way a packager would, with
// iscsiboot-initramfs: our static binary as /sbin/iscsistart and /init,
// the modules for virtio, iSCSI over TCP and ext4, and the initiator name.
func ourInitramfs(ctx context.Context, t testing.TB, h *Harness) string {
	t.Helper()
	return ourInitramfsNamed(ctx, t, h, InitiatorIQN)
}

// ourInitramfsNamed is ourInitramfs with the initiator name in
// /etc/iscsi/initiatorname.iscsi, or none when initiator is empty.
func ourInitramfsNamed(ctx context.Context, t testing.TB, h *Harness, initiator string) string {
	t.Helper()
	tool := h.GoBinary(ctx, "./cmd/iscsiboot-initramfs")
	bin := h.GoBinary(ctx, "./cmd/iscsistart")
	out := filepath.Join(h.Dir, "iscsiboot-initrd.img")
	args := []string{"-o", out, "-binary", bin, "-init",
		"-kernel-dir", h.Kernel.Dir, "-kver", h.Kernel.Version,
		"-modules", strings.Join(DefaultModules, ",")}
	if initiator != "" {
		name := filepath.Join(h.Dir, "initiatorname.iscsi")
		if err := os.WriteFile(name, []byte("InitiatorName="+initiator+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-file", name+":/etc/iscsi/initiatorname.iscsi")
	}
	cmd := exec.CommandContext(ctx, tool, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("iscsiboot-initramfs: %v\n%s", err, b)
	}
	return out
}

// TestInitBoot is the whole product as a user meets it, and what `make
// demo` shows: the kernel starts our binary as /init, which loads the
// modules, takes its address by DHCP, logs in to the netroot= target
// through the kernel, mounts the iSCSI disk and switches to it; the root's
// own init then prints its os-release.
func TestInitBoot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := New(t)
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	initrd := ourInitramfs(ctx, t, h)
	st, _ := os.Stat(initrd)
	demo := os.Getenv("ISCSIBOOT_DEMO") != ""
	say := func(format string, args ...any) {
		if demo {
			fmt.Printf(format+"\n", args...)
		}
	}
	say("demo: tgtd on 127.0.0.1:%d in a private network namespace, target %s, LUN 1 = ext4 root image", srv.Port, TargetIQN)
	say("demo: initramfs %s (%d bytes): our static iscsistart as /init + %d kernel modules", filepath.Base(initrd), st.Size(), len(DefaultModules))
	appendLine := fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rd.retry=60", HostAddr, srv.Port, TargetIQN)
	say("demo: kernel command line: %s %s", BaseAppend, appendLine)
	begin := time.Now()
	vm := h.Boot(ctx, BootOptions{Initrd: initrd, Append: appendLine})
	if demo {
		go func() {
			seen := 0
			for ctx.Err() == nil {
				ls := vm.Lines()
				for _, l := range ls[seen:] {
					if !strings.HasPrefix(l.Text, "[") { // kernel messages stay in the log
						fmt.Printf("%7.3f  %s\n", l.Host.Seconds(), l.Text)
					}
				}
				seen = len(ls)
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var console strings.Builder
	for _, l := range vm.Lines() {
		console.WriteString(l.Text + "\n")
	}
	for _, want := range []string{"modules loaded", "Logging into " + TargetIQN, "iscsiboot: eth0: dhcp", TargetIQN + "                   10.0.2.2", "root /dev/sda (ext4) mounted"} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q", want)
		}
	}
	say("demo: QEMU ran %.2f s from start to power-off; the root's own init printed: %s", time.Since(begin).Seconds(), disk.Marker)
}
