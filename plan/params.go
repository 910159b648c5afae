package plan

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// Setting is one row of the table of session values: an open-iscsi node
// record name, as -P, rd.iscsi.param, iscsid.conf and a node record spell
// it, with everything iscsiboot knows of it. The command-line parser, -P,
// --plan, the kernel login, the node records handed to iscsid and the
// resident loop all read this one table, so a value takes the same path
// from every source and every default is written once.
type Setting struct {
	Name string
	// Record is open-iscsi's built-in default (idbm.c,
	// idbm_node_setup_defaults), what a node record holds, and iscsid
	// assumes, when nothing sets the value.
	Record string
	// Root, when not empty, is the value for a root disk, used when the
	// plan does not set one: the open-iscsi README's advice (section 8.2)
	// where it differs from Record.
	Root string
	// Multipath, when not empty, is the value for one path of a
	// dm-multipath map (the open-iscsi README, section 8.1; see
	// PlanMultipath), used instead of Root when the plan sets none.
	Multipath string
	// Kernel is the session or connection parameter (ISCSI_PARAM_*) the
	// value is set as before the login, when InKernel.
	Kernel   kernel.Param
	InKernel bool
	// check validates a value; nil marks the record's identity (target,
	// portal, iface), which comes from the session and is not the user's
	// to set with -P or rd.iscsi.param.
	check func(name, v string) error
	// Secret values print as <redacted> everywhere.
	Secret bool
}

// Settable reports whether -P and rd.iscsi.param may set the value.
func (s *Setting) Settable() bool { return s.check != nil }

// Default is the value for a root disk session when the plan sets none.
func (s *Setting) Default() string { return first(s.Root, s.Record) }

// Check checks v against the setting's type and range.
func (s *Setting) Check(v string) error {
	e := &ParamError{Name: s.Name, Value: esc.Clip(v, 64)}
	if s.Secret {
		e.Value = redacted
	}
	switch {
	case s.check == nil:
		e.Reason = "set by the session itself, not by a parameter"
	default:
		if err := s.check(s.Name, v); err != nil {
			e.Reason = err.Error()
		}
	}
	if e.Reason != "" {
		return e
	}
	return nil
}

// ParamError is a session value refused by the table: one line naming the
// parameter, the value (unless secret, escaped) and what is allowed.
type ParamError struct {
	Name, Value, Reason string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("parameter %s=%s: %s", e.Name, e.Value, e.Reason)
}

func (e *ParamError) Unwrap() error { return errParamValue }

