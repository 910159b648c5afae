package ibft

import (
	"net"
	"net/netip"
)

// BootTarget is one valid target of the table joined with what a boot needs
// to reach it: the initiator name, the NIC it is associated with, and CHAP.
type BootTarget struct {
	Initiator    string
	Name         string
	Addr         netip.Addr
	Port         uint16 // never 0: Target.PortOrDefault
	LUN          uint64 // as Linux numbers it
	BootSelected bool   // the firmware booted from this target
	CHAP         CHAPType
	// CHAPName and CHAPSecret are the initiator's credentials; the reverse
	// pair is what the target must answer with for mutual CHAP.
	CHAPName          string
	CHAPSecret        Secret
	ReverseCHAPName   string
	ReverseCHAPSecret Secret
	// NIC is the associated interface, or nil when the target's nic-assoc
	// names no valid NIC; the caller then routes by the target address.
	NIC *BootNIC
}

// BootNIC is a table NIC in the terms network set-up wants.
type BootNIC struct {
	Index      uint8
	MAC        net.HardwareAddr
	PCIBDF     BDF
	Address    netip.Prefix // invalid when the table has no address
	Origin     Origin
	DHCP       bool // configure by DHCP rather than statically
	Gateway    netip.Addr
	DNS        []netip.Addr // primary then secondary, set ones only
	DHCPServer netip.Addr
	VLAN       uint16
	Hostname   string
}

// BootTargets returns the valid targets in slot order. Slots whose flags are
// clear are skipped.
func (t *Table) BootTargets() []BootTarget {
	var out []BootTarget
	for _, tg := range t.Targets {
		if !tg.Flags.Valid() {
			continue
		}
		bt := BootTarget{
			Name:              tg.Name,
			Addr:              tg.IP,
			Port:              tg.PortOrDefault(),
			LUN:               tg.LUN.Int(),
			BootSelected:      tg.Flags&FlagBootSelected != 0,
			CHAP:              tg.CHAPType,
			CHAPName:          tg.CHAPName,
			CHAPSecret:        tg.CHAPSecret,
			ReverseCHAPName:   tg.ReverseCHAPName,
			ReverseCHAPSecret: tg.ReverseCHAPSecret,
		}
		if t.Initiator != nil {
			bt.Initiator = t.Initiator.Name
		}
		if n, ok := t.NIC(tg.NICAssoc); ok {
			bt.NIC = bootNIC(n)
		}
		out = append(out, bt)
	}
	return out
}

func bootNIC(n NIC) *BootNIC {
	b := &BootNIC{
		Index:      n.Index,
		MAC:        n.MAC,
		PCIBDF:     n.PCIBDF,
		Origin:     n.Origin,
		DHCP:       n.Origin == OriginDHCP || isSet(n.DHCPServer),
		DHCPServer: n.DHCPServer,
		VLAN:       n.VLAN,
		Hostname:   n.Hostname,
	}
	if isSet(n.IP) {
		b.Address = netip.PrefixFrom(n.IP, int(n.PrefixLen))
	}
	if isSet(n.Gateway) {
		b.Gateway = n.Gateway
	}
	for _, d := range []netip.Addr{n.PrimaryDNS, n.SecondaryDNS} {
		if isSet(d) {
			b.DNS = append(b.DNS, d)
		}
	}
	return b
}
