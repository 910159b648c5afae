package core

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"

	"github.com/iscsiboot/iscsiboot/internal/digest"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// CHAPAlg is a CHAP_A value: an algorithm number from the IANA PPP
// authentication algorithms registry (RFC 1994; RFC 7143, Section
// 12.1.3; SHA-1, SHA-256 and SHA3-256 as open-iscsi and LIO use them).
type CHAPAlg uint8

// CHAP algorithms.
const (
	CHAPMD5     CHAPAlg = 5
	CHAPSHA1    CHAPAlg = 6
	CHAPSHA256  CHAPAlg = 7
	CHAPSHA3256 CHAPAlg = 8
)

// AllCHAPAlgs lists the algorithms we implement, strongest first.
var AllCHAPAlgs = []CHAPAlg{CHAPSHA3256, CHAPSHA256, CHAPSHA1, CHAPMD5}

// DefaultCHAPAlgs is what we offer unless node.session.auth.chap_algs says
// otherwise: MD5 alone, as open-iscsi does, because tgt (1.0.85, Debian 12)
// takes CHAP_A=7 for SHA-1 rather than SHA-256 and then fails every login
// that offers the stronger list. Seen against tgtd in this project's tests.
var DefaultCHAPAlgs = []CHAPAlg{CHAPMD5}

func (a CHAPAlg) String() string {
	switch a {
	case CHAPMD5:
		return "MD5"
	case CHAPSHA1:
		return "SHA1"
	case CHAPSHA256:
		return "SHA256"
	case CHAPSHA3256:
		return "SHA3-256"
	}
	return fmt.Sprintf("CHAP_A=%d", uint8(a))
}

func (a CHAPAlg) newHash() hash.Hash {
	switch a {
	case CHAPMD5:
		return digest.NewMD5()
	case CHAPSHA1:
		return digest.NewSHA1()
	case CHAPSHA256:
		return digest.NewSHA256()
	case CHAPSHA3256:
		return digest.NewSHA3256()
	}
	return nil
}

