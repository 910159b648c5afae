package qemutests

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// TestDracut boots images built by Debian's dracut 059 with contrib/dracut's iscsiboot module in place of
// dracut's iscsi module, from the command lines of dracut's own test/TEST-70-ISCSI (the NIC named eth0, the
// target at the lab's addresses): a static ip= with one netroot=; ip=dhcp with two netroot= (two targets,
// both disks up; the root on the first); DHCP root-path (root=/dev/root netroot=dhcp ip=eth0:dhcp, option 17
// from our own DHCP server on a tap); rd.iscsi.firmware=1 with an iBFT. dracut's own root handling mounts
// root=LABEL=... or /dev/root. The image is smaller than dracut's own iSCSI image with the same drivers.
func TestDracut(t *testing.T) {
	const initiator = "rd.iscsi.initiator=" + InitiatorIQN
	cases := []struct {
		name    string
		cmdline string // %d is the target's port
		// second adds a second target, iqn.2025-01.test:disk2, with a blank disk as LUN 1
		second, ibft, dhcp bool
		want               []string
	}{
		{name: "netroot=iscsi target0",
			cmdline: "root=LABEL=iscsiroot netroot=iscsi:10.0.2.2::%d::" + TargetIQN +
				" ip=10.0.2.15::10.0.2.2:255.255.255.0:iscsi-1:eth0:off " + initiator,
			want: []string{"DISKS: sda ", "TIMERS: recovery_tmo=86400"}},
		{name: "netroot=iscsi target1 target2", second: true,
			cmdline: "root=LABEL=iscsiroot ip=dhcp netroot=iscsi:10.0.2.2::%d::" + TargetIQN +
				" netroot=iscsi:10.0.2.2::%d::iqn.2025-01.test:disk2 " + initiator,
			want: []string{"DISKS: sda sdb "}},
		{name: "root=dhcp", dhcp: true,
			cmdline: "root=/dev/root netroot=dhcp ip=eth0:dhcp " + initiator,
			want:    []string{"DISKS: sda ", "root-path " + TargetIQN + " from DHCP server 10.0.3.1"}},
		{name: "root=ibft", ibft: true,
			cmdline: "root=LABEL=iscsiroot rd.iscsi.ibft=1 rd.iscsi.firmware=1",
			want:    []string{"DISKS: sda ", "firmware table from"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.dhcp { // the tap and its addresses are the test namespace's: one at a time
				t.Parallel()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			opts := BootOptions{Timeout: 90 * time.Second}
			var srv *tgtd.Server
			if tc.dhcp {
				addTap(ctx, t)
				opts.NetdevSpec = "tap,id=n0,ifname=" + tapName + ",script=no,downscript=no"
			}
			h := New(t)
			bin := h.GoBinary(ctx, "./cmd/iscsistart")
			disk, err := RootImage{Name: "root.ext4", Init: itoolsRootInit, Size: "32M"}.Build(ctx, h.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.dhcp {
				srv = tgtd.Start(ctx, t, tgtd.WithAddress(tapHost))
				if err := srv.NewDiskTarget(ctx, 1, TargetIQN, disk.Path); err != nil {
					t.Fatal(err)
				}
				rootPath := fmt.Sprintf("iscsi:%s::%d:1:%s", tapHost, srv.Port, TargetIQN)
				d, err := server4.NewServer(tapName, &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, rootPathHandler(t, rootPath))
				if err != nil {
					t.Fatalf("DHCP server: %v", err)
				}
				go d.Serve()
				t.Cleanup(func() { d.Close() })
			} else {
				srv = h.Target(ctx, 1, TargetIQN, disk.Path)
			}
			if tc.second {
				blank := filepath.Join(h.Dir, "disk2.img")
				if err := os.WriteFile(blank, make([]byte, 8<<20), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := srv.NewDiskTarget(ctx, 2, "iqn.2025-01.test:disk2", blank); err != nil {
					t.Fatal(err)
				}
			}
			if tc.ibft {
				opts.ExtraArgs = []string{"-acpitable", "sig=iBFT,file=" + itoolsIBFT(t, h.Dir, srv.Port, false)}
			}
			opts.Initrd = h.DracutImage(ctx, bin)
			opts.Append = "net.ifnames=0 rd.shell=0 " + strings.ReplaceAll(tc.cmdline, "%d", fmt.Sprint(srv.Port))
			vm := h.Boot(ctx, opts)
			if _, err := vm.WaitFor(ctx, disk.Marker); err != nil {
				t.Fatalf("%v; console:\n%s", err, consoleText(vm))
			}
			if err := vm.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			c := consoleText(vm)
			for _, w := range append(tc.want, "Logging into "+TargetIQN) {
				if !strings.Contains(c, w) {
					t.Errorf("console lacks %q", w)
				}
			}
			// a tool the module's scripts run and the image lacks
			if strings.Contains(c, ": not found") {
				t.Errorf("console has a command not found")
			}
			if t.Failed() {
				t.Logf("console:\n%s", c)
			}
		})
	}
	t.Run("smaller than dracut's own iSCSI image", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		h := New(t)
		ours, err := os.Stat(h.DracutImage(ctx, h.GoBinary(ctx, "./cmd/iscsistart")))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.Stat(h.DracutImage(ctx, ""))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("dracut 059 image, zstd: iscsiboot module %d bytes, dracut's iscsi module %d bytes (%.2f)",
			ours.Size(), theirs.Size(), float64(ours.Size())/float64(theirs.Size()))
		if ours.Size() >= theirs.Size() {
			t.Errorf("our image is %d bytes, dracut's own %d", ours.Size(), theirs.Size())
		}
	})
}
