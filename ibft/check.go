package ibft

import (
	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// stringKind says how a string of a table is checked, and whether an
// error may show it. Each string is printed by "iscsistart -f" on a line
// of its own ("node.name = ..."), goes into a login or a DHCP request, and
// is written into node records: a line break in one forges another line
// (a password, say), an escape sequence reaches the console.
type stringKind uint8

const (
	textString   stringKind = iota // printable text: CHAP user names, hostname, ACPI ids, ISID
	nameString                     // an iSCSI name (core.CheckName): initiator and target names
	secretString                   // printable text an error never shows: CHAP secrets
)

// checkString checks a string of a table. On failure it returns what an
// error may show of s (escaped, or nothing of a secret), what was wanted,
// and the error. An empty string is an unset one and passes.
func checkString(s string, k stringKind) (shown, want string, err error) {
	switch {
	case s == "":
	case k == nameString:
		if err := core.CheckName(s); err != nil {
			return esc.Clip(s, 64), "", err
		}
	case !esc.Printable(s):
		shown = esc.Clip(s, 64)
		if k == secretString {
			shown = redacted
		}
		return shown, "printable characters", errUnprintable
	}
	return "", "", nil
}
