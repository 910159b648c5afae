package qemutests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestNoNICDriver builds our own image without the NIC's driver (no virtio_net) and boots it with the README's
// boot line: no interface ever appears, and the boot stops after the bounded wait for links with one line naming
// what is missing and the modules that were loaded, instead of spending rd.retry on "network is unreachable".
func TestNoNICDriver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := New(t)
	out := readmeImage(ctx, t, h, "iscsi_tcp,sd_mod,ext4")
	// rd.retry=120: a boot that spends it on logins outlives the test's wait below.
	vm := h.Boot(ctx, BootOptions{Initrd: out, Timeout: 90 * time.Second,
		Append: fmt.Sprintf("ip=dhcp netroot=iscsi:%s::%d::%s rd.retry=120", HostAddr, 3260, TargetIQN)})
	start := vm.Expect(ctx, "init started")
	fail := vm.Expect(ctx, "FAILED: ")
	const want = "FAILED: boot: network: no network interface after 10s (links: lo); is the NIC's driver in the image? (modules loaded: "
	if !strings.Contains(fail.Text, want) || !strings.Contains(fail.Text, " iscsi_tcp") || !strings.HasSuffix(fail.Text, ")") {
		t.Errorf("the failure line is\n%s\nwant it to contain\n%s... iscsi_tcp ...)", fail.Text, want)
	}
	if took := fail.Host - start.Host; took > 20*time.Second {
		t.Errorf("the boot failed %v after init started; want it after the 10 s wait for links", took)
	}
	waitCtx, waitCancel := context.WithTimeout(ctx, 30*time.Second)
	defer waitCancel()
	if err := vm.Wait(waitCtx); err != nil {
		t.Errorf("the guest did not power off after the failure: %v", err)
	}
	text := consoleText(vm)
	if n := strings.Count(text, "FAILED"); n != 1 || strings.Contains(text, "unreachable") {
		t.Errorf("want one FAILED line and no login attempt; console:\n%s", text)
	}
}
