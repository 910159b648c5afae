package plan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iscsiboot/iscsiboot/ibft"
)

// TestFirmwareFor: when the firmware table is read, and what a missing or
// corrupt one does to a boot that depends on it and to one that does not.
func TestFirmwareFor(t *testing.T) {
	raw, err := os.ReadFile("../ibft/testdata/ipxe-ibft.bin")
	if err != nil {
		t.Fatal(err)
	}
	good := func(context.Context) (*ibft.Table, error) { return ibft.Parse(raw) }
	corrupt := func(context.Context) (*ibft.Table, error) {
		return nil, errors.New("ibft: corrupt table in memory /dev/mem at 0xc4020: acpi_header.checksum = 0x5b: checksum mismatch")
	}
	const netroot = "ip=dhcp netroot=iscsi:10.0.2.2::3260::iqn.2025-01.test:disk1"
	for _, tc := range []struct {
		name, cmdline string
		opts          FirmwareOptions
		load          func(context.Context) (*ibft.Table, error)
		wantLoad      bool
		wantFW        bool
		wantErr       string
		wantWarning   string
	}{
		{"own targets, firmware not asked for", netroot, FirmwareOptions{}, corrupt, false, false, "", ""},
		{"own targets, the table's network asked for (rd.iscsi.ibft)", "rd.iscsi.ibft " + netroot, FirmwareOptions{}, good, true, true, "", ""},
		{"own targets, ip=ibft, corrupt: fall back", "ip=ibft " + netroot, FirmwareOptions{}, corrupt, true, false, "", "firmware table not used"},
		{"flags name a target", "", FirmwareOptions{OtherTargets: true}, corrupt, false, false, "", ""},
		{"nothing else: table used", "ip=dhcp", FirmwareOptions{}, good, true, true, "", ""},
		{"asked for and good", "rd.iscsi.firmware=1 " + netroot, FirmwareOptions{}, good, true, true, "", ""},
		{"asked for, corrupt, nothing else: fatal", "rd.iscsi.firmware=1", FirmwareOptions{}, corrupt, true, false, "checksum mismatch", ""},
		{"asked for, corrupt, command line has a target: fall back", "rd.iscsi.firmware=1 " + netroot, FirmwareOptions{}, corrupt, true, false, "",
			"firmware table not used, booting from the command line: ibft: corrupt table in memory /dev/mem at 0xc4020: acpi_header.checksum = 0x5b: checksum mismatch"},
		{"asked for, corrupt, netroot=dhcp: fall back", "rd.iscsi.firmware=1 ip=dhcp netroot=dhcp", FirmwareOptions{}, corrupt, true, false, "", "firmware table not used"},
		{"forced and corrupt: fatal even with a plan", netroot, FirmwareOptions{Force: true}, corrupt, true, false, "checksum mismatch", ""},
		{"not asked, nothing else, corrupt: a warning, the caller has nothing to boot", "ip=dhcp", FirmwareOptions{}, corrupt, true, false, "", "no firmware table: ibft: corrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp, err := FromCmdline(tc.cmdline)
			if err != nil {
				t.Fatal(err)
			}
			loaded := false
			tc.opts.Load = func(ctx context.Context) (*ibft.Table, error) { loaded = true; return tc.load(ctx) }
			fw, err := FirmwareFor(context.Background(), cp, tc.opts)
			if loaded != tc.wantLoad {
				t.Errorf("table read = %v, want %v", loaded, tc.wantLoad)
			}
			// The table's targets come with it unless the command line has its own
			// and asks for the table's network only.
			networkOnly := len(cp.Targets) > 0 && !cp.Firmware && !tc.opts.Force
			if (fw != nil) != tc.wantFW || (fw != nil && (len(fw.Targets) == 0) != networkOnly) || (fw != nil && len(fw.Interfaces) == 0) {
				t.Errorf("firmware plan %+v, want one: %v", fw, tc.wantFW)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			warnings := strings.Join(cp.Warnings, "\n")
			if tc.wantWarning == "" && strings.Contains(warnings, "firmware") || !strings.Contains(warnings, tc.wantWarning) {
				t.Errorf("warnings %q, want %q", warnings, tc.wantWarning)
			}
		})
	}
}

