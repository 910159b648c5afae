package core

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// Params are the operational parameters in force after a login (RFC 7143,
// Section 13), the values the kernel needs with SET_PARAM before it starts
// the connection.
type Params struct {
	HeaderDigest             bool   // CRC32C header digests (13.1)
	DataDigest               bool   // CRC32C data digests (13.1)
	MaxRecvDataSegmentLength uint32 // what we declared we receive (13.12)
	MaxXmitDataSegmentLength uint32 // what the target declared it receives (13.12)
	MaxBurstLength           uint32 // 13.13
	FirstBurstLength         uint32 // 13.14
	DefaultTime2Wait         uint32 // 13.15
	DefaultTime2Retain       uint32 // 13.16
	MaxOutstandingR2T        uint32 // 13.17
	MaxConnections           uint32 // 13.2
	ErrorRecoveryLevel       uint32 // 13.20
	InitialR2T               bool   // 13.10
	ImmediateData            bool   // 13.11
	DataPDUInOrder           bool   // 13.18
	DataSequenceInOrder      bool   // 13.19
	TargetAlias              string // 13.7
	TargetPortalGroupTag     uint16 // 13.9
	HaveTPGT                 bool   // the target sent TargetPortalGroupTag
	// RDMAExtensions is an iSER connection (RFC 7145, Section 6.3.1):
	// the two segment lengths above then come from
	// InitiatorRecvDataSegmentLength and TargetRecvDataSegmentLength.
	RDMAExtensions bool
}

// KVs lists the parameters as key=value pairs in a stable order, as the
// probe prints them.
func (p *Params) KVs() []KV {
	d := func(b bool) string {
		if b {
			return "CRC32C"
		}
		return "None"
	}
	u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	kvs := []KV{
		{"HeaderDigest", d(p.HeaderDigest)},
		{"DataDigest", d(p.DataDigest)},
		{"MaxRecvDataSegmentLength", u(p.MaxRecvDataSegmentLength)},
		{"MaxXmitDataSegmentLength", u(p.MaxXmitDataSegmentLength)},
		{"FirstBurstLength", u(p.FirstBurstLength)},
		{"MaxBurstLength", u(p.MaxBurstLength)},
		{"ImmediateData", formatBool(p.ImmediateData)},
		{"InitialR2T", formatBool(p.InitialR2T)},
		{"MaxOutstandingR2T", u(p.MaxOutstandingR2T)},
		{"MaxConnections", u(p.MaxConnections)},
		{"DataPDUInOrder", formatBool(p.DataPDUInOrder)},
		{"DataSequenceInOrder", formatBool(p.DataSequenceInOrder)},
		{"ErrorRecoveryLevel", u(p.ErrorRecoveryLevel)},
		{"DefaultTime2Wait", u(p.DefaultTime2Wait)},
		{"DefaultTime2Retain", u(p.DefaultTime2Retain)},
	}
	if p.HaveTPGT {
		kvs = append(kvs, KV{"TargetPortalGroupTag", strconv.Itoa(int(p.TargetPortalGroupTag))})
	}
	if p.TargetAlias != "" {
		kvs = append(kvs, KV{"TargetAlias", p.TargetAlias})
	}
	return kvs
}

// DefaultOffers are the operational keys we offer for a root disk, the
// values open-iscsi's iscsid offers by default (DEF_INI_* in its
// iscsi_settings.h and the node record defaults in its README): digests
// off, 256 KiB segments and first burst, 16 MiB bursts, immediate data,
// error recovery level 0.
func DefaultOffers() []KV {
	return []KV{
		{"HeaderDigest", "None"},
		{"DataDigest", "None"},
		{"MaxConnections", "1"},
		{"InitialR2T", "No"},
		{"ImmediateData", "Yes"},
		{"MaxRecvDataSegmentLength", "262144"},
		{"MaxBurstLength", "16776192"},
		{"FirstBurstLength", "262144"},
		{"DefaultTime2Wait", "2"},
		{"DefaultTime2Retain", "0"},
		{"MaxOutstandingR2T", "1"},
		{"DataPDUInOrder", "Yes"},
		{"DataSequenceInOrder", "Yes"},
		{"ErrorRecoveryLevel", "0"},
		{"IFMarker", "No"},
		{"OFMarker", "No"},
	}
}

// DiscoveryOffers are the operational keys for a discovery session, where
// the session-wide keys are irrelevant (RFC 7143, Section 13; open-iscsi
// offers the same set).
func DiscoveryOffers() []KV {
	return []KV{
		{"HeaderDigest", "None"},
		{"DataDigest", "None"},
		{"MaxRecvDataSegmentLength", "32768"},
		{"DefaultTime2Wait", "0"},
		{"DefaultTime2Retain", "0"},
		{"IFMarker", "No"},
		{"OFMarker", "No"},
	}
}

