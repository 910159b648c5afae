package core

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

func TestParseText(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []KV
		err  error
	}{
		{"two pairs", "a=b\x00HeaderDigest=None,CRC32C\x00", []KV{{"a", "b"}, {"HeaderDigest", "None,CRC32C"}}, nil},
		{"empty value", "TargetAlias=\x00", []KV{{"TargetAlias", ""}}, nil},
		{"value with =", "X-a=b=c\x00", []KV{{"X-a", "b=c"}}, nil},
		{"padding NULs skipped", "a=b\x00\x00\x00\x00", []KV{{"a", "b"}}, nil},
		{"no equals", "junk\x00", nil, errNoEquals},
		{"unterminated", "a=b", nil, errUnterminated},
		{"key too long", strings.Repeat("k", 64) + "=v\x00", nil, errKeyTooLong},
		{"bad key char", "a b=c\x00", nil, errBadKeyName},
		{"value too long", "a=" + strings.Repeat("v", maxValueLen+1) + "\x00", nil, errValueTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseText([]byte(tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); err == nil && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// sendable is what EncodeText takes in a value, stated apart from it.
func sendable(v string) bool {
	return utf8.ValidString(v) && strings.IndexFunc(v, unicode.IsControl) < 0 && len(v) <= maxValueLen
}

func FuzzText(f *testing.F) {
	f.Add([]byte("a=b\x00c=d\x00"))
	f.Add([]byte("CHAP_C=0x0102\x00"))
	f.Add([]byte("TargetAlias=disk\x1b[2J\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kvs, err := ParseText(b)
		if err != nil {
			return
		}
		enc, err := EncodeText(kvs)
		if err != nil {
			clean := true
			for _, kv := range kvs {
				clean = clean && sendable(kv.Value)
			}
			if clean || !errors.Is(err, ErrBadValue) {
				t.Fatalf("EncodeText(%q): %v", kvs, err)
			}
			return
		}
		again, err := ParseText(enc)
		if err != nil {
			t.Fatalf("re-parse of encoded pairs: %v", err)
		}
		if !cmp.Equal(kvs, again) {
			t.Fatalf("round trip changed pairs")
		}
	})
}

// TestEncodeText: what we send is one pair per KV, whatever the values
// hold; a value that could split its pair or drive a console is refused.
func TestEncodeText(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   KV
		ok   bool
	}{
		{"name", KV{"InitiatorName", "iqn.2025-01.test:init"}, true},
		{"alias with space and UTF-8", KV{"InitiatorAlias", "Büro 3 \ufffd"}, true},
		{"empty value", KV{"TargetAlias", ""}, true},
		{"NUL forging a key", KV{"InitiatorName", "iqn.2025-01.test:init\x00AuthMethod=None"}, false},
		{"newline", KV{"InitiatorAlias", "a\nb"}, false},
		{"escape sequence", KV{"InitiatorAlias", "\x1b[2J"}, false},
		{"DEL", KV{"CHAP_N", "u\x7f"}, false},
		{"C1 control", KV{"CHAP_N", "u\u0085"}, false},
		{"bad UTF-8", KV{"InitiatorAlias", "\xff"}, false},
		{"too long", KV{"X-a", strings.Repeat("v", maxValueLen+1)}, false},
		{"bad key", KV{"a b", "c"}, false},
		{"key with NUL", KV{"a\x00b", "c"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeText([]KV{{"SessionType", "Normal"}, tc.kv})
			if !tc.ok {
				if !errors.Is(err, ErrBadValue) || b != nil || strings.ContainsAny(err.Error(), "\x00\n\x1b\x7f") {
					t.Fatalf("EncodeText(%q) = %q, %v; want nothing and one escaped line wrapping ErrBadValue", tc.kv, b, err)
				}
				return
			}
			got, err := ParseText(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]KV{{"SessionType", "Normal"}, tc.kv}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzEncodeText: a pair EncodeText takes reads back as that one pair and
// nothing else, and no pair holding a NUL is taken.
func FuzzEncodeText(f *testing.F) {
	f.Add("InitiatorName", "iqn.2025-01.test:init")
	f.Add("InitiatorName", "iqn.2025-01.test:init\x00AuthMethod=None")
	f.Add("TargetAlias", "disk\x1b[2J")
	f.Add("X-a", "b=c")
	f.Fuzz(func(t *testing.T, k, v string) {
		b, err := EncodeText([]KV{{k, v}})
		if err != nil {
			if !errors.Is(err, ErrBadValue) {
				t.Fatalf("error %v does not wrap ErrBadValue", err)
			}
			return
		}
		if strings.ContainsRune(k+v, 0) || !sendable(v) {
			t.Fatalf("EncodeText took %q=%q", k, v)
		}
		got, err := ParseText(b)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b, err)
		}
		if diff := cmp.Diff([]KV{{k, v}}, got); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

// TestNegotiateResponses runs the initiator's side of each key type of
// RFC 7143, Section 5.2.2 against target answers.
func TestNegotiateResponses(t *testing.T) {
	offers := DefaultOffers()
	for _, tc := range []struct {
		name   string
		reply  []KV
		check  func(Params) bool
		errSub string
	}{
		{"list picks offered", []KV{{"HeaderDigest", "None"}}, func(p Params) bool { return !p.HeaderDigest }, ""},
		{"list value not offered", []KV{{"HeaderDigest", "CRC32C"}}, nil, "not one of the values offered"},
		{"min lower accepted", []KV{{"MaxBurstLength", "65536"}}, func(p Params) bool { return p.MaxBurstLength == 65536 }, ""},
		{"min larger refused", []KV{{"MaxBurstLength", "16777215"}}, nil, "larger than offered"},
		{"min out of range", []KV{{"MaxBurstLength", "100"}}, nil, "from 512"},
		{"hex number", []KV{{"MaxBurstLength", "0x10000"}}, func(p Params) bool { return p.MaxBurstLength == 65536 }, ""},
		{"max larger accepted", []KV{{"DefaultTime2Wait", "5"}}, func(p Params) bool { return p.DefaultTime2Wait == 5 }, ""},
		{"max smaller refused", []KV{{"DefaultTime2Wait", "1"}}, nil, "smaller than offered"},
		{"OR: we said No, target Yes", []KV{{"InitialR2T", "Yes"}}, func(p Params) bool { return p.InitialR2T }, ""},
		{"AND: we said Yes, target No", []KV{{"ImmediateData", "No"}}, func(p Params) bool { return !p.ImmediateData }, ""},
		{"boolean junk", []KV{{"ImmediateData", "Maybe"}}, nil, "want Yes or No"},
		{"Reject falls back to default", []KV{{"MaxBurstLength", "Reject"}}, func(p Params) bool { return p.MaxBurstLength == 262144 }, ""},
		{"Irrelevant falls back to default", []KV{{"FirstBurstLength", "Irrelevant"}}, func(p Params) bool { return p.FirstBurstLength == 65536 }, ""},
		{"declarative MaxRecvDataSegmentLength", []KV{{"MaxRecvDataSegmentLength", "65536"}},
			func(p Params) bool {
				return p.MaxXmitDataSegmentLength == 65536 && p.MaxRecvDataSegmentLength == 262144
			}, ""},
		{"declarative out of range", []KV{{"MaxRecvDataSegmentLength", "10"}}, nil, "from 512"},
		{"first burst clamped to max burst", []KV{{"MaxBurstLength", "4096"}, {"FirstBurstLength", "262144"}},
			func(p Params) bool { return p.FirstBurstLength == 4096 }, ""},
		{"repeat refused", []KV{{"InitialR2T", "No"}, {"InitialR2T", "No"}}, nil, "sent twice"},
		{"tpgt", []KV{{"TargetPortalGroupTag", "3"}}, func(p Params) bool { return p.HaveTPGT && p.TargetPortalGroupTag == 3 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNegotiator(offers)
			_, err := n.respond(tc.reply)
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) || !errors.Is(err, ErrProtocol) {
					t.Fatalf("error %v, want one containing %q wrapping ErrProtocol", err, tc.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p := n.params(); !tc.check(p) {
				t.Errorf("params %+v", p)
			}
		})
	}
}

// TestNegotiateErrorsEscaped: an error that quotes a target's bad value
// stays one line without control bytes.
func TestNegotiateErrorsEscaped(t *testing.T) {
	for _, reply := range [][]KV{
		{{"MaxBurstLength", "1\n\x1b[2J"}},
		{{"MaxRecvDataSegmentLength", "1\n\x1b[2J"}},
		{{"ImmediateData", "Yes\r\nLUN 0"}},
		{{"HeaderDigest", "\x1b[2J"}},
	} {
		_, err := newNegotiator(DefaultOffers()).respond(reply)
		if err == nil || !esc.Printable(err.Error()) || !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: error %q, want an escaped protocol violation", reply, err)
		}
	}
}

// TestNegotiateTargetOffers covers keys the target offers first, which we
// must answer by the same rules.
func TestNegotiateTargetOffers(t *testing.T) {
	n := newNegotiator(DefaultOffers())
	got, err := n.respond([]KV{
		{"X-com.example.Foo", "1"},
		{"TaskReporting", "ResponseFence,RFC3720"},
		{"iSCSIProtocolLevel", "2"},
		{"TargetAlias", "disk one"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []KV{
		{"X-com.example.Foo", "NotUnderstood"},
		{"TaskReporting", "RFC3720"},
		{"iSCSIProtocolLevel", "0"},
	}
	if diff := cmp.Diff(want, got[:3]); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if n.params().TargetAlias != "disk one" {
		t.Errorf("TargetAlias not recorded")
	}
}

func TestApplyOverrides(t *testing.T) {
	got, err := ApplyOverrides(DefaultOffers(), map[string]string{
		"node.conn[0].iscsi.HeaderDigest":        "CRC32C,None",
		"node.session.iscsi.FirstBurstLength":    "65536",
		"node.session.timeo.replacement_timeout": "30",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, kv := range got {
		m[kv.Key] = kv.Value
	}
	if m["HeaderDigest"] != "CRC32C,None" || m["FirstBurstLength"] != "65536" {
		t.Errorf("overrides not applied: %v", m)
	}
	for _, bad := range []map[string]string{
		{"node.conn[0].iscsi.HeaderDigest": "MD5"},
		{"node.session.iscsi.MaxBurstLength": "1"},
		{"node.session.iscsi.ImmediateData": "yes please"},
		{"node.session.iscsi.ERL": "2"},
	} {
		if _, err := ApplyOverrides(DefaultOffers(), bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestCHAPResponse checks H(identifier || secret || challenge) (RFC 1994,
// Section 4.1) against digests computed independently with Python's
// hashlib.
func TestCHAPResponse(t *testing.T) {
	for _, tc := range []struct {
		alg       CHAPAlg
		id        byte
		secret    string
		challenge []byte
		want      string
	}{
		{CHAPMD5, 1, "secret", []byte{1, 2}, "0x18c6ee42cdcc2258144945ad28cad5a2"},
		{CHAPSHA256, 7, "pw", []byte{10}, "0x947b6ad563ab0268e22400416ec0f8439b4472d6f54ccbef6b49a89ddb8a7628"},
		{CHAPSHA3256, 7, "pw", []byte{10}, "0x3ea39eb52efff47241f84f66fc6d429d65c0d0d42046303f470be26a3137ddee"},
	} {
		if got := encodeHex(chapResponse(tc.alg, tc.id, tc.secret, tc.challenge)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.alg, got, tc.want)
		}
	}
	if n := len(chapResponse(CHAPSHA1, 0, "s", []byte{1})); n != 20 {
		t.Errorf("SHA1 digest of %d bytes", n)
	}
}

func TestDecodeBinary(t *testing.T) {
	for in, want := range map[string]string{"0x0102": "\x01\x02", "0X102": "\x01\x02", "0bAQI=": "\x01\x02"} {
		got, err := decodeBinary(in)
		if err != nil || string(got) != want {
			t.Errorf("decodeBinary(%q) = %x, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0x", "0xzz", "1234", "0b!!", "0x" + strings.Repeat("00", 1025)} {
		if _, err := decodeBinary(bad); err == nil {
			t.Errorf("decodeBinary(%q) accepted", clip(bad))
		}
	}
}

func TestAuthCheck(t *testing.T) {
	for _, tc := range []struct {
		a    Auth
		ok   bool
		warn int
	}{
		{Auth{}, true, 0},
		{Auth{Username: "u", Secret: "twelve-bytes"}, true, 0},
		{Auth{Username: "u", Secret: "short"}, true, 1},
		{Auth{Username: "u"}, false, 0},
		{Auth{Username: "u", Secret: "twelve-bytes", UsernameIn: "t"}, false, 0},
		{Auth{Username: "u", Secret: "twelve-bytes", UsernameIn: "t", SecretIn: "twelve-bytes"}, false, 0},
		{Auth{Username: "u", Secret: strings.Repeat("s", 257)}, false, 0},
	} {
		w, err := tc.a.Check()
		if (err == nil) != tc.ok || len(w) != tc.warn {
			t.Errorf("%v: warnings %v, error %v", tc.a, w, err)
		}
		if err != nil && (strings.Contains(err.Error(), "twelve-bytes") || strings.Contains(err.Error(), "sss")) {
			t.Errorf("secret in error: %v", err)
		}
	}
	if s := (Auth{Username: "u", Secret: "hunter2hunter2"}).String(); strings.Contains(s, "hunter2") {
		t.Errorf("String shows the secret: %s", s)
	}
}

func TestParseTargetAddress(t *testing.T) {
	for _, tc := range []struct {
		in, addr string
		tpgt     int
		ok       bool
	}{
		{"10.0.0.1:3260,1", "10.0.0.1:3260", 1, true},
		{"10.0.0.1", "10.0.0.1:3260", -1, true},
		{"[fe80::1]:3261,2", "[fe80::1]:3261", 2, true},
		{"[2001:db8::1]", "[2001:db8::1]:3260", -1, true},
		{"target.example.com:860,7", "target.example.com:860", 7, true},
		{"2001:db8::1,1", "", 0, false},
		{"[2001:db8::1:3260", "", 0, false},
		{"10.0.0.1:99999", "", 0, false},
		{"10.0.0.1:3260,x", "", 0, false},
		{":3260", "", 0, false},
		{"storage-1:03260", "storage-1:3260", -1, true},
		{"target.example.com.,2", "target.example.com.:3260", 2, true},
		{"[::ffff:10.0.0.1]:3260", "[::ffff:10.0.0.1]:3260", -1, true},
		{"10.0.0.1\n10.6.6.6:3260,1", "", 0, false},
		{"10.0.0.1:3260\nLUN 0", "", 0, false},
		{"\x1b[2J:3260", "", 0, false},
		{"host name:3260", "", 0, false},
		{"-host.example.com", "", 0, false},
		{"host..example.com", "", 0, false},
		{strings.Repeat("a", 64) + ".example.com", "", 0, false},
		{"t\u00e4st.example.com", "", 0, false},
		{"10.0.0.256", "", 0, false},
		{"[10.0.0.1]:3260", "", 0, false},
		{"[fe80::1%eth0]:3260", "", 0, false},
		{"10.0.0.1:0", "", 0, false},
	} {
		addr, tpgt, err := ParseTargetAddress(tc.in)
		if (err == nil) != tc.ok || addr != tc.addr || (tc.ok && tpgt != tc.tpgt) {
			t.Errorf("ParseTargetAddress(%q) = %q, %d, %v", tc.in, addr, tpgt, err)
		}
		if err != nil && !esc.Printable(err.Error()) {
			t.Errorf("ParseTargetAddress(%q): error %q not escaped", tc.in, err)
		}
	}
}

func FuzzTargetAddress(f *testing.F) {
	f.Add("10.0.0.1:3260,1")
	f.Add("[::1]:3260,1")
	f.Add("10.0.0.1\nX:3260,1")
	f.Add("target.example.com.:860")
	f.Fuzz(func(t *testing.T, s string) {
		addr, _, err := ParseTargetAddress(s)
		if err != nil {
			if !esc.Printable(err.Error()) {
				t.Fatalf("error %q not escaped", err)
			}
			return
		}
		if !esc.Printable(addr) || strings.ContainsAny(addr, " ,") {
			t.Fatalf("address %q from %q", addr, s)
		}
		if again, _, err := ParseTargetAddress(addr); err != nil || again != addr {
			t.Fatalf("result %q parses again as %q, %v", addr, again, err)
		}
	})
}

// FuzzCHAP feeds a target's CHAP_A, CHAP_I and CHAP_C, and its mutual
// CHAP_N and CHAP_R, to the initiator's side of the exchange.
func FuzzCHAP(f *testing.F) {
	f.Add("5", "7", "0x0102030405", "t", "0x00")
	f.Add("7", "0x10", "0bAQIDBA==", "t", "0b")
	f.Fuzz(func(t *testing.T, a, id, c, n, r string) {
		x := &chapExchange{auth: &Auth{Username: "u", Secret: "initiator-secret", UsernameIn: "t", SecretIn: "target-secret!"}}
		out, err := x.respond(map[string]string{"CHAP_A": a, "CHAP_I": id, "CHAP_C": c})
		if err != nil {
			return
		}
		if len(out) != 4 || out[1].Key != "CHAP_R" {
			t.Fatalf("answer %v", out)
		}
		if x.verify(map[string]string{"CHAP_N": n, "CHAP_R": r}) == nil {
			t.Fatalf("random mutual response %q accepted", r)
		}
	})
}

func TestParseCHAPAlgs(t *testing.T) {
	got, err := ParseCHAPAlgs("MD5, sha256,SHA3-256")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]CHAPAlg{CHAPSHA3256, CHAPSHA256, CHAPMD5}, got); diff != "" {
		t.Errorf("not strongest first (-want +got):\n%s", diff)
	}
	if _, err := ParseCHAPAlgs("MD5,MD4"); err == nil || !strings.Contains(err.Error(), `"MD4"`) {
		t.Errorf("MD4: %v", err)
	}
}
