package multipath

import (
	"fmt"
	"strconv"
	"strings"
)

// The "multipath" target's table line, as drivers/md/dm-mpath.c's
// multipath_ctr parses it (and Documentation/admin-guide/device-mapper/
// dm-multipath in older trees describes it):
//
//	<#features> <feature>... <#hw_handler args> [<hw_handler> <arg>...]
//	<#path groups> <first group>
//	  (<selector> <#selector args> <arg>... <#paths> <#path args>
//	    (<major:minor> <arg>...)...)...
//
// Groups and the first group count from 1.

// Path selectors the kernel offers in modules of their own
// (dm-service-time.c, dm-round-robin.c).
const (
	// ServiceTime sends I/O to the path with the least outstanding bytes
	// for its throughput: multipath-tools' default selector
	// (libmultipath/defaults.h, DEFAULT_SELECTOR).
	ServiceTime = "service-time"
	// RoundRobin alternates paths.
	RoundRobin = "round-robin"
)

// FeatureQueueIfNoPath queues I/O while no path is left, instead of
// failing it: the open-iscsi README, section 8.1, for a multipath root.
const FeatureQueueIfNoPath = "queue_if_no_path"

// Table is one multipath map's table.
type Table struct {
	Features  []string // FeatureQueueIfNoPath; each one word
	HWHandler string   // "" for none: the kernel keeps an attached handler (scsi_dh_alua)
	Groups    []Group  // in priority order; the first is used first
}

// Group is a path group: the paths of one priority, one selector.
type Group struct {
	Selector string   // ServiceTime or RoundRobin
	Paths    []string // "major:minor" of each path's block device
}

// pathArgs are the per-path arguments multipathd gives each selector:
// repeat_count 1 (both), relative_throughput 1 (service-time).
func pathArgs(selector string) []string {
	switch selector {
	case ServiceTime:
		return []string{"1", "1"}
	case RoundRobin:
		return []string{"1"}
	}
	return nil
}

// String returns the table line dm-mpath.c reads, or "" when t is invalid
// (see Check).
func (t Table) String() string {
	if t.Check() != nil {
		return ""
	}
	var w []string
	w = append(w, strconv.Itoa(len(t.Features)))
	w = append(w, t.Features...)
	if t.HWHandler == "" {
		w = append(w, "0")
	} else {
		w = append(w, "1", t.HWHandler)
	}
	w = append(w, strconv.Itoa(len(t.Groups)), "1")
	for _, g := range t.Groups {
		args := pathArgs(g.Selector)
		w = append(w, g.Selector, "0", strconv.Itoa(len(g.Paths)), strconv.Itoa(len(args)))
		for _, p := range g.Paths {
			w = append(w, p)
			w = append(w, args...)
		}
	}
	return strings.Join(w, " ")
}

// Check tells whether the kernel can take t: known selectors, at least
// one group, no empty group, paths as major:minor, one-word features.
func (t Table) Check() error {
	if len(t.Groups) == 0 {
		return fmt.Errorf("no path group: %w", errTable)
	}
	for _, f := range append([]string{t.HWHandler}, t.Features...) {
		if strings.ContainsAny(f, " \t\n\x00") {
			return fmt.Errorf("word %q: %w", f, errTable)
		}
	}
	for i, g := range t.Groups {
		if pathArgs(g.Selector) == nil {
			return fmt.Errorf("group %d: selector %q, want %s or %s: %w", i+1, g.Selector, ServiceTime, RoundRobin, errTable)
		}
		if len(g.Paths) == 0 {
			return fmt.Errorf("group %d: no path: %w", i+1, errTable)
		}
		for _, p := range g.Paths {
			if _, _, ok := parseDevNum(p); !ok {
				return fmt.Errorf("group %d: path %q, want major:minor: %w", i+1, p, errTable)
			}
		}
	}
	return nil
}

