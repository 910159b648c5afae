package plan

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/digest"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// DerivedPrefix is the naming authority of the initiator names the boot
// derives, open-iscsi's own (iscsi-iname -p iqn.2005-03.org.open-iscsi
// prints names of this form; its default is iqn.2016-04.com.open-iscsi).
const DerivedPrefix = "iqn.2005-03.org.open-iscsi"

// Where a derived initiator name comes from, for the boot's line.
const (
	FromProductUUID = "the DMI product UUID"
	FromMachineID   = "/etc/machine-id"
)

// DeriveInitiator makes a stable initiator name for a machine that was
// given none (dracut generates one then; a random one would change on every
// boot, and no target's ACL could name it). It takes the machine's DMI
// product UUID (/sys/class/dmi/id/product_uuid), or, when that is missing
// or a placeholder (all zeros, all ones), its machine-id
// (/etc/machine-id). The name is DerivedPrefix, ':' and 12 lower-case hex
// digits: the first 6 bytes of the SHA-256 of the identifier's 16 bytes,
// as iscsi-iname prints 6 bytes of a hash (it leaves out leading zeros;
// these are always 12 digits). The same machine gets the same name
// whichever boot derives it; the identifier itself is not disclosed to
// the target. It returns the name and which identifier it came from.
func DeriveInitiator(productUUID, machineID string) (name, from string, err error) {
	id, errUUID := parseProductUUID(productUUID)
	if errUUID == nil {
		return derivedName(id), FromProductUUID, nil
	}
	id, errID := parseMachineID(machineID)
	if errID == nil {
		return derivedName(id), FromMachineID, nil
	}
	return "", "", fmt.Errorf("%w: DMI product UUID: %w; machine-id: %w", errNoMachineID, errUUID, errID)
}

func derivedName(id []byte) string {
	sum := digest.SHA256(id)
	return DerivedPrefix + ":" + hex.EncodeToString(sum[:6])
}

// parseProductUUID reads the kernel's DMI product_uuid: 36 characters,
// 8-4-4-4-12 hex digits (SMBIOS 3.x, Section 7.2.1); all zeros means unset
// and all ones not present, which firmware writes instead of a UUID.
func parseProductUUID(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errNone
	}
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, fmt.Errorf("%w: %s", errBadUUID, esc.Clip(s, 40))
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errBadUUID, esc.Clip(s, 40))
	}
	if allBytes(b, 0) || allBytes(b, 0xff) {
		return nil, fmt.Errorf("%w: %s", errPlaceholderUUID, s)
	}
	return b, nil
}

// parseMachineID reads /etc/machine-id: 32 lower-case hex digits
// (machine-id(5)); "uninitialized" or all zeros is no identity.
func parseMachineID(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errNone
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 || strings.ToLower(s) != s {
		return nil, fmt.Errorf("%w: %s", errBadMachineID, esc.Clip(s, 40))
	}
	if allBytes(b, 0) {
		return nil, fmt.Errorf("%w: %s", errPlaceholderUUID, s)
	}
	return b, nil
}

func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}
