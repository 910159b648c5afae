package handoff

import (
	"bytes"
	"testing"

	"github.com/iscsiboot/iscsiboot/plan"
)

// fakeMaps has sessions 1 and 2 as paths of map 3600.
type fakeMaps struct{}

func (fakeMaps) PathOf(sid int) (string, string, bool) {
	switch sid {
	case 1:
		return "3600", "8:0", true
	case 2:
		return "3600", "8:16", true
	}
	return "", "", false
}

// TestResidentMaps: the resident loop learns, across its pipe, which map
// and device each of its paths is, to reinstate it after a login.
func TestResidentMaps(t *testing.T) {
	st := ResidentState{Plan: plan.Plan{Initiator: "iqn.2025-01.test:init"}, Paths: []ResidentPath{{SID: 1}, {SID: 2}, {SID: 4}}}
	st.SetMaps(fakeMaps{})
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