// Settings is the table, in the order iscsiadm 2.1.8 writes a node record
// (idbm.c, idbm_recinfo_node), which is also the order of the records we
// hand to iscsid.
var Settings = []Setting{
	{Name: "node.name"},
	{Name: "node.tpgt"},
	{Name: "node.startup", Record: "onboot", check: oneOf("automatic", "manual", "onboot")},
	{Name: "node.leading_login", Record: "No", check: yesNo},
	{Name: "iface.iscsi_ifacename"},
	// An offload host's own iface (iscsiadm's iface record): its address,
	// mask, gateway and VLAN go to the host before it connects
	// (SET_IFACE_PARAMS); written into a record only when set.
	{Name: "iface.ipaddress", check: ipv4Addr},
	// The plan's Transport (rd.iscsi.transport), set through the record
	// name by -P and rd.iscsi.param.
	{Name: "iface.transport_name", check: oneOf(transports...)},
	{Name: "iface.vlan_id", check: number(0, 4094)},
	{Name: "iface.subnet_mask", check: ipv4Mask},
	{Name: "iface.gateway", check: ipv4Addr},
	{Name: "node.discovery_port", Record: "0"},
	{Name: "node.discovery_type", Record: "static"},
	{Name: "node.session.initial_cmdsn", Record: "0"},
	{Name: "node.session.initial_login_retry_max", Record: "4", check: number(0, 1<<16)},
	{Name: "node.session.xmit_thread_priority", Record: "-20", check: signed(-20, 19)},
	// The kernel takes both in CREATE_SESSION (libiscsi rounds cmds_max
	// down to a power of two within 16 and 4096).
	{Name: "node.session.cmds_max", Record: "128", check: number(16, 4096)},
	{Name: "node.session.queue_depth", Record: "32", check: number(1, 1024)},
	{Name: "node.session.nr_sessions", Record: "1"},
	{Name: "node.session.auth.authmethod", Record: "None", check: oneOf("None", AuthCHAP)},
	{Name: "node.session.auth.chap_algs", Record: "MD5", check: chapAlgs},
	{Name: "node.session.auth.username", check: credential},
	{Name: "node.session.auth.password", check: credential, Secret: true},
	{Name: "node.session.auth.username_in", check: credential},
	{Name: "node.session.auth.password_in", check: credential, Secret: true},
	{Name: "node.session.timeo.replacement_timeout", Record: "120", Root: "86400", Multipath: "5", Kernel: kernel.ParamSessRecoveryTmo, InKernel: true, check: seconds},
	{Name: "node.session.err_timeo.abort_timeout", Record: "15", Kernel: kernel.ParamAbortTmo, InKernel: true, check: seconds},
	{Name: "node.session.err_timeo.lu_reset_timeout", Record: "30", Kernel: kernel.ParamLUResetTmo, InKernel: true, check: seconds},
	{Name: "node.session.err_timeo.tgt_reset_timeout", Record: "30", Kernel: kernel.ParamTgtResetTmo, InKernel: true, check: seconds},
	{Name: "node.session.err_timeo.host_reset_timeout", Record: "60", check: seconds},
	{Name: "node.session.iscsi.FastAbort", Record: "Yes", Kernel: kernel.ParamFastAbort, InKernel: true, check: yesNo},
	{Name: "node.session.iscsi.InitialR2T", Record: "No", check: iscsiKey},
	{Name: "node.session.iscsi.ImmediateData", Record: "Yes", check: iscsiKey},
	{Name: "node.session.iscsi.FirstBurstLength", Record: "262144", check: iscsiKey},
	{Name: "node.session.iscsi.MaxBurstLength", Record: "16776192", check: iscsiKey},
	{Name: "node.session.iscsi.DefaultTime2Retain", Record: "0", check: iscsiKey},
	{Name: "node.session.iscsi.DefaultTime2Wait", Record: "2", check: iscsiKey},
	{Name: "node.session.iscsi.MaxConnections", Record: "1", check: iscsiKey},
	{Name: "node.session.iscsi.MaxOutstandingR2T", Record: "1", check: iscsiKey},
	{Name: "node.session.iscsi.ERL", Record: "0", check: iscsiKey},
	{Name: "node.session.scan", Record: "auto", check: oneOf("auto", "manual")},
	{Name: "node.session.reopen_max", Record: "0", check: number(0, 1<<16)},
	{Name: "node.conn[0].address"},
	{Name: "node.conn[0].port"},
	{Name: "node.conn[0].startup", Record: "manual", check: oneOf("automatic", "manual", "onboot")},
	{Name: "node.conn[0].tcp.window_size", Record: "524288", check: number(0, 1<<30)},
	{Name: "node.conn[0].tcp.type_of_service", Record: "0", check: number(0, 255)},
	{Name: "node.conn[0].timeo.logout_timeout", Record: "15", check: seconds},
	{Name: "node.conn[0].timeo.login_timeout", Record: "30", check: seconds},
	{Name: "node.conn[0].timeo.auth_timeout", Record: "45", check: seconds},
	// No NOP-Outs for a root disk: nothing answers a NOP failure before
	// iscsid runs.
	{Name: "node.conn[0].timeo.noop_out_interval", Record: "5", Root: "0", Multipath: "5", Kernel: kernel.ParamRecvTmo, InKernel: true, check: seconds},
	{Name: "node.conn[0].timeo.noop_out_timeout", Record: "5", Root: "0", Multipath: "10", Kernel: kernel.ParamPingTmo, InKernel: true, check: seconds},
	{Name: "node.conn[0].iscsi.MaxXmitDataSegmentLength", Record: "0", check: xmitLength},
	{Name: "node.conn[0].iscsi.MaxRecvDataSegmentLength", Record: "262144", check: iscsiKey},
	{Name: "node.conn[0].iscsi.HeaderDigest", Record: "None", check: iscsiKey},
	{Name: "node.conn[0].iscsi.DataDigest", Record: "None", check: iscsiKey},
	{Name: "node.conn[0].iscsi.IFMarker", Record: "No", check: iscsiKey},
	{Name: "node.conn[0].iscsi.OFMarker", Record: "No", check: iscsiKey},
}

// LookupSetting returns the table's row for name, or nil.
func LookupSetting(name string) *Setting {
	if i := slices.IndexFunc(Settings, func(s Setting) bool { return s.Name == name }); i >= 0 {
		return &Settings[i]
	}
	return nil
}

// DefaultParams are the session settings for a root disk that differ from
// open-iscsi's built-in ones (the table's Root values): no NOP-Outs, and a
// day before a lost session fails its I/O, so that the root survives a
// target reboot or a long network outage.
func DefaultParams() map[string]string {
	m := map[string]string{}
	for _, s := range Settings {
		if s.Root != "" {
			m[s.Name] = s.Root
		}
	}
	return m
}

// ParamValue is the value of setting name for a session of p: the plan's,
// else the table's default for a root disk. An unknown name is "".
func (p *Plan) ParamValue(name string) string {
	if v := p.Params[name]; v != "" {
		return v
	}
	if s := LookupSetting(name); s != nil {
		return s.Default()
	}
	return ""
}

