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
			want: []Module{{Path: "/lib/a.ko"}, {Path: "/lib/b.ko.xz", Params: `debug=1 x="a b"`, After: []string{"/lib/a.ko"}}}},
		{name: "relative", in: "/lib/a.ko\nlib/b.ko\n", err: errRelativeModule},
		{name: "nul", in: "/lib/a.ko x=\x00\n", err: errNulInModule},
		// A list as the builder writes it: crc32c and libiscsi need nothing,
		// iscsi_tcp both of them.
		{name: "after lines", in: "#@after\n/m/crc32c.ko\n#@after\n/m/libiscsi.ko\n  #@after\t/m/libiscsi.ko /m/crc32c.ko\n/m/iscsi_tcp.ko max_lun=1\n",
			want: []Module{{Path: "/m/crc32c.ko"}, {Path: "/m/libiscsi.ko"},
				{Path: "/m/iscsi_tcp.ko", Params: "max_lun=1", After: []string{"/m/libiscsi.ko", "/m/crc32c.ko"}}}},
		{name: "after lines on some modules only", in: "/m/a.ko\n#@after\n/m/b.ko\n/m/c.ko\n",
			want: []Module{{Path: "/m/a.ko"}, {Path: "/m/b.ko"}, {Path: "/m/c.ko", After: []string{"/m/b.ko"}}}},
		{name: "after is a word of its own", in: "/m/a.ko\n#@afterward /m/a.ko\n/m/b.ko\n",
			want: []Module{{Path: "/m/a.ko"}, {Path: "/m/b.ko", After: []string{"/m/a.ko"}}}},
		{name: "after a module listed later", in: "#@after /m/b.ko\n/m/a.ko\n/m/b.ko\n", err: errUnknownAfter},
		{name: "after itself", in: "#@after /m/a.ko\n/m/a.ko\n", err: errUnknownAfter},
		{name: "two after lines", in: "/m/a.ko\n#@after\n#@after /m/a.ko\n/m/b.ko\n", err: errDanglingAfter},
		{name: "after line at the end", in: "/m/a.ko\n#@after /m/a.ko\n", err: errDanglingAfter},
		{name: "after line with a nul", in: "/m/a.ko\n#@after /m/a.ko\x00\n/m/b.ko\n", err: errNulInModule},
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
	f.Add([]byte("#@after\n/lib/a.ko\n#@after\n/lib/b.ko\n#@after /lib/b.ko /lib/a.ko\n/lib/c.ko p=1\n"))
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
