package handoff

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/plan"
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

// TestResidentStateRoundTrip: the state crosses the pipe whole, CHAP
// secrets included (a Plan's JSON would redact them), and garbage is an
// error.
func TestResidentStateRoundTrip(t *testing.T) {
	st := ResidentState{Handle: 0xffff8880deadbeef, Plan: plan.Plan{Initiator: "iqn.2025-01.test:i", Transport: "tcp",
		Params: map[string]string{"node.session.auth.chap_algs": "SHA256,MD5"},
		Targets: []plan.Target{{Name: "iqn.2025-01.test:t", TPGT: 1, Auth: plan.Auth{Method: plan.AuthCHAP, Username: "u",
			Password: "pw-secret-1", UsernameIn: "t", PasswordIn: "pw-secret-2"}}}},
		Paths: []ResidentPath{{Target: "iqn.2025-01.test:t", SID: 3, CID: 0, Persistent: plan.Portal{Address: "10.0.2.2", Port: 3260}}}}
	var b bytes.Buffer
	if err := st.Encode(&b); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResidentState(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("got %+v, want %+v", got, st)
	}
	if _, err := DecodeResidentState(strings.NewReader("{not json")); err == nil {
		t.Errorf("garbage decoded")
	}
}
