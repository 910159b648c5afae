package plan

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The network words, as dracut's network-legacy module reads them
// (ip_to_var and parse_ifname_opts in modules.d/40network/net-lib.sh):
//
//	ip={dhcp|on|any|dhcp6|auto6|either6|link6|single-dhcp|ibft}
//	ip=<interface>:{dhcp|on|any|dhcp6|auto6|either6|link6}[:[<mtu>][:<macaddr>]]
//	ip=<client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:<interface>:{none|off|dhcp|on|any|dhcp6|auto6|ibft}[:[<mtu>][:<macaddr>]]
//	ip=<client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:<interface>:{...}[:[<dns1>][:<dns2>]]
//	vlan=<vlanname>:<phydevice>
//	ifname=<interface>:<MAC>
//
// IPv6 addresses are written in brackets. A MAC address, whose ':' split it
// into six fields, is put back together.

// methods maps dracut's method spellings to the plan's.
var methods = map[string]string{
	"dhcp": MethodDHCP, "on": MethodDHCP, "any": MethodDHCP, "single-dhcp": MethodDHCP,
	"dhcp6": MethodDHCP6, "auto6": MethodAuto6, "either6": MethodEither6, "link6": MethodLink6,
	"ibft": MethodIBFT,
	"none": MethodStatic, "off": MethodStatic, "static": MethodStatic, "": MethodStatic,
}

// splitIPFields splits on ':' but keeps a bracketed field whole, without
// its brackets.
func splitIPFields(v string) ([]string, *rootError) {
	var f []string
	for {
		if strings.HasPrefix(v, "[") {
			end := strings.Index(v, "]")
			if end < 0 {
				return nil, &rootError{part: v, err: errSyntax, reason: "no closing ]"}
			}
			f = append(f, v[1:end])
			v = v[end+1:]
			if v == "" {
				return f, nil
			}
			if v[0] != ':' {
				return nil, &rootError{part: v, err: errSyntax, reason: "expected : after ]"}
			}
			v = v[1:]
			continue
		}
		field, next, more := strings.Cut(v, ":")
		f = append(f, field)
		if !more {
			return f, nil
		}
		v = next
	}
}

// parseIP reads the value of one ip= word. A nil interface with no error
// means the word asks for nothing (ip=off, ip=none).
func parseIP(v string) (*Interface, []string, *rootError) {
	f, rerr := splitIPFields(v)
	if rerr != nil {
		return nil, nil, rerr
	}
	if len(f) == 1 {
		switch m, ok := methods[f[0]]; {
		case f[0] == "":
			return nil, nil, &rootError{err: errEmpty}
		case ok && m == MethodStatic:
			return nil, nil, nil
		case ok:
			return &Interface{Method: m}, nil, nil
		case strings.Count(f[0], ".") == 3:
			return nil, nil, &rootError{part: f[0], err: errSyntax,
				reason: "ip=<address> alone is not supported; write ip=<address>::<gateway>:<netmask>::<interface>:none"}
		}
		return nil, nil, &rootError{part: f[0], err: errMethod}
	}
	ifc := &Interface{}
	var warnings []string
	if m, ok := methods[f[1]]; ok && f[1] != "" && m != MethodStatic && m != MethodIBFT {
		// <interface>:<method>[:<mtu>[:<macaddr>]]
		ifc.Name, ifc.Method = f[0], m
		if err := ifc.tail(f[2:], false); err != nil {
			return nil, nil, err
		}
	} else {
		if len(f) < 4 {
			return nil, nil, &rootError{part: v, err: errFields,
				reason: "expected <client-IP>:[<peer>]:<gateway-IP>:<netmask>:<hostname>:<interface>:<method>"}
		}
		f = append(f, make([]string, max(0, 7-len(f)))...)
		m, ok := methods[f[6]]
		if !ok {
			return nil, nil, &rootError{part: f[6], err: errMethod}
		}
		ifc.Name, ifc.Method, ifc.Hostname = f[5], m, f[4]
		if err := ifc.static(f[0], f[1], f[2], f[3]); err != nil {
			return nil, nil, err
		}
		if f[1] != "" {
			warnings = append(warnings, "peer "+f[1]+" ignored (no point-to-point links)")
		}
		if m != MethodStatic && len(ifc.Addresses) > 0 {
			warnings = append(warnings, "address "+f[0]+" ignored with method "+f[6])
			ifc.Addresses, ifc.Gateway = nil, netip.Addr{}
		}
		if err := ifc.tail(f[7:], true); err != nil {
			return nil, nil, err
		}
		if ifc.Hostname != "" && strings.ContainsFunc(ifc.Hostname, func(r rune) bool { return r <= ' ' || r == '/' }) {
			return nil, nil, &rootError{part: ifc.Hostname, err: errSyntax, reason: "host name"}
		}
	}
	if ifc.Name != "" && !validIfname(ifc.Name) {
		return nil, nil, &rootError{part: ifc.Name, err: errIfname}
	}
	return ifc, warnings, nil
}

