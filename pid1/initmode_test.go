package pid1

import (
	"os"
	"testing"
)

// ownFlag stands for iscsistart's options (cmd/iscsistart tests its own).
func ownFlag(name string) bool {
	switch name {
	case "v", "version", "b", "f", "plan", "cmdline", "d", "help":
		return true
	}
	return false
}

func TestInitMode(t *testing.T) {
	// The image's /init links to u-root's busybox entry for us.
	orig := readlink
	t.Cleanup(func() { readlink = orig })
	readlink = func(name string) (string, error) {
		if name == "/init" {
			return "bbin/iscsistart", nil
		}
		return "", os.ErrNotExist
	}
	for _, tc := range []struct {
		name    string
		pid     int
		args    []string
		cmdline string
		want    bool
	}{
		{"kernel runs /init", 1, []string{"/init"}, "", true},
		{"kernel runs /sbin/init from a root file system", 1, []string{"/sbin/init"}, "", true},
		{"stray kernel words are init's arguments", 1, []string{"/init", "single", "emergency", "-s"}, "", true},
		{"rdinit= names us", 1, []string{"/sbin/iscsistart"}, "root=/dev/sda1 rdinit=/sbin/iscsistart ro", true},
		{"init= names us", 1, []string{"/usr/bin/iscsiboot"}, `init=/usr/bin/iscsiboot`, true},
		{"rdinit= after -- is init's", 1, []string{"/sbin/iscsistart"}, "ro -- rdinit=/sbin/iscsistart", false},
		{"not PID 1", 4242, []string{"/init"}, "", false},
		{"unshare -p -f iscsistart --version", 1, []string{"iscsistart", "--version"}, "", false},
		{"unshare -p -f iscsistart (no arguments)", 1, []string{"iscsistart"}, "", false},
		{"relative path", 1, []string{"init"}, "rdinit=init", false},
		{"/init --version", 1, []string{"/init", "--version"}, "", false},
		{"/init -v", 1, []string{"/init", "-v"}, "", false},
		{"/init -b", 1, []string{"/init", "-b"}, "", false},
		{"/init -f", 1, []string{"/init", "-f"}, "", false},
		{"/init --plan --cmdline=x", 1, []string{"/init", "--plan", "--cmdline=ip=dhcp"}, "", false},
		{"/init -d=3", 1, []string{"/init", "-d=3"}, "", false},
		{"/init single --help", 1, []string{"/init", "single", "--help"}, "", false},
		{"an option after -- is an argument", 1, []string{"/init", "--", "--version"}, "", true},
		{"unknown options are not ours", 1, []string{"/init", "--bogus", "-"}, "", true},
		{"no argv at all", 1, nil, "", false},
		{"u-root busybox: /init -> bbin/iscsistart", 1, []string{"/bbin/iscsistart"}, "", true},
		{"u-root busybox, another command", 1, []string{"/bbin/ls"}, "", false},
		{"u-root busybox, relative", 1, []string{"bbin/iscsistart"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := initMode(tc.pid, tc.args, tc.cmdline, ownFlag); got != tc.want {
				t.Errorf("initMode(%d, %q, %q) = %v, want %v", tc.pid, tc.args, tc.cmdline, got, tc.want)
			}
		})
	}
}
