package ibft

import (
	"fmt"
	"net/netip"

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

// maxVLAN is the largest VLAN id (IEEE 802.1Q, Section 9.6: 4095 is
// reserved); 0 means no VLAN.
const maxVLAN = 4094

// checkVLAN checks a NIC's VLAN field (iBFT 1.03, Section 3.6). Linux
// refuses ids above 4094, so a larger one is a corrupt table, or the whole
// 802.1Q tag with its priority bits, which the field does not hold.
func checkVLAN(v uint16) (want string, err error) {
	if v > maxVLAN {
		return fmt.Sprintf("<= %d", maxVLAN), errVLAN
	}
	return "", nil
}

// checkTargetAddr checks the address of a target (iBFT 1.03, Section 3.7).
// A target whose flags are clear is skipped by every reader (Records,
// BootTargets, open-iscsi's fwparam_sysfs.c) and passes. One in use
// needs an address: neither the kernel (iscsi_ibft.c shows ip-addr
// whatever it holds) nor open-iscsi (fill_tgt_context copies the string
// and logs in to it) checks, and a connection to 0.0.0.0 or :: reaches
// this very machine; so it is a corrupt table rather than a target to
// skip.
func checkTargetAddr(f Flags, a netip.Addr) (want string, err error) {
	if f.Valid() && !isSet(a) {
		return fmt.Sprintf("a target address, as flags 0x%x put the target in use", uint8(f)), errTargetAddr
	}
	return "", nil
}
