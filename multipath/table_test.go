package multipath

import (
	"errors"
	"testing"
)

func TestTableString(t *testing.T) {
	for _, c := range []struct {
		name string
		t    Table
		want string
	}{
		// multipathd's own table for two paths of one group, as
		// `dmsetup table` prints it (multipath-tools 0.9, service-time)
		{"service-time", Table{Features: []string{FeatureQueueIfNoPath},
			Groups: []Group{{Selector: ServiceTime, Paths: []string{"8:0", "8:16"}}}},
			"1 queue_if_no_path 0 1 1 service-time 0 2 2 8:0 1 1 8:16 1 1"},
		{"round-robin", Table{Features: []string{FeatureQueueIfNoPath},
			Groups: []Group{{Selector: RoundRobin, Paths: []string{"8:0", "8:16"}}}},
			"1 queue_if_no_path 0 1 1 round-robin 0 2 1 8:0 1 8:16 1"},
		{"two groups, a handler, no features", Table{HWHandler: "alua",
			Groups: []Group{{Selector: ServiceTime, Paths: []string{"8:0"}}, {Selector: RoundRobin, Paths: []string{"65:16"}}}},
			"0 1 alua 2 1 service-time 0 1 2 8:0 1 1 round-robin 0 1 1 65:16 1"},
	} {
		if got := c.t.String(); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestTableRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		t    Table
	}{
		{"no group", Table{}},
		{"empty group", Table{Groups: []Group{{Selector: ServiceTime}}}},
		{"unknown selector", Table{Groups: []Group{{Selector: "queue-length", Paths: []string{"8:0"}}}}},
		{"path not major:minor", Table{Groups: []Group{{Selector: ServiceTime, Paths: []string{"/dev/sda"}}}}},
		{"feature of two words", Table{Features: []string{"no_path_retry 5"}, Groups: []Group{{Selector: ServiceTime, Paths: []string{"8:0"}}}}},
	} {
		if err := c.t.Check(); !errors.Is(err, errTable) {
			t.Errorf("%s: %v", c.name, err)
		}
		if s := c.t.String(); s != "" {
			t.Errorf("%s: String %q", c.name, s)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, c := range []struct {
		name, line string
		want       Status
	}{
		// Linux 6.1, service-time (selector path status: in-flight size,
		// relative throughput), one path failed
		{"6.1 service-time", "2 1 0 0 1 1 A 0 2 2 8:0 A 0 0 1 8:16 F 1 0 1 ",
			Status{QueueIfNoPath: true, Groups: 1, Paths: []PathStatus{{"8:0", true, 0, 1}, {"8:16", false, 1, 1}}}},
		// round-robin has no path status; two groups, the second enabled
		{"round-robin, two groups", "2 0 0 0 2 1 A 0 1 0 8:0 A 0 E 0 1 0 8:16 A 3 ",
			Status{Groups: 2, Paths: []PathStatus{{"8:0", true, 0, 1}, {"8:16", true, 3, 2}}}},
		// kernels before 4.x: one info feature
		{"old kernel", "1 1 0 1 1 A 0 1 0 8:0 A 0",
			Status{QueueIfNoPath: true, Groups: 1, Paths: []PathStatus{{"8:0", true, 0, 1}}}},
	} {
		got, err := ParseStatus(c.line)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.QueueIfNoPath != c.want.QueueIfNoPath || got.Groups != c.want.Groups || len(got.Paths) != len(c.want.Paths) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
			continue
		}
		for i := range got.Paths {
			if got.Paths[i] != c.want.Paths[i] {
				t.Errorf("%s: path %d %+v, want %+v", c.name, i, got.Paths[i], c.want.Paths[i])
			}
		}
	}
	for _, bad := range []string{"", "2 1", "2 1 0 0 1 1 A 0 2 2 8:0 A", "2 1 0 0 1 1 A 0 1 0 sda A 0", "2 1 0 0 1 1 A 0 1 0 8:0 X 0",
		"99999999 1", "2 1 0 0 1 1 A 0 1 9 8:0 A 0"} {
		if _, err := ParseStatus(bad); !errors.Is(err, errStatus) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
