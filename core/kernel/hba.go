package kernel

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/esc"
	"github.com/iscsiboot/iscsiboot/internal/wait"
)

// An HBA that logs in by itself (CAP_LOGIN_OFFLOAD, qla4xxx) makes its boot
// sessions from its flash when its driver loads, and publishes them in
// sysfs like any other: /sys/class/iscsi_session/sessionS (targetname,
// state) under the HBA's SCSI host, its connection's persistent_address and
// persistent_port, and the disks below the session's device
// (.../hostH/sessionS/targetH:C:T/H:C:T:L/block/sdX). Unlike iscsi_tcp's,
// one host holds every session of the HBA, each on a SCSI target id of its
// own, so a disk is found below its session, not at H:0:0:L.

// HBAPoll is how often WaitHBASession looks at sysfs again.
const HBAPoll = 50 * time.Millisecond

// hbaLoggedIn is the state sysfs shows for a session whose login is done
// (iscsi_session_state_name, ISCSI_SESSION_LOGGED_IN).
const hbaLoggedIn = "LOGGED_IN"

// HBAQuery names the session an HBA made by itself: its target, the
// portal it logged in to, and the SCSI host it is on (from the
// /sys/firmware/iscsi_boot<host> the HBA published; -1 for any host of
// the transport).
type HBAQuery struct {
	Transport Transport
	Host      int
	Target    string
	Address   string
	Port      int
}

func (q HBAQuery) String() string {
	host := "any " + q.Transport.Name + " host"
	if q.Host >= 0 {
		host = fmt.Sprintf("host%d", q.Host)
	}
	return fmt.Sprintf("%s at %s on %s", esc.String(q.Target), esc.String(portalString(q.Address, q.Port)), host)
}

