package multipath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Options tune Assemble.
type Options struct {
	Sys     string // the sysfs mount, default "/sys"
	DevDir  string // where device nodes are made, default "/dev"
	Control string // default ControlPath
	// Bindings name the maps (user_friendly_names); none names each map
	// by its WWID.
	Bindings Bindings
	// Selector is tried first (default ServiceTime); RoundRobin follows
	// when the kernel refuses it.
	Selector string
	// MinPaths is how many paths a WWID needs for a map (default 2). 1
	// maps a disk whose other paths are down at boot, so that
	// queue_if_no_path covers it and multipathd can add them later.
	MinPaths int
}

// Map is one multipath map Assemble made, or found made already.
type Map struct {
	Name, UUID, WWID string
	Device           string // DevDir/mapper/Name
	Dev              string // major:minor of the map
	Selector         string
	Table            string // the multipath target's table line
	Paths            []Disk
	Existed          bool // a map with this uuid was there before
}

// Assemble reads the block devices names (sda, sdb...) from sysfs, groups
// them by WWID and makes a multipath map, as multipathd would name it,
// of every WWID with at least MinPaths paths: one path group (the paths have
// no priorities to tell apart), queue_if_no_path. It returns the maps
// and every group, single paths included. A map whose uuid exists already
// is taken as it is. A failure leaves no map of its own behind.
func Assemble(names []string, o Options) ([]Map, []Multi, error) {
	if o.Sys == "" {
		o.Sys = "/sys"
	}
	if o.DevDir == "" {
		o.DevDir = "/dev"
	}
	if o.Control == "" {
		o.Control = filepath.Join(o.DevDir, "mapper", "control")
	}
	var disks []Disk
	for _, n := range names {
		d, err := ReadDisk(o.Sys, n)
		if err != nil {
			return nil, nil, fmt.Errorf("WWID of %s: %w", n, err)
		}
		disks = append(disks, d)
	}
	groups, gerr := GroupDisks(disks)
	if o.MinPaths <= 0 {
		o.MinPaths = 2
	}
	var multi []Multi
	for _, g := range groups {
		if len(g.Paths) >= o.MinPaths {
			multi = append(multi, g)
		}
	}
	if len(multi) == 0 {
		return nil, groups, gerr
	}
	c, err := OpenControl(o.Control)
	if err != nil {
		return nil, groups, errors.Join(gerr, err)
	}
	defer c.Close()
	var maps []Map
	for _, g := range multi {
		m, err := c.assemble(g, o)
		if err != nil {
			return maps, groups, errors.Join(gerr, err)
		}
		maps = append(maps, m)
	}
	return maps, groups, gerr
}

func (c *Control) assemble(g Multi, o Options) (Map, error) {
	m := Map{WWID: g.WWID, Name: MapName(g.WWID, o.Bindings), UUID: UUIDPrefix + g.WWID, Paths: g.Paths}
	m.Device = filepath.Join(o.DevDir, "mapper", m.Name)
	if in, ok, err := c.Lookup(m.UUID); err != nil {
		return m, err
	} else if ok {
		m.Name, m.Existed = in.Name, true
		m.Device = filepath.Join(o.DevDir, "mapper", m.Name)
		m.Dev = fmt.Sprintf("%d:%d", in.Major, in.Minor)
		if ts, err := c.Status(m.Name, true); err == nil && len(ts) == 1 {
			m.Table = ts[0].Params
		}
		return m, mknodMap(m.Device, in)
	}
	var devs []string
	for _, p := range g.Paths {
		devs = append(devs, p.Dev)
	}
	in, err := c.Create(m.Name, m.UUID)
	if err != nil {
		return m, err
	}
	selectors := []string{ServiceTime, RoundRobin}
	if o.Selector == RoundRobin {
		selectors = []string{RoundRobin, ServiceTime}
	}
	var loadErr error
	for _, sel := range selectors {
		t := Table{Features: []string{FeatureQueueIfNoPath}, Groups: []Group{{Selector: sel, Paths: devs}}}
		m.Selector, m.Table = sel, t.String()
		if loadErr = c.Load(m.Name, []Target{{Length: g.Sectors, Type: "multipath", Params: m.Table}}); loadErr == nil {
			break
		}
		if !errors.Is(loadErr, unix.EINVAL) {
			break
		}
	}
	if loadErr != nil {
		c.Remove(m.Name)
		if errors.Is(loadErr, unix.EINVAL) {
			return m, fmt.Errorf("%w (table %q): %w", loadErr, m.Table, ErrNoDM)
		}
		return m, loadErr
	}
	if in, err = c.Resume(m.Name); err != nil {
		c.Remove(m.Name)
		return m, err
	}
	m.Dev = fmt.Sprintf("%d:%d", in.Major, in.Minor)
	if err := mknodMap(m.Device, in); err != nil {
		c.Remove(m.Name)
		return m, err
	}
	return m, nil
}

// mknodMap makes the map's node in /dev/mapper, as libdevmapper does
// where no udev runs; devtmpfs makes only /dev/dm-N.
func mknodMap(path string, in Info) error {
	dev := unix.Mkdev(in.Major, in.Minor)
	var st unix.Stat_t
	if unix.Stat(path, &st) == nil {
		if st.Mode&unix.S_IFMT == unix.S_IFBLK && st.Rdev == dev {
			return nil
		}
		os.Remove(path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := unix.Mknod(path, unix.S_IFBLK|0o600, int(dev)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("make %s: %w", path, err)
	}
	return nil
}

// MapStatus returns the status of map name's multipath target.
func (c *Control) MapStatus(name string) (Status, error) {
	ts, err := c.Status(name, false)
	if err != nil {
		return Status{}, err
	}
	if len(ts) != 1 || ts[0].Type != "multipath" {
		return Status{}, fmt.Errorf("map %s: %d targets, not one multipath target: %w", name, len(ts), errStatus)
	}
	return ParseStatus(ts[0].Params)
}

// Reinstate puts the failed path dev (major:minor) of map name back in
// use, and reports whether it was failed.
func (c *Control) Reinstate(name, dev string) (bool, error) {
	st, err := c.MapStatus(name)
	if err != nil {
		return false, err
	}
	for _, p := range st.Paths {
		if p.Dev == dev && !p.Active {
			return true, c.Message(name, 0, ReinstateMessage(dev))
		}
	}
	return false, nil
}

// SetRecoveryTimeout writes a session's replacement timeout through sysfs
// (/sys/class/iscsi_session/sessionN/recovery_tmo, which the kernel takes
// at any time), as multipathd does with fast_io_fail_tmo.
func SetRecoveryTimeout(sys string, sid int, seconds int) error {
	p := filepath.Join(sys, "class", "iscsi_session", "session"+strconv.Itoa(sid), "recovery_tmo")
	return os.WriteFile(p, []byte(strconv.Itoa(seconds)), 0)
}

// ReadAttr reads one sysfs attribute, trimmed.
func ReadAttr(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}
