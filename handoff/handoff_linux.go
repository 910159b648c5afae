package handoff

import (
	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/plan"
)

// bootSession is a session of the boot with its target in the plan and
// what the kernel shows for it.
type bootSession struct {
	s    *boot.Session
	t    *plan.Target
	info kernel.SessionInfo
}

// persistent is the portal the kernel keeps for the session: where iscsid
// (and the resident loop) log in again, and what iscsid looks its node
// record up by.
func (b bootSession) persistent() plan.Portal {
	return plan.Portal{Address: b.info.Address, Port: b.info.Port}
}

// bootSessions pairs each of the sessions that has a kernel session with
// its target in p and the kernel's view of it.
func bootSessions(k *boot.Kernel, p *plan.Plan, sessions []*boot.Session) []bootSession {
	infos, _ := k.Sysfs().Sessions()
	var out []bootSession
	for _, s := range sessions {
		t := p.FindTarget(s.Target)
		if t == nil || s.SID < 0 {
			continue
		}
		for _, in := range infos {
			if in.SID == s.SID {
				out = append(out, bootSession{s: s, t: t, info: in})
			}
		}
	}
	return out
}

// NodeRecords returns a node record for each of the sessions, with the
// persistent portal and portal group tag the kernel shows for it: the
// values iscsid looks its record up by.
func NodeRecords(k *boot.Kernel, p *plan.Plan, sessions []*boot.Session) []NodeRecord {
	var out []NodeRecord
	for _, b := range bootSessions(k, p, sessions) {
		r := NewNodeRecord(p, b.t, b.persistent(), b.info.TPGT)
		if b.t.HBA != "" && k.Transport().Route() != kernel.RouteSocket {
			hbaIface(k.Sysfs(), &r, b.info.Host)
		}
		out = append(out, r)
	}
	return out
}

// hbaIface gives the record of a session over an offload host the iface
// open-iscsi's firmware mode makes for that host: its transport, hardware
// and IP address, and the name made of them. A host sysfs does not show,
// or one without a MAC, keeps the plan's iface.
func hbaIface(sys kernel.Sysfs, r *NodeRecord, host int) {
	hi, err := sys.ISCSIHost(host)
	if err != nil || hi.HWAddress == "" {
		return
	}
	r.HWAddress, r.IPAddress = hi.HWAddress, hi.IPAddress
	r.Iface = HBAIfaceName(r.Transport, hi.HWAddress, hi.IPAddress)
}
