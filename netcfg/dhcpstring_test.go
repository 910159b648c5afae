//go:build !dropin

package netcfg

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/rfc1035label"
	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/internal/esc"
)

func TestCheckHostName(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"node1", true},
		{"node-1.example.test", true},
		{"example.test.", true},
		{"3com.test", true},
		{strings.Repeat("a", 63) + ".test", true},
		{strings.Repeat("a.", 126) + "b", true}, // 253 bytes
		{"", false},
		{".", false},
		{"a..b", false},
		{".a", false},
		{"-a", false},
		{"a-", false},
		{"a.-b.c", false},
		{strings.Repeat("a", 64), false},
		{strings.Repeat("a.", 127), true}, // 253 bytes and the trailing dot
		{strings.Repeat("a.", 127) + "b", false},
		{"under_score", false},
		{"sp ace", false},
		{"node1\n", false},
		{"node1\x00", false},
		{"node\x1b[2J", false},
		{"grüße", false},
		{"a\xff", false},
	} {
		err := checkHostName(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("checkHostName(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, errBadHostName) || !strings.Contains(err.Error(), esc.Clip(tc.in, 80)) || !esc.Printable(err.Error())) {
			t.Errorf("checkHostName(%q) = %q: want one printable line with the escaped value and %q", tc.in, err, errBadHostName)
		}
	}
}

// TestLeaseFromACKStrings: every string a DHCPv4 server sends is checked against its option's syntax; a bad
// one is left out and named, escaped, in Dropped, and the rest of the lease stands.
func TestLeaseFromACKStrings(t *testing.T) {
	opt := func(code uint8, v string) dhcpv4.Modifier {
		return dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(code), []byte(v)))
	}
	tests := []struct {
		name    string
		mods    []dhcpv4.Modifier
		file    string          // the BOOTP file field
		want    func(l *lease4) // the fields kept
		dropped []string        // "option N" and the escaped value, per Dropped line
	}{
		{
			name:    "initiator with newline",
			mods:    []dhcpv4.Modifier{opt(203, "iqn.2025-01.test:a\nInitiatorName=iqn.2025-01.evil:x")},
			dropped: []string{`option 203 (iSCSI initiator name) dropped: iSCSI name "iqn.2025-01.test:a\nInitiatorName=iqn.2025-01.evil:x"`},
		},
		{
			name:    "initiator with NUL: a forged login key",
			mods:    []dhcpv4.Modifier{opt(203, "iqn.2025-01.test:a\x00TargetName=iqn.2025-01.evil:x")},
			dropped: []string{`option 203 (iSCSI initiator name) dropped: iSCSI name "iqn.2025-01.test:a\x00TargetName=iqn.2025-01.evil:x"`},
		},
		{
			name: "initiator in option 43 with newline",
			mods: []dhcpv4.Modifier{dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionVendorSpecificInformation,
				append([]byte{203, 20}, "iqn.2025-01.test:a\nb"...)))},
			dropped: []string{`option 43 (sub-option 203, iSCSI initiator name) dropped: iSCSI name "iqn.2025-01.test:a\nb"`},
		},
		{
			name: "host name, domain and search with control bytes",
			mods: []dhcpv4.Modifier{
				opt(12, "node1\nHOSTNAME=evil"),
				opt(15, "example.test\nnameserver 192.0.2.66"),
				dhcpv4.WithOption(dhcpv4.OptDomainSearch(&rfc1035label.Labels{Labels: []string{"lab.test", "x\x1b[2J.test"}})),
			},
			want: func(l *lease4) { l.Search = []string{"lab.test"} },
			dropped: []string{
				`option 15 (domain name) dropped: "example.test\nnameserver 192.0.2.66"`,
				`option 119 (domain search) dropped: "x\x1b[2J.test"`,
				`option 12 (host name) dropped: "node1\nHOSTNAME=evil"`,
			},
		},
		{
			name:    "host name not RFC 1123",
			mods:    []dhcpv4.Modifier{opt(12, "my_host"), opt(15, "exa mple.test")},
			dropped: []string{`option 15 (domain name) dropped: exa mple.test: not an RFC 1123`, `option 12 (host name) dropped: my_host: not an RFC 1123`},
		},
		{
			name:    "root path and boot file with control bytes",
			mods:    []dhcpv4.Modifier{opt(17, "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1\nROOTSERVER=x"), opt(67, "boot\x7f.ipxe")},
			dropped: []string{`option 17 (root path) dropped: "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1\nROOTSERVER=x"`, `option 67 (boot file name) dropped: "boot\x7f.ipxe"`},
		},
		{
			name:    "file field with an escape",
			file:    "boot\x1b]0;x\a",
			dropped: []string{`file field (boot file name) dropped: "boot\x1b]0;x\a"`},
		},
		{
			name: "trailing NULs are padding; a fully qualified name is fine",
			mods: []dhcpv4.Modifier{opt(12, "node1\x00"), opt(15, "example.test.\x00\x00"), opt(203, "iqn.2025-01.test:init\x00"),
				opt(17, "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1\x00")},
			want: func(l *lease4) {
				l.Hostname, l.Domain, l.Initiator = "node1", "example.test.", "iqn.2025-01.test:init"
				l.RootPath = "iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods := append([]dhcpv4.Modifier{dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithYourIP(net.IPv4(10, 0, 0, 2))}, tt.mods...)
			ack, err := dhcpv4.New(mods...)
			if err != nil {
				t.Fatal(err)
			}
			ack.BootFileName = tt.file
			// Through the wire format, as from a server.
			if ack, err = dhcpv4.FromBytes(ack.ToBytes()); err != nil {
				t.Fatal(err)
			}
			got, err := leaseFromACK(ack)
			if err != nil {
				t.Fatal(err)
			}
			want := lease4{Addr: got.Addr, LeaseTime: got.LeaseTime}
			if tt.want != nil {
				tt.want(&want)
			}
			if diff := cmp.Diff(want, got, cmpAddr, cmpPrefix, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Dropped" }, cmp.Ignore())); diff != "" {
				t.Errorf("lease (-want +got):\n%s", diff)
			}
			if len(got.Dropped) != len(tt.dropped) {
				t.Fatalf("dropped %q, want %d lines", got.Dropped, len(tt.dropped))
			}
			for i, d := range got.Dropped {
				if !strings.HasPrefix(d, "DHCPv4 ") || !strings.Contains(d, tt.dropped[i]) || !esc.Printable(d) {
					t.Errorf("dropped line %q: want one printable line with %q", d, tt.dropped[i])
				}
			}
		})
	}
}

