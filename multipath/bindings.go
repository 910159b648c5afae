package multipath

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// BindingsFile is where multipath-tools keeps its user-friendly names
// (libmultipath/defaults.h, DEFAULT_BINDINGS_FILE: STATE_DIR "/bindings").
const BindingsFile = "/etc/multipath/bindings"

// UUIDPrefix starts the uuid of every map multipathd makes
// (libmultipath/devmapper.h, UUID_PREFIX): multipathd adopts a map by it,
// whatever its name.
const UUIDPrefix = "mpath-"

// AliasPrefix is multipath-tools' default alias prefix
// (DEFAULT_ALIAS_PREFIX).
const AliasPrefix = "mpath"

// Bindings are the lines of a bindings file: "alias wwid", one a line;
// '#' starts a comment (libmultipath/alias.c).
type Bindings []Binding

// Binding is one line.
type Binding struct{ Alias, WWID string }

// ParseBindings reads a bindings file. A line that is not two words, or
// whose words could not name a map, is an error naming the line.
func ParseBindings(r io.Reader) (Bindings, error) {
	var out Bindings
	s := bufio.NewScanner(io.LimitReader(r, 1<<20))
	s.Buffer(make([]byte, 4096), 4096)
	for n := 1; s.Scan(); n++ {
		line, _, _ := strings.Cut(s.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 || validName(f[0]) != nil || validName(f[1]) != nil {
			return nil, fmt.Errorf("bindings line %d: %s: want ALIAS WWID: %w", n, esc.Clip(line, 80), errBindings)
		}
		out = append(out, Binding{Alias: f[0], WWID: f[1]})
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("bindings: %w", err)
	}
	return out, nil
}

// Alias returns the alias bound to wwid, or "".
func (bs Bindings) Alias(wwid string) string {
	for _, b := range bs {
		if b.WWID == wwid {
			return b.Alias
		}
	}
	return ""
}

// NextAlias returns the alias multipath-tools would give a new WWID: the
// prefix and the first id no binding uses, ids spelled in letters
// (libmultipath/alias.c, format_devname: 1 is "a", 26 "z", 27 "aa").
func (bs Bindings) NextAlias(prefix string) string {
	used := map[string]bool{}
	for _, b := range bs {
		used[b.Alias] = true
	}
	for id := 1; ; id++ {
		if a := prefix + letters(id); !used[a] {
			return a
		}
	}
}

// letters spells id >= 1 as format_devname does: bijective base 26.
func letters(id int) string {
	var b []byte
	for ; id > 0; id = (id - 1) / 26 {
		b = append([]byte{byte('a' + (id-1)%26)}, b...)
	}
	return string(b)
}

// Line is b as a line of the file.
func (b Binding) Line() string { return b.Alias + " " + b.WWID + "\n" }

// MapName is the name multipathd gives the map of wwid: its alias in
// bindings when it has one (user_friendly_names), else the WWID itself
// (multipath-tools' default, user_friendly_names no).
func MapName(wwid string, bs Bindings) string {
	if a := bs.Alias(wwid); a != "" {
		return a
	}
	return wwid
}

// validName checks a map name as the kernel does (dm-ioctl.c,
// invalid_str and the DM_NAME_LEN bound) and a little more: printable, no
// space or slash, not "." or "..".
func validName(s string) error {
	if s == "" || len(s) >= nameLen || s == "." || s == ".." || !esc.Printable(s) || strings.ContainsAny(s, " /") {
		return fmt.Errorf("%s: %w", esc.Clip(s, 64), errName)
	}
	return nil
}
