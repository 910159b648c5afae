package core

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Config is what one connection's login needs.
type Config struct {
	InitiatorName  string
	InitiatorAlias string
	TargetName     string  // empty for a discovery session
	Portal         string  // host:port as dialled, for messages and redirects
	ISID           [6]byte // see ISID
	TSIH           uint16  // 0 for a new session (leading connection)
	CID            uint16
	CmdSN          uint32 // first CmdSN of the session
	Auth           Auth
	Offers         []KV // operational keys; nil means DefaultOffers or DiscoveryOffers
}

// ISID returns an ISID in open-iscsi's form: OUI format with open-iscsi's
// OUI 00:02:3d and a 24-bit qualifier, the kernel session id (RFC 7143,
// Section 11.12.5; open-iscsi's initiator.c). A session iscsid later
// reinstates then carries the same ISID, so the target sees the same
// I_T nexus.
func ISID(qualifier uint32) [6]byte {
	return [6]byte{0x00, 0x02, 0x3d, byte(qualifier >> 16), byte(qualifier >> 8), byte(qualifier)}
}

// Session is a logged-in connection in full feature phase.
type Session struct {
	Config     Config
	TSIH       uint16
	Params     Params
	AuthMethod string   // "None" or "CHAP"
	CHAPAlg    CHAPAlg  // the algorithm used, when CHAP
	Warnings   []string // things an operator should hear about, never secrets
	CmdSN      uint32   // next CmdSN to send
	ExpStatSN  uint32
	MaxCmdSN   uint32
	StatSN     uint32 // last StatSN received
	itt        uint32
	t          Transport
}

// Transport returns the transport the session runs over.
func (s *Session) Transport() Transport { return s.t }

// maxStagePDUs bounds the login PDUs we send in one stage, so that a
// target that never finishes a stage (never sets T, or sets C forever)
// fails the login at once instead of keeping a boot busy until its
// deadline. A real login needs few: the security stage of mutual CHAP
// takes three requests (AuthMethod, CHAP_A, CHAP_N and CHAP_R), and
// operational negotiation one or two; an answer continued with the C bit
// takes one more per 8192 bytes (the segment size in force during login,
// RFC 7143, Section 13.12), so even the 64 KiB we accept of one text
// (maxTextLen) takes 8 more. 32 leaves room for targets that ask for a few
// extra rounds.
const maxStagePDUs = 32

// loginChunk is the data we put in one login PDU: the target's receive
// limit during login is the RFC default of 8192 (Section 13.12).
const loginChunk = 8192

// Login runs the login phase of one connection over t: security
// negotiation (AuthMethod, CHAP), operational negotiation, and the move to
// full feature phase (RFC 7143, Sections 5.3 and 6). A target status other
// than success returns a *LoginError or a *RedirectError. Digests are
// switched on in t when negotiated and t is a *StreamTransport.
func Login(ctx context.Context, t Transport, cfg *Config) (*Session, error) {
	l := &login{cfg: cfg, t: t, s: &Session{Config: *cfg, CmdSN: cfg.CmdSN, itt: 1, t: t}}
	if err := l.run(ctx); err != nil {
		if _, ok := err.(*RedirectError); ok {
			return nil, err
		}
		if le, ok := err.(*LoginError); ok {
			return nil, le
		}
		return nil, &LoginError{Target: cfg.TargetName, Portal: cfg.Portal, Stage: l.stage, Err: err}
	}
	if st, ok := t.(*StreamTransport); ok {
		st.SetDigests(l.s.Params.HeaderDigest, l.s.Params.DataDigest)
		st.SetMaxRecvDataSegmentLength(int(l.s.Params.MaxRecvDataSegmentLength))
	}
	return l.s, nil
}

type login struct {
	cfg   *Config
	t     Transport
	s     *Session
	stage Stage
	pdus  int // login PDUs sent in this stage, bounded by maxStagePDUs
}