// replyWithSearch is a DHCPv6 REPLY with an address and option 24 holding raw, through the wire format so
// that option 24 is parsed as a client parses it; an error when the client would not parse it.
func replyWithSearch(t testing.TB, raw []byte) (*dhcpv6.Message, error) {
	return replyWithOption(t, dhcpv6.OptionDomainSearchList, raw)
}

// replyWithOption is a DHCPv6 REPLY with an address and option code holding raw, through the wire format.
func replyWithOption(t testing.TB, code dhcpv6.OptionCode, raw []byte) (*dhcpv6.Message, error) {
	m, err := dhcpv6.NewMessage(dhcpv6.WithIANA(dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8::100"), ValidLifetime: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	m.MessageType = dhcpv6.MessageTypeReply
	m.AddOption(&dhcpv6.OptionGeneric{OptionCode: code, OptionData: raw})
	return dhcpv6.MessageFromBytes(m.ToBytes())
}

func TestLeaseFromReplySearch(t *testing.T) {
	raw := (&rfc1035label.Labels{Labels: []string{"lab.test", "evil\nnameserver.test", "b\x00d.test", "ok.test"}}).ToBytes()
	reply, err := replyWithSearch(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	l, err := leaseFromReply(reply)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lab.test", "ok.test"}, l.Search); diff != "" {
		t.Errorf("search (-want +got):\n%s", diff)
	}
	want := []string{`DHCPv6 option 24 (domain search) dropped: "evil\nnameserver.test"`, `DHCPv6 option 24 (domain search) dropped: "b\x00d.test"`}
	if len(l.Dropped) != len(want) {
		t.Fatalf("dropped %q, want %q", l.Dropped, want)
	}
	for i := range want {
		if !strings.HasPrefix(l.Dropped[i], want[i]) {
			t.Errorf("dropped %q, want %q", l.Dropped[i], want[i])
		}
	}
}

// checkLeaseStrings fails t unless every string of l has its option's syntax and every Dropped line is one
// printable line.
func checkLeaseStrings(t *testing.T, strs map[string]string, search []string, dropped []string) {
	t.Helper()
	for field, v := range strs {
		var err error
		switch field {
		case "Initiator":
			if v != "" {
				err = core.CheckName(v)
			}
		case "Hostname", "Domain":
			if v != "" {
				err = checkHostName(v)
			}
		default:
			if !esc.Printable(v) {
				err = errNotPrintable
			}
		}
		if err != nil {
			t.Fatalf("lease %s %q kept: %v", field, v, err)
		}
	}
	for _, s := range search {
		if err := checkHostName(s); err != nil {
			t.Fatalf("search %q kept: %v", s, err)
		}
	}
	for _, d := range dropped {
		if !esc.Printable(d) {
			t.Fatalf("dropped line %q is not one printable line", d)
		}
	}
}

// FuzzLeaseStrings: any bytes in any of the string options netcfg keeps (and in option 43, which may carry
// the initiator name) give a lease whose strings all have their syntax, or are dropped with a printable line.
func FuzzLeaseStrings(f *testing.F) {
	f.Add(byte(203), []byte("iqn.2025-01.test:a\x00TargetName=iqn.x"))
	f.Add(byte(203), []byte("iqn.2025-01.test:init"))
	f.Add(byte(12), []byte("node1\nHOSTNAME=x"))
	f.Add(byte(15), []byte("example.test."))
	f.Add(byte(17), []byte("iscsi:10.0.0.1::3260:1:iqn.2025-01.test:disk1"))
	f.Add(byte(43), []byte{203, 3, 'i', '\n', 'x'})
	f.Add(byte(119), []byte{3, 'l', '\n', 'b', 4, 't', 'e', 's', 't', 0})
	f.Add(byte(67), []byte("boot\x1b.ipxe"))
	codes := []uint8{12, 15, 17, 43, 67, 119, 203}
	f.Fuzz(func(t *testing.T, code byte, value []byte) {
		c := codes[int(code)%len(codes)]
		if len(value) > 255 {
			value = value[:255]
		}
		ack, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithYourIP(net.IPv4(10, 0, 0, 2)),
			dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(c), value)))
		if err != nil {
			t.Fatal(err)
		}
		ack.BootFileName = string(value[:min(len(value), 127)])
		if ack, err = dhcpv4.FromBytes(ack.ToBytes()); err != nil {
			return
		}
		l, err := leaseFromACK(ack)
		if err != nil {
			t.Fatal(err)
		}
		checkLeaseStrings(t, map[string]string{"Initiator": l.Initiator, "Hostname": l.Hostname, "Domain": l.Domain,
			"RootPath": l.RootPath, "BootFile": l.BootFile}, l.Search, l.Dropped)
		// A value that has its syntax is kept as sent, but for trailing NUL padding.
		v := strings.TrimRight(string(value), "\x00")
		if c == 203 && core.CheckName(v) == nil && l.Initiator != v {
			t.Fatalf("initiator %q dropped", v)
		}
		if c == 12 && checkHostName(v) == nil && l.Hostname != v {
			t.Fatalf("host name %q dropped", v)
		}
	})
}

