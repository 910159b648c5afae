package boot

import (
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/iscsiboot/iscsiboot/multipath"
	"github.com/iscsiboot/iscsiboot/plan"
)

// Maps are the dm-multipath maps a boot made, with the sessions that are
// their paths.
type Maps struct {
	Maps []multipath.Map
	// paths are the sessions' disks that are paths of a map, by kernel
	// session id.
	paths map[int]mapPath
}

type mapPath struct {
	m   *multipath.Map
	dev string // the session's disk, major:minor
}

// MultipathMaps makes a dm-multipath map (package multipath) of every disk
// the sessions reach through several paths, or through any number when
// the plan is a multipath one (a single path then still gets
// queue_if_no_path, which its short timers need, and multipathd adds the
// others later). A disk found with several paths in a boot not planned
// as multipath (two single-portal targets exporting one LUN) gets the
// map too, and its sessions section 8.1's replacement timeout through
// sysfs unless the plan's is not the root-disk default (a -P or
// rd.iscsi.param); their NOP-Outs start with the next login, by iscsid,
// whose node records then carry them. Nothing is done with
// rd.multipath=0. A map that cannot be made is a warning: the boot goes
// on through one path.
func MultipathMaps(p *plan.Plan, sessions []*Session, logf func(string, ...any)) Maps {
	out := Maps{paths: map[int]mapPath{}}
	if p.NoMultipath {
		return out
	}
	var names []string
	for _, s := range sessions {
		if s.Device != "" {
			names = append(names, s.Device)
		}
	}
	if len(names) == 0 || (!p.Multipath && len(names) < 2) {
		return out
	}
	o := multipath.Options{}
	if p.Multipath {
		o.MinPaths = 1
	}
	if f, err := os.Open(multipath.BindingsFile); err == nil {
		bs, err := multipath.ParseBindings(f)
		f.Close()
		if err != nil {
			logf("warning: %s: %v; maps are named by WWID", multipath.BindingsFile, err)
		}
		o.Bindings = bs
	}
	maps, _, err := multipath.Assemble(names, o)
	if err != nil {
		logf("warning: dm-multipath: %v", err)
		if len(maps) == 0 {
			logf("warning: no multipath map: the root is mounted through one path")
		}
	}
	out.Maps = maps
	cross := false
	for i := range out.Maps {
		m := &out.Maps[i]
		var paths []string
		for _, d := range m.Paths {
			for _, s := range sessions {
				if s.Device == d.Name {
					out.paths[s.SID] = mapPath{m, d.Dev}
					paths = append(paths, d.Name+" ("+s.Portal.String()+")")
				}
			}
		}
		verb := "made"
		if m.Existed {
			verb = "found"
		}
		logf("multipath map %s %s as %s: WWID %s, paths %s, table %q", m.Name, verb, m.Device, m.WWID, strings.Join(paths, ", "), m.Table)
		cross = cross || len(m.Paths) > 1 && !p.Multipath
	}
	if cross && p.Params[plan.ParamReplacement] == plan.DefaultParams()[plan.ParamReplacement] {
		plan.UseMultipathTimers(p)
		logf("paths of one disk through several targets: section 8.1's timers, NOP-Outs from the next login")
	}
	// Every path of a map gets the plan's replacement timeout, which the
	// kernel takes at any time: a session an earlier call made with the
	// root-disk timers (iscsistart without --multipath) would hold the
	// map's I/O for a day instead of failing over.
	want := p.ParamValue(plan.ParamReplacement)
	for sid := range out.paths {
		f := "/sys/class/iscsi_session/session" + strconv.Itoa(sid) + "/recovery_tmo"
		if have := multipath.ReadAttr(f); have == want {
			continue
		}
		n, _ := strconv.Atoi(want)
		if err := multipath.SetRecoveryTimeout("/sys", sid, n); err != nil {
			logf("warning: session %d: replacement timeout: %v", sid, err)
			continue
		}
		logf("session %d: replacement timeout %s s, as a path of a map", sid, want)
	}
	return out
}

// Root returns the map the disk of the first session with a disk is a
// path of (Run sorts the sessions), or "" when it is in none.
func (ms Maps) Root(sessions []*Session) string {
	i := slices.IndexFunc(sessions, func(s *Session) bool { return s.Device != "" })
	if i < 0 {
		return ""
	}
	if mp, ok := ms.paths[sessions[i].SID]; ok {
		return mp.m.Device
	}
	return ""
}

// PathOf returns the map the disk of kernel session sid is a path of, and
// the disk (major:minor), if it is one.
func (ms Maps) PathOf(sid int) (name, dev string, ok bool) {
	mp, ok := ms.paths[sid]
	if !ok {
		return "", "", false
	}
	return mp.m.Name, mp.dev, true
}

// TargetSessions returns sessions and, after them, the kernel's other
// sessions to the plan's targets with their disks: what earlier calls of
// iscsistart made (one portal a call, as open-iscsi's), so that
// --multipath maps every path of the disk, not only this call's.
func (k *Kernel) TargetSessions(p *plan.Plan, sessions []*Session) []*Session {
	out := slices.Clone(sessions)
	infos, _ := k.Sysfs().Sessions()
	for _, in := range infos {
		t := p.FindTarget(in.TargetName)
		if t == nil || in.Host < 0 || slices.ContainsFunc(out, func(s *Session) bool { return s.SID == in.SID }) {
			continue
		}
		dev := ""
		if t.LUN == 0 {
			_, dev = k.Sysfs().AnyBlockDevice(in.Host)
		} else {
			dev = k.Sysfs().BlockDevice(in.Host, t.LUN)
		}
		out = append(out, &Session{Target: t.Name, Portal: plan.Portal{Address: in.Address, Port: in.Port}, SID: in.SID, Device: dev, Already: true})
	}
	return out
}
