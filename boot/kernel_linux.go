package boot

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/netcfg"
	"github.com/iscsiboot/iscsiboot/plan"
)

// Kernel is the kernel's initiator (core/kernel) as a boot uses it: a
// plan's target and portal become one kernel.Login.
type Kernel struct {
	*kernel.Initiator
}

// OpenKernel opens the kernel transport named transport ("tcp").
func OpenKernel(transport string) (*Kernel, error) {
	k, err := kernel.Open(transport)
	if err != nil {
		return nil, err
	}
	if tr := k.Transport(); tr.Route() == kernel.RouteEndpoint && tr.BindsHost() {
		// An offload NIC with its own TCP stack asks for its route.
		k.SetPathResolver(ResolvePath)
	}
	return &Kernel{Initiator: k}, nil
}

// OpenKernelHandle opens the kernel's iSCSI netlink socket for the
// transport whose name and handle are known (the resident loop's, after
// switch_root).
func OpenKernelHandle(transport string, handle uint64) (*Kernel, error) {
	k, err := kernel.OpenHandle(transport, handle)
	if err != nil {
		return nil, err
	}
	if tr := k.Transport(); tr.Route() == kernel.RouteEndpoint && tr.BindsHost() {
		k.SetPathResolver(ResolvePath)
	}
	return &Kernel{Initiator: k}, nil
}

// Offloaded reports whether the transport logs in by itself (an HBA with
// CAP_LOGIN_OFFLOAD): Login then only finds the HBA's session
// (RunOptions.Offloaded).
func (k *Kernel) Offloaded() bool { return k.Transport().Route() == kernel.RouteHBA }

// Login implements LoginFunc. A target the kernel has a session with at
// portal already is success, not an error: scripts call iscsistart twice.
func (k *Kernel) Login(ctx context.Context, p *plan.Plan, t *plan.Target, portal plan.Portal) (*Session, error) {
	begin := time.Now()
	hba := k.Offloaded()
	// An HBA that logs in by itself always has its session already: the
	// kernel's Login finds it, and its disk below it.
	if s, ok := k.Existing(t.Name, portal.Address, portal.Port); ok && !hba {
		dev := ""
		switch {
		case s.Host < 0:
		case t.LUN == 0:
			// A flag login names no LUN: its disk is the target's first,
			// as the login itself takes it.
			_, dev = k.Sysfs().AnyBlockDevice(s.Host)
		default:
			dev = k.Sysfs().BlockDevice(s.Host, t.LUN)
		}
		return &Session{Target: t.Name, Portal: portal, SID: s.SID, Device: dev, Already: true}, nil
	}
	l, err := KernelLogin(p, t, portal)
	if err != nil {
		return nil, err
	}
	ks, err := k.Initiator.Login(ctx, l)
	if err != nil {
		return nil, err
	}
	return &Session{Target: t.Name, Portal: portal, SID: ks.SID, Device: ks.Device, Took: time.Since(begin), Already: hba}, nil
}

// Reopen logs in again on the kernel's session sid after its connection
// cid failed (kernel.Initiator.Reopen), at the persistent portal.
func (k *Kernel) Reopen(ctx context.Context, p *plan.Plan, t *plan.Target, sid, cid uint32, persistent plan.Portal) error {
	l, err := KernelLogin(p, t, persistent)
	if err != nil {
		return err
	}
	return k.Initiator.Reopen(ctx, l, sid, cid)
}

// KernelLogin is the kernel's login of target t through portal, as the
// plan says: the login configuration, the kernel parameters of the table
// of session values (their plan value or their root-disk default), the
// identity iscsid reads back from sysfs to adopt the session, and the
// session's size and scan.
func KernelLogin(p *plan.Plan, t *plan.Target, portal plan.Portal) (*kernel.Login, error) {
	cfg, err := plan.LoginConfig(p, t, portal)
	if err != nil {
		return nil, kernel.Fatal(err)
	}
	cmdsMax, _ := strconv.Atoi(p.ParamValue("node.session.cmds_max"))
	depth, _ := strconv.Atoi(p.ParamValue("node.session.queue_depth"))
	return &kernel.Login{
		Portal: portal.String(), Config: cfg, Params: identityParams(p, t),
		CmdsMax: uint16(cmdsMax), QueueDepth: uint16(depth),
		// A LUN the plan names is probed first and the others after its
		// disk is there; LUN 0 is what the flags and an empty netroot
		// field leave, where iscsistart scans the whole target and takes
		// its first disk (tgt's LUN 0 is a controller).
		LUN: t.LUN, AnyLUN: t.LUN == 0,
		NoScan:  p.ParamValue("node.session.scan") == "manual",
		Iface:   t.Iface,
		HBA:     t.HBA,
		HostNet: hostNet(p, t),
	}, nil
}