// FuzzLeaseFromReply: option 24, then option 59, of a DHCPv6 reply, any bytes. Inputs are cut at 255 bytes: the label
// decoder's time grows with the square of the length (compression pointers), which at the client's 1500-byte
// read buffer is still milliseconds but would stall the fuzzer on minimizing.
func FuzzLeaseFromReply(f *testing.F) {
	f.Add((&rfc1035label.Labels{Labels: []string{"lab.test", "x\ny"}}).ToBytes())
	f.Add([]byte{0xc0, 0x00})
	f.Add([]byte("iscsi:[2001:db8::1]::3260:1:iqn.2025-01.test:disk1\nx"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 255 {
			return
		}
		if reply, err := replyWithOption(t, dhcpv6.OptionBootfileURL, raw); err == nil {
			l, err := leaseFromReply(reply)
			if err != nil {
				t.Fatal(err)
			}
			if l.RootPath != "" && (l.RootPath != l.BootFile || !strings.HasPrefix(l.RootPath, "iscsi:")) {
				t.Fatalf("root path %q from boot file URL %q", l.RootPath, l.BootFile)
			}
			checkLeaseStrings(t, map[string]string{"BootFile": l.BootFile}, nil, l.Dropped)
		}
		reply, err := replyWithSearch(t, raw)
		if err != nil {
			return
		}
		l, err := leaseFromReply(reply)
		if err != nil {
			t.Fatal(err)
		}
		checkLeaseStrings(t, nil, l.Search, l.Dropped)
	})
}

// TestLeaseFromReplyBootFileURL: option 59 is the root path when it is an iscsi: URL, only the boot file
// otherwise, and dropped, named on one line, when it holds a control byte.
func TestLeaseFromReplyBootFileURL(t *testing.T) {
	tests := []struct {
		url                string
		bootFile, rootPath string
		dropped            bool
	}{
		{"iscsi:[2001:db8::1]::3260:1:iqn.2025-01.test:disk1", "iscsi:[2001:db8::1]::3260:1:iqn.2025-01.test:disk1", "iscsi:[2001:db8::1]::3260:1:iqn.2025-01.test:disk1", false},
		{"tftp://[2001:db8::69]/ipxe.efi", "tftp://[2001:db8::69]/ipxe.efi", "", false},
		{"iscsi:[2001:db8::1]::3260:1:iqn.2025-01.test:disk1\nroot=/dev/evil", "", "", true},
	}
	for _, tt := range tests {
		m, err := dhcpv6.NewMessage(dhcpv6.WithIANA(dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8::100"), ValidLifetime: time.Hour}),
			dhcpv6.WithOption(dhcpv6.OptBootFileURL(tt.url)))
		if err != nil {
			t.Fatal(err)
		}
		m.MessageType = dhcpv6.MessageTypeReply
		reply, err := dhcpv6.MessageFromBytes(m.ToBytes())
		if err != nil {
			t.Fatal(err)
		}
		l, err := leaseFromReply(reply)
		if err != nil {
			t.Fatal(err)
		}
		if l.BootFile != tt.bootFile || l.RootPath != tt.rootPath {
			t.Errorf("%q: boot file %q, root path %q; want %q, %q", tt.url, l.BootFile, l.RootPath, tt.bootFile, tt.rootPath)
		}
		if dropped := len(l.Dropped) == 1 && strings.HasPrefix(l.Dropped[0], "DHCPv6 option 59 (boot file URL) dropped: ") &&
			esc.Printable(l.Dropped[0]); dropped != tt.dropped {
			t.Errorf("%q: dropped %q, want a line for option 59: %v", tt.url, l.Dropped, tt.dropped)
		}
	}
}
