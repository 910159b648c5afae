package multipath

import "testing"

const wwid1 = "360000000000000000e00000000010001"

func TestAddWWIDs(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		wwids    []string
		want     string
		added    int
	}{
		{"new file", "", []string{wwid1}, wwidsHeader + "/" + wwid1 + "/\n", 1},
		{"blank file", "\n", []string{wwid1}, wwidsHeader + "/" + wwid1 + "/\n", 1},
		{"already there", wwidsHeader + "/" + wwid1 + "/\n", []string{wwid1}, wwidsHeader + "/" + wwid1 + "/\n", 0},
		{"appended, a last line without newline ended",
			"# mine\n/3600a/", []string{wwid1, "3600a"}, "# mine\n/3600a/\n/" + wwid1 + "/\n", 1},
		{"twice in one call", "", []string{wwid1, wwid1}, wwidsHeader + "/" + wwid1 + "/\n", 1},
		{"a name no map could have is left out", "", []string{"a/b", "", "x y"}, wwidsHeader, 0},
		// lookup_wwid skips lines that do not start with '/': a commented
		// or indented WWID is not there
		{"commented out", "#/" + wwid1 + "/\n", []string{wwid1}, "#/" + wwid1 + "/\n/" + wwid1 + "/\n", 1},
		{"indented", " /" + wwid1 + "/\n", []string{wwid1}, " /" + wwid1 + "/\n/" + wwid1 + "/\n", 1},
		{"prefix of another", "/" + wwid1 + "0/\n", []string{wwid1}, "/" + wwid1 + "0/\n/" + wwid1 + "/\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n := AddWWIDs([]byte(tc.in), tc.wwids)
			if string(got) != tc.want || n != tc.added {
				t.Errorf("AddWWIDs(%q, %q) = %q, %d; want %q, %d", tc.in, tc.wwids, got, n, tc.want, tc.added)
			}
			for _, w := range tc.wwids {
				if validName(w) == nil && !HasWWID(got, w) {
					t.Errorf("HasWWID(%q) after AddWWIDs = false", w)
				}
			}
		})
	}
}
