package plan

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// cmdlineParser collects the words of a command line into a plan. Its error
// is sticky: after the first bad word, the others are not looked at, so the
// operator reads one line about the first mistake.
type cmdlineParser struct {
	plan *Plan
	err  error

	// The manual target (rd.iscsi.target.*, iscsi_target_*, ISCSI_TARGET_*)
	// and the default CHAP (rd.iscsi.username, ...): single values, the last
	// word wins, checked together at the end.
	manual [5]setting // name, ip, port, group, lun
	auth   [4]setting // username, password, in.username, in.password

	ibft       bool // rd.iscsi.ibft, iscsi_auto: network from the iBFT
	ipWord     bool // an ip= word was given
	dhcp6Root  bool // netroot=dhcp6 or root=dhcp6
	retryParam bool // rd.iscsi.param set initial_login_retry_max itself
	ifnames    []Interface
	vlans      []Interface

	// Indexes that keep every word's work constant, whatever the number of
	// words: the interfaces already in the plan (by interfaceKey), the
	// ifname= and vlan= words by name (index in ifnames, vlans), and the
	// name servers.
	ifaceKeys   map[string]bool
	ifnameIdx   map[string]int
	vlanIdx     map[string]int
	nameservers map[netip.Addr]bool
}

// maxInterfaces bounds the interfaces a command line may configure, and
// maxNameservers its name servers. A real one has a few; thousands are a
// mistake or an attack, and each interface costs a goroutine, a netlink
// socket and a DHCP exchange at boot.
const (
	maxInterfaces  = 256
	maxNameservers = 256
)

// setting is one single-valued word, remembered with where it was written.
type setting struct {
	w   word
	src string
}

func (s setting) set() bool { return s.w.key != "" }

const (
	manualName = iota
	manualIP
	manualPort
	manualGroup
	manualLUN
)

const (
	authUser = iota
	authPass
	authUserIn
	authPassIn
)

// manualKeys and authKeys map every spelling to its slot: dracut's own, its
// deprecated one (which is also Debian's), and initramfs-tools' variables.
var manualKeys = map[string]int{
	"rd.iscsi.target.name": manualName, "iscsi_target_name": manualName, "ISCSI_TARGET_NAME": manualName,
	"rd.iscsi.target.ip": manualIP, "iscsi_target_ip": manualIP, "ISCSI_TARGET_IP": manualIP,
	"rd.iscsi.target.port": manualPort, "iscsi_target_port": manualPort, "ISCSI_TARGET_PORT": manualPort,
	"rd.iscsi.target.group": manualGroup, "iscsi_target_group": manualGroup, "ISCSI_TARGET_GROUP": manualGroup,
	"ISCSI_ROOT_LUN": manualLUN,
}

var authKeys = map[string]int{
	"rd.iscsi.username": authUser, "iscsi_username": authUser, "ISCSI_USERNAME": authUser,
	"rd.iscsi.password": authPass, "iscsi_password": authPass, "ISCSI_PASSWORD": authPass,
	"rd.iscsi.in.username": authUserIn, "iscsi_in_username": authUserIn, "ISCSI_IN_USERNAME": authUserIn,
	"rd.iscsi.in.password": authPassIn, "iscsi_in_password": authPassIn, "ISCSI_IN_PASSWORD": authPassIn,
}

var authParams = map[string]int{
	"node.session.auth.username": authUser, "node.session.auth.password": authPass,
	"node.session.auth.username_in": authUserIn, "node.session.auth.password_in": authPassIn,
}

func newCmdlineParser() *cmdlineParser {
	return &cmdlineParser{plan: &Plan{Params: map[string]string{}},
		ifaceKeys: map[string]bool{}, ifnameIdx: map[string]int{}, vlanIdx: map[string]int{},
		nameservers: map[netip.Addr]bool{}}
}

// fail records the first error, with the value redacted where it holds a
// secret.
func (p *cmdlineParser) fail(w word, src, part string, err error, reason string) {
	if p.err != nil {
		return
	}
	e := &CmdlineError{Key: w.key, Value: w.value, Part: part, Reason: reason, Err: err}
	if src != SourceCmdline {
		e.Source = src
	}
	switch {
	case secretKeys[w.key] || isSecretParam(w.key):
		e.Value, e.Part = redacted, ""
	case isRootKey(w.key):
		e.Value, e.Part = redactRoot(w.value), redactRootPart(w.value, part)
	case (w.key == "rd.iscsi.param" || w.key == "iscsi_param") && isSecretParam(w.value):
		e.Value, e.Part = redacted, ""
	}
	p.err = e
}

func (p *cmdlineParser) warn(format string, args ...any) {
	p.plan.Warnings = append(p.plan.Warnings, fmt.Sprintf(format, args...))
}

