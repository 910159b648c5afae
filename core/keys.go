package core

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// keyKind is how a key's value is negotiated (RFC 7143, Sections 5.2.2
// and 6.2).
type keyKind uint8

const (
	kindList        keyKind = iota // responder picks the first value it supports from the offer
	kindMin                        // simple-numerical, result is the minimum
	kindMax                        // simple-numerical, result is the maximum
	kindOr                         // Boolean, result is OR
	kindAnd                        // Boolean, result is AND
	kindDeclarative                // each side states its own value; nothing is answered
)

// keyDef is one row of RFC 7143, Section 13 (and RFC 7144 for
// iSCSIProtocolLevel).
type keyDef struct {
	kind     keyKind
	min, max uint64 // bounds of a numerical key
	def      string // value when not negotiated
	leading  bool   // LO: only on the leading connection
	security bool   // may appear in the security stage only
}

var keyDefs = table[string, keyDef]{
	{"HeaderDigest", keyDef{kind: kindList, def: "None"}},                                              // 13.1
	{"DataDigest", keyDef{kind: kindList, def: "None"}},                                                // 13.1
	{"MaxConnections", keyDef{kind: kindMin, min: 1, max: 65535, def: "1", leading: true}},             // 13.2
	{"InitialR2T", keyDef{kind: kindOr, def: "Yes", leading: true}},                                    // 13.10
	{"ImmediateData", keyDef{kind: kindAnd, def: "Yes", leading: true}},                                // 13.11
	{"MaxRecvDataSegmentLength", keyDef{kind: kindDeclarative, min: 512, max: 1<<24 - 1, def: "8192"}}, // 13.12
	{"MaxBurstLength", keyDef{kind: kindMin, min: 512, max: 1<<24 - 1, def: "262144", leading: true}},
	{"FirstBurstLength", keyDef{kind: kindMin, min: 512, max: 1<<24 - 1, def: "65536", leading: true}},
	{"DefaultTime2Wait", keyDef{kind: kindMax, min: 0, max: 3600, def: "2", leading: true}},    // 13.15
	{"DefaultTime2Retain", keyDef{kind: kindMin, min: 0, max: 3600, def: "20", leading: true}}, // 13.16
	{"MaxOutstandingR2T", keyDef{kind: kindMin, min: 1, max: 65535, def: "1", leading: true}},  // 13.17
	{"DataPDUInOrder", keyDef{kind: kindOr, def: "Yes", leading: true}},                        // 13.18
	{"DataSequenceInOrder", keyDef{kind: kindOr, def: "Yes", leading: true}},                   // 13.19
	{"ErrorRecoveryLevel", keyDef{kind: kindMin, min: 0, max: 2, def: "0", leading: true}},     // 13.20
	{"iSCSIProtocolLevel", keyDef{kind: kindMin, min: 0, max: 31, def: "0", leading: true}},    // RFC 7144, 2.1
	{"TaskReporting", keyDef{kind: kindList, def: "RFC3720", leading: true}},                   // 13.23
	{"IFMarker", keyDef{kind: kindAnd, def: "No"}},                                             // RFC 3720, A.3.1
	{"OFMarker", keyDef{kind: kindAnd, def: "No"}},                                             // RFC 3720, A.3.1
	{"SessionType", keyDef{kind: kindDeclarative, def: "Normal", leading: true}},               // 13.21
	{"InitiatorName", keyDef{kind: kindDeclarative}},                                           // 13.5
	{"TargetName", keyDef{kind: kindDeclarative}},                                              // 13.4
	{"InitiatorAlias", keyDef{kind: kindDeclarative}},                                          // 13.6
	{"TargetAlias", keyDef{kind: kindDeclarative}},                                             // 13.7
	{"TargetAddress", keyDef{kind: kindDeclarative}},                                           // 13.8
	{"TargetPortalGroupTag", keyDef{kind: kindDeclarative, min: 0, max: 65535}},                // 13.9
	{"AuthMethod", keyDef{kind: kindList, def: "None", security: true}},                        // 12.1
	{"SendTargets", keyDef{kind: kindDeclarative}},                                             // 13.3
	// iSER (RFC 7145, Section 6.3): RDMAExtensions=Yes makes the
	// connection an iSER one, where two declarations replace
	// MaxRecvDataSegmentLength.
	{"RDMAExtensions", keyDef{kind: kindAnd, def: "No", leading: true}},
	{"InitiatorRecvDataSegmentLength", keyDef{kind: kindDeclarative, min: 512, max: 1<<24 - 1, def: "8192"}},
	{"TargetRecvDataSegmentLength", keyDef{kind: kindDeclarative, min: 512, max: 1<<24 - 1, def: "8192"}},
}

