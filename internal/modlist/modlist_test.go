package modlist

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Module
		err  error
	}{
		{name: "empty", in: ""},
		{name: "comments, params, tabs", in: "# header\n\n/lib/a.ko\n  /lib/b.ko.xz\tdebug=1 x=\"a b\"\n",
			want: []Module{{Path: "/lib/a.ko"}, {Path: "/lib/b.ko.xz", Params: `debug=1 x="a b"`}}},
		{name: "relative", in: "/lib/a.ko\nlib/b.ko\n", err: errRelativeModule},
		{name: "nul", in: "/lib/a.ko x=\x00\n", err: errNulInModule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzModuleList(f *testing.F) {
	f.Add([]byte("/lib/a.ko\n/lib/b.ko p=1\n# c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mods, err := Parse(data)
		if err != nil {
			return
		}
		again, err := Parse(Format(mods))
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if diff := cmp.Diff(mods, again); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}
	})
}
