package boot

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// nicSetup is what -N does to one firmware NIC, as open-iscsi's iscsistart
// -N does it (usr/netdev.c, net_setup_netdev): the table's address, no
// default route, and a host route to each of its targets, through the
// table's gateway when the target is off the NIC's subnet. Scripts that
// call -N (Debian's local-top/iscsi) add the default route and run DHCP
// themselves, and fail on a route or a lease already there.
type nicSetup struct {
	Iface  netcfg.Interface
	Routes []hostRoute
	// DHCP tells that the firmware got the address by DHCP: it is set as
	// the table records it, and the script's own DHCP client renews it.
	DHCP bool
}

// hostRoute is a route to one target address; Gateway is invalid for a
// target on the NIC's own subnet.
type hostRoute struct {
	Target  netip.Addr
	Gateway netip.Addr
}

// nicSetups returns the setup of every NIC the table's valid targets name,
// in table order, each once, and warnings for what cannot be set up: a NIC
// resolve does not find, or one the table gives no address.
func nicSetups(t *ibft.Table, resolve ibft.Resolver) ([]nicSetup, []string) {
	var out []nicSetup
	var warns []string
	at := map[string]int{} // MAC -> index in out
	for _, bt := range t.BootTargets() {
		n := bt.NIC
		if n == nil {
			continue
		}
		mac := strings.ToLower(n.MAC.String())
		i, seen := at[mac]
		if !seen {
			if !n.Address.IsValid() {
				warns = append(warns, fmt.Sprintf("ibft: NIC %d (%s): the table has no address for it", n.Index, mac))
				at[mac] = -1
				continue
			}
			ifc := netcfg.Interface{MAC: mac, Method: netcfg.MethodStatic, Addresses: []netip.Prefix{n.Address},
				VLAN: int(n.VLAN), NoDefaultRoute: true}
			if resolve != nil {
				name, err := resolve(n.MAC, n.PCIBDF)
				if err != nil {
					warns = append(warns, fmt.Sprintf("ibft: NIC %d (%s): %v", n.Index, mac, err))
					at[mac] = -1
					continue
				}
				ifc.Name = name
			}
			out = append(out, nicSetup{Iface: ifc, DHCP: n.DHCP})
			i = len(out) - 1
			at[mac] = i
		}
		if i < 0 || !bt.Addr.IsValid() {
			continue
		}
		r := hostRoute{Target: bt.Addr.Unmap()}
		if !n.Address.Masked().Contains(r.Target) {
			r.Gateway = n.Gateway
		}
		out[i].Routes = append(out[i].Routes, r)
	}
	return out, warns
}
