package qemutests

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6/server6"
	"golang.org/x/sys/unix"

	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/dhcp6test"
	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// The IPv6 side of the tap of TestDHCPv6RootPath: a unique local /64 the
// test's router advertisement announces as on-link, with the host (tgtd,
// the DHCPv6 server) at ::1 and the address the server leases the guest.
const (
	tapPrefix6 = "fd00:3::"
	tapHost6   = "fd00:3::1"
	tapGuest6  = "fd00:3::15"
)

// TestDHCPv6RootPath boots our /init on a tap in the test's namespace
// where nothing speaks IPv4: the test's DHCPv6 server (insomniacslk
// server6) leases fd00:3::15, and tgtd listens on [fd00:3::1] only.
// DHCPv6 gives an address and no prefix (RFC 8415, Section 21.6), so as
// on a real network a router advertisement from the test, with the
// managed flag and the /64 on-link but not autonomous, gives the guest's
// kernel its on-link route; the address is DHCPv6's.
//
// With `ip=dhcp6 netroot=dhcp` the server gives the root, to a client
// that asks for option 59, as an iscsi: boot file URL (RFC 5970), the form
// UEFI's iSCSI and iPXE read. With rd.iscsi.firmware and an iBFT whose
// NIC's IPv6 address came by DHCP (origin 3), /init takes a new lease by
// DHCPv6, as dracut does, and the target from the table; the server then
// sends no option 59. The drop-in's -N, as open-iscsi's, sets that
// table's address as it is, a /128, and a host route to the target on
// link: -b logs in with no DHCPv6 server and no router on the tap.
func TestDHCPv6RootPath(t *testing.T) {
	t.Run("netroot=dhcp", func(t *testing.T) { dhcpv6Boot(t, false) })
	t.Run("iBFT NIC by DHCPv6", func(t *testing.T) { dhcpv6Boot(t, true) })
	t.Run("iBFT NIC by DHCPv6 drop-in -N -b", dhcpv6DropIn)
}

// dhcpv6Rig is what every DHCPv6 boot stands on: the tap with its IPv6
// address, a root disk, and tgtd on the tap's IPv6 address only.
func dhcpv6Rig(ctx context.Context, t *testing.T) (*Harness, RootDisk, *tgtd.Server) {
	t.Helper()
	addTap(ctx, t)
	tapIPv6(ctx, t)
	h := New(t)
	disk := h.RootDisk(ctx)
	srv := tgtd.Start(ctx, t, tgtd.WithAddress(tapHost6))
	if err := srv.NewDiskTarget(ctx, 1, TargetIQN, disk.Path); err != nil {
		t.Fatal(err)
	}
	return h, disk, srv
}

func dhcpv6DropIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, disk, srv := dhcpv6Rig(ctx, t)
	g := Guest{
		Login:    `iscsistart -N && iscsistart -b; rc=$?; ip -6 route show dev eth0 | sed 's/^/ROUTE6: /'; exit $rc`,
		Binaries: map[string]string{"/sbin/iscsistart": h.GoBinary(ctx, "./cmd/iscsistart")},
		Modules:  []string{"iscsi_boot_sysfs", "iscsi_ibft"},
		NoNet:    true,
	}
	vm := h.Boot(ctx, BootOptions{
		Initrd:     h.Initramfs(ctx, g),
		NetdevSpec: tapNetdev,
		ExtraArgs:  []string{"-acpitable", "sig=iBFT,file=" + writeIBFTDHCP6(t, h.Dir, srv.Port)},
	})
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if rc, err := vm.LoginExitCode(); err != nil || rc != 0 {
		t.Errorf("iscsistart -N && iscsistart -b exit = %d, %v; want 0", rc, err)
	}
	c := consoleText(vm)
	for _, want := range []string{
		"iscsistart: eth0: configured [" + tapGuest6 + "/128]",
		"iscsistart: eth0: host route to " + tapHost6 + " on link",
		fmt.Sprintf("iscsistart: logged in to %s at [%s]:%d", TargetIQN, tapHost6, srv.Port),
		"ROUTE6: " + tapHost6 + " dev eth0", // busybox ip prints no proto
	} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q:\n%s", want, c)
		}
	}
}

func dhcpv6Boot(t *testing.T, firmware bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, disk, srv := dhcpv6Rig(ctx, t)
	opts := BootOptions{
		Initrd:     ourInitramfs(ctx, t, h),
		Append:     "ip=dhcp6 netroot=dhcp",
		NetdevSpec: tapNetdev,
	}
	rootPath := fmt.Sprintf("iscsi:[%s]::%d:1:%s", tapHost6, srv.Port, TargetIQN)
	want := "eth0: root-path " + TargetIQN + " from dhcp6"
	if firmware {
		opts.Append = "rd.iscsi.firmware=1"
		opts.ExtraArgs = []string{"-acpitable", "sig=iBFT,file=" + writeIBFTDHCP6(t, h.Dir, srv.Port)}
		rootPath = ""
		want = "firmware table from acpi"
	}
	dhcp, err := server6.NewServer(tapName, nil, rootPath6Handler(t, rootPath))
	if err != nil {
		t.Fatalf("DHCPv6 server: %v", err)
	}
	t.Cleanup(func() { dhcp.Close() })
	go dhcp.Serve()
	raCtx, stopRA := context.WithCancel(ctx)
	t.Cleanup(stopRA)
	go advertiseRouter(raCtx, t)

	vm := h.Boot(ctx, opts)
	vm.Expect(ctx, disk.Marker)
	if err := vm.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	c := consoleText(vm)
	for _, want := range []string{
		"eth0: dhcp6 [" + tapGuest6 + "/128] (",
		want,
		fmt.Sprintf("Logging into %s [%s]:%d", TargetIQN, tapHost6, srv.Port),
		"root /dev/sda (ext4) mounted",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("console lacks %q:\n%s", want, c)
		}
	}
	t.Logf("%s; login: %s", lineWith(c, "eth0: dhcp6 ["), loginRow(c))
}

