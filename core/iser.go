package core

import "fmt"

// iSER (RFC 7145) runs the same login as iSCSI over TCP, with these
// differences in the operational keys, which open-iscsi's login.c makes
// too: RDMAExtensions=Yes is offered, InitiatorRecvDataSegmentLength and
// TargetRecvDataSegmentLength are declared instead of
// MaxRecvDataSegmentLength (which iSER makes irrelevant, Section 6.3.4),
// and digests are not offered (the RDMA transport has its own CRC;
// Section 6.3.2 leaves them at None).

// ISERDefaultTargetRecv is the TargetRecvDataSegmentLength we declare: the
// RFC default, which is what open-iscsi sends (its max_xmit_dlength when
// the record leaves MaxXmitDataSegmentLength 0).
const ISERDefaultTargetRecv = "8192"

// ISEROffers turns offers for iSCSI over TCP (DefaultOffers with the
// user's overrides) into the offers of an iSER login: our
// MaxRecvDataSegmentLength becomes InitiatorRecvDataSegmentLength.
func ISEROffers(offers []KV) []KV {
	out := make([]KV, 0, len(offers)+3)
	recv := keyDefs.at("InitiatorRecvDataSegmentLength").def
	for _, kv := range offers {
		switch kv.Key {
		case "HeaderDigest", "DataDigest":
			continue
		case "MaxRecvDataSegmentLength":
			recv = kv.Value
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		KV{"InitiatorRecvDataSegmentLength", recv},
		KV{"TargetRecvDataSegmentLength", ISERDefaultTargetRecv},
		KV{"RDMAExtensions", "Yes"})
}

// offersRDMA reports whether offers ask for an iSER connection.
func offersRDMA(offers []KV) bool {
	for _, kv := range offers {
		if kv.Key == "RDMAExtensions" && kv.Value == "Yes" {
			return true
		}
	}
	return false
}

// checkRDMA fails a login that offered RDMAExtensions=Yes and did not get
// it: the kernel's iSER transport cannot run iSCSI over TCP's framing.
func checkRDMA(offers []KV, p Params) error {
	if offersRDMA(offers) && !p.RDMAExtensions {
		return fmt.Errorf("target refused RDMAExtensions=Yes, which an iSER connection needs: %w", ErrProtocol)
	}
	return nil
}

// iserLengths sets the segment lengths of an iSER connection: each is the
// smaller of our declaration and the target's declaration of the same key,
// as open-iscsi takes them (RFC 7145, Sections 6.3.5 and 6.3.6).
func (n *negotiator) iserLengths(p *Params) {
	length := func(key string) uint32 {
		v, _ := parseNumber(keyDefs.at(key).def)
		for _, kv := range n.offers {
			if kv.Key == key {
				v, _ = parseNumber(kv.Value)
			}
		}
		if t, ok := n.result[key]; ok {
			if tv, err := parseNumber(t); err == nil {
				v = min(v, tv)
			}
		}
		return uint32(v)
	}
	p.MaxRecvDataSegmentLength = length("InitiatorRecvDataSegmentLength")
	p.MaxXmitDataSegmentLength = length("TargetRecvDataSegmentLength")
}
