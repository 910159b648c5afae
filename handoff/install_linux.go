package handoff

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Where open-iscsi keeps its node database in a distribution's root,
// relative to it: Fedora, RHEL and SUSE build with /var/lib/iscsi, Debian
// and Ubuntu with /etc/iscsi (NODE_CONFIG_DIR). A root that has the first
// directory uses it; one with only /etc/iscsi uses the second.
var rootNodeDBs = []struct{ marker, db string }{
	{"var/lib/iscsi", "var/lib/iscsi/nodes"},
	{"etc/iscsi", NodeDB},
}

// IscsidDropIn is the systemd drop-in InstallNodeRecords writes, under the
// initramfs's /run (which moves into the real root), when the root is
// mounted read-only: systemd runs it before iscsid starts, by which time
// the root is writable.
const IscsidDropIn = "run/systemd/system/iscsid.service.d/50-iscsiboot-nodes.conf"

// InstallNodeRecords hands the boot sessions' node records, which Boot
// left in the initramfs's /run/iscsiboot/nodes, to the real root mounted
// at newRoot, so that its iscsid finds them when it adopts the sessions
// and keeps the root-disk timers (see NodeRecord). records are those
// Boot wrote: they are written again under the settings of the root's
// /etc/iscsi/iscsid.conf (NodeRecord.Conf) first, and are what is
// installed. It runs after the root
// is mounted and before switch_root, and returns one line for the console
// that says what it did:
//
//   - a writable root with open-iscsi: the records are copied into its
//     node database, each unless the root already has a record for that
//     target, portal and iface (the administrator's wins);
//   - a read-only root with systemd: a drop-in for iscsid.service does the
//     same copy when iscsid starts, after the root was remounted
//     read-write (IscsidDropIn);
//   - otherwise the records stay in /run/iscsiboot/nodes and the line says
//     what the root must do with them.
//
// Nothing here is fatal to the boot: the sessions are up either way.
func InstallNodeRecords(newRoot string, records []NodeRecord) (string, error) {
	return installNodeRecords("/", newRoot, records)
}

func installNodeRecords(initramfs, newRoot string, records []NodeRecord) (string, error) {
	conf, err := ReadIscsidConf(filepath.Join(newRoot, "etc/iscsi/iscsid.conf"))
	if err != nil {
		return "", fmt.Errorf("node records: %w", err)
	}
	var files []string
	for _, r := range records {
		r.Conf = conf
		if err := r.WriteFiles(initramfs); err != nil {
			return "", err
		}
		files = append(files, r.Path())
	}
	if len(files) == 0 {
		return "", nil
	}
	src := filepath.Join(initramfs, RunNodeDB)
	db := ""
	for _, c := range rootNodeDBs {
		if fi, err := os.Stat(filepath.Join(newRoot, c.marker)); err == nil && fi.IsDir() {
			db = c.db
			break
		}
	}
	if db == "" {
		return fmt.Sprintf("node records: the root has no /etc/iscsi or /var/lib/iscsi (no open-iscsi): %d left in /%s", len(files), RunNodeDB), nil
	}
	added, kept, err := copyRecords(src, filepath.Join(newRoot, db), files)
	switch {
	case err == nil:
		msg := fmt.Sprintf("node records: %d installed in /%s", added, db)
		if kept > 0 {
			msg += fmt.Sprintf(", %d kept as the root has them", kept)
		}
		return msg, nil
	case !errors.Is(err, unix.EROFS):
		return "", err
	}
	if !hasSystemd(newRoot) {
		return fmt.Sprintf("node records: the root is read-only and has no systemd: %d left in /%s; copy them to /%s before iscsid starts",
			len(files), RunNodeDB, db), nil
	}
	unit, n := dropIn(newRoot, db, files)
	if n == 0 {
		return fmt.Sprintf("node records: %d kept as the root has them", len(files)), nil
	}
	path := filepath.Join(initramfs, IscsidDropIn)
	if err := writeFileAtomic(path, unit, 0o644, 0o755); err != nil {
		return "", fmt.Errorf("node records: the root is read-only: %w", err)
	}
	return fmt.Sprintf("node records: the root is read-only: %d in /%s, installed in /%s when iscsid starts (/%s)",
		n, RunNodeDB, db, IscsidDropIn), nil
}

// dropIn is the text of IscsidDropIn for the records (relative paths) the
// read-only root's database db lacks, and how many those are. It names
// every directory and file, rather than copying the tree, so that busybox
// cp and coreutils cp do the same: make each directory 0700 if missing,
// copy each file unless it appeared in the meantime.
func dropIn(newRoot, db string, files []string) ([]byte, int) {
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by iscsiboot's /init. The root was mounted read-only, so the boot
# sessions' node records wait in /%s; install them, keeping the
# records the system already has, before iscsid adopts the sessions.
[Service]
`, RunNodeDB)
	made := map[string]bool{}
	n := 0
	for _, rel := range files {
		if _, err := os.Lstat(filepath.Join(newRoot, db, rel)); err == nil {
			continue
		}
		dirs := []string{"."}
		for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
			dirs = append(dirs[:1], append([]string{d}, dirs[1:]...)...)
		}
		for _, d := range dirs {
			if !made[d] {
				made[d] = true
				fmt.Fprintf(&b, "ExecStartPre=-/bin/mkdir -p -m 0700 %s\n", unitQuote(filepath.Join("/", db, d)))
			}
		}
		fmt.Fprintf(&b, "ExecStartPre=-/bin/cp -p -n %s %s\n",
			unitQuote(filepath.Join("/", RunNodeDB, rel)), unitQuote(filepath.Join("/", db, rel)))
		n++
	}
	return []byte(b.String()), n
}

// unitQuote quotes a path for a systemd Exec line: double quotes, with
// backslash, quote, specifier (%) and variable ($) characters escaped.
func unitQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$").Replace(s) + `"`
}

// copyRecords copies the record files (relative paths under src) into db,
// directories 0700 and files 0600 as iscsiadm makes them, leaving a file
// the database already has. It stops at the first error.
func copyRecords(src, db string, files []string) (added, kept int, err error) {
	for _, rel := range files {
		dst := filepath.Join(db, rel)
		if _, err := os.Lstat(dst); err == nil {
			kept++
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, rel))
		if err != nil {
			return added, kept, fmt.Errorf("node records: %w", err)
		}
		if err := writeFileAtomic(dst, b, 0o600, 0o700); err != nil {
			return added, kept, fmt.Errorf("node records: install %s: %w", dst, err)
		}
		added++
	}
	return added, kept, nil
}

// hasSystemd tells whether the root's init is systemd.
func hasSystemd(root string) bool {
	for _, p := range []string{"lib/systemd/systemd", "usr/lib/systemd/systemd"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return true
		}
	}
	return false
}
