package plan

import (
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/jsonw"
)

// Where a target came from. The orchestration logs the source with every
// failure so that an operator knows which line of which file to fix.
const (
	SourceFlags   = "flags"   // iscsistart's -t/-a/... flags
	SourceCmdline = "cmdline" // netroot=, root=, rd.iscsi.target.*, iscsi_target_*
	SourceConfig  = "config"  // initramfs-tools ISCSI_* variables (file or environment)
	SourceIBFT    = "ibft"    // the iSCSI Boot Firmware Table
	SourceDHCP    = "dhcp"    // DHCPv4 option 17 root-path
)

// How an interface gets its addresses. The names are dracut's ip= methods,
// folded where dracut treats several spellings alike (on and any are dhcp;
// none and off are static).
const (
	MethodStatic = "static"
	MethodDHCP   = "dhcp"
	MethodDHCP6  = "dhcp6"
	MethodAuto6  = "auto6"
	// MethodEither6 tries IPv6 autoconfiguration, then DHCPv6.
	MethodEither6 = "either6"
	// MethodLink6 brings the link up with its IPv6 link-local address only.
	MethodLink6 = "link6"
	// MethodIBFT configures the interface (or, unnamed, every boot NIC)
	// from the firmware table.
	MethodIBFT = "ibft"
)

// DefaultTPGT is the portal group tag that dracut and initramfs-tools pass
// to iscsistart when the user gives none.
const DefaultTPGT = 1

// redacted stands in for every set secret in printed output.
const redacted = "<redacted>"

// Plan is everything a boot needs to know, resolved from its sources and
// before anything is touched. It is plain data: the same Plan drives the real
// run, the dry run (--plan) and the tests. Empty means unset.
type Plan struct {
	Initiator  string            `json:"initiator"`
	Targets    []Target          `json:"targets"`
	Interfaces []Interface       `json:"interfaces"`
	Params     map[string]string `json:"params"` // open-iscsi record names

	// Firmware asks for the targets of the iBFT (rd.iscsi.firmware,
	// iscsi_firmware, iscsi_auto).
	Firmware bool `json:"firmware"`
	// DHCPRootPath asks for the target in the DHCP root-path (netroot=dhcp).
	DHCPRootPath bool `json:"dhcp_root_path"`
	// NeedNet would bring the network up even with no network root
	// (dracut's rd.neednet). Nothing sets it: the boot only brings up the
	// network to reach an iSCSI root, and the command line warns that
	// rd.neednet is ignored.
	NeedNet bool `json:"need_net"`
	// BootDev is the interface whose DHCP answer and routes count (bootdev=):
	// only it takes a default route from DHCP, its lease alone gives the
	// netroot=dhcp root, and open-iscsi.interface names it.
	BootDev string `json:"bootdev"`
	// Nameservers go into resolv.conf after the interfaces' own
	// (nameserver=).
	Nameservers []netip.Addr `json:"nameservers"`
	// Transport is the kernel iSCSI transport: tcp, iser or an offload
	// driver (rd.iscsi.transport). Empty means tcp.
	Transport string `json:"transport"`
	// SoftRoCE names the network devices to add a soft-RoCE RDMA device
	// (rdma_rxe) on before the logins, for iSER over plain Ethernet
	// (rd.iscsi.rxe=eth0, ours: dracut has no such key).
	SoftRoCE []string `json:"soft_roce"`
	// Multipath says the boot plans a dm-multipath root: a target has
	// several portals and NoMultipath is not set, so its sessions get the
	// open-iscsi README's multipath timers (section 8.1) and a disk seen
	// through several paths is mounted through one map. PlanMultipath
	// sets it after Merge (boot/multipath.go).
	Multipath bool `json:"multipath"`
	// NoMultipath turns dm-multipath off (dracut's rd.multipath=0): every
	// path is a plain session, with the root-disk timers.
	NoMultipath bool `json:"no_multipath"`
	// WaitNet waits for every interface before the first login
	// (rd.iscsi.waitnet); without it the logins start once one is up.
	WaitNet bool `json:"wait_net"`
	// SkipRouteTest logs in without first checking for a route to the
	// portal (rd.iscsi.testroute=0); with the test, a portal without one
	// waits for the other interfaces and is then skipped.
	SkipRouteTest bool `json:"skip_route_test"`
	// LoginRetryMax bounds the login attempts per portal
	// (rd.iscsi.login_retry_max), unless Params set
	// node.session.initial_login_retry_max; 0 leaves it to the deadline.
	LoginRetryMax int `json:"login_retry_max"`
	// RetrySeconds bounds the whole attempt to reach the root (rd.retry).
	RetrySeconds int `json:"retry_seconds"`
	// Resident keeps the boot sessions logged in after the boot, until
	// open-iscsi's iscsid runs (rd.iscsi.resident, iscsistart --resident).
	Resident bool `json:"resident"`
	// Warnings are the things a source said that were ignored or guessed.
	Warnings []string `json:"warnings"`
}

