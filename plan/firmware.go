package plan

import (
	"context"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"

	"github.com/iscsiboot/iscsiboot/core"

	"github.com/iscsiboot/iscsiboot/ibft"
)

// FromIBFT turns the boot targets of a firmware table into a plan: the
// initiator name, each valid target with its CHAP settings and LUN, and
// each associated NIC as an interface, named through resolve when it can
// be (static as the table says, or DHCP when its origin says so).
//
// An offload HBA's table (/sys/firmware/iscsi_boot<N>) gives the plan its
// transport (the host's driver) and each target the HBA's SCSI host, and
// no interface: its NIC is the HBA's own, which the HBA's firmware and
// driver configure, not Linux's network stack.
func FromIBFT(t *ibft.Table, resolve ibft.Resolver) (*Plan, error) {
	p := &Plan{Firmware: true}
	hba := ""
	if t.Source.Kind == ibft.SourceOffload {
		hba = "host" + strings.TrimPrefix(path.Base(t.Source.Path), "iscsi_boot")
		p.Transport = t.Transport
	}
	seen := map[string]bool{}
	for _, bt := range t.BootTargets() {
		if bt.Name == "" {
			return nil, fmt.Errorf("ibft: target at %s: no target name", bt.Addr)
		}
		if p.Initiator == "" {
			p.Initiator = bt.Initiator
		}
		tg := Target{
			Name:    bt.Name,
			TPGT:    DefaultTPGT,
			LUN:     bt.LUN,
			Portals: []Portal{{Address: bt.Addr.Unmap().String(), Port: int(bt.Port)}},
			Source:  SourceIBFT,
			HBA:     hba,
		}
		if tg.Portals[0].Port == 0 {
			tg.Portals[0].Port = core.DefaultPort
		}
		chap := bt.CHAP
		if hba != "" && chap == ibft.CHAPNone && bt.CHAPName != "" && bt.CHAPSecret != "" {
			// qla4xxx publishes no chap-type: a name and secret mean
			// CHAP, as open-iscsi's firmware mode takes them.
			chap = ibft.CHAPOneWay
			if bt.ReverseCHAPName != "" && bt.ReverseCHAPSecret != "" {
				chap = ibft.CHAPMutual
			}
		}
		switch chap {
		case ibft.CHAPNone:
		default:
			if bt.CHAPName == "" || bt.CHAPSecret == "" {
				return nil, fmt.Errorf("ibft: target %s: CHAP type %s without a CHAP name and secret", bt.Name, chap)
			}
			tg.Auth = Auth{Method: AuthCHAP, Username: bt.CHAPName, Password: Secret(bt.CHAPSecret)}
			if chap == ibft.CHAPMutual {
				if bt.ReverseCHAPName == "" || bt.ReverseCHAPSecret == "" {
					return nil, fmt.Errorf("ibft: target %s: mutual CHAP without a reverse CHAP name and secret", bt.Name)
				}
				tg.Auth.UsernameIn, tg.Auth.PasswordIn = bt.ReverseCHAPName, Secret(bt.ReverseCHAPSecret)
			}
		}
		if n := bt.NIC; n != nil && hba == "" {
			ifc := Interface{MAC: strings.ToLower(n.MAC.String()), Method: MethodStatic, VLAN: int(n.VLAN),
				Gateway: n.Gateway, DNS: n.DNS, Hostname: n.Hostname}
			if n.DHCP {
				// The table's gateway and DNS are what DHCP said at
				// firmware time; the new lease says them again, and a
				// gateway set before the lease's address is unreachable.
				// An IPv6 address came by DHCPv6, as dracut's
				// ibft_to_cmdline reads it (ip=DEV:dhcp6).
				ifc.Method, ifc.Gateway, ifc.DNS = MethodDHCP, netip.Addr{}, nil
				if n.Address.Addr().Is6() || n.DHCPServer.Is6() {
					ifc.Method = MethodDHCP6
				}
			} else if n.Address.IsValid() {
				ifc.Addresses = append(ifc.Addresses, n.Address)
			}
			if resolve != nil {
				if name, err := resolve(n.MAC, n.PCIBDF); err == nil {
					ifc.Name = name
				} else {
					p.Warnings = append(p.Warnings, fmt.Sprintf("ibft: NIC %d (%s): %v", n.Index, ifc.MAC, err))
				}
			}
			tg.Iface = ifc.Name
			if !seen[ifc.MAC] {
				seen[ifc.MAC] = true
				p.Interfaces = append(p.Interfaces, ifc)
			}
		}
		p.Targets = append(p.Targets, tg)
	}
	if len(p.Targets) == 0 {
		return nil, fmt.Errorf("ibft: table from %s has no valid target", t.Source)
	}
	return p, nil
}

// FirmwareOptions say when and how FirmwareFor reads the firmware table.
type FirmwareOptions struct {
	// Force reads the table even when nothing asks for it, and makes
	// any failure fatal (iscsistart --ibft FILE, -b).
	Force bool
	// OtherTargets tells that a source other than the command line (the
	// flags) names targets, so the boot has a plan without the table.
	OtherTargets bool
	// Load reads the table: ibft.Load, or a file.
	Load func(context.Context) (*ibft.Table, error)
	// Logf, if set, is told where the table came from.
	Logf func(format string, args ...any)
}

// FirmwareFor returns the firmware table's plan to merge under the command
// line's plan cp, or nil, when cp asks for it (rd.iscsi.firmware,
// iscsi_auto), when nothing names a target, or when o.Force says so. When
// cp asks only for the table's network (rd.iscsi.ibft, ip=ibft) and has
// targets of its own, the plan holds the table's interfaces and no target,
// as dracut's ip=ibft configures the network alone.
//
// A table that is missing or unusable (corrupt, a target without a name)
// fails the boot when the boot depends on it. When the command line has a
// plan of its own (targets, netroot=dhcp) the failure becomes a warning in
// cp.Warnings and the boot goes on from the command line, as dracut goes
// on to netroot= when iscsistart -b fails: a firmware update that breaks
// the table must not strand a machine whose command line knows its root.
func FirmwareFor(ctx context.Context, cp *Plan, o FirmwareOptions) (*Plan, error) {
	own := len(cp.Targets) > 0 || cp.DHCPRootPath || o.OtherTargets
	networkOnly := !o.Force && !cp.Firmware && own
	if networkOnly && !slices.ContainsFunc(cp.Interfaces, func(i Interface) bool { return i.Method == MethodIBFT }) {
		return nil, nil
	}
	t, err := o.Load(ctx)
	var fw *Plan
	if err == nil {
		if fw, err = FromIBFT(t, ibft.SysResolver("/")); err == nil {
			if o.Logf != nil {
				o.Logf("firmware table from %s", t.Source)
			}
			if networkOnly {
				fw.Targets, fw.Firmware = nil, false
			}
			return fw, nil
		}
	}
	switch {
	case o.Force, cp.Firmware && !own:
		return nil, err
	case own:
		cp.Warnings = append(cp.Warnings, fmt.Sprintf("firmware table not used, booting from the command line: %v", err))
	default:
		cp.Warnings = append(cp.Warnings, fmt.Sprintf("no firmware table: %v", err))
	}
	return nil, nil
}