// word takes one parameter into the plan.
func (p *cmdlineParser) word(w word, src string) {
	if p.err != nil {
		return
	}
	if i, ok := manualKeys[w.key]; ok {
		p.manual[i] = setting{w, src}
		return
	}
	if i, ok := authKeys[w.key]; ok {
		p.auth[i] = setting{w, src}
		return
	}
	switch w.key {
	case "netroot", "root":
		p.root(w, src)
	case "iscsiroot":
		p.warn("iscsiroot= is deprecated, use netroot=iscsi:%s", redactRoot(w.value))
		p.addRoot(w, src, w.value)
	case "rd.iscsi.firmware", "iscsi_firmware":
		p.boolean(w, src, &p.plan.Firmware)
	case "iscsi_auto", "ISCSI_AUTO":
		// Debian's iscsi_auto runs iscsistart -N and -b: network and
		// targets, both from the firmware. Its script tests ISCSI_AUTO
		// with -n, so an empty variable asks for nothing.
		if w.key == "ISCSI_AUTO" && w.value == "" {
			return
		}
		p.boolean(w, src, &p.plan.Firmware)
		p.ibft = p.plan.Firmware
	case "rd.iscsi.ibft":
		p.boolean(w, src, &p.ibft)
	case "rd.iscsi.mp":
		// dracut configures only the NIC the firmware booted from unless
		// rd.iscsi.mp; FromIBFT configures the NIC of every target in the
		// table either way, and a NIC no target uses carries no path.
		p.ignored(w, "the NIC of every target in the firmware table is configured, with or without it")
	case "rd.multipath":
		// dracut's switch; "default" (its own config) leaves it on
		on := true
		if w.value != "default" {
			p.boolean(w, src, &on)
		}
		p.plan.NoMultipath = !on
	case "rd.iscsi.waitnet":
		p.boolean(w, src, &p.plan.WaitNet)
	case "rd.iscsi.resident":
		// ours: dracut has no such key
		p.boolean(w, src, &p.plan.Resident)
	case "rd.neednet":
		// dracut brings the network up for other uses than the root; here
		// the network is only ever there to reach an iSCSI root.
		p.ignored(w, "the boot brings up the interfaces of ip=, vlan= and the firmware, and only to reach an iSCSI root")
	case "rd.iscsi.testroute":
		var test bool
		p.boolean(w, src, &test)
		p.plan.SkipRouteTest = !test
	case "rd.iscsi.initiator", "iscsi_initiator", "ISCSI_INITIATOR":
		if !validName(w.value) {
			p.fail(w, src, "", errTargetName, "one word of at most 223 bytes")
			return
		}
		if !hasNamePrefix(w.value) {
			p.warn("%s=%s: not an iqn., eui. or naa. name", w.key, w.value)
		}
		p.plan.Initiator = w.value
	case "rd.iscsi.param", "iscsi_param":
		p.param(w, src)
	case "rd.iscsi.login_retry_max":
		// dracut's range (getargnum 3 0 10000).
		n, ok := parseUint(w.value, 0, 10000)
		if !ok {
			p.fail(w, src, "", errNumber, "0-10000")
			return
		}
		p.plan.LoginRetryMax = int(n)
	case "rd.retry", "rd_retry":
		n, ok := parseUint(w.value, 1, 1<<31-1)
		if !ok {
			p.fail(w, src, "", errNumber, "seconds, at least 1")
			return
		}
		p.plan.RetrySeconds = int(n)
	case "rd.iscsi.transport":
		if !slices.Contains(transports, w.value) {
			p.fail(w, src, "", errTransport, strings.Join(transports, ", "))
			return
		}
		p.plan.Transport = w.value
	case "rd.iscsi.rxe":
		// ours: a soft-RoCE device on each named link, for iSER
		for _, dev := range strings.Split(w.value, ",") {
			if !validIfname(dev) {
				p.fail(w, src, "", errIfname, "network device names, comma-separated")
				return
			}
			if !slices.Contains(p.plan.SoftRoCE, dev) {
				p.plan.SoftRoCE = append(p.plan.SoftRoCE, dev)
			}
		}
	case "ip":
		p.ipWord = true
		p.ip(w, src)
	case "vlan":
		p.vlan(w, src)
	case "ifname":
		p.ifname(w, src)
	case "bootdev":
		if !validIfname(w.value) {
			p.fail(w, src, "", errIfname, "")
			return
		}
		p.plan.BootDev = w.value
	case "nameserver":
		a, ok := parseAddr(w.value)
		if !ok {
			p.fail(w, src, "", errAddress, "")
			return
		}
		if !p.nameservers[a] {
			p.nameservers[a] = true
			p.plan.Nameservers = append(p.plan.Nameservers, a)
		}
	default:
		switch {
		case strings.HasPrefix(w.key, "rd.iscsi."):
			p.warn("%s: unknown rd.iscsi option, ignored", w.key)
		case strings.HasPrefix(w.key, "ISCSI_"):
			p.warn("%s: unknown initramfs-tools variable, ignored", w.key)
		}
	}
}

// ignored warns that a word dracut knows has no effect here, and why, so
// that the plan never says it does.
func (p *cmdlineParser) ignored(w word, why string) {
	k := w.key
	if w.hasValue {
		k += "=" + esc.String(w.value)
	}
	p.warn("%s: ignored: %s", k, why)
}