// static reads the address fields of the explicit form.
func (ifc *Interface) static(addr, peer, gw, mask string) *rootError {
	if addr == "" {
		if ifc.Method == MethodStatic {
			return &rootError{err: errMissing, reason: "client IP for a static interface"}
		}
		return nil
	}
	var pfx netip.Prefix
	a, ok := parseAddr(addr)
	if !ok {
		var err error
		if pfx, err = netip.ParsePrefix(addr); err != nil {
			return &rootError{part: addr, err: errAddress}
		}
		a = pfx.Addr()
	}
	if a.Zone() != "" {
		return &rootError{part: addr, err: errAddress, reason: "no %zone on an interface address"}
	}
	if peer != "" {
		if _, ok := parseAddr(peer); !ok {
			if _, err := netip.ParsePrefix(peer); err != nil {
				return &rootError{part: peer, err: errAddress}
			}
		}
	}
	bits := -1
	if mask != "" {
		bits = parseNetmask(mask, a.BitLen())
		if bits < 0 {
			return &rootError{part: mask, err: errNetmask}
		}
	}
	switch {
	case pfx.IsValid() && bits >= 0 && bits != pfx.Bits():
		return &rootError{part: mask, err: errNetmask, reason: "differs from the prefix of " + addr}
	case pfx.IsValid():
		bits = pfx.Bits()
	case bits < 0 && ifc.Method == MethodStatic:
		return &rootError{err: errMissing, reason: "netmask"}
	case bits < 0:
		bits = a.BitLen()
	}
	ifc.Addresses = []netip.Prefix{netip.PrefixFrom(a, bits)}
	if gw != "" {
		g, ok := parseAddr(gw)
		if !ok {
			return &rootError{part: gw, err: errAddress}
		}
		if g.Is4() != a.Is4() {
			return &rootError{part: gw, err: errFamily}
		}
		ifc.Gateway = g
	}
	return nil
}

// parseNetmask reads a dotted-quad mask (IPv4 only) or a prefix length, and
// returns the prefix length or -1.
func parseNetmask(s string, bitLen int) int {
	if n, ok := parseUint(s, 0, uint64(bitLen)); ok {
		return int(n)
	}
	m, err := netip.ParseAddr(s)
	if err != nil || !m.Is4() || bitLen != 32 {
		return -1
	}
	ones, size := net.IPMask(m.AsSlice()).Size()
	if size == 0 {
		return -1 // not contiguous
	}
	return ones
}

