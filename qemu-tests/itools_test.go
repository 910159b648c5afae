package qemutests

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/ibft"
)

// itoolsRootInit is the root disk's /sbin/init of the initramfs-tools scenarios: it shows what the
// initramfs left behind (routes, Debian's /run/net-*.conf, the disks, the session's timers), then runs
// our iscsistart from the root, as a script in the initramfs would run it a second time, with stdout and
// stderr apart, and powers off after the disk's marker.
const itoolsRootInit = `#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
read up _ < /proc/uptime
echo "ISCSIBOOT[$up] root init"
ip route | sed 's/^/ROUTE: /'
for f in /run/net-*.conf; do [ -e "$f" ] && sed "s|^|NETCONF ${f#/run/}: |" "$f"; done
echo "DISKS: $(cd /sys/block && ls -d sd* | tr '\n' ' ')"
s=/sys/class/iscsi_session/session1
echo "TIMERS: recovery_tmo=$(cat $s/recovery_tmo)"
if [ -x /iscsistart-again ]; then
	/iscsistart-again > /run/again.out 2> /run/again.err
	echo "AGAIN rc=$?"
	sed 's/^/AGAIN-STDOUT: /' /run/again.out
	sed 's/^/AGAIN-STDERR: /' /run/again.err
fi
. /etc/os-release
echo "` + RootMarker + `$PRETTY_NAME"
poweroff -f
`

// itoolsAdoptInit is the root's /sbin/init for the hand-off scenario: a root with Debian's iscsid and
// no node record of its own, where iscsid adopts the session the initramfs made.
const itoolsAdoptInit = `#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/sbin:/usr/bin
ts() { read up _ < /proc/uptime; echo "ISCSIBOOT[$up] $*"; }
fail() { echo "` + handoffFail + `$*"; poweroff -f; sleep 10; }
s=/sys/class/iscsi_session/session1
c=/sys/class/iscsi_connection/connection1:0
state() { cat $s/state 2>/dev/null; }
lport() { cat $c/local_port 2>/dev/null; }
timers() { echo "TIMERS $1: recovery_tmo=$(cat $s/recovery_tmo) ping_tmo=$(cat $c/ping_tmo) recv_tmo=$(cat $c/recv_tmo)"; }
wait_for() { n=$1; shift; i=0; until "$@"; do i=$((i+1)); [ $i -ge $n ] && return 1; sleep 0.1; done; }
ts "root init"
mkdir -p /run/lock
for f in $(find /etc/iscsi/nodes -type f 2>/dev/null); do echo "ROOT-NODE: $(stat -c %a $f) ${f#/etc/iscsi/}"; done
timers "before iscsid"
p0=$(lport)
iscsid -f &
adopted() { [ "$(state)" = LOGGED_IN ] && [ "$(lport)" != "$p0" ] && iscsiadm -m session -P 3 2>/dev/null | grep -q "Internal iscsid Session State: NO CHANGE"; }
wait_for 300 adopted || fail "iscsid did not adopt session1 in 30 s: state $(state), local port $(lport)"
timers "after adoption"
ts "ITOOLS-ADOPTED"
poweroff -f
`

