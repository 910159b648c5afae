package netcfg

import (
	"context"
	"encoding/hex"
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// vlanLinkMessage is the RTM_NEWLINK the kernel sends for a VLAN link.
func vlanLinkMessage(t *testing.T, idx int32, name string, parent uint32, id uint16) []byte {
	t.Helper()
	h, _ := ifInfoMsg{Index: idx, Flags: unix.IFF_UP | unix.IFF_LOWER_UP}.MarshalBinary()
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.IFLA_IFNAME, name)
	ae.Bytes(unix.IFLA_ADDRESS, []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56})
	ae.Uint32(unix.IFLA_MTU, 1500)
	ae.Uint32(unix.IFLA_LINK, parent)
	ae.Nested(unix.IFLA_LINKINFO, func(nae *netlink.AttributeEncoder) error {
		nae.String(unix.IFLA_INFO_KIND, "vlan")
		nae.Nested(unix.IFLA_INFO_DATA, func(dae *netlink.AttributeEncoder) error {
			dae.Uint16(unix.IFLA_VLAN_ID, id)
			return nil
		})
		return nil
	})
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return append(h, b...)
}

// vlanRequest is what AddVLAN asked the kernel for.
type vlanRequest struct {
	Flags  netlink.HeaderFlags
	Name   string
	Parent uint32
	Kind   string
	ID     uint16
}

func decodeVLANRequest(t *testing.T, m netlink.Message) vlanRequest {
	t.Helper()
	r := vlanRequest{Flags: m.Header.Flags}
	ad, err := netlink.NewAttributeDecoder(m.Data[ifInfoMsgLen:])
	if err != nil {
		t.Fatal(err)
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.IFLA_IFNAME:
			r.Name = ad.String()
		case unix.IFLA_LINK:
			r.Parent = ad.Uint32()
		case unix.IFLA_LINKINFO:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case unix.IFLA_INFO_KIND:
						r.Kind = nad.String()
					case unix.IFLA_INFO_DATA:
						nad.Nested(func(dad *netlink.AttributeDecoder) error {
							for dad.Next() {
								if dad.Type() == unix.IFLA_VLAN_ID {
									r.ID = dad.Uint16()
								}
							}
							return nil
						})
					}
				}
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		t.Fatalf("%v\n%s", err, hex.Dump(m.Data))
	}
	return r
}