func portalString(addr string, port int) string {
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// matches tells whether the session s is the one q names. Addresses are
// compared as addresses (the kernel prints what the HBA gave it, which may
// be an IPv4-mapped IPv6 form).
func (q HBAQuery) matches(s SessionInfo) bool {
	if s.TargetName != q.Target || s.Port != q.Port {
		return false
	}
	if q.Host >= 0 && s.Host != q.Host {
		return false
	}
	a, errA := netip.ParseAddr(s.Address)
	b, errB := netip.ParseAddr(q.Address)
	if errA != nil || errB != nil {
		return s.Address == q.Address
	}
	return a.Unmap() == b.Unmap()
}

// FindHBASession returns the session q names that is logged in, if sysfs
// shows one.
func (s Sysfs) FindHBASession(q HBAQuery) (SessionInfo, bool) {
	ss, _ := s.Sessions()
	for _, si := range ss {
		if si.State == hbaLoggedIn && q.matches(si) {
			return si, true
		}
	}
	return SessionInfo{}, false
}

// WaitHBASession polls sysfs, bounded by ctx, until the HBA's session q
// names is logged in: the HBA may still be logging in from its flash when
// the boot looks. On timeout the error is one line naming the target, the
// portal and the host, and what the host has instead.
func (s Sysfs) WaitHBASession(ctx context.Context, q HBAQuery) (SessionInfo, error) {
	var si SessionInfo
	if wait.Until(ctx, HBAPoll, func() (ok bool) { si, ok = s.FindHBASession(q); return ok }) != nil {
		return SessionInfo{}, fmt.Errorf("%s logs in by itself, but has no logged-in session to %s (it has: %s): %w",
			q.Transport.Name, q, s.hbaSessions(q), ErrNoHBASession)
	}
	return si, nil
}

// hbaSessions lists, for an error, the sessions of q's host (or of every
// host) as "target at portal (state)", escaped: the names come from the
// HBA's flash and the target.
func (s Sysfs) hbaSessions(q HBAQuery) string {
	ss, _ := s.Sessions()
	var out []string
	for _, si := range ss {
		if q.Host >= 0 && si.Host != q.Host {
			continue
		}
		out = append(out, fmt.Sprintf("%s at %s (%s)", esc.Clip(si.TargetName, 80),
			esc.Clip(portalString(si.Address, si.Port), 60), esc.Clip(si.State, 20)))
	}
	if len(out) == 0 {
		return "none"
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// SessionDisk returns the block device of LUN lun of session sid (with
// any, of its lowest LUN that has one) once the kernel has read its
// capacity, or "".
func (s Sysfs) SessionDisk(sid int, lun uint64, any bool) string {
	dev, err := filepath.EvalSymlinks(s.path("class", "iscsi_session", fmt.Sprintf("session%d", sid), "device"))
	if err != nil {
		return ""
	}
	tgts, _ := os.ReadDir(dev)
	best, disk := uint64(0), ""
	for _, tg := range tgts {
		if !strings.HasPrefix(tg.Name(), "target") {
			continue
		}
		luns, _ := os.ReadDir(filepath.Join(dev, tg.Name()))
		for _, l := range luns {
			var h, c, t int
			var n uint64
			if k, _ := fmt.Sscanf(l.Name(), "%d:%d:%d:%d", &h, &c, &t, &n); k != 4 {
				continue
			}
			if !any && n != lun {
				continue
			}
			blocks, _ := os.ReadDir(filepath.Join(dev, tg.Name(), l.Name(), "block"))
			if len(blocks) == 0 || !s.DiskReady(blocks[0].Name()) {
				continue
			}
			if disk == "" || n < best {
				best, disk = n, blocks[0].Name()
			}
		}
	}
	return disk
}

// WaitSessionDisk polls, bounded by ctx, until SessionDisk has a disk.
// The HBA's driver scans its sessions itself.
func (s Sysfs) WaitSessionDisk(ctx context.Context, sid int, lun uint64, any bool) (string, error) {
	d := ""
	err := wait.Until(ctx, diskPoll, func() bool { d = s.SessionDisk(sid, lun, any); return d != "" })
	switch {
	case err == nil:
		return d, nil
	case any:
		return "", fmt.Errorf("no disk on any LUN of session %d: %w", sid, err)
	}
	return "", fmt.Errorf("no block device for LUN %d of session %d: %w", lun, sid, err)
}

// ParseHostName reads a SCSI host's name as sysfs spells it ("host3") or
// as an offload HBA's boot directory does ("iscsi_boot3").
func ParseHostName(s string) (int, error) {
	n, ok := strings.CutPrefix(s, "host")
	if !ok {
		n, ok = strings.CutPrefix(s, "iscsi_boot")
	}
	h, err := strconv.Atoi(n)
	if !ok || err != nil || h < 0 || n != strconv.Itoa(h) {
		return -1, fmt.Errorf("SCSI host %q: %w", esc.Clip(s, 40), errHostName)
	}
	return h, nil
}

// HostInfo is what /sys/class/iscsi_host/hostN shows of an offload host
// (scsi_transport_iscsi.c, iscsi_host attributes): the values open-iscsi
// names the host's iface by.
type HostInfo struct {
	HWAddress string // "00:0e:1e:00:00:01", lower case; "" if unset or not a MAC
	IPAddress string // "" if unset or not an address
	Netdev    string
}

// ISCSIHost reads host's iscsi_host attributes. Values that are not what
// their name says (a MAC, an address) are left empty: they come from the
// HBA's firmware and end up in files iscsid parses.
func (s Sysfs) ISCSIHost(host int) (HostInfo, error) {
	name := fmt.Sprintf("host%d", host)
	if _, err := os.Stat(s.path("class", "iscsi_host", name)); err != nil {
		return HostInfo{}, fmt.Errorf("iSCSI host %s: %w", name, err)
	}
	var hi HostInfo
	if v, _ := s.read("class", "iscsi_host", name, "hwaddress"); v != "" {
		if mac, err := net.ParseMAC(v); err == nil {
			hi.HWAddress = mac.String()
		}
	}
	if v, _ := s.read("class", "iscsi_host", name, "ipaddress"); v != "" {
		if ip, err := netip.ParseAddr(v); err == nil {
			hi.IPAddress = ip.Unmap().String()
		}
	}
	if v, _ := s.read("class", "iscsi_host", name, "netdev"); esc.Printable(v) && !strings.ContainsAny(v, " /") {
		hi.Netdev = v
	}
	return hi, nil
}
