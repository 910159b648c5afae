package handoff

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/iscsiboot/iscsiboot/multipath"
)

// multipathdMarkers are paths, relative to a root, whose presence says the
// root has multipath-tools: its configuration, its state directory or
// multipathd itself.
var multipathdMarkers = []string{"etc/multipath.conf", "etc/multipath", "sbin/multipathd", "usr/sbin/multipathd"}

// InstallWWIDs adds the WWIDs of the boot's maps to the wwids file of the
// real root mounted at newRoot (multipath.WWIDsFile), as `multipath -a`
// would, so that its multipathd keeps the maps under Debian's default
// find_multipaths strict: without them it drops their WWIDs and tries to
// flush the maps (which only the mounted root stops). A root without
// multipath-tools is left alone. It returns one line for the console, or
// "" when there is nothing to say; like InstallNodeRecords, nothing here
// is fatal to the boot.
func InstallWWIDs(newRoot string, wwids []string) (string, error) {
	if len(wwids) == 0 || !hasMultipathd(newRoot) {
		return "", nil
	}
	path := filepath.Join(newRoot, multipath.WWIDsFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("multipath wwids: %w", err)
	}
	b, n := multipath.AddWWIDs(old, wwids)
	if n == 0 {
		return fmt.Sprintf("multipath wwids: %d already in %s", len(wwids), multipath.WWIDsFile), nil
	}
	// multipath-tools makes the file 0644 in a 0755 /etc/multipath.
	switch err := writeFileAtomic(path, b, 0o644, 0o755); {
	case errors.Is(err, unix.EROFS):
		return fmt.Sprintf("multipath wwids: the root is read-only: add %s to %s (multipath -a) before multipathd starts, or it drops the map",
			strings.Join(wwids, " "), multipath.WWIDsFile), nil
	case err != nil:
		return "", fmt.Errorf("multipath wwids: %w", err)
	}
	return fmt.Sprintf("multipath wwids: %d added to %s", n, multipath.WWIDsFile), nil
}

func hasMultipathd(root string) bool {
	for _, m := range multipathdMarkers {
		if _, err := os.Stat(filepath.Join(root, m)); err == nil {
			return true
		}
	}
	return false
}
