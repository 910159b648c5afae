package boot

import (
	"context"
	"fmt"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// netInterfaces turns the plan's interfaces into what netcfg configures.
// One that names no link (ip=dhcp) stands for every network card in links,
// as in dracut. A vlan= interface is made on its parent, found by the MAC
// an ifname= gives the parent when there is one, and named as vlan= says.
// With bootdev=, only the boot device takes a default route from DHCP;
// naming no interface that is configured is an error. Interfaces that only
// name a link (ifname= or vlan= without ip=) or that the firmware
// configures (ip=ibft) are not configured here.
func netInterfaces(p *plan.Plan, links []string) ([]netcfg.Interface, error) {
	parentMAC := map[string]string{} // ifname=<name>:<MAC>
	for _, i := range p.Interfaces {
		if i.Name != "" && i.MAC != "" && i.VLAN == 0 {
			parentMAC[i.Name] = i.MAC
		}
	}
	var ifs []netcfg.Interface
	for _, i := range p.Interfaces {
		if i.Method == "" || i.Method == plan.MethodIBFT {
			continue
		}
		n := netcfg.Interface{Name: i.Name, MAC: i.MAC, Method: i.Method, Addresses: i.Addresses,
			Gateway: i.Gateway, DNS: i.DNS, VLAN: i.VLAN, MTU: i.MTU, SetMAC: i.SetMAC, Hostname: i.Hostname}
		if n.Method == plan.MethodEither6 || n.Method == plan.MethodLink6 {
			n.Method = netcfg.MethodAuto6
		}
		if i.Parent != "" {
			n.Name, n.MAC, n.VLANName = i.Parent, parentMAC[i.Parent], i.Name
		}
		if n.Name == "" && n.MAC == "" {
			for _, name := range links {
				n.Name = name
				ifs = append(ifs, n)
			}
			continue
		}
		ifs = append(ifs, n)
	}
	if p.BootDev == "" || len(ifs) == 0 {
		return ifs, nil
	}
	found := false
	for k := range ifs {
		if linkName(ifs[k]) == p.BootDev {
			found = true
		} else {
			ifs[k].NoDefaultRoute = true
		}
	}
	if !found {
		return nil, fmt.Errorf("bootdev=%s: no interface of that name is configured (ip=, vlan=, or the firmware's)", esc.String(p.BootDev))
	}
	return ifs, nil
}

// linkName is the name of the link an interface ends up configured on: its
// VLAN link when it has a VLAN.
func linkName(n netcfg.Interface) string {
	switch {
	case n.VLAN == 0:
		return n.Name
	case n.VLANName != "":
		return n.VLANName
	}
	return netcfg.VLANName(n.Name, n.VLAN)
}

// AddSoftRoCE adds the soft-RoCE devices the plan asks for (rd.iscsi.rxe), once the network is up and
// before the first login: iSER over plain Ethernet has no RDMA device otherwise. The first failure ends
// it, as a *NetworkError (open-iscsi's transport error): an iSER login without its device would only
// fail later and less clearly.
func AddSoftRoCE(ctx context.Context, p *plan.Plan, logf func(string, ...any)) error {
	for _, dev := range p.SoftRoCE {
		r, err := netcfg.AddSoftRoCE(ctx, dev)
		if err != nil {
			return &NetworkError{Err: err}
		}
		what := "added"
		if !r.Added {
			what = "already there"
		}
		gid := "address GID ready"
		if !r.GIDReady {
			gid = "no address GID yet"
		}
		logf("soft-RoCE %s on %s %s (port ACTIVE, %s)", esc.String(r.Name), esc.String(dev), what, gid)
	}
	return nil
}
