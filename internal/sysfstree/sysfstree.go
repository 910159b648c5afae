package sysfstree

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// QLA4xxx is a QLogic iSCSI HBA on SCSI host 3 that logged in to its
// flash boot target by itself, with its /sys/firmware/iscsi_boot3.
const QLA4xxx = "qla4xxx.txt"

// Load lays out the tree of testdata file name under root/sys (and
// root/dev for its device nodes, as plain files). Lines: "f PATH VALUE" a
// file under /sys holding VALUE and a newline, "l PATH TARGET" a symlink,
// "d PATH" a directory, "n NAME" an entry in /dev; "#" starts a comment.
func Load(t testing.TB, root, name string) {
	t.Helper()
	if err := load(root, name); err != nil {
		t.Fatal(err)
	}
}

func load(root, name string) error {
	_, self, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(self), "testdata", name))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		p, v, _ := strings.Cut(rest, " ")
		full := filepath.Join(root, "sys", p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		switch kind {
		case "f":
			err = os.WriteFile(full, []byte(v+"\n"), 0o644)
		case "l":
			err = os.Symlink(v, full)
		case "d":
			err = os.MkdirAll(full, 0o755)
		case "n":
			full = filepath.Join(root, "dev", p)
			if err = os.MkdirAll(filepath.Dir(full), 0o755); err == nil {
				err = os.WriteFile(full, nil, 0o644)
			}
		default:
			err = fmt.Errorf("unknown kind %q", kind)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	return sc.Err()
}
