package plan

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var cmpNetip = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

// plan fills the empty params map FromCmdline always returns.
func plan(p Plan) *Plan {
	if p.Params == nil {
		p.Params = map[string]string{}
	}
	return &p
}

func tgt(name, addr string, port int) Target {
	return Target{Name: name, TPGT: 1, Portals: []Portal{{Address: addr, Port: port}}, Source: SourceCmdline}
}

func with(t Target, f func(*Target)) Target {
	f(&t)
	return t
}

func chap(u, p string) Auth { return Auth{Method: AuthCHAP, Username: u, Password: Secret(p)} }

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

const (
	t0 = "iqn.2009-06.dracut:target0"
	t1 = "iqn.2009-06.dracut:target1"
)

func TestFromCmdline(t *testing.T) {
	tests := []struct {
		name    string
		cmdline string
		env     map[string]string
		want    *Plan
	}{
		{
			name:    "man root=iscsi",
			cmdline: "BOOT_IMAGE=/vmlinuz root=iscsi:192.168.50.1::::iqn.2009-06.dracut:target0 ro quiet",
			want:    plan(Plan{Targets: []Target{tgt(t0, "192.168.50.1", 3260)}}),
		},
		{
			name:    "man root=iscsi IPv6 in brackets, canonical form",
			cmdline: "root=iscsi:[2001:DB8::1]::::iqn.2009-06.dracut:target0",
			want:    plan(Plan{Targets: []Target{tgt(t0, "2001:db8::1", 3260)}}),
		},
		{
			name:    "man several netroot",
			cmdline: "root=UUID=12424547 netroot=iscsi:192.168.50.1::::iqn.2009-06.dracut:target0 netroot=iscsi:192.168.50.1::::iqn.2009-06.dracut:target1",
			want:    plan(Plan{Targets: []Target{tgt(t0, "192.168.50.1", 3260), tgt(t1, "192.168.50.1", 3260)}}),
		},
		{
			name:    "man netroot IPv6",
			cmdline: "netroot=iscsi:[2001:DB8::1]::::iqn.2009-06.dracut:target0",
			want:    plan(Plan{Targets: []Target{tgt(t0, "2001:db8::1", 3260)}}),
		},
		{
			name:    "man firmware with param",
			cmdline: "netroot=iscsi rd.iscsi.firmware=1 rd.iscsi.param=node.session.timeo.replacement_timeout=30",
			want:    plan(Plan{Firmware: true, Params: map[string]string{"node.session.timeo.replacement_timeout": "30"}}),
		},
		{
			name: "man manual rd.iscsi.target words",
			cmdline: "rd.iscsi.initiator=iqn.1994-05.com.redhat:client rd.iscsi.target.name=iqn.2009-06.dracut:target0 " +
				"rd.iscsi.target.ip=192.168.50.1 rd.iscsi.target.port=3261 rd.iscsi.target.group=2 " +
				"rd.iscsi.username=alice rd.iscsi.password=alicepass12 rd.iscsi.in.username=tgt rd.iscsi.in.password=tgtpass1234",
			want: plan(Plan{Initiator: "iqn.1994-05.com.redhat:client", Targets: []Target{with(tgt(t0, "192.168.50.1", 3261), func(t *Target) {
				t.TPGT = 2
				t.Auth = Auth{Method: AuthCHAP, Username: "alice", Password: "alicepass12", UsernameIn: "tgt", PasswordIn: "tgtpass1234"}
			})}}),
		},
		{
			name:    "CHAP in netroot",
			cmdline: "netroot=iscsi:alice:alicepass12@10.0.0.1::3260::iqn.2009-06.dracut:target0",
			want:    plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) { t.Auth = chap("alice", "alicepass12") })}}),
		},
		{
			name:    "mutual CHAP in netroot",
			cmdline: "netroot=iscsi:alice:alicepass12:tgt:tgtpass1234@10.0.0.1::3260::iqn.2009-06.dracut:target0",
			want: plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) {
				t.Auth = Auth{Method: AuthCHAP, Username: "alice", Password: "alicepass12", UsernameIn: "tgt", PasswordIn: "tgtpass1234"}
			})}}),
		},
		{
			name:    "empty auth keeps an @ in the target name (dracut's example)",
			cmdline: "netroot=iscsi:@192.168.1.100::3260::iqn.2009-01.com.example:testdi@sk",
			want:    plan(Plan{Targets: []Target{tgt("iqn.2009-01.com.example:testdi@sk", "192.168.1.100", 3260)}}),
		},
		{
			name:    "@ in the target name without auth",
			cmdline: "netroot=iscsi:192.168.1.100::3260::iqn.2009-01.com.example:testdi@sk",
			want:    plan(Plan{Targets: []Target{tgt("iqn.2009-01.com.example:testdi@sk", "192.168.1.100", 3260)}}),
		},
		{
			name:    "@ in user name and password",
			cmdline: "netroot=iscsi:alice@corp:p@ssw0rd1234@10.0.0.1::::iqn.2009-06.dracut:target0",
			want:    plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) { t.Auth = chap("alice@corp", "p@ssw0rd1234") })}}),
		},
		{
			name:    "iface and netdev",
			cmdline: "netroot=iscsi:10.0.0.1:6:3260:bnx2i.00-0e-1e:eth1:2:iqn.2009-06.dracut:target0",
			want: plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) {
				t.IfaceName, t.Iface, t.LUN = "bnx2i.00-0e-1e", "eth1", 2
			})}}),
		},
		{
			name:    "empty iface, netdev only",
			cmdline: "netroot=iscsi:10.0.0.1::::eth1:1:iqn.2009-06.dracut:target0",
			want:    plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) { t.Iface, t.LUN = "eth1", 1 })}}),
		},
		{
			name:    "netdev without iface field",
			cmdline: "netroot=iscsi:10.0.0.1::3260:eth1:0:iqn.2009-06.dracut:target0",
			want:    plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) { t.Iface = "eth1" })}}),
		},
		{
			name:    "host name, port and LUN",
			cmdline: "root=iscsi:san.example.com::3261:5:iqn.2009-06.dracut:target0",
			want:    plan(Plan{Targets: []Target{with(tgt(t0, "san.example.com", 3261), func(t *Target) { t.LUN = 5 })}}),
		},
		{
			name:    "eui name",
			cmdline: "netroot=iscsi:10.0.0.1::::eui.02004567A425678D",
			want:    plan(Plan{Targets: []Target{tgt("eui.02004567A425678D", "10.0.0.1", 3260)}}),
		},
		{
			name:    "plain name, warned",
			cmdline: "netroot=iscsi:10.0.0.1::::mytarget",
			want: plan(Plan{Targets: []Target{tgt("mytarget", "10.0.0.1", 3260)},
				Warnings: []string{"netroot: target name mytarget is not an iqn., eui. or naa. name"}}),
		},
		{
			name:    "plain name with ':' and dracut's iface rule",
			cmdline: "netroot=iscsi:10.0.0.1:::if0:eth0:1:disk:one",
			want: plan(Plan{Targets: []Target{with(tgt("disk:one", "10.0.0.1", 3260), func(t *Target) {
				t.IfaceName, t.Iface, t.LUN = "if0", "eth0", 1
			})}, Warnings: []string{"netroot: target name disk:one is not an iqn., eui. or naa. name"}}),
		},
		{
			name:    "protocol other than TCP, warned",
			cmdline: "netroot=iscsi:10.0.0.1:17:::iqn.2009-06.dracut:target0",
			want: plan(Plan{Targets: []Target{tgt(t0, "10.0.0.1", 3260)},
				Warnings: []string{"netroot: protocol 17 is not TCP (6); using TCP"}}),
		},
		{
			name:    "same target twice: two portals",
			cmdline: "netroot=iscsi:10.0.0.1::::iqn.2009-06.dracut:target0 netroot=iscsi:10.0.1.1::::iqn.2009-06.dracut:target0 netroot=iscsi:10.0.0.1::::iqn.2009-06.dracut:target0",
			want: plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) {
				t.Portals = append(t.Portals, Portal{Address: "10.0.1.1", Port: 3260})
			})}}),
		},
		{
			name:    "root and netroot both",
			cmdline: "root=iscsi:10.0.0.1::::iqn.2009-06.dracut:target0 netroot=iscsi:10.0.0.2::::iqn.2009-06.dracut:target1",
			want:    plan(Plan{Targets: []Target{tgt(t0, "10.0.0.1", 3260), tgt(t1, "10.0.0.2", 3260)}}),
		},
		{
			name:    "deprecated iscsiroot",
			cmdline: "root=iscsi iscsiroot=10.0.0.1::::iqn.2009-06.dracut:target0",
			want: plan(Plan{Targets: []Target{tgt(t0, "10.0.0.1", 3260)},
				Warnings: []string{"iscsiroot= is deprecated, use netroot=iscsi:10.0.0.1::::iqn.2009-06.dracut:target0"}}),
		},
		{
			name:    "root=dhcp asks for the root-path",
			cmdline: "root=dhcp ip=dhcp",
			want:    plan(Plan{DHCPRootPath: true, Interfaces: []Interface{{Method: MethodDHCP}}}),
		},
		{
			name:    "netroot=dhcp6 alone asks for the root-path by DHCPv6",
			cmdline: "netroot=dhcp6",
			want:    plan(Plan{DHCPRootPath: true, Interfaces: []Interface{{Method: MethodDHCP6}}}),
		},
		{
			name:    "root=dhcp6 with an ip= keeps the ip=",
			cmdline: "root=dhcp6 ip=eth0:dhcp6",
			want:    plan(Plan{DHCPRootPath: true, Interfaces: []Interface{{Name: "eth0", Method: MethodDHCP6}}}),
		},
		{
			name:    "default CHAP applies where the root gives none",
			cmdline: "rd.iscsi.username=alice rd.iscsi.password=alicepass12 netroot=iscsi:10.0.0.1::::iqn.2009-06.dracut:target0 netroot=iscsi:bob:bobpass12345@10.0.0.2::::iqn.2009-06.dracut:target1",
			want: plan(Plan{Targets: []Target{
				with(tgt(t0, "10.0.0.1", 3260), func(t *Target) { t.Auth = chap("alice", "alicepass12") }),
				with(tgt(t1, "10.0.0.2", 3260), func(t *Target) { t.Auth = chap("bob", "bobpass12345") }),
			}}),
		},
		{
			name: "Debian iscsi_* words",
			cmdline: "iscsi_initiator=iqn.1993-08.org.debian:01:9b3e5634fdb9 iscsi_target_name=iqn.2008-01.com.example:storage.foo " +
				"iscsi_target_ip=192.168.1.1 iscsi_target_port=3260 iscsi_target_group=1 iscsi_username=user iscsi_password=password1234",
			want: plan(Plan{Initiator: "iqn.1993-08.org.debian:01:9b3e5634fdb9", Targets: []Target{
				with(tgt("iqn.2008-01.com.example:storage.foo", "192.168.1.1", 3260), func(t *Target) { t.Auth = chap("user", "password1234") }),
			}}),
		},
		{
			name:    "iscsi_auto: firmware targets and network",
			cmdline: "iscsi_auto",
			want:    plan(Plan{Firmware: true, Interfaces: []Interface{{Method: MethodIBFT}}}),
		},
		{
			name:    "ISCSI_* words with a quoted list of portals",
			cmdline: `ISCSI_TARGET_NAME=iqn.2008-01.com.example:storage.foo ISCSI_TARGET_IP="192.168.1.1 192.168.2.1" ISCSI_ROOT_LUN=3`,
			want: plan(Plan{Targets: []Target{with(tgt("iqn.2008-01.com.example:storage.foo", "192.168.1.1", 3260), func(t *Target) {
				t.Portals = append(t.Portals, Portal{Address: "192.168.2.1", Port: 3260})
				t.LUN = 3
			})}}),
		},
		{
			name:    "environment below the command line",
			cmdline: "iscsi_target_ip=10.0.0.9",
			env: map[string]string{"ISCSI_TARGET_NAME": t0, "ISCSI_TARGET_IP": "10.0.0.1", "ISCSI_TARGET_PORT": "3262",
				"ISCSI_USERNAME": "alice", "ISCSI_PASSWORD": "alicepass12", "PATH": "/bin"},
			want: plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.9", 3262), func(t *Target) { t.Auth = chap("alice", "alicepass12") })}}),
		},
		{
			name: "environment alone",
			env:  map[string]string{"ISCSI_TARGET_NAME": t0, "ISCSI_TARGET_IP": "10.0.0.1", "ISCSI_AUTO": "true"},
			want: plan(Plan{Firmware: true, Interfaces: []Interface{{Method: MethodIBFT}}, Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) { t.Source = SourceConfig })}}),
		},
		{
			name: "empty ISCSI_AUTO asks for nothing, as Debian's -n test",
			env:  map[string]string{"ISCSI_AUTO": ""},
			want: plan(Plan{}),
		},
		{
			name:    "rd.iscsi.ibft and ip=ibft are one interface",
			cmdline: "rd.iscsi.ibft=1 ip=ibft rd.iscsi.firmware",
			want:    plan(Plan{Firmware: true, Interfaces: []Interface{{Method: MethodIBFT}}}),
		},
		{
			name:    "ip=<iface>:dhcp with MTU and MAC",
			cmdline: "ip=eth0:dhcp:9000:52:54:00:12:34:56",
			want:    plan(Plan{Interfaces: []Interface{{Name: "eth0", Method: MethodDHCP, MTU: 9000, SetMAC: "52:54:00:12:34:56"}}}),
		},
		{
			name:    "ip=<iface>:on with MAC only",
			cmdline: "ip=ens3:on::52:54:00:12:34:56",
			want:    plan(Plan{Interfaces: []Interface{{Name: "ens3", Method: MethodDHCP, SetMAC: "52:54:00:12:34:56"}}}),
		},
		{
			name:    "static with DNS",
			cmdline: "ip=192.168.1.10::192.168.1.1:255.255.255.0:myhost:eth0:none:192.168.1.53:192.168.1.54",
			want: plan(Plan{Interfaces: []Interface{{Name: "eth0", Method: MethodStatic, Hostname: "myhost",
				Addresses: []netip.Prefix{pfx("192.168.1.10/24")}, Gateway: addr("192.168.1.1"),
				DNS: []netip.Addr{addr("192.168.1.53"), addr("192.168.1.54")}}}}),
		},
		{
			name:    "static with prefix length, MTU and MAC",
			cmdline: "ip=192.168.1.10::192.168.1.1:24::eth0:off:1500:52:54:00:AB:CD:EF",
			want: plan(Plan{Interfaces: []Interface{{Name: "eth0", Method: MethodStatic, MTU: 1500, SetMAC: "52:54:00:ab:cd:ef",
				Addresses: []netip.Prefix{pfx("192.168.1.10/24")}, Gateway: addr("192.168.1.1")}}}),
		},
		{
			name:    "static IPv6 and IPv4 on one interface",
			cmdline: "ip=[2001:db8::10]::[2001:db8::1]:64::eth0:none:[2001:db8::53] ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:none",
			want: plan(Plan{Interfaces: []Interface{
				{Name: "eth0", Method: MethodStatic, Addresses: []netip.Prefix{pfx("2001:db8::10/64")}, Gateway: addr("2001:db8::1"), DNS: []netip.Addr{addr("2001:db8::53")}},
				{Name: "eth0", Method: MethodStatic, Addresses: []netip.Prefix{pfx("10.0.2.15/24")}, Gateway: addr("10.0.2.2")},
			}}),
		},
		{
			name:    "iBFT-style line from ibft_to_cmdline",
			cmdline: "ip=10.0.2.15::10.0.2.2:255.255.255.0::ibft0:none:10.0.2.3 vlan=ibft0.5:ibft0",
			want: plan(Plan{Interfaces: []Interface{{Name: "ibft0", Method: MethodStatic, Addresses: []netip.Prefix{pfx("10.0.2.15/24")},
				Gateway: addr("10.0.2.2"), DNS: []netip.Addr{addr("10.0.2.3")}}, {Name: "ibft0.5", VLAN: 5, Parent: "ibft0"}}}),
		},
		{
			name:    "vlan with ip on it",
			cmdline: "vlan=vlan0005:eth0 ip=vlan0005:dhcp",
			want:    plan(Plan{Interfaces: []Interface{{Name: "vlan0005", Method: MethodDHCP, VLAN: 5, Parent: "eth0"}}}),
		},
		{
			name:    "ifname names the ip= interface",
			cmdline: "ifname=bootnet:52:54:00:AB:CD:EF ip=bootnet:dhcp ip=bootnet:auto6",
			want: plan(Plan{Interfaces: []Interface{{Name: "bootnet", MAC: "52:54:00:ab:cd:ef", Method: MethodDHCP},
				{Name: "bootnet", MAC: "52:54:00:ab:cd:ef", Method: MethodAuto6}}}),
		},
		{
			name:    "DHCP method drops the address, peer ignored",
			cmdline: "ip=10.0.0.5:10.0.0.6:10.0.0.1:24::eth0:dhcp",
			want: plan(Plan{Interfaces: []Interface{{Name: "eth0", Method: MethodDHCP}}, Warnings: []string{
				"ip=10.0.0.5:10.0.0.6:10.0.0.1:24::eth0:dhcp: peer 10.0.0.6 ignored (no point-to-point links)",
				"ip=10.0.0.5:10.0.0.6:10.0.0.1:24::eth0:dhcp: address 10.0.0.5 ignored with method dhcp",
			}}),
		},
		{
			name:    "bootdev, nameservers, rd.neednet, ip=off",
			cmdline: "bootdev=eth1 nameserver=10.0.0.53 nameserver=[2001:db8::53] nameserver=10.0.0.53 rd.neednet=1 ip=off ip=eth1:either6",
			want: plan(Plan{BootDev: "eth1", Nameservers: []netip.Addr{addr("10.0.0.53"), addr("2001:db8::53")},
				Interfaces: []Interface{{Name: "eth1", Method: MethodEither6}},
				Warnings:   []string{"rd.neednet=1: ignored: the boot brings up the interfaces of ip=, vlan= and the firmware, and only to reach an iSCSI root"}}),
		},
		{
			name:    "iSCSI switches",
			cmdline: "rd.iscsi.waitnet rd.iscsi.testroute=0 rd.iscsi.mp=yes rd.iscsi.transport=iser rd.iscsi.login_retry_max=5 rd.retry=60 rd.iscsi.resident",
			want: plan(Plan{WaitNet: true, SkipRouteTest: true, Transport: "iser", LoginRetryMax: 5, RetrySeconds: 60, Resident: true,
				Params:   map[string]string{"node.session.initial_login_retry_max": "5"},
				Warnings: []string{"rd.iscsi.mp=yes: ignored: the NIC of every target in the firmware table is configured, with or without it"}}),
		},
		{
			name:    "soft-RoCE for iSER",
			cmdline: "rd.iscsi.rxe=eth0 rd.iscsi.transport=iser rd.iscsi.rxe=eth1,eth0",
			want:    plan(Plan{Transport: "iser", SoftRoCE: []string{"eth0", "eth1"}}),
		},
		{
			name:    "soft-RoCE without iSER",
			cmdline: "rd.iscsi.rxe=eth0",
			want: plan(Plan{SoftRoCE: []string{"eth0"},
				Warnings: []string{"rd.iscsi.rxe=eth0: soft-RoCE devices are added, but the logins use transport tcp, not iser"}}),
		},
		{
			name:    "rd.iscsi.param wins over login_retry_max, whatever the order",
			cmdline: "rd.iscsi.param=node.session.initial_login_retry_max=9 rd.iscsi.login_retry_max=5 rd.iscsi.param=node.conn[0].timeo.noop_out_interval=5",
			want: plan(Plan{LoginRetryMax: 5, Params: map[string]string{"node.session.initial_login_retry_max": "9",
				"node.conn[0].timeo.noop_out_interval": "5"}}),
		},
		{
			name: "CHAP record params are CHAP, not params",
			cmdline: "rd.iscsi.param=node.session.auth.username=alice rd.iscsi.param=node.session.auth.password=alicepass12 " +
				"netroot=iscsi:10.0.0.1::::iqn.2009-06.dracut:target0",
			want: plan(Plan{Targets: []Target{with(tgt(t0, "10.0.0.1", 3260), func(t *Target) { t.Auth = chap("alice", "alicepass12") })}}),
		},
		{
			name:    "unknown rd.iscsi words warn, others are not ours",
			cmdline: "rd.iscsi.fimware=1 console=ttyS0 rd.lvm=0 ISCSI_FOO=1",
			want: plan(Plan{Warnings: []string{"rd.iscsi.fimware: unknown rd.iscsi option, ignored",
				"ISCSI_FOO: unknown initramfs-tools variable, ignored"}}),
		},
		{
			name:    "quotes and -- like the kernel",
			cmdline: `  "netroot=iscsi:10.0.0.1::::iqn.2009-06.dracut:target0"   rd.iscsi.initiator="iqn.1994-05.com.redhat:a"  -- netroot=iscsi:10.0.0.2::::iqn.2009-06.dracut:target1`,
			want:    plan(Plan{Initiator: "iqn.1994-05.com.redhat:a", Targets: []Target{tgt(t0, "10.0.0.1", 3260)}}),
		},
		{
			name:    "the last single value wins",
			cmdline: "rd.iscsi.initiator=iqn.2000-01.a:x iscsi_initiator=iqn.2000-01.a:y rd.iscsi.firmware rd.iscsi.firmware=0",
			want:    plan(Plan{Initiator: "iqn.2000-01.a:y"}),
		},
		{
			name:    "non-iSCSI roots are not ours",
			cmdline: "root=/dev/sda1 netroot=nfs:10.0.0.1:/export",
			want:    plan(Plan{}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromCmdline(tt.cmdline, WithEnv(tt.env))
			if err != nil {
				t.Fatalf("FromCmdline(%q): %v", tt.cmdline, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpNetip); diff != "" {
				t.Errorf("FromCmdline(%q) (-want +got):\n%s", tt.cmdline, diff)
			}
		})
	}
}

