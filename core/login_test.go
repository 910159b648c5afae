package core_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/core/coretest"
)

const (
	iqnInit = "iqn.2025-01.test:init"
	iqnDisk = "iqn.2025-01.test:disk1"
)

func start(t *testing.T, tgt *coretest.Target) string {
	t.Helper()
	addr, err := tgt.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tgt.Close)
	return addr
}

func tcpDial(ctx context.Context, addr string) (core.Transport, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return core.NewStreamTransport(c), nil
}

// login dials addr and logs in with cfg, closing the connection when the
// test ends.
func login(t *testing.T, addr string, cfg core.Config) (*core.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cfg.Portal = addr
	if cfg.InitiatorName == "" {
		cfg.InitiatorName = iqnInit
	}
	cfg.ISID = core.ISID(1)
	return core.Login(ctx, core.NewStreamTransport(c), &cfg)
}

func TestLoginNoAuthProbe(t *testing.T) {
	addr := start(t, &coretest.Target{Name: iqnDisk, TPGT: 1, LUNs: []uint64{0, 1}, Alias: "disk one"})
	s, err := login(t, addr, core.Config{TargetName: iqnDisk})
	if err != nil {
		t.Fatal(err)
	}
	if s.TSIH == 0 || s.AuthMethod != "None" || s.Params.MaxXmitDataSegmentLength != 65536 || !s.Params.HaveTPGT ||
		s.Params.TargetAlias != "disk one" {
		t.Errorf("session %+v", s)
	}
	ctx := context.Background()
	luns, err := s.ReportLUNs(ctx)
	if err != nil || len(luns) != 2 || luns[1] != 1 {
		t.Fatalf("REPORT LUNS %v, %v", luns, err)
	}
	q, err := s.Inquiry(ctx, 1)
	if err != nil || q.Vendor != "IET" || q.DeviceTypeName() != "disk" {
		t.Fatalf("INQUIRY %+v, %v", q, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLoginCHAP(t *testing.T) {
	const user, secret = "alice", "alice-secret-123"
	for _, alg := range core.AllCHAPAlgs {
		t.Run(alg.String(), func(t *testing.T) {
			addr := start(t, &coretest.Target{Name: iqnDisk, CHAPUser: user, CHAPSecret: secret, CHAPAlg: alg,
				MutualUser: "disk", MutualSecret: "disk-secret-456"})
			s, err := login(t, addr, core.Config{TargetName: iqnDisk, Auth: core.Auth{Username: user, Secret: secret,
				UsernameIn: "disk", SecretIn: "disk-secret-456", Algorithms: core.AllCHAPAlgs}})
			if err != nil {
				t.Fatal(err)
			}
			if s.AuthMethod != "CHAP" || s.CHAPAlg != alg {
				t.Errorf("auth %s %s", s.AuthMethod, s.CHAPAlg)
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target *coretest.Target
		cfg    core.Config
		is     error
		msg    string // in the one-line message
	}{
		{"wrong password", &coretest.Target{Name: iqnDisk, CHAPUser: "u", CHAPSecret: "right-secret-1"},
			core.Config{TargetName: iqnDisk, Auth: core.Auth{Username: "u", Secret: "wrong-secret-2"}},
			core.ErrAuth, "0201 authentication failure"},
		{"no credentials for a CHAP target", &coretest.Target{Name: iqnDisk, CHAPUser: "u", CHAPSecret: "right-secret-1"},
			core.Config{TargetName: iqnDisk}, core.ErrAuth, "0201"},
		{"unknown target", &coretest.Target{Name: iqnDisk}, core.Config{TargetName: "iqn.2025-01.test:nope"},
			core.ErrTargetNotFound, "0203 target not found"},
		{"target error", &coretest.Target{Name: iqnDisk, Status: 0x0301}, core.Config{TargetName: iqnDisk},
			core.ErrRetryable, "0301 service unavailable"},
		{"forbidden", &coretest.Target{Name: iqnDisk, Status: 0x0202}, core.Config{TargetName: iqnDisk},
			core.ErrAuth, "authorization failure"},
		{"wrong mutual response", &coretest.Target{Name: iqnDisk, CHAPUser: "u", CHAPSecret: "right-secret-1",
			MutualUser: "t", MutualSecret: "target-secret-2", WrongMutual: true},
			core.Config{TargetName: iqnDisk, Auth: core.Auth{Username: "u", Secret: "right-secret-1", UsernameIn: "t", SecretIn: "target-secret-2"}},
			core.ErrAuth, "wrong response"},
		{"mutual wanted, target does none", &coretest.Target{Name: iqnDisk},
			core.Config{TargetName: iqnDisk, Auth: core.Auth{Username: "u", Secret: "right-secret-1", UsernameIn: "t", SecretIn: "target-secret-2"}},
			core.ErrAuth, "unauthenticated target"},
		{"identical secrets both ways", &coretest.Target{Name: iqnDisk},
			core.Config{TargetName: iqnDisk, Auth: core.Auth{Username: "u", Secret: "same-secret-12", UsernameIn: "t", SecretIn: "same-secret-12"}},
			core.ErrAuth, "identical"},
		{"malformed text", &coretest.Target{Name: iqnDisk, MalformedReply: true}, core.Config{TargetName: iqnDisk},
			core.ErrProtocol, "not NUL-terminated"},
		{"never transits", &coretest.Target{Name: iqnDisk, NeverTransit: true}, core.Config{TargetName: iqnDisk},
			core.ErrProtocol, "did not finish"},
		{"dropped mid-login", &coretest.Target{Name: iqnDisk, DropAfterPDUs: 2}, core.Config{TargetName: iqnDisk},
			nil, "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := start(t, tc.target)
			_, err := login(t, addr, tc.cfg)
			var le *core.LoginError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want *LoginError", err, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.msg) || !strings.Contains(msg, addr) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line naming the portal and %q", msg, tc.msg)
			}
			for _, s := range []string{"right-secret-1", "wrong-secret-2", "target-secret-2", "same-secret-12"} {
				if strings.Contains(msg, s) {
					t.Errorf("secret in message %q", msg)
				}
			}
		})
	}
}

// TestCHAPReflection has a target hand our own mutual challenge back to us
// on a second connection: we must refuse to answer it.
func TestCHAPReflection(t *testing.T) {
	tgt := &coretest.Target{Name: iqnDisk, CHAPUser: "u", CHAPSecret: "right-secret-1", MutualUser: "t",
		MutualSecret: "target-secret-2"}
	addr := start(t, tgt)
	auth := core.Auth{Username: "u", Secret: "right-secret-1", UsernameIn: "t", SecretIn: "target-secret-2"}
	if _, err := login(t, addr, core.Config{TargetName: iqnDisk, Auth: auth}); err != nil {
		t.Fatal(err)
	}
	tgt.ReflectChallenge = true
	_, err := login(t, addr, core.Config{TargetName: iqnDisk, Auth: auth})
	if !errors.Is(err, core.ErrAuth) || !strings.Contains(err.Error(), "reflection") {
		t.Fatalf("error %v, want a CHAP reflection failure", err)
	}
}

func TestRedirects(t *testing.T) {
	final := start(t, &coretest.Target{Name: iqnDisk})
	hop := start(t, &coretest.Target{Name: iqnDisk, Status: 0x0101, RedirectTo: final + ",1"})
	perm := start(t, &coretest.Target{Name: iqnDisk, Status: 0x0102, RedirectTo: hop})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	closeT := func(t core.Transport) { t.(*core.StreamTransport).Close() }
	s, at, err := core.LoginRedirected(ctx, tcpDial, closeT, core.Config{InitiatorName: iqnInit, TargetName: iqnDisk, Portal: perm})
	if err != nil {
		t.Fatal(err)
	}
	s.Transport().(*core.StreamTransport).Close()
	if at != final || s.TSIH == 0 {
		t.Errorf("logged in at %s, want %s", at, final)
	}

	// Two targets pointing at each other: the hop limit ends it.
	a := &coretest.Target{Name: iqnDisk, Status: 0x0101}
	b := &coretest.Target{Name: iqnDisk, Status: 0x0101}
	aAddr, bAddr := start(t, a), start(t, b)
	a.RedirectTo, b.RedirectTo = bAddr, aAddr
	_, _, err = core.LoginRedirected(ctx, tcpDial, closeT, core.Config{InitiatorName: iqnInit, TargetName: iqnDisk, Portal: aAddr})
	if !errors.Is(err, core.ErrRetryable) || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("loop: %v", err)
	}
}

func TestSlowTargetTimesOut(t *testing.T) {
	addr := start(t, &coretest.Target{Name: iqnDisk, Delay: time.Second})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err = core.Login(ctx, core.NewStreamTransport(c), &core.Config{InitiatorName: iqnInit, TargetName: iqnDisk, Portal: addr})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want deadline exceeded", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("took %v after a 200ms deadline", d)
	}
}

func TestDigestsAndBadDigest(t *testing.T) {
	addr := start(t, &coretest.Target{Name: iqnDisk, Digests: true, LUNs: []uint64{1}})
	s, err := login(t, addr, core.Config{TargetName: iqnDisk, Offers: mustOverride(t, map[string]string{
		"HeaderDigest": "CRC32C,None", "DataDigest": "CRC32C,None"})})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Params.HeaderDigest || !s.Params.DataDigest {
		t.Fatalf("digests not negotiated: %+v", s.Params)
	}
	if luns, err := s.ReportLUNs(context.Background()); err != nil || len(luns) != 1 {
		t.Fatalf("REPORT LUNS with digests: %v %v", luns, err)
	}

	addr = start(t, &coretest.Target{Name: iqnDisk, Digests: true, CorruptDigest: true})
	s, err = login(t, addr, core.Config{TargetName: iqnDisk, Offers: mustOverride(t, map[string]string{"HeaderDigest": "CRC32C"})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("bad header digest: %v", err)
	}
}

func mustOverride(t *testing.T, m map[string]string) []core.KV {
	kvs, err := core.ApplyOverrides(core.DefaultOffers(), m)
	if err != nil {
		t.Fatal(err)
	}
	return kvs
}

func TestSendTargets(t *testing.T) {
	addr := start(t, &coretest.Target{DiscoveryTargets: []string{
		"iqn.2025-01.test:a 10.0.0.1:3260,1",
		"iqn.2025-01.test:b [2001:db8::1]:3260,2",
		"iqn.2025-01.test:c",
	}, SplitTextResponse: 16})
	s, err := login(t, addr, core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := s.SendTargets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := core.FormatDiscovery(ts)
	want := "10.0.0.1:3260,1 iqn.2025-01.test:a\n[2001:db8::1]:3260,2 iqn.2025-01.test:b\n" + addr + ",-1 iqn.2025-01.test:c\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestEndlessContinue has a target answer every login or text PDU with
// the C bit, with no text at all or one byte more each time: the login or
// the SendTargets must end with a protocol error naming the stage after a
// bounded number of PDUs, at once, not spin until the deadline.
func TestEndlessContinue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tgt     *coretest.Target
		text    bool   // the login succeeds, SendTargets is the victim
		msg     string // in the one-line error
		maxPDUs int    // what the target may have read in all
	}{
		{"login without text", &coretest.Target{Name: iqnDisk, EndlessContinue: true}, false,
			"security negotiation: login response with the C bit and no text", 1},
		{"login a byte at a time", &coretest.Target{Name: iqnDisk, EndlessContinue: true, ContinueBytes: 1}, false,
			"security negotiation did not finish after 32 login PDUs", 32},
		{"text without text", &coretest.Target{EndlessText: true}, true,
			"unfinished text response (F=0) with no text", 3},
		{"text a byte at a time", &coretest.Target{EndlessText: true, ContinueBytes: 1}, true,
			"text response still continuing after 128 PDUs", 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := start(t, tc.tgt)
			cfg := core.Config{TargetName: iqnDisk}
			if tc.text {
				cfg.TargetName = ""
			}
			begin := time.Now()
			s, err := login(t, addr, cfg)
			if tc.text {
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_, err = s.SendTargets(ctx)
			}
			took := time.Since(begin)
			if !errors.Is(err, core.ErrProtocol) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want a protocol violation with %q", err, tc.msg)
			}
			if took > 500*time.Millisecond {
				t.Errorf("took %v", took)
			}
			if n := tc.tgt.PDUs(); n > tc.maxPDUs {
				t.Errorf("target read %d PDUs, want at most %d", n, tc.maxPDUs)
			}
		})
	}
}