// TestFromIBFTOffload: an offload HBA's table (qla4xxx's
// /sys/firmware/iscsi_boot3) gives the plan the HBA's transport and host
// and no Linux interface to configure; the iBFT's NIC stays one.
func TestFromIBFTOffload(t *testing.T) {
	tab := &ibft.Table{
		Initiator: &ibft.Initiator{Name: "iqn.2025-01.test:hba"},
		NICs:      []ibft.NIC{{Flags: 2}},
		Targets: []ibft.Target{{Flags: 2, IP: netip.MustParseAddr("192.0.2.9"), Port: 3260, Name: "iqn.2025-01.test:hba-disk",
			CHAPName: "hbauser", CHAPSecret: "hba-secret-1"}}, // qla4xxx shows no chap-type
		Source:    ibft.Source{Kind: ibft.SourceOffload, Path: "/sys/firmware/iscsi_boot3"},
		Transport: "qla4xxx",
	}
	p, err := FromIBFT(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Plan{Firmware: true, Initiator: "iqn.2025-01.test:hba", Transport: "qla4xxx", Targets: []Target{{
		Name: "iqn.2025-01.test:hba-disk", TPGT: DefaultTPGT, Portals: []Portal{{Address: "192.0.2.9", Port: 3260}},
		HBA: "host3", Source: SourceIBFT, Auth: Auth{Method: AuthCHAP, Username: "hbauser", Password: "hba-secret-1"},
	}}}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("FromIBFT (-want +got):\n%s", d)
	}

	tab.Source = ibft.Source{Kind: ibft.SourceSysfs, Path: "/sys/firmware/ibft"}
	tab.Transport = ""
	tab.NICs[0].MAC = net.HardwareAddr{0, 0x0e, 0x1e, 0, 0, 1}
	p, err = FromIBFT(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Transport != "" || p.Targets[0].HBA != "" || len(p.Interfaces) != 1 || p.Targets[0].Auth.Method != "" {
		t.Errorf("iBFT plan: transport %q, hba %q, %d interfaces, auth %q; want tcp, none, its NIC, none (chap-type 0)",
			p.Transport, p.Targets[0].HBA, len(p.Interfaces), p.Targets[0].Auth.Method)
	}
}

// TestFromIBFTMethod: how a table NIC becomes an interface of the plan.
// A NIC whose origin is DHCP (iBFT 1.03, Section 3.6) takes a new lease,
// by DHCPv6 when its address (or its DHCP server's) is IPv6, as dracut's
// ibft_to_cmdline does; any other origin, router advertisements
// included, keeps the table's address and prefix.
func TestFromIBFTMethod(t *testing.T) {
	mac, _ := net.ParseMAC("52:54:00:12:34:56")
	for _, tc := range []struct {
		name       string
		ip, dhcp   string
		prefix     uint8
		origin     ibft.Origin
		wantMethod string
		wantAddrs  string
	}{
		{"IPv4 manual", "10.0.2.15", "", 24, ibft.OriginManual, MethodStatic, "[10.0.2.15/24]"},
		{"IPv4 DHCP", "10.0.2.15", "10.0.2.2", 24, ibft.OriginDHCP, MethodDHCP, "[]"},
		{"IPv6 manual", "fec0::15", "", 64, ibft.OriginManual, MethodStatic, "[fec0::15/64]"},
		{"IPv6 router advertisement", "2001:db8::5054:ff:fe12:3456", "", 64, ibft.OriginRouterAdvertisement, MethodStatic, "[2001:db8::5054:ff:fe12:3456/64]"},
		{"IPv6 DHCP origin", "fd00:3::15", "", 128, ibft.OriginDHCP, MethodDHCP6, "[]"},
		{"IPv6 DHCP server only", "fd00:3::15", "fd00:3::1", 64, ibft.OriginManual, MethodDHCP6, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := ibft.NIC{Flags: ibft.FlagBlockValid, IP: netip.MustParseAddr(tc.ip), PrefixLen: tc.prefix, Origin: tc.origin, MAC: mac}
			if tc.dhcp != "" {
				n.DHCPServer = netip.MustParseAddr(tc.dhcp)
			}
			tab := &ibft.Table{
				Initiator: &ibft.Initiator{Flags: ibft.FlagBlockValid, Name: "iqn.2025-01.test:init"},
				NICs:      []ibft.NIC{n},
				Targets:   []ibft.Target{{Flags: ibft.FlagBlockValid, IP: netip.MustParseAddr("fd00:3::1"), Port: 3260, Name: "iqn.2025-01.test:disk1"}},
			}
			p, err := FromIBFT(tab, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Interfaces) != 1 {
				t.Fatalf("interfaces %+v, want one", p.Interfaces)
			}
			ifc := p.Interfaces[0]
			if got := fmt.Sprint(ifc.Addresses); ifc.Method != tc.wantMethod || got != tc.wantAddrs {
				t.Errorf("method %q, addresses %s; want %q, %s", ifc.Method, got, tc.wantMethod, tc.wantAddrs)
			}
			if got := p.Targets[0].Portals[0].Address; got != "fd00:3::1" {
				t.Errorf("portal %q, want fd00:3::1", got)
			}
		})
	}
}