// CheckParam checks one -P or rd.iscsi.param setting against the table. An
// unknown name (a typo, most likely, or a setting iscsiboot does not act
// on) gives known false and no error: the caller warns and ignores it. A
// known name with a bad value, or one that is not the user's to set, is an
// error naming the parameter, the value and the range.
func CheckParam(name, value string) (known bool, err error) {
	s := LookupSetting(name)
	if s == nil {
		return false, nil
	}
	return true, s.Check(value)
}

// IgnoredParam is the warning for a setting CheckParam does not know.
func IgnoredParam(name string) string {
	return fmt.Sprintf("unknown parameter %s ignored: not a session setting iscsiboot knows", esc.Clip(name, 64))
}

// InAuth reports whether the setting is one of the CHAP user names and
// secrets, which the plan keeps in a target's Auth rather than in Params.
func (s *Setting) InAuth() bool {
	_, ok := authParams[s.Name]
	return ok
}

// isSecretParam tells which record names hold a CHAP secret:
// node.session.auth.password, ...password_in, and discovery's twins.
func isSecretParam(key string) bool {
	if s := LookupSetting(key); s != nil {
		return s.Secret
	}
	return strings.Contains(strings.ToLower(key), "password")
}

// Checks of the table's types.

func oneOf(vs ...string) func(string, string) error {
	return func(_, v string) error {
		if !slices.Contains(vs, v) {
			return fmt.Errorf("want %s", strings.Join(vs, ", "))
		}
		return nil
	}
}

var yesNo = oneOf("Yes", "No")

func number(lo, hi uint64) func(string, string) error {
	return func(_, v string) error {
		if _, ok := parseUint(v, lo, hi); !ok {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		return nil
	}
}

// ipv4Addr is an offload iface's address or gateway: the kernel's iface
// parameters are IPv4 here (iscsiadm's IPv6 ifaces are other records).
func ipv4Addr(_, v string) error {
	if a, err := netip.ParseAddr(v); err != nil || !a.Is4() || a.IsUnspecified() {
		return errors.New("want an IPv4 address")
	}
	return nil
}

// ipv4Mask is a dotted IPv4 netmask, its ones contiguous.
func ipv4Mask(_, v string) error {
	if _, ok := MaskBits(v); !ok {
		return errors.New("want an IPv4 netmask such as 255.255.255.0")
	}
	return nil
}

// MaskBits is the prefix length of the dotted IPv4 netmask v.
func MaskBits(v string) (int, bool) {
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	ones, bits := net.IPMask(b[:]).Size()
	return ones, bits == 32
}

// seconds are the record's timers: the kernel keeps them as int.
var seconds = number(0, 1<<31-1)

func signed(lo, hi int) func(string, string) error {
	return func(_, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		return nil
	}
}

// credential is a CHAP name or secret: what a login request may carry
// (RFC 7143, Section 12.1.3), at most 256 bytes as open-iscsi's record.
func credential(_, v string) error {
	if len(v) > 256 {
		return fmt.Errorf("%d bytes, at most 256", len(v))
	}
	if !esc.Printable(v) {
		return errors.New("a control character or invalid UTF-8 in it")
	}
	return nil
}

func chapAlgs(_, v string) error {
	for _, a := range strings.Split(v, ",") {
		if !slices.Contains([]string{"MD5", "SHA1", "SHA256", "SHA3-256"}, strings.TrimSpace(a)) {
			return errors.New("want a list of MD5, SHA1, SHA256, SHA3-256")
		}
	}
	return nil
}

func xmitLength(_, v string) error {
	if n, ok := parseUint(v, 0, 1<<24-1); !ok || (n != 0 && n < 512) {
		return errors.New("want 0 (the target's) or a length from 512 to 16777215")
	}
	return nil
}

// iscsiKey checks a record name that maps to an iSCSI key (RFC 7143,
// Section 13) with the login's own rules, so a value refused here is one
// the login would refuse.
func iscsiKey(name, v string) error { return core.CheckRecordValue(name, v) }

// LoginTries is how many login attempts each path gets, 0 for as many as
// the deadline allows: open-iscsi's node.session.initial_login_retry_max
// when the params set it (rd.iscsi.param, iscsistart -P, or
// rd.iscsi.login_retry_max, which the command line copies there), else
// LoginRetryMax. Like dracut, which sets the record only for a positive
// rd.iscsi.login_retry_max, a value of 0 sets no bound.
func (p *Plan) LoginTries() int {
	if v, ok := p.Params[loginRetryParam]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n
		}
	}
	return max(p.LoginRetryMax, 0)
}

// loginRetryParam is the open-iscsi record name of the login retry bound.
const loginRetryParam = "node.session.initial_login_retry_max"