// TestLoginRefusesBadNames: a name that breaks the name syntax, or a value
// that would end its pair early and forge a key of its own, is refused
// before anything is sent, in one line naming the field and the escaped
// value.
func TestLoginRefusesBadNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  core.Config
		is   error
		msg  string
	}{
		{"NUL in initiator name", core.Config{InitiatorName: iqnInit + "\x00AuthMethod=None", TargetName: iqnDisk},
			core.ErrBadName, `InitiatorName: iSCSI name "iqn.2025-01.test:init\x00AuthMethod=None"`},
		{"a space in the name", core.Config{InitiatorName: "iqn.2025-01.test:i AuthMethod=None", TargetName: iqnDisk},
			core.ErrBadName, "InitiatorName: iSCSI name iqn.2025-01.test:i AuthMethod=None: a space"},
		{"newline in target name", core.Config{TargetName: iqnDisk + "\n10.0.0.9:3260,1 iqn.2025-01.evil:x"},
			core.ErrBadName, `TargetName: iSCSI name "iqn.2025-01.test:disk1\n10.0.0.9:3260,1 iqn.2025-01.evil:x"`},
		{"NUL in alias", core.Config{InitiatorAlias: "a\x00AuthMethod=None", TargetName: iqnDisk},
			core.ErrBadValue, `InitiatorAlias="a\x00AuthMethod=None"`},
		{"escape in CHAP name", core.Config{TargetName: iqnDisk, Auth: core.Auth{Username: "u\x1b[2J", Secret: "right-secret-1"}},
			core.ErrBadValue, `CHAP_N="u\x1b[2J"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := &coretest.Target{Name: iqnDisk, CHAPUser: tc.cfg.Auth.Username, CHAPSecret: tc.cfg.Auth.Secret}
			addr := start(t, tgt)
			_, err := login(t, addr, tc.cfg)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want one wrapping %v", err, tc.is)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.msg) || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
				t.Errorf("message %q: want one escaped line with %q", msg, tc.msg)
			}
			if strings.Contains(msg, "right-secret-1") {
				t.Errorf("secret in message %q", msg)
			}
			if tc.cfg.Auth.Username == "" {
				if n := tgt.PDUs(); n != 0 {
					t.Errorf("target read %d PDUs, want none", n)
				}
			}
		})
	}
}

// TestHostileTargetStrings: what a target sends for us to print or dial is
// checked where it is parsed, and errors quote it escaped.
func TestHostileTargetStrings(t *testing.T) {
	t.Run("alias with escape sequences is dropped with a warning", func(t *testing.T) {
		addr := start(t, &coretest.Target{Name: iqnDisk, Alias: "\x1b[2Jdisk\nLUN 1"})
		s, err := login(t, addr, core.Config{TargetName: iqnDisk})
		if err != nil {
			t.Fatal(err)
		}
		want := `TargetAlias "\x1b[2Jdisk\nLUN 1" is not printable UTF-8: ignored`
		if s.Params.TargetAlias != "" || len(s.Warnings) != 1 || s.Warnings[0] != want {
			t.Errorf("alias %q, warnings %q; want none and %q", s.Params.TargetAlias, s.Warnings, want)
		}
	})
	for _, tc := range []struct {
		name string
		kvs  []core.KV
		msg  string
		is   error
	}{
		{"newline in TargetName", []core.KV{{Key: "TargetName", Value: "iqn.2025-01.test:a\n10.6.6.6:3260,1 iqn.2025-01.evil:x"}},
			`SendTargets: TargetName: iSCSI name "iqn.2025-01.test:a\n10.6.6.6:3260,1 iqn.2025-01.evil:x"`, core.ErrBadName},
		{"empty TargetName", []core.KV{{Key: "TargetName", Value: ""}}, "SendTargets: TargetName: empty iSCSI name", core.ErrBadName},
		{"newline in TargetAddress", []core.KV{{Key: "TargetName", Value: iqnDisk}, {Key: "TargetAddress", Value: "10.0.0.1\nX:3260,1"}},
			`TargetAddress "10.0.0.1\nX:3260,1": host "10.0.0.1\nX" is not`, core.ErrProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := start(t, &coretest.Target{DiscoveryKVs: tc.kvs})
			s, err := login(t, addr, core.Config{})
			if err != nil {
				t.Fatal(err)
			}
			ts, err := s.SendTargets(context.Background())
			if !errors.Is(err, core.ErrProtocol) || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) ||
				strings.IndexFunc(err.Error(), unicode.IsControl) >= 0 {
				t.Errorf("SendTargets = %v, %v; want a protocol violation with %q", ts, err, tc.msg)
			}
		})
	}
	t.Run("newline in a redirect address", func(t *testing.T) {
		addr := start(t, &coretest.Target{Name: iqnDisk, Status: 0x0101, RedirectTo: "10.6.6.6\nLUN0:3260"})
		_, err := login(t, addr, core.Config{TargetName: iqnDisk})
		var re *core.RedirectError
		if errors.As(err, &re) || !errors.Is(err, core.ErrProtocol) ||
			!strings.Contains(err.Error(), `redirect: TargetAddress "10.6.6.6\nLUN0:3260"`) ||
			strings.IndexFunc(err.Error(), unicode.IsControl) >= 0 {
			t.Errorf("error %v (%T), want a protocol violation quoting the escaped address", err, err)
		}
	})
}