// tail reads what follows the method: <mtu> and <macaddr> (as six fields
// when written with ':'), or, in the explicit form, <dns1> and <dns2>.
func (ifc *Interface) tail(f []string, dnsAllowed bool) *rootError {
	if len(f) == 0 {
		return nil
	}
	if _, isIP := parseAddr(f[0]); dnsAllowed && isIP {
		if len(f) > 2 {
			return &rootError{part: strings.Join(f, ":"), err: errFields, reason: "at most two DNS servers"}
		}
		for _, s := range f {
			if s == "" {
				continue
			}
			a, ok := parseAddr(s)
			if !ok {
				return &rootError{part: s, err: errAddress}
			}
			ifc.DNS = append(ifc.DNS, a)
		}
		return nil
	}
	if f[0] != "" {
		// 68 is the smallest IPv4 MTU (RFC 791); 65535 the largest a
		// link reports.
		n, ok := parseUint(f[0], 68, 65535)
		if !ok {
			return &rootError{part: f[0], err: errNumber, reason: "MTU 68-65535"}
		}
		ifc.MTU = int(n)
	}
	mac := f[1:]
	switch {
	case len(mac) == 0 || (len(mac) == 1 && mac[0] == ""):
		return nil
	case len(mac) == 1 || len(mac) == 6:
		hw, err := net.ParseMAC(strings.Join(mac, ":"))
		if err != nil || len(hw) != 6 {
			return &rootError{part: strings.Join(mac, ":"), err: errMAC}
		}
		ifc.SetMAC = hw.String()
		return nil
	}
	return &rootError{part: strings.Join(mac, ":"), err: errMAC}
}

// ip takes one ip= word.
func (p *cmdlineParser) ip(w word, src string) {
	ifc, warnings, rerr := parseIP(w.value)
	if rerr != nil {
		p.fail(w, src, rerr.part, rerr.err, rerr.reason)
		return
	}
	for _, s := range warnings {
		p.warn("ip=%s: %s", w.value, s)
	}
	if ifc == nil {
		return
	}
	if ifc.Method == MethodIBFT && ifc.Name == "" {
		// ip=ibft is dracut's old spelling of rd.iscsi.ibft.
		p.ibft = true
		return
	}
	p.addInterface(*ifc)
}

// vlan takes vlan=<vlanname>:<phydevice>. The VLAN id comes from the name,
// in any of the four styles dracut accepts: vlan0005, vlan5, eth0.0005,
// eth0.5.
func (p *cmdlineParser) vlan(w word, src string) {
	name, phys, ok := strings.Cut(w.value, ":")
	if !ok || !validIfname(name) {
		p.fail(w, src, name, errIfname, "expected <vlanname>:<phydevice>")
		return
	}
	if !validIfname(phys) {
		p.fail(w, src, phys, errIfname, "")
		return
	}
	id := strings.TrimPrefix(name, "vlan")
	if id == name {
		dot := strings.LastIndexByte(name, '.')
		id = name[dot+1:]
		if dot < 0 {
			id = ""
		}
	}
	n, ok := parseUint(id, 1, 4094)
	if !ok {
		p.fail(w, src, name, errSyntax, "VLAN name must end in its id 1-4094: vlan5, vlan0005, eth0.5, eth0.0005")
		return
	}
	v := Interface{Name: name, VLAN: int(n), Parent: phys}
	if i, ok := p.vlanIdx[name]; ok {
		p.vlans[i] = v
		return
	}
	p.vlanIdx[name] = len(p.vlans)
	p.vlans = append(p.vlans, v)
}

// ifname takes ifname=<interface>:<MAC>: the interface with that MAC gets
// that name.
func (p *cmdlineParser) ifname(w word, src string) {
	name, mac, ok := strings.Cut(w.value, ":")
	if !ok || !validIfname(name) {
		p.fail(w, src, name, errIfname, "expected <interface>:<MAC>")
		return
	}
	hw, err := net.ParseMAC(mac)
	// 6 bytes for Ethernet, 20 for InfiniBand, the two dracut accepts.
	if err != nil || (len(hw) != 6 && len(hw) != 20) {
		p.fail(w, src, mac, errMAC, "")
		return
	}
	if n, isEth := strings.CutPrefix(name, "eth"); isEth {
		if _, err := strconv.Atoi(n); err == nil {
			p.warn("ifname=%s: a kernel name can clash with the kernel's own naming; prefer a name like bootnet", name)
		}
	}
	v := Interface{Name: name, MAC: hw.String()}
	if i, ok := p.ifnameIdx[name]; ok {
		p.ifnames[i] = v
		return
	}
	p.ifnameIdx[name] = len(p.ifnames)
	p.ifnames = append(p.ifnames, v)
}
