package boot

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/netcfg"
	"github.com/iscsiboot/iscsiboot/plan"
)

// fakeLinks makes StartNetwork see the links the network tests name, on a
// host that has none of them.
func fakeLinks(t *testing.T) {
	orig := listLinks
	t.Cleanup(func() { listLinks = orig })
	listLinks = func() []presentLink {
		var out []presentLink
		for _, n := range []string{"eth0", "eth1", "fast0", "slow0"} {
			out = append(out, presentLink{Name: n, Physical: true})
		}
		return out
	}
}

// TestWantedLinks: what each ip= form waits for.
func TestWantedLinks(t *testing.T) {
	tests := []struct {
		cmdline string
		want    []string
	}{
		{"ip=dhcp", []string{anyLink}},
		{"ip=eth1:dhcp", []string{"eth1"}},
		{"ip=10.0.0.2::10.0.0.1:24::eth0:none ip=eth0:dhcp6", []string{"eth0"}},
		{"ifname=lan0:52:54:00:AB:CD:EF ip=lan0:dhcp", []string{"52:54:00:ab:cd:ef"}},
		{"vlan=eth0.5:eth0 ip=eth0.5:dhcp", []string{"eth0"}},
		{"ip=ibft", nil},
		{"netroot=iscsi:10.0.0.1::::iqn.2001-04.com.example:t", nil},
	}
	for _, tt := range tests {
		p, err := plan.FromCmdline(tt.cmdline)
		if err != nil {
			t.Fatalf("%s: %v", tt.cmdline, err)
		}
		if got := wantedLinks(p); !slices.Equal(got, tt.want) {
			t.Errorf("%s: wait for %q, want %q", tt.cmdline, got, tt.want)
		}
	}
}

// TestWaitLinks: the wait ends as soon as the links are there, and else,
// after its bound, with one line naming what is missing and what there is.
func TestWaitLinks(t *testing.T) {
	lo := presentLink{Name: "lo", MAC: "00:00:00:00:00:00"}
	eth0 := presentLink{Name: "eth0", MAC: "52:54:00:12:34:56", Physical: true}
	tests := []struct {
		cmdline string
		have    []presentLink
		late    []presentLink // appear after 300 ms
		err     string
	}{
		{"ip=dhcp", []presentLink{lo, eth0}, nil, ""},
		{"ip=dhcp", []presentLink{lo}, []presentLink{lo, eth0}, ""},
		{"ip=dhcp", []presentLink{lo}, nil,
			"network: no network interface after 1s (links: lo); is the NIC's driver in the image?"},
		{"ip=dhcp", nil, nil, "network: no network interface after 1s (links: none); is the NIC's driver in the image?"},
		{"ip=eth1:dhcp ip=eth2:dhcp", []presentLink{lo, eth0}, nil,
			"network: no interface eth1, no interface eth2 after 1s (links: lo eth0); is the NIC's driver in the image?"},
		{"ifname=lan0:52:54:00:ab:cd:ef ip=lan0:dhcp", []presentLink{lo, eth0}, nil,
			"network: no interface with MAC 52:54:00:ab:cd:ef after 1s (links: lo eth0); is the NIC's driver in the image?"},
		{"ifname=lan0:52:54:00:12:34:56 ip=lan0:dhcp", []presentLink{lo, eth0}, nil, ""},
	}
	for _, tt := range tests {
		p, err := plan.FromCmdline(tt.cmdline)
		if err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		list := func() []presentLink {
			if tt.late != nil && time.Since(begin) > 300*time.Millisecond {
				return tt.late
			}
			return tt.have
		}
		err = waitLinks(context.Background(), p, time.Second, list)
		took := time.Since(begin)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.cmdline, err)
		case tt.err != "" && err == nil:
			t.Errorf("%s: no error, want %q", tt.cmdline, tt.err)
		case err != nil:
			var me *MissingLinkError
			if !errors.As(err, &me) || !errors.Is(err, netcfg.ErrLinkNotFound) {
				t.Errorf("%s: %T does not wrap netcfg.ErrLinkNotFound", tt.cmdline, err)
			}
			me.Waited = me.Waited.Round(time.Second)
			if got := me.Error(); got != tt.err {
				t.Errorf("%s:\n got %s\nwant %s", tt.cmdline, got, tt.err)
			}
		}
		if tt.late != nil && (took < 300*time.Millisecond || took > 800*time.Millisecond) {
			t.Errorf("%s: the wait took %v, want it to end once the link appears (300 ms)", tt.cmdline, took)
		}
	}
}
