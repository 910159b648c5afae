package plan

import (
	"slices"
)

// The timers of a session that is one path (the Multipath column of the
// table of session values) of a dm-multipath map, from the
// open-iscsi README, section 8.1 ("iSCSI settings for dm-multipath"): NOP-
// Outs every 5 s, failed after 10 s (8.1.1), so a dead path is found
// without waiting for I/O; and a short replacement timeout (8.1.4: "5 to
// 15 seconds"), so that I/O queued on a dead path fails over to another
// path soon, while dm-multipath's queue_if_no_path keeps it when no path
// is left. 5 s is what multipathd itself writes into recovery_tmo
// (multipath-tools' fast_io_fail_tmo default, libmultipath/defaults.h
// DEFAULT_FAST_IO_FAIL; discovery.c, sysfs_set_iscsi_session_tmo), so
// nothing changes when it adopts the map.

// ParamReplacement is the record name of the replacement timeout, which
// a path of a map made after the login gets through sysfs.
const ParamReplacement = "node.session.timeo.replacement_timeout"

// MultipathTimers returns section 8.1's values: the table's Multipath
// column.
func MultipathTimers() map[string]string {
	m := map[string]string{}
	for _, s := range Settings {
		if s.Multipath != "" {
			m[s.Name] = s.Multipath
		}
	}
	return m
}

// PlanMultipath decides, once the sources are merged into p, whether the
// boot is a multipath one: a target with more than one portal, unless
// rd.multipath=0 (NoMultipath). Then every session value of
// MultipathTimers that none of the sources set (-P, rd.iscsi.param)
// takes section 8.1's value instead of the root-disk one (8.2); what a
// source set wins. A single-path boot is left as it is. The node
// records for iscsid and the resident loop read the same values.
func PlanMultipath(p *Plan, sources ...*Plan) {
	p.Multipath = !p.NoMultipath && slices.ContainsFunc(p.Targets, func(t Target) bool { return len(t.Portals) > 1 })
	if p.Multipath {
		UseMultipathTimers(p, sources...)
	}
}

// UseMultipathTimers gives p section 8.1's timers where none of sources
// set the value.
func UseMultipathTimers(p *Plan, sources ...*Plan) {
	if p.Params == nil {
		p.Params = DefaultParams()
	}
	for name, v := range MultipathTimers() {
		set := slices.ContainsFunc(sources, func(s *Plan) bool { return s != nil && s.Params[name] != "" })
		if !set {
			p.Params[name] = v
		}
	}
}
