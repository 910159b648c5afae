package multipath

import "bytes"

// WWIDsFile is where multipath-tools remembers the WWIDs it multipaths
// (libmultipath/defaults.h, DEFAULT_WWIDS_FILE: STATE_DIR "/wwids"). With
// find_multipaths strict, Debian's default, multipathd keeps no map whose
// WWID is missing from it (libmultipath/wwids.c, should_multipath).
const WWIDsFile = "/etc/multipath/wwids"

// wwidsHeader is what multipath-tools writes at the top of a new wwids
// file (libmultipath/wwids.h, WWIDS_FILE_HEADER).
const wwidsHeader = "# Multipath wwids, Version : 1.0\n" +
	"# NOTE: This file is automatically maintained by multipath and multipathd.\n" +
	"# You should not need to edit this file in normal circumstances.\n" +
	"#\n" +
	"# Valid WWIDs:\n"

// HasWWID reports whether the wwids file b lists wwid: a line "/WWID/"
// (libmultipath/wwids.c, lookup_wwid: a line that starts with '/' names
// the WWID up to the next '/'; any other line is skipped).
func HasWWID(b []byte, wwid string) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("/"))
		if !ok {
			continue
		}
		if w, _, ok := bytes.Cut(rest, []byte("/")); ok && string(w) == wwid {
			return true
		}
	}
	return false
}

// AddWWIDs returns the wwids file b with each of wwids that it lacks
// appended as multipath -a writes it ("/WWID/"), the header first when b
// is empty, and how many it added. A WWID that could not name a map (see
// validName) is left out.
func AddWWIDs(b []byte, wwids []string) ([]byte, int) {
	out := bytes.Clone(b)
	if len(bytes.TrimSpace(out)) == 0 {
		out = []byte(wwidsHeader)
	} else if out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	n := 0
	for _, w := range wwids {
		if validName(w) != nil || HasWWID(out, w) {
			continue
		}
		out = append(out, "/"+w+"/\n"...)
		n++
	}
	return out, n
}