func (p *cmdlineParser) boolean(w word, src string, dst *bool) {
	b, ok := parseBool(w)
	if !ok {
		p.fail(w, src, "", errBool, "")
		return
	}
	*dst = b
}

// param takes rd.iscsi.param=<open-iscsi record name>=<value>, checked
// against the table of session values: an unknown name is warned about
// and ignored, a bad value refused.
func (p *cmdlineParser) param(w word, src string) {
	k, v, ok := strings.Cut(w.value, "=")
	if !ok || k == "" || strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' }) {
		p.fail(w, src, "", errSyntax, "expected name=value, e.g. node.session.timeo.replacement_timeout=30")
		return
	}
	known, err := CheckParam(k, v)
	if !known {
		p.warn("%s: %s", w.key, IgnoredParam(k))
		return
	}
	var pe *ParamError
	if errors.As(err, &pe) {
		p.fail(w, src, "", errParamValue, pe.Name+": "+pe.Reason)
		return
	}
	switch k {
	case "iface.transport_name":
		p.plan.Transport = v
		return
	case "node.session.initial_login_retry_max":
		p.retryParam = true
	case "node.session.auth.username", "node.session.auth.password",
		"node.session.auth.username_in", "node.session.auth.password_in":
		// The record's CHAP settings are the same as rd.iscsi.username and
		// its kin, and go where the plan keeps secrets out of print.
		slot := authParams[k]
		p.auth[slot] = setting{word{key: w.key + "=" + k, value: v, hasValue: true}, src}
		return
	}
	p.plan.Params[k] = v
}

// finish checks the words that only make sense together and returns the
// plan.
func (p *cmdlineParser) finish() (*Plan, error) {
	p.manualTarget()
	p.defaultAuth()
	if p.err != nil {
		return nil, p.err
	}
	if p.plan.LoginRetryMax > 0 && !p.retryParam {
		p.plan.Params["node.session.initial_login_retry_max"] = fmt.Sprint(p.plan.LoginRetryMax)
	}
	if p.ibft {
		p.addInterface(Interface{Method: MethodIBFT})
	}
	if p.dhcp6Root && !p.ipWord {
		// dracut: with no ip=, a netroot is reached by DHCP, and
		// netroot=dhcp6 says which one (ifup's do_dhcp -6).
		p.addInterface(Interface{Method: MethodDHCP6})
	}
	if len(p.plan.SoftRoCE) > 0 && p.plan.Transport != "iser" {
		p.warn("rd.iscsi.rxe=%s: soft-RoCE devices are added, but the logins use transport %s, not iser",
			esc.String(strings.Join(p.plan.SoftRoCE, ",")), cmp.Or(p.plan.Transport, "tcp"))
	}
	p.nameInterfaces()
	if n := len(p.plan.Interfaces); n > maxInterfaces {
		p.fail(word{key: "ip"}, SourceCmdline, "", errTooMany,
			fmt.Sprintf("%d interfaces from ip=, ifname= and vlan=; at most %d", n, maxInterfaces))
	}
	if n := len(p.plan.Nameservers); n > maxNameservers {
		p.fail(word{key: "nameserver"}, SourceCmdline, "", errTooMany,
			fmt.Sprintf("%d name servers; at most %d", n, maxNameservers))
	}
	if p.err != nil {
		return nil, p.err
	}
	return p.plan, nil
}

// addInterface adds an interface unless the same one is there already (a
// repeated word).
func (p *cmdlineParser) addInterface(ifc Interface) {
	if k := interfaceKey(ifc); !p.ifaceKeys[k] {
		p.ifaceKeys[k] = true
		p.plan.Interfaces = append(p.plan.Interfaces, ifc)
	}
}

// interfaceKey is equal for two interfaces exactly when Interface.equal
// is.
func interfaceKey(i Interface) string {
	return fmt.Sprintf("%q %q %q %v %v %v %d %q %d %q %q", i.Name, i.MAC, i.Method, i.Addresses, i.Gateway,
		i.DNS, i.VLAN, i.Parent, i.MTU, i.SetMAC, i.Hostname)
}

// nameInterfaces applies ifname= and vlan= to the ip= interfaces of the same
// name, and adds those that no ip= configures, so that the run still finds
// or creates them.
func (p *cmdlineParser) nameInterfaces() {
	byName := map[string][]int{}
	for i, ifc := range p.plan.Interfaces {
		byName[ifc.Name] = append(byName[ifc.Name], i)
	}
	for _, n := range p.ifnames {
		for _, i := range byName[n.Name] {
			p.plan.Interfaces[i].MAC = n.MAC
		}
		if len(byName[n.Name]) == 0 {
			byName[n.Name] = []int{len(p.plan.Interfaces)}
			p.plan.Interfaces = append(p.plan.Interfaces, n)
		}
	}
	for _, v := range p.vlans {
		for _, i := range byName[v.Name] {
			p.plan.Interfaces[i].VLAN, p.plan.Interfaces[i].Parent = v.VLAN, v.Parent
		}
		if len(byName[v.Name]) == 0 {
			p.plan.Interfaces = append(p.plan.Interfaces, v)
		}
	}
}