func TestFromCmdlineErrors(t *testing.T) {
	tests := []struct {
		name    string
		cmdline string
		env     map[string]string
		key     string
		err     error
		msg     string // a piece the one-line message must hold
	}{
		{"unbracketed IPv6", "netroot=iscsi:2001:db8::1::::iqn.2009-06.dracut:target0", nil, "netroot", errUnbracketedIPv6, `"2001:db8::1"`},
		{"unbracketed link-local IPv6", "root=iscsi:fe80::1::::iqn.2009-06.dracut:target0", nil, "root", errUnbracketedIPv6, `"fe80::1"`},
		{"unbracketed ULA", "netroot=iscsi:fd00:1::5:6:3260:0:iqn.2009-06.dracut:target0", nil, "netroot", errUnbracketedIPv6, `"fd00:1::5:6:3260:0"`},
		{"unclosed bracket", "netroot=iscsi:[2001:db8::1::::iqn.2009-06.dracut:target0", nil, "netroot", errSyntax, "[IPv6 address]"},
		{"bracketed non-address", "netroot=iscsi:[san]::::iqn.2009-06.dracut:target0", nil, "netroot", errAddress, `"san"`},
		{"second iqn. in the name", "netroot=iscsi:10.0.0.1::::iqn.2009-06.dracut:iqn.2009-06.other:t", nil, "netroot", errAmbiguousName, "iqn.2009-06.other"},
		{"cut short", "netroot=iscsi:10.0.0.1:iqn.2009-06.dracut:target0", nil, "netroot", errFields, "protocol"},
		{"no fields", "netroot=iscsi:10.0.0.1", nil, "netroot", errFields, ""},
		{"too many fields before the name", "netroot=iscsi:10.0.0.1:::a:b:c:1:iqn.2009-06.dracut:target0", nil, "netroot", errFields, ""},
		{"empty target name", "netroot=iscsi:10.0.0.1::::", nil, "netroot", errEmpty, "target name"},
		{"port out of range", "netroot=iscsi:10.0.0.1::99999::iqn.2009-06.dracut:target0", nil, "netroot", errPort, `"99999"`},
		{"port not a number", "root=iscsi:10.0.0.1::32x0::iqn.2009-06.dracut:target0", nil, "root", errPort, `"32x0"`},
		{"bad LUN", "netroot=iscsi:10.0.0.1:::0x1:iqn.2009-06.dracut:target0", nil, "netroot", errNumber, `"0x1"`},
		{"bad protocol", "netroot=iscsi:10.0.0.1:tcp:::iqn.2009-06.dracut:target0", nil, "netroot", errSyntax, `"tcp"`},
		{"three auth fields", "netroot=iscsi:alice:alicepass12:tgt@10.0.0.1::::iqn.2009-06.dracut:target0", nil, "netroot", errAuth, "<redacted>@10.0.0.1"},
		{"user without password", "netroot=iscsi:alice@10.0.0.1::::iqn.2009-06.dracut:target0", nil, "netroot", errAuth, ""},
		{"empty server", "netroot=iscsi:::::iqn.2009-06.dracut:target0", nil, "netroot", errMissing, "servername"},
		{"bad host name", "netroot=iscsi:san_01..x::::iqn.2009-06.dracut:target0", nil, "netroot", errAddress, `"san_01..x"`},
		{"mistyped IPv4", "netroot=iscsi:10.0.0.256::::iqn.2009-06.dracut:target0", nil, "netroot", errAddress, `"10.0.0.256"`},
		{"bad netdev", "netroot=iscsi:10.0.0.1:::x:this-name-is-too-long:0:iqn.2009-06.dracut:target0", nil, "netroot", errIfname, "this-name-is-too-long"},
		{"boolean typo", "rd.iscsi.firmware=maybe", nil, "rd.iscsi.firmware", errBool, `"maybe"`},
		{"target name without ip", "rd.iscsi.target.name=iqn.2009-06.dracut:target0", nil, "rd.iscsi.target.name", errMissing, "ip"},
		{"target ip without name", "iscsi_target_ip=10.0.0.1", nil, "iscsi_target_ip", errMissing, "name"},
		{"bad target ip in a list", `ISCSI_TARGET_NAME=iqn.2009-06.dracut:target0 ISCSI_TARGET_IP="10.0.0.1 10.0.0.256"`, nil, "ISCSI_TARGET_IP", errAddress, `"10.0.0.256"`},
		{"bad target port from the file", "", map[string]string{"ISCSI_TARGET_NAME": t0, "ISCSI_TARGET_IP": "10.0.0.1", "ISCSI_TARGET_PORT": "0"}, "ISCSI_TARGET_PORT", errPort, "config: "},
		{"bad group", "rd.iscsi.target.name=iqn.2009-06.dracut:target0 rd.iscsi.target.ip=10.0.0.1 rd.iscsi.target.group=-1", nil, "rd.iscsi.target.group", errNumber, ""},
		{"initiator with a space", `rd.iscsi.initiator="iqn.1994-05.com.redhat:a b"`, nil, "rd.iscsi.initiator", errTargetName, ""},
		{"missing netmask", "ip=10.0.0.2::10.0.0.1::h:eth0:none", nil, "ip", errMissing, "netmask"},
		{"bad MTU", "ip=eth0:dhcp:abc", nil, "ip", errNumber, `"abc"`},
		{"unknown method", "ip=bogus", nil, "ip", errMethod, `"bogus"`},
		{"unknown method in the long form", "ip=10.0.0.2::10.0.0.1:24::eth0:stati", nil, "ip", errMethod, `"stati"`},
		{"anaconda style", "ip=10.0.0.2", nil, "ip", errSyntax, "alone"},
		{"empty ip", "ip=", nil, "ip", errEmpty, ""},
		{"bad netmask", "ip=10.0.0.2::10.0.0.1:255.0.255.0::eth0:none", nil, "ip", errNetmask, `"255.0.255.0"`},
		{"prefix too long", "ip=10.0.0.2::10.0.0.1:33::eth0:none", nil, "ip", errNetmask, `"33"`},
		{"gateway family", "ip=10.0.0.2::[2001:db8::1]:24::eth0:none", nil, "ip", errFamily, `"2001:db8::1"`},
		{"bad MAC in ip", "ip=eth0:dhcp:1500:52:54:00:12:34", nil, "ip", errMAC, ""},
		{"bad DNS", "ip=10.0.0.2::10.0.0.1:24::eth0:none:10.0.0.53:dns", nil, "ip", errAddress, `"dns"`},
		{"unclosed bracket in ip", "ip=[2001:db8::2", nil, "ip", errSyntax, ""},
		{"vlan name without id", "vlan=eth0:eth0", nil, "vlan", errSyntax, "1-4094"},
		{"vlan id out of range", "vlan=vlan4095:eth0", nil, "vlan", errSyntax, ""},
		{"vlan without device", "vlan=vlan5", nil, "vlan", errIfname, ""},
		{"bad MAC in ifname", "ifname=bootnet:zz:54:00:12:34:56", nil, "ifname", errMAC, ""},
		{"bad transport", "rd.iscsi.transport=tpc", nil, "rd.iscsi.transport", errTransport, "iser"},
		{"soft-RoCE on a bad name", "rd.iscsi.rxe=eth0,a/b", nil, "rd.iscsi.rxe", errIfname, "comma-separated"},
		{"soft-RoCE on nothing", "rd.iscsi.rxe=", nil, "rd.iscsi.rxe", errIfname, ""},
		{"login_retry_max range", "rd.iscsi.login_retry_max=10001", nil, "rd.iscsi.login_retry_max", errNumber, "0-10000"},
		{"rd.retry zero", "rd.retry=0", nil, "rd.retry", errNumber, ""},
		{"password without user", "rd.iscsi.password=alicepass12", nil, "rd.iscsi.password", errMissing, "<redacted>"},
		{"reverse without forward", "rd.iscsi.in.username=tgt rd.iscsi.in.password=tgtpass1234", nil, "rd.iscsi.in.username", errMissing, "mutual"},
		{"param without =", "rd.iscsi.param=node.session.timeo.replacement_timeout", nil, "rd.iscsi.param", errSyntax, "name=value"},
		{"bootdev", "bootdev=a/b", nil, "bootdev", errIfname, ""},
		{"nameserver", "nameserver=ns1", nil, "nameserver", errAddress, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromCmdline(tt.cmdline, WithEnv(tt.env))
			if err == nil {
				t.Fatalf("FromCmdline(%q) = %+v, want an error", tt.cmdline, p)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %q is not %q", err, tt.err)
			}
			var ce *CmdlineError
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Errorf("error %q does not name key %q", err, tt.key)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.msg) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line holding %q", msg, tt.msg)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []word
	}{
		{"", nil},
		{"  ro\tquiet\n", []word{{key: "ro"}, {key: "quiet"}}},
		{`a=1 b= c`, []word{{key: "a", value: "1", hasValue: true}, {key: "b", hasValue: true}, {key: "c"}}},
		{`k="a b" "x=y z"`, []word{{key: "k", value: "a b", hasValue: true}, {key: "x", value: "y z", hasValue: true}}},
		{`k=a"b c"d`, []word{{key: "k", value: `a"b c"d`, hasValue: true}}},
		{`k=v=w`, []word{{key: "k", value: "v=w", hasValue: true}}},
		{`k="unterminated rest`, []word{{key: "k", value: "unterminated rest", hasValue: true}}},
		{`k="`, []word{{key: "k", hasValue: true}}},
		{`"quoted flag"`, []word{{key: "quoted flag"}}},
		{`a -- b=c`, []word{{key: "a"}}},
		{`a --=x b`, []word{{key: "a"}, {key: "--", value: "x", hasValue: true}, {key: "b"}}},
	}
	for _, tt := range tests {
		got := tokenize(tt.in)
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(word{})); diff != "" {
			t.Errorf("tokenize(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// manyWords is a command line of n distinct words made by word.
func manyWords(n int, word func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(word(i))
		b.WriteByte(' ')
	}
	return b.String()
}

// networkWords make distinct network words, one kind each.
var networkWords = map[string]func(i int) string{
	"ip": func(i int) string { return fmt.Sprintf("ip=10.%d.%d.2::10.0.0.1:8::e%d:none", i/256%256, i%256, i) },
	"ifname": func(i int) string {
		return fmt.Sprintf("ifname=n%d:52:54:00:%02x:%02x:%02x", i, i>>16&0xff, i>>8&0xff, i&0xff)
	},
	"vlan":       func(i int) string { return fmt.Sprintf("vlan=e%d.%d:eth0", i, i%4094+1) },
	"nameserver": func(i int) string { return fmt.Sprintf("nameserver=10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff) },
}

// TestFromCmdlineTooMany: more interfaces or name servers than a machine
// has are refused with one error that gives the count.
func TestFromCmdlineTooMany(t *testing.T) {
	tests := []struct {
		kind, key string
		max       int
		msg       string
	}{
		{"ip", "ip", maxInterfaces, "interfaces from ip=, ifname= and vlan=; at most 256"},
		{"ifname", "ip", maxInterfaces, "interfaces from ip=, ifname= and vlan=; at most 256"},
		{"vlan", "ip", maxInterfaces, "interfaces from ip=, ifname= and vlan=; at most 256"},
		{"nameserver", "nameserver", maxNameservers, "name servers; at most 256"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			if _, err := FromCmdline(manyWords(tt.max, networkWords[tt.kind])); err != nil {
				t.Fatalf("%d %s= words: %v", tt.max, tt.kind, err)
			}
			for _, n := range []int{tt.max + 1, 20000} {
				p, err := FromCmdline(manyWords(n, networkWords[tt.kind]))
				var ce *CmdlineError
				want := fmt.Sprintf("%d %s", n, tt.msg)
				if !errors.Is(err, errTooMany) || !errors.As(err, &ce) || ce.Key != tt.key || !strings.Contains(err.Error(), want) {
					t.Fatalf("%d %s= words: plan %v, error %v; want %q", n, tt.kind, p != nil, err, want)
				}
			}
		})
	}
}

func TestSplitCmdline(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ro  quiet\n", []string{"ro", "quiet"}},
		{`root=/dev/sda1 rootflags="data=ordered,noatime" x`, []string{"root=/dev/sda1", "rootflags=data=ordered,noatime", "x"}},
		{`root=LABEL="my root" ro`, []string{`root=LABEL="my root"`, "ro"}}, // the kernel keeps a quote inside the value
		{"ro -- single rdinit=/x", []string{"ro"}},                          // what follows -- is init's
		{`"init=/bin/sh -x"`, []string{"init=/bin/sh -x"}},
		{`a=""`, []string{"a="}},
		{`"" " x`, []string{" x"}},
		{"ro root=/dev/sda1\x00 rw init=/bin/sh", []string{"ro", "root=/dev/sda1"}},
		{"a=\xff\xfe b", []string{"a=\xff\xfe", "b"}},
	} {
		if diff := cmp.Diff(tc.want, SplitCmdline(tc.in)); diff != "" {
			t.Errorf("SplitCmdline(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// FuzzSplitCmdline: the kernel command line is whatever the boot loader (or
// whoever edited its menu) passed. Splitting it never panics, makes no
// word longer than the input, keeps no NUL (the kernel's line ends there)
// and no empty word, and words with neither white space nor a quote split
// again to themselves.
func FuzzSplitCmdline(f *testing.F) {
	f.Add(`root=LABEL="my root" ro rootflags="a b" init=/sbin/init -- single`)
	f.Add("a\x00b c")
	f.Add("\"unterminated x=\xff\t\ny")
	f.Fuzz(func(t *testing.T, s string) {
		words := SplitCmdline(s)
		total := 0
		var plain []string
		for _, w := range words {
			if w == "" || strings.Contains(w, "\x00") {
				t.Fatalf("word %q from %q", w, s)
			}
			total += len(w)
			if !strings.ContainsAny(w, "\" \t\n\v\f\r") && w != "--" {
				plain = append(plain, w)
			}
		}
		if total > len(s) {
			t.Fatalf("%d bytes of words from %d bytes of %q", total, len(s), s)
		}
		again := SplitCmdline(strings.Join(plain, " "))
		if len(again) != len(plain) {
			t.Fatalf("round trip of %q: %q, then %q", s, plain, again)
		}
		for i := range plain {
			if again[i] != plain[i] {
				t.Fatalf("round trip of %q: %q, then %q", s, plain, again)
			}
		}
	})
}

func TestRdMultipathRefused(t *testing.T) {
	if _, err := FromCmdline("rd.multipath=maybe"); err == nil || !strings.Contains(err.Error(), "rd.multipath") {
		t.Errorf("rd.multipath=maybe: %v", err)
	}
}