// ParseCHAPAlgs reads open-iscsi's node.session.auth.chap_algs setting,
// e.g. "MD5,SHA256", and returns it strongest first: the target takes the
// first it supports (CHAP_A is a list key, RFC 7143, Section 6.2), so the
// strongest both sides have wins.
func ParseCHAPAlgs(s string) ([]CHAPAlg, error) {
	want := map[CHAPAlg]bool{}
	for _, name := range strings.Split(s, ",") {
		found := false
		for _, a := range AllCHAPAlgs {
			if strings.EqualFold(strings.TrimSpace(name), a.String()) {
				want[a], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("chap_algs %q: unknown algorithm %q, want SHA3-256, SHA256, SHA1 or MD5", s, name)
		}
	}
	var algs []CHAPAlg
	for _, a := range AllCHAPAlgs {
		if want[a] {
			algs = append(algs, a)
		}
	}
	return algs, nil
}

// Limits of CHAP values (RFC 7143, Section 12.1.3: C and R are at most
// 1024 bytes; open-iscsi's AUTH_STR_MAX_LEN bounds names and secrets).
const (
	maxCHAPBinary   = 1024
	maxSecretLen    = 256
	minSecretLen    = 12 // 96 bits without IPsec (RFC 3720, Section 8.2.1)
	challengeLength = 16 // what open-iscsi sends; tgt refuses longer ones
)

// Auth is the CHAP configuration of a login. Secrets never leave this
// struct in printable form: String and the error messages redact them.
type Auth struct {
	Username   string    // our CHAP_N (node.session.auth.username)
	Secret     string    // our secret (node.session.auth.password)
	UsernameIn string    // the name the target must present (username_in)
	SecretIn   string    // the target's secret (password_in)
	Algorithms []CHAPAlg // offer order; nil means DefaultCHAPAlgs
}

// Enabled reports whether CHAP is configured.
func (a *Auth) Enabled() bool { return a.Username != "" || a.Secret != "" }

// Mutual reports whether the target must authenticate itself too.
func (a *Auth) Mutual() bool { return a.UsernameIn != "" || a.SecretIn != "" }

func (a Auth) String() string {
	r := func(s string) string {
		if s == "" {
			return ""
		}
		return "<redacted>"
	}
	return fmt.Sprintf("CHAP{user=%q secret=%s user_in=%q secret_in=%s}", a.Username, r(a.Secret), a.UsernameIn, r(a.SecretIn))
}

// Check validates the configuration before any byte is sent, and returns
// warnings an operator should see.
func (a *Auth) Check() (warnings []string, err error) {
	if !a.Enabled() && !a.Mutual() {
		return nil, nil
	}
	if a.Username == "" || a.Secret == "" {
		return nil, fmt.Errorf("CHAP: username %q needs both a username and a password: %w", a.Username, ErrAuth)
	}
	if a.Mutual() && (a.UsernameIn == "" || a.SecretIn == "") {
		return nil, fmt.Errorf("mutual CHAP: username_in %q needs both username_in and password_in: %w", a.UsernameIn, ErrAuth)
	}
	for _, s := range []struct{ name, v string }{{"password", a.Secret}, {"password_in", a.SecretIn}} {
		if len(s.v) > maxSecretLen {
			return nil, fmt.Errorf("CHAP %s: %d bytes, at most %d: %w", s.name, len(s.v), maxSecretLen, ErrAuth)
		}
		if s.v != "" && len(s.v) < minSecretLen {
			// open-iscsi takes short secrets and targets such as tgt
			// accept them, so refusing would break boots that work
			// today; the operator is told instead.
			warnings = append(warnings, fmt.Sprintf("CHAP %s is %d bytes, shorter than the 12 bytes RFC 3720 asks for without IPsec", s.name, len(s.v)))
		}
	}
	// RFC 7143, Section 12.1.3: a secret used to authenticate the
	// initiator must not authenticate a target, or a rogue target can
	// reflect our own challenge back at us.
	if a.Mutual() && a.Secret == a.SecretIn {
		return nil, fmt.Errorf("mutual CHAP: password and password_in are identical, RFC 7143 forbids it: %w", ErrAuth)
	}
	return warnings, nil
}

// chapResponse computes H(identifier || secret || challenge) (RFC 1994,
// Section 4.1).
func chapResponse(alg CHAPAlg, id byte, secret string, challenge []byte) []byte {
	h := alg.newHash()
	h.Write([]byte{id})
	h.Write([]byte(secret))
	h.Write(challenge)
	return h.Sum(nil)
}

// decodeBinary reads a binary-value: 0x hex or 0b base64 (RFC 7143,
// Section 5.1).
func decodeBinary(s string) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		h := s[2:]
		if len(h)%2 == 1 {
			h = "0" + h
		}
		b, err = hex.DecodeString(h)
	case len(s) > 2 && (s[:2] == "0b" || s[:2] == "0B"):
		b, err = base64.StdEncoding.DecodeString(s[2:])
	default:
		return nil, fmt.Errorf("binary value %s: want 0x hex or 0b base64", clip(s))
	}
	if err != nil {
		return nil, fmt.Errorf("binary value %s: %w", clip(s), err)
	}
	if len(b) == 0 || len(b) > maxCHAPBinary {
		return nil, fmt.Errorf("binary value of %d bytes: want 1 to %d", len(b), maxCHAPBinary)
	}
	return b, nil
}

func encodeHex(b []byte) string { return "0x" + hex.EncodeToString(b) }

// issued remembers the challenges this process sent to targets, so a
// target that hands one back as its own challenge (a reflection attack:
// asking us to answer our own question, perhaps on a parallel connection)
// is caught. Bounded: the oldest entries go first.
var issued = struct {
	sync.Mutex
	list [][]byte
}{}

const maxIssued = 256

func rememberChallenge(c []byte) {
	issued.Lock()
	defer issued.Unlock()
	if len(issued.list) == maxIssued {
		issued.list = issued.list[1:]
	}
	issued.list = append(issued.list, c)
}

func isOurChallenge(c []byte) bool {
	issued.Lock()
	defer issued.Unlock()
	for _, o := range issued.list {
		if bytes.Equal(o, c) {
			return true
		}
	}
	return false
}

