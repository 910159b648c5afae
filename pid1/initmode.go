package pid1

import (
	"os"
	"path"
	"strings"

	"github.com/iscsiboot/iscsiboot/plan"
)

// initPaths are the names the kernel runs init by (init/main.c, kernel_init): /init, the default rdinit=,
// from an initramfs, and /sbin/init, /etc/init and /bin/init from a root file system. The kernel passes the
// path it ran as argv[0].
var initPaths = []string{"/init", "/sbin/init", "/etc/init", "/bin/init"}

// initMode tells whether the process is the init the kernel started, and so must act as the initramfs's
// /init (mount, boot, switch root or reboot), rather than run the command its arguments ask for. All three
// must hold:
//
//   - it is PID 1;
//   - args[0] is a path the kernel runs init by (initPaths), or the rdinit= or init= path of the kernel
//     command line cmdline ("" when /proc is not mounted yet, as for the real init);
//   - no argument is one of our options (ownFlag tells, given the name without dashes). The kernel passes
//     init the command-line words it does not know (single, emergency, a word after --), so arguments as
//     such prove nothing; --version, -b or --plan mean someone ran us as a command, e.g. with
//     `unshare -p -f iscsistart --version`.
func initMode(pid int, args []string, cmdline string, ownFlag func(name string) bool) bool {
	if pid != 1 || len(args) == 0 || !initPath(args[0], cmdline) {
		return false
	}
	for _, a := range args[1:] {
		if a == "--" {
			break // what follows is no option to the flag package either
		}
		name, ok := strings.CutPrefix(a, "-")
		if !ok {
			continue
		}
		name = strings.TrimPrefix(name, "-")
		name, _, _ = strings.Cut(name, "=")
		if name != "" && ownFlag(name) {
			return false
		}
	}
	return true
}

// readlink is os.Readlink; tests fake an image's /init link.
var readlink = os.Readlink

// initPath tells whether p is a path the kernel runs init by: one of initPaths, or the value of the last
// rdinit= or init= on the kernel command line (words after "--" are init's, not the kernel's), or what one of
// initPaths links to. u-root's busybox (gobusybox's bbmain) runs /init -> bbin/iscsistart with argv[0]
// rewritten to the link's target, /bbin/iscsistart.
func initPath(p string, cmdline string) bool {
	for _, ip := range initPaths {
		if p == ip {
			return true
		}
		if t, err := readlink(ip); err == nil && strings.HasPrefix(p, "/") {
			if !path.IsAbs(t) {
				t = path.Join(path.Dir(ip), t)
			}
			if p == t {
				return true
			}
		}
	}
	rdinit, init := "", ""
	for _, w := range plan.SplitCmdline(cmdline) {
		if w == "--" {
			break
		}
		if v, ok := strings.CutPrefix(w, "rdinit="); ok {
			rdinit = v
		} else if v, ok := strings.CutPrefix(w, "init="); ok {
			init = v
		}
	}
	return strings.HasPrefix(p, "/") && (p == rdinit || p == init)
}