func (l *login) run(ctx context.Context) error {
	cfg := l.cfg
	if cfg.InitiatorName == "" {
		return fmt.Errorf("no initiator name")
	}
	// The names go into our first request: one with a NUL could carry a
	// key of its own (AuthMethod=None). Names from other machines were
	// held to CheckName where they came in; the user's own may be as
	// loose as open-iscsi lets them be, but never more than one word.
	if err := checkWireName(cfg.InitiatorName); err != nil {
		return fmt.Errorf("InitiatorName: %w", err)
	}
	if cfg.TargetName != "" {
		if err := checkWireName(cfg.TargetName); err != nil {
			return fmt.Errorf("TargetName: %w", err)
		}
	}
	warnings, err := cfg.Auth.Check()
	if err != nil {
		return err
	}
	l.s.Warnings = warnings
	offers := cfg.Offers
	if offers == nil {
		offers = DefaultOffers()
		if cfg.TargetName == "" {
			offers = DiscoveryOffers()
		}
	}
	neg := newNegotiator(offers)

	l.stage = StageSecurity
	sec := []KV{{"InitiatorName", cfg.InitiatorName}}
	if cfg.InitiatorAlias != "" {
		sec = append(sec, KV{"InitiatorAlias", cfg.InitiatorAlias})
	}
	if cfg.TargetName == "" {
		sec = append(sec, KV{"SessionType", "Discovery"})
	} else {
		sec = append(sec, KV{"SessionType", "Normal"}, KV{"TargetName", cfg.TargetName})
	}
	switch {
	case cfg.Auth.Mutual():
		sec = append(sec, KV{"AuthMethod", "CHAP"})
	case cfg.Auth.Enabled():
		sec = append(sec, KV{"AuthMethod", "CHAP,None"})
	default:
		sec = append(sec, KV{"AuthMethod", "None"})
	}
	resp, kvs, err := l.exchange(ctx, StageOperational, !cfg.Auth.Enabled(), sec)
	if err != nil {
		return err
	}
	m := map[string]string{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	if v, ok := m["TargetPortalGroupTag"]; ok {
		if _, err := neg.respond([]KV{{"TargetPortalGroupTag", v}}); err != nil {
			return err
		}
	}
	method, ok := m["AuthMethod"]
	if !ok {
		// A target that needs no authentication may answer nothing at
		// all and move on; that is None.
		method = "None"
	}
	l.s.AuthMethod = method
	switch method {
	case "None":
		if cfg.Auth.Mutual() {
			return fmt.Errorf("target chose AuthMethod=None but mutual CHAP is configured: refusing an unauthenticated target: %w", ErrAuth)
		}
		if cfg.Auth.Enabled() {
			l.s.Warnings = append(l.s.Warnings, "target asked for no authentication although a CHAP username is configured")
		}
	case "CHAP":
		if !cfg.Auth.Enabled() {
			return fmt.Errorf("target requires CHAP but no username and password are configured: %w", ErrAuth)
		}
		if resp, err = l.chap(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("target chose AuthMethod=%s, which we did not offer: %w", clip(method), ErrProtocol)
	}
	// roundTrip's count of PDUs per stage ends these loops.
	for !resp.Transit {
		if resp, _, err = l.exchange(ctx, StageOperational, true, nil); err != nil {
			return err
		}
	}

	l.stage, l.pdus = StageOperational, 0
	out := offers
	for {
		resp, kvs, err = l.exchange(ctx, StageFullFeature, true, out)
		if err != nil {
			return err
		}
		if out, err = neg.respond(kvs); err != nil {
			return err
		}
		if resp.Transit {
			break
		}
	}
	l.stage = StageFullFeature
	l.s.TSIH = resp.TSIH
	l.s.Params = neg.params()
	if err := checkRDMA(offers, l.s.Params); err != nil {
		return err
	}
	l.s.Warnings = append(l.s.Warnings, neg.warn...)
	if len(neg.pending) > 0 {
		keys := make([]string, 0, len(neg.pending))
		for k := range neg.pending {
			keys = append(keys, k)
		}
		l.s.Warnings = append(l.s.Warnings, "target did not answer "+strings.Join(keys, ", ")+"; RFC defaults apply")
	}
	return nil
}

// chap runs CHAP inside the security stage and returns the last response.
func (l *login) chap(ctx context.Context) (*LoginResponse, error) {
	x := &chapExchange{auth: &l.cfg.Auth}
	_, kvs, err := l.exchange(ctx, StageOperational, false, x.offer())
	if err != nil {
		return nil, err
	}
	out, err := x.respond(kvMap(kvs))
	if err != nil {
		return nil, err
	}
	l.s.CHAPAlg = x.alg
	resp, kvs, err := l.exchange(ctx, StageOperational, true, out)
	if err != nil {
		return nil, err
	}
	if l.cfg.Auth.Mutual() {
		if err := x.verify(kvMap(kvs)); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func kvMap(kvs []KV) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// exchange sends kvs as one login request (split over several PDUs with
// the C bit when long) and returns the target's whole answer, fetching the
// rest of a continued answer (RFC 7143, Section 5.3 and 11.12.2).
func (l *login) exchange(ctx context.Context, nsg Stage, transit bool, kvs []KV) (*LoginResponse, []KV, error) {
	data, err := EncodeText(kvs)
	if err != nil {
		return nil, nil, err
	}
	for {
		chunk := data
		more := len(chunk) > loginChunk
		if more {
			chunk = chunk[:loginChunk]
		}
		data = data[len(chunk):]
		resp, err := l.roundTrip(ctx, nsg, transit && !more, more, chunk)
		if err != nil {
			return nil, nil, err
		}
		if more {
			continue
		}
		all := resp.Data
		for resp.Continue {
			// A continued answer that brings no text is no progress
			// (RFC 7143, Section 11.13.1: C=1 says the text goes on).
			if len(resp.Data) == 0 {
				return nil, nil, fmt.Errorf("login response with the C bit and no text: %w", ErrProtocol)
			}
			if len(all) > maxTextLen {
				return nil, nil, fmt.Errorf("login response text over %d bytes: %w", maxTextLen, ErrProtocol)
			}
			if resp, err = l.roundTrip(ctx, nsg, false, false, nil); err != nil {
				return nil, nil, err
			}
			all = append(all, resp.Data...)
		}
		got, err := ParseText(all)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", err, ErrProtocol)
		}
		return resp, got, nil
	}
}

// roundTrip sends one login PDU and reads and checks the answer.
func (l *login) roundTrip(ctx context.Context, nsg Stage, transit, cont bool, data []byte) (*LoginResponse, error) {
	if l.pdus == maxStagePDUs {
		return nil, fmt.Errorf("%s did not finish after %d login PDUs: %w", l.stage, l.pdus, ErrProtocol)
	}
	l.pdus++
	req := &LoginRequest{
		Transit: transit, Continue: cont, CSG: l.stage, NSG: nsg, ISID: l.cfg.ISID, TSIH: l.cfg.TSIH,
		ITT: l.s.itt, CID: l.cfg.CID, CmdSN: l.s.CmdSN, ExpStatSN: l.s.ExpStatSN, Data: data,
	}
	if !transit {
		req.NSG = 0
	}
	if err := l.t.WritePDU(ctx, req.Encode()); err != nil {
		return nil, err
	}
	p, err := l.t.ReadPDU(ctx)
	if err != nil {
		return nil, err
	}
	if p.Opcode() == OpReject {
		var r Reject
		r.decode(p)
		return nil, fmt.Errorf("target rejected our login request: %s: %w", r.ReasonText(), ErrProtocol)
	}
	if p.Opcode() != OpLoginResp {
		return nil, fmt.Errorf("got %s during login: %w", p.Opcode(), ErrProtocol)
	}
	var resp LoginResponse
	resp.decode(p)
	if resp.StatusClass != StatusSuccess {
		return nil, l.statusErr(&resp)
	}
	switch {
	case resp.ITT != req.ITT:
		return nil, fmt.Errorf("login response ITT 0x%x, want 0x%x: %w", resp.ITT, req.ITT, ErrProtocol)
	case resp.VersionActive != 0 || resp.VersionMax != 0:
		return nil, fmt.Errorf("target speaks iSCSI version %d-%d, we speak 0: %w", resp.VersionActive, resp.VersionMax, ErrProtocol)
	case resp.CSG != l.stage:
		return nil, fmt.Errorf("login response in %s while we are in %s: %w", resp.CSG, l.stage, ErrProtocol)
	case resp.Transit && !transit:
		return nil, fmt.Errorf("target moved to the next stage without our transit bit: %w", ErrProtocol)
	case resp.Transit && resp.NSG != nsg:
		return nil, fmt.Errorf("target moved to %s, we asked for %s: %w", resp.NSG, nsg, ErrProtocol)
	case resp.Transit && resp.Continue:
		return nil, fmt.Errorf("login response with both transit and continue bits: %w", ErrProtocol)
	case l.cfg.TSIH != 0 && resp.TSIH != 0 && resp.TSIH != l.cfg.TSIH:
		return nil, fmt.Errorf("target answered TSIH %d for session %d: %w", resp.TSIH, l.cfg.TSIH, ErrProtocol)
	}
	if resp.Transit && resp.NSG == StageFullFeature && resp.TSIH == 0 {
		return nil, fmt.Errorf("target ended the login without a TSIH: %w", ErrProtocol)
	}
	l.s.StatSN = resp.StatSN
	l.s.ExpStatSN = resp.StatSN + 1
	l.s.MaxCmdSN = resp.MaxCmdSN
	return &resp, nil
}

func (l *login) statusErr(resp *LoginResponse) error {
	if resp.StatusClass == StatusRedirect {
		addr := ""
		tpgt := -1
		if kvs, err := ParseText(resp.Data); err == nil {
			for _, kv := range kvs {
				if kv.Key == "TargetAddress" {
					var err error
					if addr, tpgt, err = ParseTargetAddress(kv.Value); err != nil {
						return &LoginError{Target: l.cfg.TargetName, Portal: l.cfg.Portal, Stage: l.stage,
							Err: fmt.Errorf("redirect: %w: %w", err, ErrProtocol)}
					}
				}
			}
		}
		if addr == "" || (resp.StatusDetail != 0x01 && resp.StatusDetail != 0x02) {
			return &LoginError{Target: l.cfg.TargetName, Portal: l.cfg.Portal, Stage: l.stage,
				Class: resp.StatusClass, Detail: resp.StatusDetail,
				Err: fmt.Errorf("redirect without a usable TargetAddress: %w", ErrProtocol)}
		}
		return &RedirectError{Target: l.cfg.TargetName, Portal: l.cfg.Portal, Address: addr, TPGT: tpgt,
			Permanent: resp.StatusDetail == 0x02}
	}
	return &LoginError{Target: l.cfg.TargetName, Portal: l.cfg.Portal, Stage: l.stage,
		Class: resp.StatusClass, Detail: resp.StatusDetail, Err: statusError(resp.StatusClass, resp.StatusDetail)}
}

// DefaultPort is the iSCSI well-known port (RFC 7143, Section 13.8).
const DefaultPort = 3260

// ParseTargetAddress reads a TargetAddress value, domainname[:port][,tpgt]
// (RFC 7143, Section 13.8), into host:port and the portal group tag (-1
// when absent). The domainname must be an IPv4 address in dotted decimal,
// an IPv6 address in brackets, or a DNS host name (RFC 1123, Section 2.1):
// a target's address is dialled and printed, so nothing else gets through.
func ParseTargetAddress(v string) (addr string, tpgt int, err error) {
	bad := func(format string, args ...any) (string, int, error) {
		return "", 0, fmt.Errorf("TargetAddress %s: %s", clip(v), fmt.Sprintf(format, args...))
	}
	tpgt = -1
	hostport := v
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		n, err := strconv.ParseUint(v[i+1:], 10, 16)
		if err != nil {
			return bad("portal group tag %s not a number 0-65535", clip(v[i+1:]))
		}
		tpgt, hostport = int(n), v[:i]
	}
	host, port := hostport, strconv.Itoa(DefaultPort)
	switch {
	case strings.HasPrefix(hostport, "["):
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return bad("IPv6 address without closing bracket")
		}
		host = hostport[1:end]
		if rest := hostport[end+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return bad("junk after IPv6 address")
			}
			port = rest[1:]
		}
		// A zone names one of our interfaces, which a target cannot know.
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() || ip.Zone() != "" {
			return bad("%s is not an IPv6 address", clip(host))
		}
	case strings.Count(hostport, ":") > 1:
		return bad("IPv6 address must be in brackets")
	default:
		if h, p, ok := strings.Cut(hostport, ":"); ok {
			host, port = h, p
		}
		if ip, err := netip.ParseAddr(host); !(err == nil && ip.Is4()) && !hostName(host) {
			return bad("host %s is not an IPv4 address or a host name", clip(host))
		}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return bad("port %s not a number 1-65535", clip(port))
	}
	return net.JoinHostPort(host, strconv.FormatUint(p, 10)), tpgt, nil
}

// hostName tells whether s is a DNS host name (RFC 1123, Section 2.1):
// dot-separated labels of ASCII letters, digits and '-', neither starting
// nor ending with '-', 1 to 63 bytes each, at most 253 in all, with an
// optional final dot; the last label not all digits, so that a mistyped
// IPv4 address (10.0.0.256) is not taken for a name (RFC 3696, Section 2).
func hostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return !digits(labels[len(labels)-1])
}