// chapExchange is the initiator's side of one CHAP authentication
// (RFC 7143, Section 12.1.3).
type chapExchange struct {
	auth      *Auth
	alg       CHAPAlg
	id        byte   // our CHAP_I in mutual mode
	challenge []byte // our CHAP_C in mutual mode
}

// offer is the first step: CHAP_A with our algorithms.
func (x *chapExchange) offer() []KV {
	algs := x.auth.Algorithms
	if len(algs) == 0 {
		algs = DefaultCHAPAlgs
	}
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = strconv.Itoa(int(a))
	}
	return []KV{{"CHAP_A", strings.Join(s, ",")}}
}

// respond takes the target's CHAP_A, CHAP_I and CHAP_C and returns CHAP_N
// and CHAP_R, plus our own CHAP_I and CHAP_C when the target must
// authenticate too.
func (x *chapExchange) respond(kv map[string]string) ([]KV, error) {
	a, err := strconv.Atoi(kv["CHAP_A"])
	if err != nil {
		return nil, fmt.Errorf("target's CHAP_A=%s is not a number: %w", clip(kv["CHAP_A"]), ErrProtocol)
	}
	offered := x.auth.Algorithms
	if len(offered) == 0 {
		offered = DefaultCHAPAlgs
	}
	ok := false
	for _, o := range offered {
		if int(o) == a {
			ok = true
		}
	}
	if !ok {
		return nil, fmt.Errorf("target chose CHAP_A=%d, which we did not offer: %w", a, ErrAuth)
	}
	x.alg = CHAPAlg(a)
	idv, err := parseNumber(kv["CHAP_I"])
	if err != nil || idv > 255 {
		return nil, fmt.Errorf("target's CHAP_I=%s: want 0 to 255: %w", clip(kv["CHAP_I"]), ErrProtocol)
	}
	c, err := decodeBinary(kv["CHAP_C"])
	if err != nil {
		return nil, fmt.Errorf("target's CHAP_C: %w: %w", err, ErrProtocol)
	}
	if isOurChallenge(c) {
		return nil, fmt.Errorf("target sent back a challenge we issued (CHAP reflection): %w", ErrAuth)
	}
	out := []KV{
		{"CHAP_N", x.auth.Username},
		{"CHAP_R", encodeHex(chapResponse(x.alg, byte(idv), x.auth.Secret, c))},
	}
	if x.auth.Mutual() {
		x.challenge = make([]byte, challengeLength)
		var id [1]byte
		for {
			if err := randomBytes(x.challenge); err != nil {
				return nil, fmt.Errorf("mutual CHAP: our challenge: %w", err)
			}
			// Never reuse the target's challenge for the other direction
			// (RFC 7143, Section 12.1.3).
			if !bytes.Equal(x.challenge, c) {
				break
			}
		}
		if err := randomBytes(id[:]); err != nil {
			return nil, fmt.Errorf("mutual CHAP: our CHAP_I: %w", err)
		}
		x.id = id[0]
		rememberChallenge(x.challenge)
		out = append(out, KV{"CHAP_I", strconv.Itoa(int(x.id))}, KV{"CHAP_C", encodeHex(x.challenge)})
	}
	return out, nil
}

// verify checks the target's CHAP_N and CHAP_R in mutual mode.
func (x *chapExchange) verify(kv map[string]string) error {
	n, okN := kv["CHAP_N"]
	r, okR := kv["CHAP_R"]
	if !okN || !okR {
		return fmt.Errorf("mutual CHAP: target did not authenticate itself (no CHAP_N/CHAP_R): %w", ErrAuth)
	}
	if n != x.auth.UsernameIn {
		return fmt.Errorf("mutual CHAP: target presented name %s, want %s: %w", clip(n), esc.String(x.auth.UsernameIn), ErrAuth)
	}
	got, err := decodeBinary(r)
	if err != nil {
		return fmt.Errorf("mutual CHAP: target's CHAP_R: %w: %w", err, ErrAuth)
	}
	want := chapResponse(x.alg, x.id, x.auth.SecretIn, x.challenge)
	if !bytes.Equal(got, want) {
		return fmt.Errorf("mutual CHAP: target %s gave a wrong response (password_in mismatch): %w", esc.String(x.auth.UsernameIn), ErrAuth)
	}
	return nil
}