// parseDevNum parses "major:minor".
func parseDevNum(s string) (uint32, uint32, bool) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, false
	}
	ma, err1 := strconv.ParseUint(a, 10, 32)
	mi, err2 := strconv.ParseUint(b, 10, 32)
	return uint32(ma), uint32(mi), err1 == nil && err2 == nil
}

// PathStatus is one path in the target's status.
type PathStatus struct {
	Dev      string // major:minor
	Active   bool   // A; false is F, failed
	Failures uint64 // times dm-mpath failed the path
	Group    int    // from 1
}

// Status is the "multipath" target's status line (STATUSTYPE_INFO), as
// dm-mpath.c's multipath_status writes it:
//
//	<#features> <feature>... (here: queue_io pg_init_count)
//	<#hw_handler args> <arg>...   (always 0 for info)
//	<#groups> <next group>
//	  (<state A|E|D> <#selector status> <word>... <#paths> <#selector path status>
//	    (<major:minor> <A|F> <fail count> <word>...)...)...
type Status struct {
	QueueIfNoPath bool // I/O queues while no path is active
	Groups        int
	Paths         []PathStatus
}

// ParseStatus parses the info status line of a multipath target.
func ParseStatus(s string) (Status, error) {
	f := strings.Fields(s)
	i := 0
	num := func(what string) (int, error) {
		if i >= len(f) {
			return 0, fmt.Errorf("%s missing: %w", what, errStatus)
		}
		n, err := strconv.Atoi(f[i])
		if err != nil || n < 0 || n > 1<<16 {
			return 0, fmt.Errorf("%s %q: %w", what, f[i], errStatus)
		}
		i++
		return n, nil
	}
	skip := func(n int, what string) error {
		if n > len(f)-i {
			return fmt.Errorf("%s: %d words, %d left: %w", what, n, len(f)-i, errStatus)
		}
		i += n
		return nil
	}
	var st Status
	nf, err := num("feature count")
	if err != nil {
		return st, err
	}
	// Info features are numbers: the first is whether I/O queues
	// (MPATHF_QUEUE_IO), since Linux 2.6.
	if nf > 0 && i < len(f) {
		st.QueueIfNoPath = f[i] == "1"
	}
	if err := skip(nf, "features"); err != nil {
		return st, err
	}
	nh, err := num("hardware handler count")
	if err != nil {
		return st, err
	}
	if err := skip(nh, "hardware handler"); err != nil {
		return st, err
	}
	if st.Groups, err = num("group count"); err != nil {
		return st, err
	}
	if _, err := num("next group"); err != nil {
		return st, err
	}
	for g := 1; g <= st.Groups; g++ {
		if err := skip(1, "group state"); err != nil {
			return st, err
		}
		ns, err := num("selector status count")
		if err != nil {
			return st, err
		}
		if err := skip(ns, "selector status"); err != nil {
			return st, err
		}
		np, err := num("path count")
		if err != nil {
			return st, err
		}
		na, err := num("selector path status count")
		if err != nil {
			return st, err
		}
		for p := 0; p < np; p++ {
			if i+3 > len(f) {
				return st, fmt.Errorf("group %d path %d: %w", g, p+1, errStatus)
			}
			dev, state := f[i], f[i+1]
			if _, _, ok := parseDevNum(dev); !ok || (state != "A" && state != "F") {
				return st, fmt.Errorf("group %d path %q state %q: %w", g, dev, state, errStatus)
			}
			n, err := strconv.ParseUint(f[i+2], 10, 64)
			if err != nil {
				return st, fmt.Errorf("group %d path %s fail count %q: %w", g, dev, f[i+2], errStatus)
			}
			i += 3
			st.Paths = append(st.Paths, PathStatus{Dev: dev, Active: state == "A", Failures: n, Group: g})
			if err := skip(na, "selector path status"); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// ReinstateMessage is the target message that puts a failed path back in
// use (dm-mpath.c, multipath_message: reinstate_path).
func ReinstateMessage(dev string) string { return "reinstate_path " + dev }
