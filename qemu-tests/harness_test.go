package qemutests

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseMark(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Mark
		ok   bool
	}{
		{"step", "ISCSIBOOT[1.730] init start", Mark{Uptime: 1730 * time.Millisecond, Host: time.Second, Text: "init start"}, true},
		{"after kernel noise", "[    2.1] x ISCSIBOOT[2.50] login exit rc=0", Mark{Uptime: 2500 * time.Millisecond, Host: time.Second, Text: "login exit rc=0"}, true},
		{"plain line", "Run /init as init process", Mark{}, false},
		{"no space", "ISCSIBOOT[1.0]x", Mark{}, false},
		{"bad number", "ISCSIBOOT[abc] init", Mark{}, false},
		{"negative", "ISCSIBOOT[-1] init", Mark{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseMark(Line{Host: time.Second, Text: tt.in})
			if ok != tt.ok {
				t.Fatalf("parseMark(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseMark(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseLdd(t *testing.T) {
	out := `	linux-vdso.so.1 (0x00007fb2646c0000)
	libcrypto.so.3 => /lib/x86_64-linux-gnu/libcrypto.so.3 (0x00007fb264000000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fb263e1e000)
	/lib64/ld-linux-x86-64.so.2 (0x00007fb2646c2000)
`
	want := []string{"/lib/x86_64-linux-gnu/libcrypto.so.3", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	if diff := cmp.Diff(want, parseLdd([]byte(out))); diff != "" {
		t.Errorf("parseLdd mismatch (-want +got):\n%s", diff)
	}
}

func TestSharedLibsStatic(t *testing.T) {
	libs, err := sharedLibs(context.Background(), "/bin/busybox")
	if err != nil || len(libs) != 0 {
		t.Errorf("sharedLibs(static busybox) = %v, %v; want none", libs, err)
	}
}

func TestPrettyName(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"double quotes", "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n", "Debian GNU/Linux 12 (bookworm)", false},
		{"single quotes", "PRETTY_NAME='Alpine'\n", "Alpine", false},
		{"bare", "PRETTY_NAME=Arch\n", "Arch", false},
		{"missing", "NAME=x\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := prettyName([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("prettyName() = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestQemuArgs(t *testing.T) {
	k := Kernel{Dir: "/k", Version: "6.1.0-1-amd64"}
	base := []string{"-M", "pc", "-accel", "tcg", "-m", "512", "-nodefaults", "-display", "none",
		"-serial", "stdio", "-no-reboot"}
	nic := []string{"-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,addr=0x3"}
	cat := func(parts ...[]string) []string {
		var all []string
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	tests := []struct {
		name string
		opts BootOptions
		want []string
	}{
		{"pvh", BootOptions{Initrd: "/i", Append: "x=1"}, cat(base, []string{"-netdev", "user,id=n0"}, nic,
			[]string{"-kernel", "/k/vmlinux", "-initrd", "/i", "-append", "console=ttyS0 panic=-1 quiet no_timer_check x=1"})},
		{"bzImage with iBFT", BootOptions{Initrd: "/i", BzImage: true, ExtraArgs: []string{"-acpitable", "sig=iBFT,file=/t"}},
			cat(base, []string{"-netdev", "user,id=n0"}, nic,
				[]string{"-kernel", "/k/boot/vmlinuz-6.1.0-1-amd64", "-initrd", "/i", "-append", "console=ttyS0 panic=-1 quiet no_timer_check",
					"-acpitable", "sig=iBFT,file=/t"})},
		{"firmware", BootOptions{Firmware: true, Netdev: ",tftp=/d,bootfile=b.ipxe", ExtraArgs: []string{"-boot", "n"}},
			cat(base, []string{"-netdev", "user,id=n0,tftp=/d,bootfile=b.ipxe"}, nic, []string{"-boot", "n"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, qemuArgs(k, tt.opts)); diff != "" {
				t.Errorf("qemuArgs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConsoleFind(t *testing.T) {
	r, w := io.Pipe()
	c := newConsole(time.Now(), io.Discard)
	go c.read(r)
	found := make(chan Line, 1)
	go func() {
		for {
			l, ok, done, wake := c.find("login exit")
			if ok || done {
				found <- l
				return
			}
			<-wake
		}
	}()
	io.WriteString(w, "booting\r\nISCSIBOOT[3.5] login exit rc=0\r\nmore\r\n")
	select {
	case l := <-found:
		if l.Text != "ISCSIBOOT[3.5] login exit rc=0" {
			t.Errorf("found %q, want the login exit line without \\r", l.Text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("line not found within 5 s")
	}
	w.Close()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, ok, done, _ := c.find("never printed"); done || ok {
			if ok {
				t.Error("found a line never printed")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("console not done 5 s after EOF")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(c.snapshot()); got != 3 {
		t.Errorf("console kept %d lines, want 3", got)
	}
}

func TestReferenceGuestLogin(t *testing.T) {
	want := "iscsistart -i iqn.2025-01.test:init -t iqn.2025-01.test:disk1 -g 1 -a 10.0.2.2 -p 3261"
	if got := ReferenceGuest(3261).Login; got != want {
		t.Errorf("ReferenceGuest(3261).Login = %q, want %q", got, want)
	}
}

func TestGuestScript(t *testing.T) {
	tests := []struct {
		name    string
		g       Guest
		want    []string
		notWant []string
	}{
		{"reference", ReferenceGuest(3261), []string{
			"timeout -s KILL 60 /bin/sh /etc/iscsiboot-test/login.sh\n",
			"ip addr add 10.0.2.15/24 dev eth0", "[ ! -b /dev/sda ]", "switch_root /newroot /sbin/init",
			"/etc/iscsiboot/modules",
		}, nil},
		{"own network, other disk", Guest{Login: "/sbin/iscsistart -b", NoNet: true, RootDev: "/dev/sdb"},
			[]string{"[ ! -b /dev/sdb ]"}, []string{"ip addr add"}},
		{"short login timeout", Guest{Login: "x", LoginTimeout: 1500 * time.Millisecond},
			[]string{"timeout -s KILL 2 /bin/sh /etc/iscsiboot-test/login.sh\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := GuestScript(tt.g)
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("script lacks %q:\n%s", w, s)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(s, w) {
					t.Errorf("script has %q:\n%s", w, s)
				}
			}
		})
	}
}
