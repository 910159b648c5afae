package qemutests

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"

	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// The guest's own network for TestDHCPRootPath: a tap in the test's
// private namespace, where our DHCP server and tgtd listen. slirp cannot
// send option 17, so this test does not use it.
const (
	tapName = "tap0"
	// tapNetdev is QEMU's -netdev for a guest whose NIC is on tapName.
	tapNetdev  = "tap,id=n0,ifname=" + tapName + ",script=no,downscript=no"
	tapHost    = "10.0.3.1"
	tapGuest   = "10.0.3.15"
	dhcpInitor = "iqn.2025-01.test:from-dhcp"
)

func rootPathHandler(t *testing.T, rootPath string) server4.Handler {
	return func(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
		var mt dhcpv4.MessageType
		switch m.MessageType() {
		case dhcpv4.MessageTypeDiscover:
			mt = dhcpv4.MessageTypeOffer
		case dhcpv4.MessageTypeRequest:
			mt = dhcpv4.MessageTypeAck
		default:
			return
		}
		reply, err := dhcpv4.NewReplyFromRequest(m,
			dhcpv4.WithMessageType(mt),
			dhcpv4.WithYourIP(net.ParseIP(tapGuest)),
			dhcpv4.WithServerIP(net.ParseIP(tapHost)),
			dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
			dhcpv4.WithLeaseTime(3600),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP(tapHost))),
			dhcpv4.WithOption(dhcpv4.OptRouter(net.ParseIP(tapHost))),
			dhcpv4.WithOption(dhcpv4.OptRootPath(rootPath)),
			// Option 203: the initiator name, as iPXE and dracut read it.
			dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(203), []byte(dhcpInitor))),
		)
		if err != nil {
			t.Errorf("DHCP server: %v", err)
			return
		}
		conn.WriteTo(reply.ToBytes(), &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ClientPort})
	}
}

// TestDHCPRootPath boots with nothing but `ip=dhcp netroot=dhcp` on the
// command line: the target (option 17, root-path) and the initiator name
// (option 203) come from our own DHCP server on a tap in the test's
// namespace, as on a diskless fleet whose DHCP server says what to boot.
func TestDHCPRootPath(t *testing.T) {
	t.Run("at once", func(t *testing.T) { dhcpRootPathBoot(t, 0) })
	// A DHCP server that answers only after 4 s (a busy server, a switch
	// port still in spanning-tree listening): the boot waits for it,
	// bounded, and goes on.
	t.Run("server 4 s late", func(t *testing.T) { dhcpRootPathBoot(t, 4*time.Second) })
}

func dhcpRootPathBoot(t *testing.T, delay time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	addTap(ctx, t)
	h := New(t)
	disk := h.RootDisk(ctx)
	srv := tgtd.Start(ctx, t, tgtd.WithAddress(tapHost))
	if err := srv.NewDiskTarget(ctx, 1, TargetIQN, disk.Path); err != nil {
		t.Fatal(err)
	}
	rootPath := fmt.Sprintf("iscsi:%s::%d:1:%s", tapHost, srv.Port, TargetIQN)
	dhcp, err := server4.NewServer(tapName, &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, rootPathHandler(t, rootPath))
	if err != nil {
		t.Fatalf("DHCP server: %v", err)
	}
	t.Cleanup(func() { dhcp.Close() })

	vm := h.Boot(ctx, BootOptions{
		Initrd:     ourInitramfsNamed(ctx, t, h, ""),
		Append:     "ip=dhcp netroot=dhcp",
		NetdevSpec: tapNetdev,
	})
	var discover time.Duration
	if delay > 0 {
		// Count the delay from the guest's first DISCOVER, sent right
		// after it sees carrier.
		l, err := vm.WaitFor(ctx, "eth0: carrier after")
		if err != nil {
			t.Fatal(err)
		}
		discover = l.Host
		time.Sleep(delay)
	}
	go dhcp.Serve()
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if l, err := vm.WaitFor(ctx, "eth0: dhcp ["); err == nil && delay > 0 {
		// The client retransmits at 1, 2, 4 s...: an answer from a server
		// that wakes up is taken at the next DISCOVER.
		if late := l.Host - discover - delay; late > 4*time.Second {
			t.Errorf("lease %v after the server started answering", late)
		}
	}
	var console strings.Builder
	for _, l := range vm.Lines() {
		console.WriteString(l.Text + "\n")
	}
	for _, want := range []string{
		"eth0: dhcp [" + tapGuest + "/24]",
		"initiator name " + dhcpInitor + " from DHCP",
		"root-path " + TargetIQN + " from DHCP server " + tapHost,
		"root /dev/sda (ext4) mounted",
	} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

// addTap makes the tap device the guest's NIC sits on (tapName, the host's
// side at tapHost), in the test's own network namespace, and removes it at
// the test's end: where our own DHCP server can answer, which slirp cannot.
func addTap(ctx context.Context, t testing.TB) {
	t.Helper()
	for _, args := range [][]string{
		{"tuntap", "add", "dev", tapName, "mode", "tap"},
		{"addr", "add", tapHost + "/24", "dev", tapName},
		{"link", "set", tapName, "up"},
	} {
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", tapName).Run() })
}