// Target is one iSCSI target to log in to, through every one of its portals.
type Target struct {
	Name    string   `json:"name"`
	TPGT    int      `json:"tpgt"`
	LUN     uint64   `json:"lun"` // the LUN that holds the root
	Portals []Portal `json:"portals"`
	// Iface is the network device the sessions go through.
	Iface string `json:"iface"`
	// IfaceName is an open-iscsi iface record (dracut's iscsi_iface_name),
	// which selects an offload transport such as bnx2i.
	IfaceName string `json:"iface_name"`
	// HBA is the SCSI host ("host3") of an offload HBA that published the
	// target in its /sys/firmware/iscsi_boot<N>: an HBA that logs in by
	// itself has its session there.
	HBA    string `json:"hba"`
	Auth   Auth   `json:"auth"`
	Source string `json:"source"`
}

// IfaceRecord is the open-iscsi iface record the target's sessions use:
// IfaceName, or "default" for plain TCP.
func (t *Target) IfaceRecord() string {
	if t.IfaceName != "" {
		return t.IfaceName
	}
	return "default"
}

// Portal is one address of a target.
type Portal struct {
	Address string `json:"address"` // IP literal without brackets, or host name
	Port    int    `json:"port"`
}

// String gives the portal as open-iscsi prints it: IPv6 in brackets.
func (p Portal) String() string {
	if strings.Contains(p.Address, ":") {
		return fmt.Sprintf("[%s]:%d", p.Address, p.Port)
	}
	return fmt.Sprintf("%s:%d", p.Address, p.Port)
}

// Auth is the CHAP configuration of a target. UsernameIn and PasswordIn are
// what the target must answer with (mutual CHAP).
type Auth struct {
	Method     string `json:"method"` // "CHAP" or empty for none
	Username   string `json:"username"`
	Password   Secret `json:"password"`
	UsernameIn string `json:"username_in"`
	PasswordIn Secret `json:"password_in"`
}

// AuthCHAP is the only authentication method the sources can ask for.
const AuthCHAP = "CHAP"

// String describes the auth with its secrets redacted.
func (a Auth) String() string {
	if a.Method == "" {
		return "none"
	}
	s := fmt.Sprintf("%s user %q password %v", a.Method, a.Username, a.Password)
	if a.UsernameIn != "" || a.PasswordIn != "" {
		s += fmt.Sprintf(" reverse user %q password %v", a.UsernameIn, a.PasswordIn)
	}
	return s
}

// Secret holds a password. Every way of printing it (fmt verbs, JSON) gives
// "<redacted>", or "" when unset, so that a Plan can be logged as it is.
// The login reads the value with Reveal.
type Secret string

// Reveal returns the secret itself, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) shown() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Format implements fmt.Formatter for every verb, %#v and %x included, so
// that no verb prints the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.shown())
		return
	}
	io.WriteString(f, s.shown())
}

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return jsonw.String(nil, s.shown()), nil }

// Interface is one network interface to configure.
type Interface struct {
	// Name is the kernel name; empty with DHCP or iBFT means every
	// suitable interface.
	Name string `json:"name"`
	// MAC identifies the interface (ifname=, iBFT), lower case.
	MAC string `json:"mac"`
	// Method is one of the Method* constants; empty only names the
	// interface (ifname=, vlan=) without configuring addresses.
	Method    string         `json:"method"`
	Addresses []netip.Prefix `json:"addresses"`
	Gateway   netip.Addr     `json:"gateway"`
	DNS       []netip.Addr   `json:"dns"`
	VLAN      int            `json:"vlan"`
	// Parent is the physical device under a VLAN interface.
	Parent string `json:"parent"`
	MTU    int    `json:"mtu"`
	// SetMAC is a MAC address to put on the interface (ip=...:<macaddr>),
	// unlike MAC, which finds it.
	SetMAC   string `json:"set_mac"`
	Hostname string `json:"hostname"`
}

