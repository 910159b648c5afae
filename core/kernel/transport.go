package kernel

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Caps are a transport's capabilities, the Cap* flags (params.go), as
// /sys/class/iscsi_transport/<name>/caps shows them ("0x%x").
type Caps uint32

// Route is how a session reaches its target over a transport, as
// open-iscsi's transport table (usr/transport.c) decides it.
type Route int

const (
	// RouteSocket: we connect a TCP socket in user space and hand it to
	// the kernel by descriptor (iscsi_tcp).
	RouteSocket Route = iota
	// RouteEndpoint: the kernel connects (EP_CONNECT, EP_POLL), the
	// session is created on that endpoint, and the login PDUs pass
	// through the kernel as for iscsi_tcp (iSER, bnx2i, cxgb4i, qedi,
	// be2iscsi).
	RouteEndpoint
	// RouteHBA: the HBA logs in by itself (CAP_LOGIN_OFFLOAD, qla4xxx);
	// its boot sessions are found, not made.
	RouteHBA
)

func (r Route) String() string {
	switch r {
	case RouteSocket:
		return "socket"
	case RouteEndpoint:
		return "kernel endpoint"
	case RouteHBA:
		return "HBA login"
	}
	return fmt.Sprintf("route %d", int(r))
}

// Transport is a registered kernel iSCSI transport.
type Transport struct {
	Name   string // "tcp", "iser", "bnx2i", ...
	Handle uint64 // the transport handle every request carries
	Caps   Caps
}

// Route is how sessions over t are made. Only iscsi_tcp takes a socket
// from user space; every other transport connects in the kernel, and an
// HBA that logs in by itself takes no login at all.
func (t Transport) Route() Route {
	switch {
	case t.Caps&CapLoginOffload != 0:
		return RouteHBA
	case t.Name == "tcp":
		return RouteSocket
	}
	return RouteEndpoint
}

// RDMA reports whether logins over t negotiate iSER's keys (open-iscsi's
// template .rdma, set for iser alone).
func (t Transport) RDMA() bool { return t.Name == "iser" }

// BindsHost reports whether t's endpoints are connected through a SCSI
// host of its own (EP_CONNECT_THROUGH_HOST): the offload NICs, which
// open-iscsi's table marks bind_ep_required and whose caps say
// CAP_DATA_PATH_OFFLOAD.
func (t Transport) BindsHost() bool {
	return t.Caps&CapDataPathOffload != 0 || slices.Contains(bindEPTransports, t.Name)
}

// bindEPTransports are open-iscsi's bind_ep_required transports
// (usr/transport.c).
var bindEPTransports = []string{"cxgb3i", "cxgb4i", "bnx2i", "be2iscsi", "qla4xxx", "ocs", "qedi"}

// ModuleFor names the kernel module that registers transport name: the
// two whose module is not named after them (open-iscsi's
// transport_load_kmod says so too), and the offload drivers, which are.
func ModuleFor(name string) string {
	switch name {
	case "tcp":
		return "iscsi_tcp"
	case "iser":
		return "ib_iser"
	}
	return name
}

// Transport reads transport name's handle and capabilities from
// /sys/class/iscsi_transport/<name>. A transport that is not registered
// is an error naming the module to load and the transports that are.
func (s Sysfs) Transport(name string) (Transport, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return Transport{}, fmt.Errorf("iSCSI transport %q: %w", name, errTransportName)
	}
	h, err := s.TransportHandle(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			loaded, _ := s.Transports()
			have := "none"
			if len(loaded) > 0 {
				have = strings.Join(loaded, ", ")
			}
			return Transport{}, fmt.Errorf("iSCSI transport %q not registered (load %s; registered: %s): %w",
				name, ModuleFor(name), have, os.ErrNotExist)
		}
		return Transport{}, err
	}
	t := Transport{Name: name, Handle: h}
	v, err := s.read("class", "iscsi_transport", name, "caps")
	if err != nil {
		return Transport{}, fmt.Errorf("iSCSI transport %q: %w", name, err)
	}
	c, err := strconv.ParseUint(v, 0, 32)
	if err != nil {
		return Transport{}, fmt.Errorf("iSCSI transport %q: caps %q: %w", name, v, err)
	}
	t.Caps = Caps(c)
	return t, nil
}

// Transports lists the transports registered with the kernel, sorted.
func (s Sysfs) Transports() ([]string, error) {
	ents, err := os.ReadDir(s.path("class", "iscsi_transport"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out, nil
}

// HostFor returns the SCSI host of offload transport t whose iSCSI host
// is on network device netdev or has hardware address mac (either may be
// empty), as open-iscsi's iscsi_sysfs_get_host_no_from_hwinfo finds it:
// /sys/class/iscsi_host/hostN/{netdev,hwaddress}, the host's driver from
// /sys/class/scsi_host/hostN/proc_name.
func (s Sysfs) HostFor(t Transport, netdev, mac string) (int, error) {
	ents, err := os.ReadDir(s.path("class", "iscsi_host"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return -1, err
	}
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), "host")
		h, err := strconv.Atoi(n)
		if !ok || err != nil {
			continue
		}
		if p, _ := s.read("class", "scsi_host", e.Name(), "proc_name"); p != t.Name {
			continue
		}
		nd, _ := s.read("class", "iscsi_host", e.Name(), "netdev")
		hw, _ := s.read("class", "iscsi_host", e.Name(), "hwaddress")
		if (netdev != "" && nd == netdev) || (mac != "" && strings.EqualFold(hw, mac)) || (netdev == "" && mac == "") {
			return h, nil
		}
	}
	return -1, fmt.Errorf("no %s host for netdev %q or hardware address %q under /sys/class/iscsi_host: %w",
		t.Name, netdev, mac, os.ErrNotExist)
}
