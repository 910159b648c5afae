package plan

import (
	"net/netip"
	"strings"

	"github.com/iscsiboot/iscsiboot/core"
)

// The iSCSI root syntax of RFC 4173, Section 5, extended by dracut with CHAP
// credentials and an iface/netdev pair:
//
//	iscsi:[user:pass[:user_in:pass_in]@][server]:[protocol]:[port][:[iface]:[netdev]]:[LUN]:targetname
//
// dracut's parse_iscsi_root (modules.d/40network/net-lib.sh) is the
// reference for which input means what. It is followed for every input it
// reads sensibly; where it silently misreads (an unbracketed IPv6 address,
// a second iqn. name in the value, a value cut short), the input is refused.

// rootError is what went wrong inside a root value; the caller adds the key.
type rootError struct {
	part   string
	err    error
	reason string
}

// isRootKey tells the words whose value is an iSCSI root and may hold CHAP
// credentials.
func isRootKey(k string) bool {
	return k == "netroot" || k == "root" || k == "iscsiroot" || k == "root-path"
}

// authEnd returns the index of the '@' that ends the credentials in v (the
// part after "iscsi:"), or -1. dracut takes the first '@' followed by four
// ':' (so that an '@' in a target name can be kept by writing an empty
// "@" before the server); taking the last such '@' reads the same values
// and also keeps an '@' inside a user name or password.
func authEnd(v string) int {
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == '@' && strings.Count(v[i+1:], ":") >= 4 {
			return i
		}
	}
	return -1
}

// redactRoot hides the credentials of an iSCSI root value for messages. It
// hides everything before the last '@', even where authEnd finds no
// credentials, because a value too short to parse may still hold them.
func redactRoot(v string) string {
	body, ok := strings.CutPrefix(v, "iscsi:")
	if i := strings.LastIndexByte(body, '@'); i > 0 {
		if ok {
			return "iscsi:" + redacted + body[i:]
		}
		return redacted + body[i:]
	}
	return v
}

// redactRootPart drops the part of a message that could be a piece of the
// credentials that redactRoot hides.
func redactRootPart(v, part string) string {
	body := strings.TrimPrefix(v, "iscsi:")
	if i := strings.LastIndexByte(body, '@'); i > 0 && (strings.Contains(part, "@") || strings.Contains(body[:i], part)) {
		return ""
	}
	return part
}

