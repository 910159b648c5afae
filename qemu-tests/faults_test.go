package qemutests

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/core/coretest"
	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// consoleText joins the guest's console lines.
func consoleText(vm *VM) string {
	var b strings.Builder
	for _, l := range vm.Lines() {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

// fakeTarget starts a scripted target on 127.0.0.1 in the test's
// namespace; the guest reaches it at 10.0.2.2 through slirp.
func fakeTarget(t *testing.T, tg *coretest.Target) int {
	t.Helper()
	addr, err := tg.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.Close)
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return n
}

// rig is what most scenarios start from: a harness, the root disk served
// by tgtd as LUN 1 of TargetIQN, and our iscsistart built.
type rig struct {
	ctx  context.Context
	h    *Harness
	bin  string
	disk RootDisk
	srv  *tgtd.Server
}

func newRig(t *testing.T) *rig {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	h := New(t)
	r := &rig{ctx: ctx, h: h, bin: h.GoBinary(ctx, "./cmd/iscsistart"), disk: h.RootDisk(ctx)}
	r.srv = h.Target(ctx, 1, TargetIQN, r.disk.Path)
	return r
}

// boot runs a guest that logs in with our iscsistart at port and waits
// for its root.
func (r *rig) boot(port int, flags string) *VM {
	vm := r.h.Boot(r.ctx, BootOptions{Initrd: r.h.Initramfs(r.ctx, OurGuest(r.bin, port, flags))})
	vm.Expect(r.ctx, r.disk.Marker)
	vm.Wait(r.ctx)
	return vm
}

// TestFaults is the fault matrix of a boot: each case a QEMU boot with our
// iscsistart and an expected outcome.
func TestFaults(t *testing.T) {
	t.Run("second call is success", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		vm := r.boot(r.srv.Port, fmt.Sprintf("&& iscsistart -i %s -t %s -g 1 -a %s -p %d", InitiatorIQN, TargetIQN, HostAddr, r.srv.Port))
		if c := consoleText(vm); !strings.Contains(c, "already logged in to "+TargetIQN) || !strings.Contains(c, "SESSIONS: 1") {
			t.Errorf("second call: no 'already logged in' or not exactly one session:\n%s", c)
		}
	})

	t.Run("target up 5 s late", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		h := New(t)
		bin := h.GoBinary(ctx, "./cmd/iscsistart")
		disk := h.RootDisk(ctx)
		// A port no other tgtd of this test binary takes (they count
		// up from 3260): nothing listens there until the target starts.
		const port = 3299
		vm := h.Boot(ctx, BootOptions{Initrd: h.Initramfs(ctx, OurGuest(bin, port, ""))})
		if _, err := vm.WaitFor(ctx, "Logging into"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		srv := tgtd.Start(ctx, t, tgtd.WithPort(port))
		if err := srv.NewDiskTarget(ctx, 1, TargetIQN, disk.Path); err != nil {
			t.Fatal(err)
		}
		up := time.Now()
		vm.Expect(ctx, disk.Marker)
		vm.Wait(ctx)
		blk, _ := vm.Mark(StepBlockDev)
		// Retries come at most 1 s apart (jittered): the root disk
		// follows the target within that and a login.
		if late := blk.Host - (up.Sub(vm.Started())); late > 2500*time.Millisecond {
			t.Errorf("root disk %v after the target came up; backoff should keep this within about 1.5 s", late)
		}
		if !strings.Contains(consoleText(vm), "connection refused; retrying") {
			t.Errorf("no retry line on the console")
		}
	})

	t.Run("one of two portals dead", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		h := New(t)
		disk := h.RootDisk(ctx)
		srv := h.Target(ctx, 1, TargetIQN, disk.Path)
		// Port 1: slirp's connection there is refused.
		cmdline := fmt.Sprintf("ip=dhcp netroot=iscsi:%[1]s::%[2]d::%[3]s netroot=iscsi:%[1]s::1::%[3]s rd.retry=60", HostAddr, srv.Port, TargetIQN)
		vm := h.Boot(ctx, BootOptions{Initrd: ourInitramfs(ctx, t, h), Append: cmdline})
		vm.Expect(ctx, disk.Marker)
		vm.Wait(ctx)
		c := consoleText(vm)
		if !strings.Contains(c, "10.0.2.2:1: given up after") {
			t.Errorf("the dead portal was not given up:\n%s", c)
		}
		if m, _ := vm.Mark(StepRootInit); m.Host > 20*time.Second {
			t.Errorf("root reached after %v of QEMU: the dead portal held the boot", m.Host)
		}
	})

	t.Run("redirects", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		hop := fakeTarget(t, &coretest.Target{Name: TargetIQN, Status: 0x0101, RedirectTo: fmt.Sprintf("%s:%d,1", HostAddr, r.srv.Port)})
		first := fakeTarget(t, &coretest.Target{Name: TargetIQN, Status: 0x0102, RedirectTo: fmt.Sprintf("%s:%d", HostAddr, hop)})
		vm := r.boot(first, "")
		if rc, _ := vm.LoginExitCode(); rc != 0 {
			t.Errorf("exit %d", rc)
		}
		// Permanent to hop, temporary to tgtd: iscsid must come back
		// through hop, so that is the session's persistent address.
		if c := consoleText(vm); !strings.Contains(c, fmt.Sprintf("persistent=%s:%d", HostAddr, hop)) {
			t.Errorf("persistent address not the permanent redirect's:\n%s", c)
		}
	})

	t.Run("connection dropped mid-login", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		// Drops its first two connections after the first login PDU,
		// then redirects to the real target.
		flaky := fakeTarget(t, &coretest.Target{Name: TargetIQN, DropFirst: 2, Status: 0x0101, RedirectTo: fmt.Sprintf("%s:%d", HostAddr, r.srv.Port)})
		vm := r.boot(flaky, "")
		if c := consoleText(vm); !strings.Contains(c, "; retrying in") || !strings.Contains(c, "(3 attempts)") {
			t.Errorf("two dropped logins should show a retry and a session after 3 attempts:\n%s", c)
		}
	})
}