// Merge combines the plans of the sources into one, with this precedence:
// explicit flags over the command line over the firmware over the defaults.
// Any of the plans may be nil. Singular values come from the first source
// that sets them. Targets are the union, in the order flags, command line,
// firmware; a target named by several sources is the one of the highest,
// with the fields it leaves empty filled from the lower ones. Interfaces with
// a name are taken, per name, from the highest source that names them.
// Params are overlaid key by key on DefaultParams. Warnings are kept, all.
func Merge(flags, cmdline, firmware *Plan) *Plan {
	order := []*Plan{flags, cmdline, firmware}
	out := &Plan{Params: DefaultParams()}
	for _, p := range slices.Backward(order) {
		if p != nil {
			maps.Copy(out.Params, p.Params)
		}
	}
	named := map[string]bool{}
	for _, p := range order {
		if p == nil {
			continue
		}
		out.Initiator = first(out.Initiator, p.Initiator)
		out.BootDev = first(out.BootDev, p.BootDev)
		out.Transport = first(out.Transport, p.Transport)
		if len(out.SoftRoCE) == 0 {
			out.SoftRoCE = slices.Clone(p.SoftRoCE)
		}
		out.LoginRetryMax = first(out.LoginRetryMax, p.LoginRetryMax)
		out.RetrySeconds = first(out.RetrySeconds, p.RetrySeconds)
		out.Firmware = out.Firmware || p.Firmware
		out.DHCPRootPath = out.DHCPRootPath || p.DHCPRootPath
		out.NeedNet = out.NeedNet || p.NeedNet
		out.Multipath = out.Multipath || p.Multipath
		out.NoMultipath = out.NoMultipath || p.NoMultipath
		out.WaitNet = out.WaitNet || p.WaitNet
		out.Resident = out.Resident || p.Resident
		out.SkipRouteTest = out.SkipRouteTest || p.SkipRouteTest
		for _, t := range portalsByTarget(p.Targets) {
			out.Targets = mergeTarget(out.Targets, t)
		}
		seen := map[string]bool{}
		for _, ifc := range p.Interfaces {
			if ifc.Name != "" && named[ifc.Name] {
				continue
			}
			seen[ifc.Name] = true
			if !slices.ContainsFunc(out.Interfaces, ifc.equal) {
				out.Interfaces = append(out.Interfaces, ifc)
			}
		}
		for n := range seen {
			named[n] = n != ""
		}
		for _, a := range p.Nameservers {
			if !slices.Contains(out.Nameservers, a) {
				out.Nameservers = append(out.Nameservers, a)
			}
		}
		out.Warnings = append(out.Warnings, p.Warnings...)
	}
	return out
}

// first returns a unless it is the zero value, else b.
func first[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// FindTarget returns the plan's target named name, or nil.
func (p *Plan) FindTarget(name string) *Target {
	if i := slices.IndexFunc(p.Targets, func(t Target) bool { return t.Name == name }); i >= 0 {
		return &p.Targets[i]
	}
	return nil
}

// portalsByTarget folds the targets of one source that share a name into
// one with every portal, in order: a firmware table whose two target
// entries are the same target through two portals (multipath boot), or a
// command line naming it twice. The first entry's other fields stand.
func portalsByTarget(ts []Target) []Target {
	var out []Target
	for _, t := range ts {
		i := slices.IndexFunc(out, func(u Target) bool { return u.Name == t.Name })
		if i < 0 {
			t.Portals = slices.Clone(t.Portals)
			out = append(out, t)
			continue
		}
		for _, pt := range t.Portals {
			if !slices.Contains(out[i].Portals, pt) {
				out[i].Portals = append(out[i].Portals, pt)
			}
		}
	}
	return out
}

// mergeTarget adds t to ts, or fills the empty fields of the target of the
// same name already there (which came from a source of higher precedence).
func mergeTarget(ts []Target, t Target) []Target {
	i := slices.IndexFunc(ts, func(u Target) bool { return u.Name == t.Name })
	if i < 0 {
		t.Portals = slices.Clone(t.Portals)
		return append(ts, t)
	}
	u := &ts[i]
	if len(u.Portals) == 0 {
		u.Portals = slices.Clone(t.Portals)
	}
	u.Iface = first(u.Iface, t.Iface)
	u.IfaceName = first(u.IfaceName, t.IfaceName)
	u.HBA = first(u.HBA, t.HBA)
	if u.Auth.Method == "" {
		u.Auth = t.Auth
	}
	return ts
}

func (i Interface) equal(j Interface) bool {
	return i.Name == j.Name && i.MAC == j.MAC && i.Method == j.Method &&
		slices.Equal(i.Addresses, j.Addresses) && i.Gateway == j.Gateway &&
		slices.Equal(i.DNS, j.DNS) && i.VLAN == j.VLAN && i.Parent == j.Parent &&
		i.MTU == j.MTU && i.SetMAC == j.SetMAC && i.Hostname == j.Hostname
}

// MarshalJSON implements json.Marshaler with the field names of the design
// (section 7): lists are [] rather than null, and every set secret, in auth
// and in params, is "<redacted>".
func (p *Plan) MarshalJSON() ([]byte, error) { return p.appendJSON(nil), nil }

// Format implements fmt.Formatter: every verb prints the plan as compact
// JSON, so that a plan logged with %v shows no secret, not even one that a
// flag put in Params.
func (p Plan) Format(f fmt.State, verb rune) {
	b, err := p.MarshalJSON()
	if err != nil {
		fmt.Fprintf(f, "%%!%c(plan: %v)", verb, err)
		return
	}
	f.Write(b)
}

// WriteJSON writes the plan as indented JSON, one document with a trailing
// newline, as --plan prints it.
func (p *Plan) WriteJSON(w io.Writer) error {
	b := jsonw.Indent(p.appendJSON(nil), "", "  ")
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return nil
}

// String names the target and its portals for error messages, e.g.
// "iqn.2009-06.dracut:target0 at 192.168.50.1:3260".
func (t Target) String() string {
	var b strings.Builder
	b.WriteString(t.Name)
	for i, p := range t.Portals {
		if i == 0 {
			b.WriteString(" at ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