// Special values any key may be answered with (RFC 7143, Section 6.2).
const (
	valReject        = "Reject"
	valIrrelevant    = "Irrelevant"
	valNotUnderstood = "NotUnderstood"
)

// parseNumber reads a numerical-value: decimal or 0x hex (RFC 7143,
// Section 5.1).
func parseNumber(s string) (uint64, error) {
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		return strconv.ParseUint(h, 16, 64)
	}
	return strconv.ParseUint(s, 10, 64)
}

func parseBool(s string) (bool, bool) {
	switch s {
	case "Yes":
		return true, true
	case "No":
		return false, true
	}
	return false, false
}

func formatBool(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// checkValue validates an offer or a declaration of key against its
// definition.
func checkValue(key, value string) error {
	if err := valueRule(key, value); err != nil {
		return fmt.Errorf("%s=%s: %w", key, clip(value), err)
	}
	return nil
}

// valueRule is checkValue's reason alone: what the key allows.
func valueRule(key, value string) error {
	def, ok := keyDefs.get(key)
	if !ok {
		return nil
	}
	number := def.kind == kindMin || def.kind == kindMax || def.kind == kindDeclarative && def.max > 0
	switch {
	case number:
		n, err := parseNumber(value)
		if err != nil || n < def.min || n > def.max {
			return fmt.Errorf("want a number from %d to %d", def.min, def.max)
		}
	case def.kind == kindOr, def.kind == kindAnd:
		if _, ok := parseBool(value); !ok {
			return errors.New("want Yes or No")
		}
	case def.kind == kindList && value == "":
		return errors.New("empty list")
	}
	return nil
}

// recordKeys maps open-iscsi's node record names (what `iscsistart -P` and
// `rd.iscsi.param` take, see open-iscsi's README) to iSCSI keys.
var recordKeys = table[string, string]{
	{"node.session.iscsi.InitialR2T", "InitialR2T"},
	{"node.session.iscsi.ImmediateData", "ImmediateData"},
	{"node.session.iscsi.FirstBurstLength", "FirstBurstLength"},
	{"node.session.iscsi.MaxBurstLength", "MaxBurstLength"},
	{"node.session.iscsi.DefaultTime2Wait", "DefaultTime2Wait"},
	{"node.session.iscsi.DefaultTime2Retain", "DefaultTime2Retain"},
	{"node.session.iscsi.MaxConnections", "MaxConnections"},
	{"node.session.iscsi.MaxOutstandingR2T", "MaxOutstandingR2T"},
	{"node.session.iscsi.ERL", "ErrorRecoveryLevel"},
	{"node.conn[0].iscsi.HeaderDigest", "HeaderDigest"},
	{"node.conn[0].iscsi.DataDigest", "DataDigest"},
	{"node.conn[0].iscsi.MaxRecvDataSegmentLength", "MaxRecvDataSegmentLength"},
	{"node.conn[0].iscsi.IFMarker", "IFMarker"},
	{"node.conn[0].iscsi.OFMarker", "OFMarker"},
}

// digestList turns open-iscsi's digest setting into the list we offer:
// open-iscsi accepts "None", "CRC32C", "CRC32C,None" and "None,CRC32C".
func digestList(v string) (string, error) {
	parts := strings.Split(v, ",")
	for _, p := range parts {
		if p != "None" && p != "CRC32C" {
			return "", fmt.Errorf("%q: want None, CRC32C, CRC32C,None or None,CRC32C", v)
		}
	}
	return v, nil
}

// CheckRecordValue checks the value of an open-iscsi record name that
// maps to an iSCSI key (recordKeys) with the rules the login applies to
// it, so that a bad -P or rd.iscsi.param value is refused before anything
// is touched rather than at the login. The error says what is allowed.
func CheckRecordValue(name, value string) error {
	key, ok := recordKeys.get(name)
	if !ok {
		return fmt.Errorf("%s: not the record name of an iSCSI key", name)
	}
	_, err := overrideValue(key, value)
	return err
}

// overrideValue checks a value the user sets for key and returns what we
// offer for it.
func overrideValue(key, value string) (string, error) {
	switch key {
	case "HeaderDigest", "DataDigest":
		if _, err := digestList(value); err != nil {
			return "", errors.New("want None, CRC32C, CRC32C,None or None,CRC32C")
		}
	case "ErrorRecoveryLevel":
		// The kernel's iscsi_tcp implements error recovery level 0
		// only; offering more would be accepted by a target and then
		// not honoured.
		if value != "0" {
			return "", errors.New("only 0 is supported by the Linux initiator")
		}
	default:
		if err := valueRule(key, value); err != nil {
			return "", err
		}
	}
	return value, nil
}