// ApplyOverrides returns offers with the values of overrides put in place.
// Override names are iSCSI keys ("HeaderDigest") or open-iscsi record names
// ("node.conn[0].iscsi.HeaderDigest"); names that are neither are ignored
// here, since the record names of timers and identity belong to the kernel
// session, not to the login. Values are checked against the key's rules.
func ApplyOverrides(offers []KV, overrides map[string]string) ([]KV, error) {
	out := append([]KV(nil), offers...)
	for name, value := range overrides {
		key := name
		if k, ok := recordKeys.get(name); ok {
			key = k
		} else if _, ok := keyDefs.get(name); !ok {
			continue
		}
		v, err := overrideValue(key, value)
		if err != nil {
			return nil, fmt.Errorf("parameter %s=%s: %w", name, clip(value), err)
		}
		value = v
		found := false
		for i := range out {
			if out[i].Key == key {
				out[i].Value, found = value, true
			}
		}
		if !found {
			out = append(out, KV{key, value})
		}
	}
	return out, nil
}

// negotiator runs the operational text negotiation of one login from the
// initiator's side (RFC 7143, Sections 5.2, 6 and 13).
type negotiator struct {
	offers  []KV              // what we sent, in order
	pending map[string]string // offered and not yet answered
	result  map[string]string // negotiated or declared values
	seen    map[string]bool   // keys the target has sent, to refuse repeats
	warn    []string          // for Session.Warnings
}

func newNegotiator(offers []KV) *negotiator {
	n := &negotiator{offers: offers, pending: map[string]string{}, result: map[string]string{}, seen: map[string]bool{}}
	for _, kv := range offers {
		// A declaration (our MaxRecvDataSegmentLength) expects no
		// answer; the target's own declaration of the key is its value.
		if keyDefs.at(kv.Key).kind != kindDeclarative {
			n.pending[kv.Key] = kv.Value
		}
	}
	return n
}

