package boot

// NodeRecords returns a node record for each of the sessions, with the
// persistent portal and portal group tag the kernel shows for it: the
// values iscsid looks its record up by.
func (k *Kernel) NodeRecords(p *Plan, sessions []*Session) []NodeRecord {
	infos, _ := k.sys.Sessions()
	var out []NodeRecord
	for _, s := range sessions {
		var t *Target
		for i := range p.Targets {
			if p.Targets[i].Name == s.Target {
				t = &p.Targets[i]
				break
			}
		}
		if t == nil || s.SID < 0 {
			continue
		}
		for _, in := range infos {
			if in.SID == s.SID {
				out = append(out, NewNodeRecord(p, t, Portal{Address: in.Address, Port: in.Port}, in.TPGT))
			}
		}
	}
	return out
}
