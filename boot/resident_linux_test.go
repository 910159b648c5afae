package boot

import (
	"os"
	"path/filepath"
	"testing"
)

// TestIscsidRunning finds iscsid by its comm in a process table, skipping
// the caller and entries that are no process.
func TestIscsidRunning(t *testing.T) {
	dir := t.TempDir()
	for pid, comm := range map[string]string{"1": "init\n", "42": "iscsid\n", "7": "iscsid\n", "self": "iscsid\n", "99": "iscsiadm\n"} {
		if err := os.MkdirAll(filepath.Join(dir, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, pid, "comm"), []byte(comm), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	proc, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	for _, tc := range []struct {
		self, want int
		ok         bool
	}{{7, 42, true}, {42, 7, true}} {
		// twice: the directory is read again from its start
		for range 2 {
			if pid, ok := IscsidRunning(proc, tc.self); ok != tc.ok || pid != tc.want {
				t.Errorf("self %d: %d %v, want %d %v", tc.self, pid, ok, tc.want, tc.ok)
			}
		}
	}
	os.RemoveAll(filepath.Join(dir, "42"))
	os.RemoveAll(filepath.Join(dir, "7"))
	if pid, ok := IscsidRunning(proc, 1); ok {
		t.Errorf("found iscsid %d in a table without one", pid)
	}
}