// TestAddVLANRequest checks the request AddVLAN sends against a fake kernel, so the encoding is tested on
// kernels without 802.1Q support too.
func TestAddVLANRequest(t *testing.T) {
	tests := []struct {
		name    string
		vlan    string // the name asked for; "" for the default
		errno   int    // the kernel's answer to RTM_NEWLINK
		have    uint16 // the VLAN id of the existing link the kernel then lists
		want    string // the name requested
		wantErr error
	}{
		{"created", "", 0, 100, "eth0.100", nil},
		{"created with a name (vlan=vlan100:eth0)", "vlan100", 0, 100, "vlan100", nil},
		{"exists, same VLAN", "", int(unix.EEXIST), 100, "eth0.100", nil},
		{"exists, other VLAN", "", int(unix.EEXIST), 200, "eth0.100", errVLANMismatch},
		{"no 8021q", "", int(unix.EOPNOTSUPP), 100, "eth0.100", errNoVLANSupport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []vlanRequest
			c := NewConn(nltest.Dial(func(req []netlink.Message) ([]netlink.Message, error) {
				switch req[0].Header.Type {
				case unix.RTM_NEWLINK:
					got = append(got, decodeVLANRequest(t, req[0]))
					return nltest.Error(tt.errno, req)
				case unix.RTM_GETLINK:
					h := netlink.Header{Type: unix.RTM_NEWLINK, Sequence: req[0].Header.Sequence, PID: nltest.PID}
					return nltest.Multipart([]netlink.Message{
						{Header: h, Data: vlanLinkMessage(t, 7, tt.want, 2, tt.have)},
						{Header: h, Data: vlanLinkMessage(t, 8, "other", 2, 5)},
					})
				}
				t.Fatalf("unexpected request type %d", req[0].Header.Type)
				return nil, nil
			}))
			defer c.Close()
			l, err := c.AddVLAN(context.Background(), Link{Index: 2, Name: "eth0"}, 100, tt.vlan)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AddVLAN = %v, want %v", err, tt.wantErr)
			}
			want := []vlanRequest{{
				Flags: netlink.Request | netlink.Acknowledge | netlink.Create | netlink.Excl,
				Name:  tt.want, Parent: 2, Kind: "vlan", ID: 100,
			}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if tt.wantErr == nil {
				wantLink := Link{Index: 7, Name: tt.want, MAC: net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56},
					MTU: 1500, Up: true, Carrier: true, Kind: "vlan", Parent: 2, VLANID: 100}
				if diff := cmp.Diff(wantLink, l); diff != "" {
					t.Errorf("link (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	ii := ifInfoMsg{Family: 0, Type: 1, Index: 42, Flags: unix.IFF_UP, Change: unix.IFF_UP}
	b, _ := ii.MarshalBinary()
	want := []byte{0, 0, 1, 0, 42, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0} // little-endian hosts
	if isLittleEndian() && string(b) != string(want) {
		t.Errorf("ifinfomsg bytes:\n%s\nwant:\n%s", hex.Dump(b), hex.Dump(want))
	}
	var ii2 ifInfoMsg
	if err := ii2.UnmarshalBinary(b); err != nil || ii2 != ii {
		t.Errorf("ifinfomsg round trip = %+v, %v; want %+v", ii2, err, ii)
	}
	ia := ifAddrMsg{Family: unix.AF_INET6, PrefixLen: 64, Flags: 0x80, Scope: 253, Index: 3}
	b, _ = ia.MarshalBinary()
	var ia2 ifAddrMsg
	if err := ia2.UnmarshalBinary(b); err != nil || ia2 != ia {
		t.Errorf("ifaddrmsg round trip = %+v, %v; want %+v", ia2, err, ia)
	}
	rt := rtMsg{Family: unix.AF_INET, DstLen: 32, Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: unix.RTN_UNICAST, Flags: 9}
	b, _ = rt.MarshalBinary()
	var rt2 rtMsg
	if err := rt2.UnmarshalBinary(b); err != nil || rt2 != rt {
		t.Errorf("rtmsg round trip = %+v, %v; want %+v", rt2, err, rt)
	}
	for _, short := range []interface{ UnmarshalBinary([]byte) error }{&ifInfoMsg{}, &ifAddrMsg{}, &rtMsg{}} {
		if err := short.UnmarshalBinary(make([]byte, 7)); !errors.Is(err, errShortMessage) {
			t.Errorf("%T.UnmarshalBinary(7 bytes) = %v, want %v", short, err, errShortMessage)
		}
	}
}

func isLittleEndian() bool {
	b, _ := ifInfoMsg{Index: 1}.MarshalBinary()
	return b[4] == 1
}

// FuzzParseRtnetlink: the parsers must reject, never panic on, whatever bytes come in.
func FuzzParseRtnetlink(f *testing.F) {
	f.Add(vlanLinkMessage(&testing.T{}, 7, "eth0.100", 2, 100))
	ah, _ := ifAddrMsg{Family: unix.AF_INET, PrefixLen: 24, Index: 2}.MarshalBinary()
	f.Add(append(ah, nltest.MustMarshalAttributes([]netlink.Attribute{{Type: unix.IFA_LOCAL, Data: []byte{10, 0, 0, 2}}})...))
	rh, _ := rtMsg{Family: unix.AF_INET, DstLen: 32}.MarshalBinary()
	f.Add(append(rh, nltest.MustMarshalAttributes([]netlink.Attribute{{Type: unix.RTA_DST, Data: []byte{10, 0, 0, 9}}})...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseLink(b)
		if a, err := parseAddress(b); err == nil && !a.Prefix.IsValid() {
			t.Fatalf("parseAddress accepted an invalid prefix %v", a.Prefix)
		}
		if r, err := parseRoute(b); err == nil && r.Dst.Bits() > r.Dst.Addr().BitLen() {
			t.Fatalf("parseRoute accepted %v", r.Dst)
		}
	})
}