// respond takes the target's pairs of one login or text response and
// returns our answers to keys the target offered on its own.
func (n *negotiator) respond(kvs []KV) ([]KV, error) {
	var answers []KV
	for _, kv := range kvs {
		if n.seen[kv.Key] {
			return nil, fmt.Errorf("key %s sent twice by the target: %w", kv.Key, ErrProtocol)
		}
		n.seen[kv.Key] = true
		if offer, ok := n.pending[kv.Key]; ok {
			delete(n.pending, kv.Key)
			v, err := n.settle(kv.Key, offer, kv.Value)
			if err != nil {
				return nil, err
			}
			if v != "" {
				n.result[kv.Key] = v
			}
			continue
		}
		a, err := n.answer(kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		if a != "" {
			answers = append(answers, KV{kv.Key, a})
		}
	}
	return answers, nil
}

// settle computes the outcome of our offer given the target's answer, and
// returns "" when the key falls back to its default.
func (n *negotiator) settle(key, offer, reply string) (string, error) {
	def, known := keyDefs.get(key)
	switch reply {
	case valReject, valIrrelevant, valNotUnderstood:
		return "", nil
	}
	bad := func(why string) error {
		return fmt.Errorf("target answered %s=%s to our %s: %s: %w", key, clip(reply), offer, why, ErrProtocol)
	}
	if !known {
		return reply, nil
	}
	switch def.kind {
	case kindList:
		for _, v := range strings.Split(offer, ",") {
			if v == reply {
				return reply, nil
			}
		}
		return "", bad("not one of the values offered")
	case kindMin, kindMax:
		o, _ := parseNumber(offer)
		r, err := parseNumber(reply)
		if err != nil || r < def.min || r > def.max {
			return "", bad(fmt.Sprintf("want a number from %d to %d", def.min, def.max))
		}
		if def.kind == kindMin && r > o {
			return "", bad("larger than offered for a minimum key")
		}
		if def.kind == kindMax && r < o {
			return "", bad("smaller than offered for a maximum key")
		}
		return strconv.FormatUint(r, 10), nil
	case kindOr, kindAnd:
		o, _ := parseBool(offer)
		r, ok := parseBool(reply)
		if !ok {
			return "", bad("want Yes or No")
		}
		if def.kind == kindOr {
			return formatBool(o || r), nil
		}
		return formatBool(o && r), nil
	}
	// A declarative key we sent (MaxRecvDataSegmentLength) echoed back
	// is the target's own declaration of the same key.
	if err := checkValue(key, reply); err != nil {
		return "", bad(err.Error())
	}
	return reply, nil
}

// answer is our response to a key the target offered or declared first.
func (n *negotiator) answer(key, value string) (string, error) {
	def, known := keyDefs.get(key)
	if !known {
		// Private (X-, X#) and unknown keys alike (RFC 7143, Section 6.2).
		return valNotUnderstood, nil
	}
	if key == "TargetAlias" && !esc.Printable(value) {
		// The alias is for display (RFC 7143, Section 13.7); one that
		// would drive the console is dropped, and the login goes on.
		n.warn = append(n.warn, fmt.Sprintf("TargetAlias %s is not printable UTF-8: ignored", clip(value)))
		return "", nil
	}
	if def.kind == kindDeclarative {
		if n.offered(key) && (value == valNotUnderstood || value == valIrrelevant || value == valReject) {
			// The target's word on a declaration of ours (a TCP
			// target on iSER's InitiatorRecvDataSegmentLength): no
			// declaration of its own, so none is in force.
			return "", nil
		}
		if err := checkValue(key, value); err != nil {
			return "", fmt.Errorf("target declared %w: %w", err, ErrProtocol)
		}
		n.result[key] = value
		return "", nil
	}
	if def.security {
		return valIrrelevant, nil
	}
	mine := def.def
	for _, kv := range n.offers {
		if kv.Key == key {
			mine = kv.Value
		}
	}
	switch def.kind {
	case kindList:
		for _, v := range strings.Split(value, ",") {
			for _, m := range strings.Split(mine, ",") {
				if v == m {
					n.result[key] = v
					return v, nil
				}
			}
		}
		return valReject, nil
	case kindMin, kindMax:
		t, err := parseNumber(value)
		if err != nil || t < def.min || t > def.max {
			return valReject, nil
		}
		m, _ := parseNumber(mine)
		r := min(t, m)
		if def.kind == kindMax {
			r = max(t, m)
		}
		v := strconv.FormatUint(r, 10)
		n.result[key] = v
		return v, nil
	default: // kindOr, kindAnd
		t, ok := parseBool(value)
		if !ok {
			return valReject, nil
		}
		m, _ := parseBool(mine)
		r := t || m
		if def.kind == kindAnd {
			r = t && m
		}
		n.result[key] = formatBool(r)
		return formatBool(r), nil
	}
}

// offered reports whether we sent key.
func (n *negotiator) offered(key string) bool {
	for _, kv := range n.offers {
		if kv.Key == key {
			return true
		}
	}
	return false
}

// params folds the outcome over the RFC defaults.
func (n *negotiator) params() Params {
	get := func(key string) string {
		if v, ok := n.result[key]; ok {
			return v
		}
		return keyDefs.at(key).def
	}
	num := func(key string) uint32 {
		v, _ := parseNumber(get(key))
		return uint32(v)
	}
	yes := func(key string) bool { b, _ := parseBool(get(key)); return b }
	p := Params{
		HeaderDigest:             get("HeaderDigest") == "CRC32C",
		DataDigest:               get("DataDigest") == "CRC32C",
		MaxXmitDataSegmentLength: num("MaxRecvDataSegmentLength"),
		MaxBurstLength:           num("MaxBurstLength"),
		FirstBurstLength:         num("FirstBurstLength"),
		DefaultTime2Wait:         num("DefaultTime2Wait"),
		DefaultTime2Retain:       num("DefaultTime2Retain"),
		MaxOutstandingR2T:        num("MaxOutstandingR2T"),
		MaxConnections:           num("MaxConnections"),
		ErrorRecoveryLevel:       num("ErrorRecoveryLevel"),
		InitialR2T:               yes("InitialR2T"),
		ImmediateData:            yes("ImmediateData"),
		DataPDUInOrder:           yes("DataPDUInOrder"),
		DataSequenceInOrder:      yes("DataSequenceInOrder"),
		TargetAlias:              n.result["TargetAlias"],
	}
	p.MaxRecvDataSegmentLength = 8192
	for _, kv := range n.offers {
		if kv.Key == "MaxRecvDataSegmentLength" {
			v, _ := parseNumber(kv.Value)
			p.MaxRecvDataSegmentLength = uint32(v)
		}
	}
	// FirstBurstLength may not exceed MaxBurstLength (RFC 7143,
	// Section 13.14); a target that negotiated MaxBurstLength below our
	// FirstBurstLength answer leaves the smaller one in force.
	p.FirstBurstLength = min(p.FirstBurstLength, p.MaxBurstLength)
	if v, ok := n.result["TargetPortalGroupTag"]; ok {
		t, _ := parseNumber(v)
		p.TargetPortalGroupTag, p.HaveTPGT = uint16(t), true
	}
	if yes("RDMAExtensions") {
		p.RDMAExtensions = true
		n.iserLengths(&p)
	}
	return p
}