// writeIBFTDHCP6 is an iBFT as firmware leaves it after DHCPv6: the NIC's
// address tapGuest6 with origin DHCP and the DHCP server's address, the
// target at [tapHost6]:port.
func writeIBFTDHCP6(t *testing.T, dir string, port int) string {
	t.Helper()
	mac, _ := net.ParseMAC(MAC)
	tab := &ibft.Table{
		Header:    ibft.Header{OEMID: "ISCSIB", OEMTableID: "TESTIBD6"},
		Initiator: &ibft.Initiator{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, Name: InitiatorIQN},
		NICs: []ibft.NIC{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr(tapGuest6),
			PrefixLen: 128, Origin: ibft.OriginDHCP, DHCPServer: netip.MustParseAddr(tapHost6), MAC: mac, PCIBDF: ibft.NewBDF(0, 3, 0)}},
		Targets: []ibft.Target{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr(tapHost6),
			Port: uint16(port), LUN: ibft.LUNFromInt(1), Name: TargetIQN}},
	}
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ibft-dhcp6.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tapIPv6 gives the tap its IPv6 address, with duplicate address detection
// off so that tgtd can bind it, and the link-local address the DHCPv6
// server and the router advertisements come from, usable at once.
func tapIPv6(ctx context.Context, t *testing.T) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+tapName+"/accept_dad", []byte("0"), 0o644); err != nil {
		t.Fatalf("tap: no duplicate address detection: %v", err)
	}
	if out, err := exec.CommandContext(ctx, "ip", "-6", "addr", "add", tapHost6+"/64", "dev", tapName, "nodad").CombinedOutput(); err != nil {
		t.Fatalf("ip -6 addr add: %v: %s", err, out)
	}
}

// rootPath6Handler answers SOLICIT with an ADVERTISE and REQUEST with a
// REPLY for tapGuest6, with rootPath, unless empty, as option 59 when the
// client's option request option names it, as ISC dhcpd sends it.
func rootPath6Handler(t *testing.T, rootPath string) server6.Handler {
	tap, err := net.InterfaceByName(tapName)
	if err != nil {
		t.Fatal(err)
	}
	return dhcp6test.Handler(dhcp6test.Lease{ServerMAC: tap.HardwareAddr, Addr: net.ParseIP(tapGuest6), BootFileURL: rootPath}, t.Errorf)
}

// routerAdvertisement6 is an ICMPv6 Router Advertisement (RFC 4861,
// Section 4.2) as a router of a DHCPv6-managed network sends it: managed
// and other-configuration flags set, and one Prefix Information option
// (Section 4.6.2) for tapPrefix6/64, on-link, not autonomous, so the
// guest's kernel makes no address of its own from it. The kernel fills in
// the checksum of raw ICMPv6 sockets.
func routerAdvertisement6() []byte {
	b := make([]byte, 16+32)
	b[0] = 134                               // type: router advertisement
	b[4] = 64                                // current hop limit
	b[5] = 0xc0                              // M and O flags
	binary.BigEndian.PutUint16(b[6:8], 1800) // router lifetime, s
	o := b[16:]
	o[0], o[1], o[2], o[3] = 3, 4, 64, 0x80    // prefix information, 4 octets of 8, /64, L flag only
	binary.BigEndian.PutUint32(o[4:8], 86400)  // valid lifetime
	binary.BigEndian.PutUint32(o[8:12], 14400) // preferred lifetime
	p := netip.MustParseAddr(tapPrefix6).As16()
	copy(o[16:32], p[:])
	return b
}

// advertiseRouter sends routerAdvertisement6 to all nodes on the tap once
// every 500 ms until ctx ends, as a router does (unsolicited, far more often):
// the guest's kernel takes the on-link route from whichever arrives after
// its link is up.
func advertiseRouter(ctx context.Context, t *testing.T) {
	tap, err := net.InterfaceByName(tapName)
	if err != nil {
		t.Errorf("router advertisements: %v", err)
		return
	}
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
	if err != nil {
		t.Errorf("router advertisements: %v", err)
		return
	}
	defer unix.Close(fd)
	// RFC 4861, Section 6.1.2: receivers drop advertisements whose hop limit is not 255.
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 255); err != nil {
		t.Errorf("router advertisements: %v", err)
		return
	}
	to := &unix.SockaddrInet6{Addr: netip.MustParseAddr("ff02::1").As16(), ZoneId: uint32(tap.Index)}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		// Before QEMU opens the tap it has no carrier and the send fails: the next tick tries again.
		unix.Sendto(fd, routerAdvertisement6(), 0, to)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
