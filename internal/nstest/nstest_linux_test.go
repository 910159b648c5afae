package nstest

import (
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { Main(m) }

func TestNamespace(t *testing.T) {
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"inside", func(t *testing.T) {
			if !Inside() {
				t.Fatal("Inside() = false in the re-executed binary")
			}
		}},
		{"pid 1", func(t *testing.T) {
			if got := os.Getpid(); got != 1 {
				t.Fatalf("pid = %d, want 1 in a new PID namespace", got)
			}
		}},
		{"only lo, up", func(t *testing.T) {
			ifs, err := net.Interfaces()
			if err != nil {
				t.Fatal(err)
			}
			if len(ifs) != 1 || ifs[0].Name != "lo" || ifs[0].Flags&net.FlagUp == 0 {
				t.Fatalf("interfaces = %v, want only lo, up", ifs)
			}
		}},
		{"/run is a fresh tmpfs", func(t *testing.T) {
			var st unix.Statfs_t
			if err := unix.Statfs("/run", &st); err != nil {
				t.Fatal(err)
			}
			if st.Type != unix.TMPFS_MAGIC {
				t.Fatalf("/run fs type = %#x, want tmpfs %#x", st.Type, unix.TMPFS_MAGIC)
			}
			ents, err := os.ReadDir("/run")
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 0 {
				t.Fatalf("/run holds %d entries, want none", len(ents))
			}
		}},
		{"/var/run/tgtd can be made", func(t *testing.T) {
			if err := os.MkdirAll("/var/run/tgtd", 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"privileged port on 127.0.0.1", func(t *testing.T) {
			// tgtd's default port; taken on the host would mean we are not isolated
			l, err := net.Listen("tcp", "127.0.0.1:3260")
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}