// hostNet is the network of an offload host's iSCSI iface for target t:
// -P iface.ipaddress, iface.subnet_mask, iface.gateway and iface.vlan_id,
// else the static IPv4 address, gateway and VLAN of the plan's interface the
// target goes through (ip=, the iBFT's NIC), or of its only static
// interface when the target names none. The kernel login sets it on
// transports whose endpoints connect through a host; nil when the plan
// has no such address.
func hostNet(p *plan.Plan, t *plan.Target) *kernel.HostNet {
	if a, err := netip.ParseAddr(p.Params["iface.ipaddress"]); err == nil && a.Is4() {
		// -P iface.* (checked by plan.CheckParam), as an iface record.
		bits, ok := plan.MaskBits(p.Params["iface.subnet_mask"])
		if !ok {
			bits = 32
		}
		n := &kernel.HostNet{Address: netip.PrefixFrom(a, bits)}
		n.Gateway, _ = netip.ParseAddr(p.Params["iface.gateway"])
		if v, err := strconv.Atoi(p.Params["iface.vlan_id"]); err == nil && v > 0 && v < 4095 {
			n.VLAN = uint16(v)
		}
		return n
	}
	var pick *plan.Interface
	for i := range p.Interfaces {
		ifc := &p.Interfaces[i]
		if ifc.Method != plan.MethodStatic || !slices.ContainsFunc(ifc.Addresses, func(a netip.Prefix) bool { return a.Addr().Unmap().Is4() }) {
			continue
		}
		switch {
		case t.Iface != "" && ifc.Name == t.Iface:
			pick = ifc
		case t.Iface == "" && pick == nil:
			pick = ifc
		case t.Iface == "":
			return nil // several: the target must say which
		}
	}
	if pick == nil {
		return nil
	}
	n := &kernel.HostNet{VLAN: uint16(max(pick.VLAN, 0))}
	for _, a := range pick.Addresses {
		if a.Addr().Unmap().Is4() {
			n.Address = netip.PrefixFrom(a.Addr().Unmap(), a.Bits())
			break
		}
	}
	if pick.Gateway.Unmap().Is4() {
		n.Gateway = pick.Gateway.Unmap()
	}
	return n
}

// identityParams are the recovery timers of the table of session values
// and what iscsid's session sync reads back from sysfs to adopt the
// session after switch_root; open-iscsi sets them before the login
// (initiator_common.c, iscsi_session_set_params). The kernel session adds
// the target name and persistent portal itself.
func identityParams(p *plan.Plan, t *plan.Target) []kernel.ParamValue {
	var ps []kernel.ParamValue
	for _, s := range plan.Settings {
		if !s.InKernel {
			continue
		}
		v := p.ParamValue(s.Name)
		if s.Kernel == kernel.ParamFastAbort {
			v = map[string]string{"Yes": "1", "No": "0"}[v]
		}
		ps = append(ps, kernel.ParamValue{Param: s.Kernel, Value: v})
	}
	ps = append(ps, kernel.ParamValue{Param: kernel.ParamIfaceName, Value: t.IfaceRecord()},
		kernel.ParamValue{Param: kernel.ParamInitiatorName, Value: p.Initiator})
	if t.Auth.Method == plan.AuthCHAP {
		ps = append(ps, kernel.ParamValue{Param: kernel.ParamUsername, Value: t.Auth.Username},
			kernel.ParamValue{Param: kernel.ParamPassword, Value: t.Auth.Password.Reveal()})
		if t.Auth.UsernameIn != "" {
			ps = append(ps, kernel.ParamValue{Param: kernel.ParamUsernameIn, Value: t.Auth.UsernameIn},
				kernel.ParamValue{Param: kernel.ParamPasswordIn, Value: t.Auth.PasswordIn.Reveal()})
		}
	}
	return ps
}

// neighbourWait bounds the resolution of a next hop's MAC for a PATH_REQ:
// a few ARP retransmissions.
const neighbourWait = 3 * time.Second

// ResolvePath answers an offload NIC's PATH_REQ (kernel.PathResolver)
// from the routing and neighbour tables, as open-iscsi's iscsiuio does:
// the source address, the next hop's MAC, the path MTU and the VLAN of the
// link the kernel routes dst through.
func ResolvePath(ctx context.Context, dst netip.Addr) (kernel.Path, error) {
	c, err := netcfg.Dial()
	if err != nil {
		return kernel.Path{}, err
	}
	defer c.Close()
	p, err := c.ResolvePath(ctx, dst, neighbourWait)
	if err != nil {
		return kernel.Path{}, err
	}
	return kernelPath(p), nil
}

// kernelPath is p as struct iscsi_path holds it: a 6-byte MAC, a 16-bit
// MTU (loopback's 65536 does not fit and is clamped) and VLAN id.
func kernelPath(p netcfg.Path) kernel.Path {
	out := kernel.Path{Src: p.Src, Dst: p.Dst, VLAN: uint16(p.VLAN), MTU: uint16(min(p.MTU, 0xffff))}
	if len(p.MAC) == 6 {
		copy(out.MAC[:], p.MAC)
	}
	return out
}