// parseISCSIRoot reads v, the part after "iscsi:". The target it returns has
// no portal when the server is empty.
func parseISCSIRoot(v string) (Target, []string, *rootError) {
	t := Target{TPGT: DefaultTPGT}
	var warnings []string
	if i := authEnd(v); i >= 0 {
		if i > 0 {
			f := strings.Split(v[:i], ":")
			if (len(f) != 2 && len(f) != 4) || slicesHasEmpty(f) {
				return t, nil, &rootError{err: errAuth}
			}
			t.Auth = Auth{Method: AuthCHAP, Username: f[0], Password: Secret(f[1])}
			if len(f) == 4 {
				t.Auth.UsernameIn, t.Auth.PasswordIn = f[2], Secret(f[3])
			}
		}
		v = v[i+1:]
	}

	// The server: an IP address in brackets, or up to the first ':'.
	var server, rest string
	if strings.HasPrefix(v, "[") {
		end := strings.Index(v, "]")
		if end < 0 || !strings.HasPrefix(v[end+1:], ":") {
			return t, nil, &rootError{part: v, err: errSyntax, reason: "expected [IPv6 address]:"}
		}
		server, rest = v[1:end], v[end+2:]
		a, err := netip.ParseAddr(server)
		if err != nil {
			return t, nil, &rootError{part: server, err: errAddress}
		}
		server = a.String()
	} else {
		var ok bool
		server, rest, ok = strings.Cut(v, ":")
		if !ok {
			return t, nil, &rootError{part: v, err: errFields, reason: "expected [server]:[protocol]:[port]:[LUN]:targetname"}
		}
		if ip := unbracketedIPv6(server, rest); ip != "" {
			return t, nil, &rootError{part: ip, err: errUnbracketedIPv6}
		}
		if server != "" {
			h, ok := parseHost(server)
			if !ok {
				return t, nil, &rootError{part: server, err: errAddress}
			}
			server = h
		}
	}

	// The target name starts at the first ":iqn.", ":eui." or ":naa.";
	// without one, fields are counted as dracut does.
	var head []string
	if m := nameStart(rest); m >= 0 {
		t.Name = rest[m+1:]
		if nameStart(t.Name) >= 0 {
			return t, nil, &rootError{part: t.Name, err: errAmbiguousName, reason: "dracut would take the last one"}
		}
		head = strings.Split(rest[:m], ":")
		switch len(head) {
		case 3: // protocol, port, LUN
		case 4: // protocol, port, netdev, LUN
			t.Iface = head[2]
		case 5: // protocol, port, iface, netdev, LUN
			t.IfaceName, t.Iface = head[2], head[3]
		default:
			return t, nil, &rootError{part: rest[:m], err: errFields, reason: "expected [protocol]:[port][:[iface]:[netdev]]:[LUN] before the target name"}
		}
	} else {
		f := strings.Split(rest, ":")
		if len(f) < 4 {
			return t, nil, &rootError{part: rest, err: errFields, reason: "expected [protocol]:[port]:[LUN]:targetname after the server"}
		}
		head, f = f[:2], f[2:]
		// dracut's rule: with more than three fields left, the first two
		// are iface and netdev if either is set and the third is a LUN.
		if len(f) > 3 && f[0]+f[1] != "" {
			if _, isLUN := parseUint(f[2], 0, 1<<64-1); f[2] == "" || isLUN {
				t.IfaceName, t.Iface = f[0], f[1]
				f = f[2:]
			}
		}
		head = append(head, f[0])
		t.Name = strings.Join(f[1:], ":")
	}
	if t.Name == "" {
		return t, nil, &rootError{err: errEmpty, reason: "target name"}
	}
	if !validName(t.Name) {
		return t, nil, &rootError{part: t.Name, err: errTargetName}
	}
	if !hasNamePrefix(t.Name) {
		warnings = append(warnings, "target name "+t.Name+" is not an iqn., eui. or naa. name")
	}

	switch proto := head[0]; proto {
	case "", "6":
	default:
		if _, ok := parseUint(proto, 0, 255); !ok {
			return t, nil, &rootError{part: proto, err: errSyntax, reason: "protocol must be empty or 6 (TCP)"}
		}
		warnings = append(warnings, "protocol "+proto+" is not TCP (6); using TCP")
	}
	port := uint64(core.DefaultPort)
	if s := head[1]; s != "" {
		var ok bool
		if port, ok = parseUint(s, 1, 65535); !ok {
			return t, nil, &rootError{part: s, err: errPort}
		}
	}
	if s := head[len(head)-1]; s != "" {
		var ok bool
		if t.LUN, ok = parseUint(s, 0, 1<<64-1); !ok {
			return t, nil, &rootError{part: s, err: errNumber, reason: "LUN, decimal"}
		}
	}
	if t.Iface != "" && !validIfname(t.Iface) {
		return t, nil, &rootError{part: t.Iface, err: errIfname}
	}
	if strings.ContainsFunc(t.IfaceName, func(r rune) bool { return r <= ' ' }) {
		return t, nil, &rootError{part: t.IfaceName, err: errSyntax, reason: "iface name"}
	}
	if server != "" {
		t.Portals = []Portal{{Address: server, Port: int(port)}}
	} else if port != core.DefaultPort {
		// Keep the port for the caller that supplies the server.
		t.Portals = []Portal{{Port: int(port)}}
	}
	return t, warnings, nil
}

func slicesHasEmpty(f []string) bool {
	for _, s := range f {
		if s == "" {
			return true
		}
	}
	return false
}

// nameStart returns the index of the ':' before the first iSCSI name in s,
// or -1.
func nameStart(s string) int {
	best := -1
	for _, t := range []string{":iqn.", ":eui.", ":naa."} {
		if i := strings.Index(s, t); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// unbracketedIPv6 returns the IPv6 address that the server field starts,
// when the value plainly holds one without brackets ("fe80::1::::iqn..."),
// which dracut would cut at the first ':'. A server that looks like the
// first group of an IPv6 address (up to four hex digits, one of them a
// decimal digit) followed by more groups is taken for one. An empty server
// is not: "::3260:1:iqn..." is the usual empty server, protocol and port.
func unbracketedIPv6(server, rest string) string {
	if server == "" || len(server) > 4 || strings.Trim(server, "0123456789abcdefABCDEF") != "" ||
		!strings.ContainsAny(server, "0123456789") {
		return ""
	}
	s := server + ":" + rest
	found := ""
	for i := len(server) + 1; i <= len(s); i++ {
		if i < len(s) && s[i] != ':' {
			continue
		}
		if a, err := netip.ParseAddr(s[:i]); err == nil && a.Is6() && !a.IsUnspecified() {
			found = s[:i]
		}
	}
	return found
}

// parseHost checks a portal address: an IP literal (IPv6 with or without
// brackets, since nothing else is in the value) or a DNS host name. IP
// literals are returned in their canonical form.
func parseHost(s string) (string, bool) {
	if a, ok := parseAddr(s); ok {
		return a.String(), true
	}
	if len(s) > 253 || s == "" {
		return "", false
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return "", false
		}
	}
	// An all-numeric last label is a mistyped IPv4 address, not a name.
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return "", false
	}
	return s, true
}

