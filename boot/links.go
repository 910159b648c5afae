package boot

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/netcfg"
	"github.com/iscsiboot/iscsiboot/plan"
)

// LinkWait bounds how long StartNetwork waits for the network interfaces
// the plan names to appear: a driver may still be probing its device
// (USB, a slow PCI function) when the boot starts. dracut waits for links
// too (rd.net.timeout.iflink); a NIC whose driver is not in the image
// never appears, and that must fail the boot at once with a line that
// says so, not as "network is unreachable" on every login retry.
const LinkWait = 10 * time.Second

// linkPollEvery is how often the wait looks at /sys/class/net again.
const linkPollEvery = 100 * time.Millisecond

// presentLink is one network interface the kernel has.
type presentLink struct {
	Name     string
	MAC      string // lower case, "" when unknown
	Physical bool   // backed by a device (/sys/class/net/NAME/device)
}

// MissingLinkError is the boot's one line when the interfaces ip= names
// never appeared: which ones, what the kernel has instead, and for how
// long the boot waited. It wraps netcfg.ErrLinkNotFound, on which the
// guest /init adds the modules it loaded (the missing driver is the usual
// cause).
type MissingLinkError struct {
	Missing []string      // "eth1", "52:54:00:12:34:56", or anyLink for ip=dhcp
	Present []string      // the links there are, "lo" included
	Waited  time.Duration // how long the boot waited for them
}

func (e *MissingLinkError) Error() string {
	have := "none"
	if len(e.Present) > 0 {
		have = strings.Join(e.Present, " ")
	}
	var what []string
	for _, m := range e.Missing {
		switch _, err := net.ParseMAC(m); {
		case m == anyLink:
			what = append(what, "no network interface")
		case err == nil:
			what = append(what, "no interface with MAC "+m)
		default:
			what = append(what, "no interface "+m)
		}
	}
	return fmt.Sprintf("network: %s after %v (links: %s); is the NIC's driver in the image?",
		strings.Join(what, ", "), e.Waited.Round(100*time.Millisecond), have)
}

func (e *MissingLinkError) Unwrap() error { return netcfg.ErrLinkNotFound }

// anyLink is what an ip= without an interface (ip=dhcp) waits for.
const anyLink = "any network interface"

// wantedLinks lists what the plan's configured interfaces need to exist: a
// name, a MAC address (lower case), or anyLink for an interface that names
// none. A VLAN needs its parent. Interfaces the firmware configures
// (ip=ibft) or that only name a link are not waited for, as netInterfaces
// does not configure them.
func wantedLinks(p *plan.Plan) []string {
	parentMAC := map[string]string{}
	for _, i := range p.Interfaces {
		if i.Name != "" && i.MAC != "" && i.VLAN == 0 {
			parentMAC[i.Name] = i.MAC
		}
	}
	var want []string
	add := func(s string) {
		if !slices.Contains(want, s) {
			want = append(want, s)
		}
	}
	for _, i := range p.Interfaces {
		if i.Method == "" || i.Method == plan.MethodIBFT {
			continue
		}
		name, mac := i.Name, i.MAC
		if i.Parent != "" {
			name, mac = i.Parent, parentMAC[i.Parent]
		}
		switch {
		case mac != "":
			add(strings.ToLower(mac))
		case name != "":
			add(name)
		default:
			add(anyLink)
		}
	}
	return want
}

// missingLinks returns the wanted links that are not present. A name
// matches a link's name, a MAC address its address (an ifname= rename has
// not happened yet), anyLink any link backed by a device.
func missingLinks(want []string, have []presentLink) []string {
	var missing []string
	for _, w := range want {
		if !slices.ContainsFunc(have, func(l presentLink) bool {
			switch w {
			case anyLink:
				return l.Physical
			case l.Name, l.MAC:
				return true
			}
			return false
		}) {
			missing = append(missing, w)
		}
	}
	return missing
}

// waitLinks waits, at most wait, until every link the plan needs exists,
// looking with list. It returns a *MissingLinkError naming those still
// missing.
func waitLinks(ctx context.Context, p *plan.Plan, wait time.Duration, list func() []presentLink) error {
	want := wantedLinks(p)
	if len(want) == 0 {
		return nil
	}
	begin := time.Now()
	t := time.NewTicker(linkPollEvery)
	defer t.Stop()
	for {
		have := list()
		missing := missingLinks(want, have)
		if len(missing) == 0 {
			return nil
		}
		if time.Since(begin) >= wait || ctx.Err() != nil {
			e := &MissingLinkError{Waited: time.Since(begin)}
			for _, m := range missing {
				e.Missing = append(e.Missing, esc.String(m))
			}
			for _, l := range have {
				e.Present = append(e.Present, esc.String(l.Name))
			}
			return e
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// listLinks is sysLinks; tests of StartNetwork without a network fake it.
var listLinks = sysLinks

// sysLinks lists the kernel's network interfaces from /sys/class/net.
func sysLinks() []presentLink {
	const dir = "/sys/class/net"
	ents, _ := os.ReadDir(dir)
	var out []presentLink
	for _, e := range ents {
		l := presentLink{Name: e.Name()}
		if b, err := os.ReadFile(filepath.Join(dir, e.Name(), "address")); err == nil {
			l.MAC = strings.ToLower(strings.TrimSpace(string(b)))
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "device")); err == nil {
			l.Physical = true
		}
		out = append(out, l)
	}
	return out
}
