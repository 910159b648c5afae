package boot

import (
	"testing"

	"github.com/iscsiboot/iscsiboot/multipath"
)

// TestMapsRoot: the root is the map of the first session's disk; PathOf
// names each path's map and disk.
func TestMapsRoot(t *testing.T) {
	m := &multipath.Map{Name: "3600", Device: "/dev/mapper/3600"}
	ms := Maps{Maps: []multipath.Map{*m}, paths: map[int]mapPath{1: {m, "8:0"}, 2: {m, "8:16"}}}
	sessions := []*Session{{SID: 3}, {SID: 2, Device: "sdb"}, {SID: 1, Device: "sda"}}
	if got := ms.Root(sessions); got != "/dev/mapper/3600" {
		t.Errorf("root %q", got)
	}
	if got := ms.Root([]*Session{{SID: 4, Device: "sdc"}}); got != "" {
		t.Errorf("root of a disk in no map %q", got)
	}
	if name, dev, ok := ms.PathOf(2); !ok || name != "3600" || dev != "8:16" {
		t.Errorf("PathOf(2) = %q, %q, %v", name, dev, ok)
	}
	if _, _, ok := ms.PathOf(4); ok {
		t.Errorf("PathOf(4) found a map")
	}

}