// itoolsIBFT writes a firmware table for the guest's NIC and one target (LUN 1), as writeIBFT does;
// dhcp makes the NIC's address one the firmware got by DHCP (origin DHCP, the server recorded).
func itoolsIBFT(t testing.TB, dir string, port int, dhcp bool) string {
	t.Helper()
	mac, _ := net.ParseMAC(MAC)
	nic := ibft.NIC{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr("10.0.2.15"),
		PrefixLen: 24, Origin: ibft.OriginManual, Gateway: netip.MustParseAddr(HostAddr),
		PrimaryDNS: netip.MustParseAddr("10.0.2.3"), MAC: mac, PCIBDF: ibft.NewBDF(0, 3, 0)}
	if dhcp {
		nic.Origin, nic.DHCPServer = ibft.OriginDHCP, netip.MustParseAddr(HostAddr)
	}
	tab := &ibft.Table{
		Header:    ibft.Header{OEMID: "ISCSIB", OEMTableID: "TESTIBFT"},
		Initiator: &ibft.Initiator{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, Name: InitiatorIQN},
		NICs:      []ibft.NIC{nic},
		Targets: []ibft.Target{{Flags: ibft.FlagBlockValid | ibft.FlagBootSelected, IP: netip.MustParseAddr(HostAddr),
			Port: uint16(port), LUN: ibft.LUNFromInt(1), Name: TargetIQN}},
	}
	b, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ibft.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInitramfsTools is the drop-in as a Debian user adopts it: an image built by Debian's own
// mkinitramfs, with open-iscsi's hook and boot script unchanged, and our iscsistart in place of
// open-iscsi's through contrib/initramfs-tools' hook. It boots every form open-iscsi's script reads:
// /etc/iscsi.initramfs, iscsi_* words with mutual CHAP, root=iscsi:, and iscsi_auto with an iBFT whose NIC
// is static or came from DHCP; a target with two LUNs; a root whose iscsid adopts the session. Each case
// also checks what the script depends on: the second login of the same target names its disk, -N leaves
// the default route to the script and adds a host route to the target, a DHCP NIC is the script's ipconfig's
// to configure, -b brings every LUN, progress goes to stderr, and the node records reach the root.
func TestInitramfsTools(t *testing.T) {
	const ipStatic = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"
	// udev in Debian's image names the NIC ens3 unless told to keep the kernel's name
	const base = "net.ifnames=0 "
	static := func(port int) string {
		return fmt.Sprintf("ISCSI_INITIATOR=%s\nISCSI_TARGET_NAME=%s\nISCSI_TARGET_IP=%s\nISCSI_TARGET_PORT=%d\nISCSI_TARGET_GROUP=1\n",
			InitiatorIQN, TargetIQN, HostAddr, port)
	}
	cases := []struct {
		name string
		// static puts /etc/iscsi.initramfs in the image; chap adds mutual CHAP accounts to the target;
		// lun2 gives the target a second LUN; ibft publishes a table ("static" or "dhcp" NIC); adopt boots a
		// root with iscsid.
		static, chap, lun2, adopt bool
		// again runs our iscsistart once more from the root, stdout and stderr apart.
		again bool
		ibft  string
		// cmdline is appended to the kernel's, %d the target's port.
		cmdline string
		want    []string
		// unwanted are console texts that must not appear.
		unwanted []string
	}{
		{name: "iscsi.initramfs", static: true, again: true, cmdline: ipStatic + " root=LABEL=iscsiroot",
			want: []string{"AGAIN rc=0", "AGAIN-STDERR: iscsistart: already logged in to " + TargetIQN + " at 10.0.2.2:%d: session 1 (transport tcp), sda"},
			// The script's second call, and ours from the root, name the disk; scripts read stdout,
			// where open-iscsi's iscsistart prints nothing of a login.
			unwanted: []string{"no block device", "AGAIN-STDOUT: "}},
		{name: "iscsi words with mutual CHAP", chap: true,
			cmdline: ipStatic + " root=LABEL=iscsiroot iscsi_initiator=" + InitiatorIQN + " iscsi_target_name=" + TargetIQN +
				" iscsi_target_ip=10.0.2.2 iscsi_target_port=%d iscsi_username=alice iscsi_password=alice-secret-1" +
				" iscsi_in_username=disk1 iscsi_in_password=target-secret-2",
			want: []string{"TIMERS: recovery_tmo=86400"}, unwanted: []string{"no block device"}},
		{name: "root=iscsi:", cmdline: ipStatic + " root=iscsi:10.0.2.2::%d:1:" + TargetIQN,
			want: []string{"TIMERS: recovery_tmo=86400"}, unwanted: []string{"no block device"}},
		// -b logs in to the table's LUN 1 and the kernel scans the whole target, as open-iscsi's does: the
		// second LUN (swap, /home) appears too. -N sets the table's address and a host route to the target,
		// not the default route the script adds itself.
		{name: "iscsi_auto static NIC two LUNs", lun2: true, ibft: "static", cmdline: "iscsi_auto root=LABEL=iscsiroot",
			want: []string{"DISKS: sda sdb ", "ROUTE: default via 10.0.2.2 dev eth0", "ROUTE: 10.0.2.2 dev eth0",
				"NETCONF net-eth0.conf: PROTO='static'"},
			unwanted: []string{"RTNETLINK answers: File exists"}},
		// A NIC the firmware configured by DHCP: -N sets the table's address, and the script's own ipconfig
		// renews it and writes /run/net-eth0.conf in its own words.
		{name: "iscsi_auto DHCP NIC", ibft: "dhcp", cmdline: "iscsi_auto root=LABEL=iscsiroot",
			want:     []string{"IP-Config: eth0 complete", "NETCONF net-eth0.conf: PROTO='dhcp'", "ROUTE: 10.0.2.2 dev eth0"},
			unwanted: []string{"kernel random pool", "RTNETLINK answers: File exists"}},
		// The root has open-iscsi and no record of the boot target: iscsid adopts the session with the
		// records our init-bottom step installed, and keeps the root-disk timers.
		{name: "iscsid adopts with the root-disk timers", static: true, adopt: true, cmdline: ipStatic + " root=LABEL=iscsiroot rw",
			want: []string{"iscsiboot: node records: 1 installed in /etc/iscsi/nodes",
				"ROOT-NODE: 600 nodes/" + TargetIQN + "/10.0.2.2,%d,1/default",
				"TIMERS after adoption: recovery_tmo=86400 ping_tmo=0 recv_tmo=0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			h := New(t)
			bin := h.GoBinary(ctx, "./cmd/iscsistart", "dropin") // what the hook installs
			srv := h.Tgtd(ctx)
			port := srv.Port
			root := RootImage{Name: "root.ext4", Init: itoolsRootInit, Size: "32M"}
			marker := ""
			switch {
			case tc.adopt:
				root = handoffRootImage(itoolsAdoptInit)
				marker = "ITOOLS-ADOPTED"
			case tc.again:
				// the root runs the same login once more, as the script's second call does
				again := fmt.Sprintf("#!/bin/sh\nexec %s -i %s -t %s -g 1 -a %s -p %d\n", bin, InitiatorIQN, TargetIQN, HostAddr, port)
				root.HostFiles = []string{bin}
				root.Files = map[string]ImageFile{"/iscsistart-again": {again, 0o755}}
			}
			disk, err := root.Build(ctx, h.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if marker == "" {
				marker = disk.Marker
			}
			if err := srv.NewDiskTarget(ctx, 1, TargetIQN, disk.Path); err != nil {
				t.Fatal(err)
			}
			if tc.lun2 {
				blank := filepath.Join(h.Dir, "lun2.img")
				if err := os.WriteFile(blank, make([]byte, 8<<20), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := srv.AddLUN(ctx, 1, 2, blank); err != nil {
					t.Fatal(err)
				}
			}
			if tc.chap {
				chapAccounts(t, ctx, h, true)
			}
			img := ItoolsImage{Iscsistart: bin}
			if tc.static {
				img.Static = static(port)
			}
			initrd := h.InitramfsTools(ctx, img)
			opts := BootOptions{Initrd: initrd, Append: base + strings.ReplaceAll(tc.cmdline, "%d", fmt.Sprint(port)),
				Timeout: 90 * time.Second}
			if tc.ibft != "" {
				opts.ExtraArgs = []string{"-acpitable", "sig=iBFT,file=" + itoolsIBFT(t, h.Dir, port, tc.ibft == "dhcp")}
			}
			vm := h.Boot(ctx, opts)
			if _, err := vm.WaitFor(ctx, marker); err != nil {
				t.Fatalf("%v; console:\n%s", err, consoleText(vm))
			}
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			c := consoleText(vm)
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "%d", fmt.Sprint(port)); !strings.Contains(c, w) {
					t.Errorf("console lacks %q", w)
				}
			}
			for _, u := range tc.unwanted {
				if strings.Contains(c, u) {
					t.Errorf("console has %q: %s", u, lineWith(c, u))
				}
			}
			if strings.Contains(c, "secret-") {
				t.Errorf("a CHAP secret reached the console")
			}
			if t.Failed() {
				t.Logf("console:\n%s", c)
			}
		})
	}
}