// parseAddr reads an IP address, IPv6 optionally in brackets.
func parseAddr(s string) (netip.Addr, bool) {
	if b, ok := strings.CutPrefix(s, "["); ok {
		s, ok = strings.CutSuffix(b, "]")
		if !ok {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// root takes netroot= and root=. Only iSCSI values are ours: "iscsi" alone
// asks for iSCSI with the targets from elsewhere (firmware, manual words),
// "dhcp" for the target of the DHCP root-path, "dhcp6" for that of DHCPv6
// (the boot file URL, option 59), by DHCPv6 when no ip= says otherwise.
func (p *cmdlineParser) root(w word, src string) {
	switch v := w.value; {
	case v == "iscsi":
	case strings.HasPrefix(v, "iscsi:"):
		p.addRoot(w, src, v[len("iscsi:"):])
	case v == "dhcp":
		p.plan.DHCPRootPath = true
	case v == "dhcp6":
		p.plan.DHCPRootPath, p.dhcp6Root = true, true
	}
}

// addRoot parses an iSCSI root and adds its target, merging the portals of
// the same target named twice.
func (p *cmdlineParser) addRoot(w word, src, v string) {
	t, warnings, rerr := parseISCSIRoot(v)
	if rerr != nil {
		p.fail(w, src, rerr.part, rerr.err, rerr.reason)
		return
	}
	if len(t.Portals) == 0 || t.Portals[0].Address == "" {
		p.fail(w, src, "", errMissing, "servername: discovery through iSNS or SLP is not supported")
		return
	}
	for _, s := range warnings {
		p.warn("%s: %s", w.key, s)
	}
	t.Source = src
	p.addTarget(t)
}

func (p *cmdlineParser) addTarget(t Target) {
	for i := range p.plan.Targets {
		u := &p.plan.Targets[i]
		if u.Name != t.Name {
			continue
		}
		for _, pt := range t.Portals {
			if !containsPortal(u.Portals, pt) {
				u.Portals = append(u.Portals, pt)
			}
		}
		if u.LUN != t.LUN || u.Auth != t.Auth || u.Iface != t.Iface || u.IfaceName != t.IfaceName {
			p.warn("target %s given twice with different settings; the first is used", t.Name)
		}
		return
	}
	p.plan.Targets = append(p.plan.Targets, t)
}

func containsPortal(ps []Portal, p Portal) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// manualTarget builds the target of rd.iscsi.target.*, iscsi_target_* and
// ISCSI_TARGET_*. dracut documents the rd.iscsi.target words but ignores
// them; here they are a target like any other. ISCSI_TARGET_IP may list
// several addresses, as in Debian, for several portals.
func (p *cmdlineParser) manualTarget() {
	m := p.manual
	if p.err != nil || (!m[manualName].set() && !m[manualIP].set()) {
		return
	}
	for _, pair := range [][2]int{{manualName, manualIP}, {manualIP, manualName}} {
		if !m[pair[1]].set() {
			s := m[pair[0]]
			p.fail(s.w, s.src, "", errMissing, "also give the target "+[]string{"name", "ip"}[pair[1]])
			return
		}
	}
	t := Target{TPGT: DefaultTPGT, Source: SourceConfig}
	if m[manualName].src == SourceCmdline || m[manualIP].src == SourceCmdline {
		t.Source = SourceCmdline
	}
	name := m[manualName]
	if !validName(name.w.value) {
		p.fail(name.w, name.src, "", errTargetName, "")
		return
	}
	t.Name = name.w.value
	if !hasNamePrefix(t.Name) {
		p.warn("%s=%s: not an iqn., eui. or naa. name", name.w.key, t.Name)
	}
	port := uint64(core.DefaultPort)
	if s := m[manualPort]; s.set() && s.w.value != "" {
		var ok bool
		if port, ok = parseUint(s.w.value, 1, 65535); !ok {
			p.fail(s.w, s.src, "", errPort, "")
			return
		}
	}
	if s := m[manualGroup]; s.set() && s.w.value != "" {
		g, ok := parseUint(s.w.value, 0, 65535)
		if !ok {
			p.fail(s.w, s.src, "", errNumber, "portal group tag 0-65535")
			return
		}
		t.TPGT = int(g)
	}
	if s := m[manualLUN]; s.set() && s.w.value != "" {
		var ok bool
		if t.LUN, ok = parseUint(s.w.value, 0, 1<<64-1); !ok {
			p.fail(s.w, s.src, "", errNumber, "LUN, decimal")
			return
		}
	}
	ip := m[manualIP]
	addrs := strings.FieldsFunc(ip.w.value, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(addrs) == 0 {
		p.fail(ip.w, ip.src, "", errEmpty, "")
		return
	}
	for _, a := range addrs {
		h, ok := parseHost(a)
		if !ok {
			p.fail(ip.w, ip.src, a, errAddress, "")
			return
		}
		if pt := (Portal{Address: h, Port: int(port)}); !containsPortal(t.Portals, pt) {
			t.Portals = append(t.Portals, pt)
		}
	}
	p.addTarget(t)
}

// defaultAuth applies rd.iscsi.username and its kin to the targets whose
// root gave no credentials, as dracut's handle_netroot does: the root's own
// credentials win, one direction at a time.
func (p *cmdlineParser) defaultAuth() {
	if p.err != nil {
		return
	}
	a := p.auth
	for _, pair := range [][2]int{{authUser, authPass}, {authPass, authUser}, {authUserIn, authPassIn}, {authPassIn, authUserIn}} {
		if a[pair[0]].set() && a[pair[0]].w.value != "" && (!a[pair[1]].set() || a[pair[1]].w.value == "") {
			p.fail(a[pair[0]].w, a[pair[0]].src, "", errMissing, "CHAP needs both a user name and a password")
			return
		}
	}
	if a[authUserIn].w.value != "" && a[authUser].w.value == "" {
		p.fail(a[authUserIn].w, a[authUserIn].src, "", errMissing, "mutual CHAP needs the forward user name and password too")
		return
	}
	for i := range p.plan.Targets {
		t := &p.plan.Targets[i]
		if t.Auth.Method == "" && a[authUser].w.value != "" {
			t.Auth = Auth{Method: AuthCHAP, Username: a[authUser].w.value, Password: Secret(a[authPass].w.value)}
		}
		if t.Auth.Method != "" && t.Auth.UsernameIn == "" && a[authUserIn].w.value != "" {
			t.Auth.UsernameIn, t.Auth.PasswordIn = a[authUserIn].w.value, Secret(a[authPassIn].w.value)
		}
	}
}

// TargetFromRootPath reads a DHCPv4 root-path (option 17, RFC 2132,
// Section 3.19) in the iSCSI syntax of RFC 4173. An empty servername means
// dhcpServer (the caller passes the server that answered, as dracut does
// for network roots); a root-path without "iscsi:" is an error.
func TargetFromRootPath(rootPath string, dhcpServer netip.Addr) (Target, error) {
	fail := func(part string, err error, reason string) error {
		return &CmdlineError{Source: SourceDHCP, Key: "root-path", Value: redactRoot(rootPath), Part: redactRootPart(rootPath, part), Reason: reason, Err: err}
	}
	v, ok := strings.CutPrefix(rootPath, "iscsi:")
	if !ok {
		return Target{}, fail("", errSyntax, "not an iscsi: root-path")
	}
	t, _, rerr := parseISCSIRoot(v)
	if rerr != nil {
		return Target{}, fail(rerr.part, rerr.err, rerr.reason)
	}
	if len(t.Portals) == 0 {
		t.Portals = []Portal{{Port: core.DefaultPort}}
	}
	if t.Portals[0].Address == "" {
		if !dhcpServer.IsValid() {
			return Target{}, fail("", errMissing, "servername, and no DHCP server address")
		}
		t.Portals[0].Address = dhcpServer.Unmap().String()
	}
	t.Source = SourceDHCP
	return t, nil
}
