package qemutests

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// monitor sends one human-monitor command to QEMU's unix socket.
func monitor(t *testing.T, sock, cmd string) {
	t.Helper()
	var c net.Conn
	var err error
	for i := 0; i < 100; i++ { // QEMU creates the socket a moment after it starts
		if c, err = net.Dial("unix", sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("QEMU monitor: %v", err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s\n", cmd)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || strings.Contains(line, cmd) {
			return
		}
	}
}

// TestNoCarrierAtFirst boots with the NIC's link down for 3 s after our
// /init has loaded the modules, as when a switch port is still coming up:
// the boot waits for carrier, bounded, and goes on once it is there.
func TestNoCarrierAtFirst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := New(t)
	disk := h.RootDisk(ctx)
	srv := h.Target(ctx, 1, TargetIQN, disk.Path)
	sock := filepath.Join(h.Dir, "monitor.sock")
	vm := h.Boot(ctx, BootOptions{
		Initrd:    ourInitramfs(ctx, t, h),
		Append:    fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s", HostAddr, srv.Port, TargetIQN),
		ExtraArgs: []string{"-monitor", "unix:" + sock + ",server=on,wait=off"},
	})
	monitor(t, sock, "set_link n0 off")
	if _, err := vm.WaitFor(ctx, "modules loaded"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	monitor(t, sock, "set_link n0 on")
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := vm.WaitFor(ctx, "eth0: carrier after ")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`carrier after ([0-9.]+)(ms|s)`).FindStringSubmatch(l.Text)
	if m == nil {
		t.Fatalf("carrier line %q", l.Text)
	}
	d, _ := time.ParseDuration(m[1] + m[2])
	if d < 2*time.Second || d > 6*time.Second {
		t.Errorf("carrier after %v, want about 3 s", d)
	}
}
