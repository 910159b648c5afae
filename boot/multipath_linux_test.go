package boot

import (
	"bytes"
	"testing"

	"github.com/iscsiboot/iscsiboot/multipath"
)

// TestMapsRootAndResident: the root is the map of the first session's
// disk, and the resident loop learns, across its pipe, which map and
// device each of its paths is, to reinstate it after a login.
func TestMapsRootAndResident(t *testing.T) {
	m := &multipath.Map{Name: "3600", Device: "/dev/mapper/3600"}
	ms := Maps{Maps: []multipath.Map{*m}, paths: map[int]mapPath{1: {m, "8:0"}, 2: {m, "8:16"}}}
	sessions := []*Session{{SID: 3}, {SID: 2, Device: "sdb"}, {SID: 1, Device: "sda"}}
	if got := ms.Root(sessions); got != "/dev/mapper/3600" {
		t.Errorf("root %q", got)
	}
	if got := ms.Root([]*Session{{SID: 4, Device: "sdc"}}); got != "" {
		t.Errorf("root of a disk in no map %q", got)
	}
	st := ResidentState{Plan: Plan{Initiator: "iqn.2025-01.test:init"}, Paths: []ResidentPath{{SID: 1}, {SID: 2}, {SID: 4}}}
	st.SetMaps(ms)
	var b bytes.Buffer
	if err := st.Encode(&b); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeResidentState(&b)
	if err != nil {
		t.Fatal(err)
	}
	want := []ResidentPath{{SID: 1, Map: "3600", Dev: "8:0"}, {SID: 2, Map: "3600", Dev: "8:16"}, {SID: 4}}
	for i := range want {
		if got.Paths[i] != want[i] {
			t.Errorf("path %d %+v, want %+v", i, got.Paths[i], want[i])
		}
	}
}
