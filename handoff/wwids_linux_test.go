package handoff

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iscsiboot/iscsiboot/internal/nstest"
	"github.com/iscsiboot/iscsiboot/multipath"
)

const testWWID = "360000000000000000e00000000010001"

func TestInstallWWIDs(t *testing.T) {
	header := "# Multipath wwids, Version : 1.0\n"
	for _, tc := range []struct {
		name    string
		markers []string          // directories made in the root
		files   map[string]string // files in the root
		wwids   []string
		msg     string
		want    string // the root's wwids file afterwards; "" for none
	}{
		{"no multipath-tools", []string{"etc/iscsi"}, nil, []string{testWWID}, "", ""},
		{"no map", []string{"etc/multipath"}, nil, nil, "", ""},
		{"multipath.conf only", nil, map[string]string{"etc/multipath.conf": "defaults {\n}\n"}, []string{testWWID},
			"multipath wwids: 1 added to /etc/multipath/wwids", "/" + testWWID + "/\n"},
		{"multipathd only", []string{"usr/sbin"}, map[string]string{"usr/sbin/multipathd": ""}, []string{testWWID},
			"multipath wwids: 1 added to /etc/multipath/wwids", "/" + testWWID + "/\n"},
		{"appended to the root's", []string{"etc/multipath"}, map[string]string{"etc/multipath/wwids": header + "/3600a/\n"},
			[]string{testWWID}, "multipath wwids: 1 added to /etc/multipath/wwids", header + "/3600a/\n/" + testWWID + "/\n"},
		{"already there", []string{"etc/multipath"}, map[string]string{"etc/multipath/wwids": "/" + testWWID + "/\n"},
			[]string{testWWID}, "multipath wwids: 1 already in /etc/multipath/wwids", "/" + testWWID + "/\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			mkdirs(t, root, tc.markers...)
			for p, s := range tc.files {
				mkdirs(t, root, filepath.Dir(p))
				if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			msg, err := InstallWWIDs(root, tc.wwids)
			if err != nil || msg != tc.msg {
				t.Errorf("InstallWWIDs = %q, %v; want %q", msg, err, tc.msg)
			}
			b, err := os.ReadFile(filepath.Join(root, multipath.WWIDsFile))
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("wwids file written: %q", b)
			case tc.want != "" && (err != nil || len(b) < len(tc.want) || string(b[len(b)-len(tc.want):]) != tc.want):
				t.Errorf("wwids file = %q, %v; want it to end in %q", b, err, tc.want)
			}
			if tc.want != "" {
				if fi, err := os.Stat(filepath.Join(root, multipath.WWIDsFile)); err != nil || fi.Mode().Perm() != 0o644 {
					t.Errorf("wwids file mode: %v %v", fi.Mode(), err)
				}
			}
		})
	}
}

// TestInstallWWIDsReadOnly: a read-only root keeps its file, and the line
// says what must be done before multipathd starts.
func TestInstallWWIDsReadOnly(t *testing.T) {
	nstest.Require(t)
	root := t.TempDir()
	mkdirs(t, root, "etc/multipath")
	if err := unix.Mount(root, root, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(root, unix.MNT_DETACH)
	if err := unix.Mount("", root, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	msg, err := InstallWWIDs(root, []string{testWWID})
	want := "multipath wwids: the root is read-only: add " + testWWID + " to /etc/multipath/wwids (multipath -a) before multipathd starts, or it drops the map"
	if err != nil || msg != want {
		t.Errorf("InstallWWIDs = %q, %v; want %q", msg, err, want)
	}
}
