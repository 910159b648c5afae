package netcfg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/wait"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// softRoCEWait bounds the wait for the new device's port: rdma_rxe registers the device at once and makes
// the port ACTIVE as soon as the network device has carrier, which the boot has already waited for.
const softRoCEWait = 10 * time.Second

// AddSoftRoCE adds a soft-RoCE (rdma_rxe) RDMA device over the network device netdev, as iproute2's
// `rdma link add rxe_eth0 type rxe netdev eth0` does, and waits, bounded by ctx and softRoCEWait, until its
// port is ACTIVE. A network device that has a soft-RoCE device already keeps it (Added is false). The
// kernel needs the rdma_rxe module loaded beforehand: the boot's modprobe is off, so the kernel's own
// request for it fails.
func AddSoftRoCE(ctx context.Context, netdev string) (SoftRoCE, error) {
	c, err := netlink.Dial(unix.NETLINK_RDMA, nil)
	if err != nil {
		return SoftRoCE{}, &InterfaceError{Iface: netdev, Step: "soft-RoCE", Err: fmt.Errorf("dial RDMA netlink: %w (module ib_core)", err)}
	}
	defer c.Close()
	return addSoftRoCE(ctx, c, "/sys", netdev)
}

// addSoftRoCE is AddSoftRoCE over the socket c, with sysfs at sys.
func addSoftRoCE(ctx context.Context, c *netlink.Conn, sys, netdev string) (SoftRoCE, error) {
	fail := func(err error) (SoftRoCE, error) {
		return SoftRoCE{}, &InterfaceError{Iface: netdev, Step: "soft-RoCE", Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, softRoCEWait)
	defer cancel()
	name := SoftRoCEName(netdev)
	data, err := newLinkRequest(name, SoftRoCEType, netdev)
	if err != nil {
		return fail(err)
	}
	added := true
	if err := rdmaExec(ctx, c, rdmaNLType(rdmaNLNLDev, rdmaNLDevCmdNewLink), data); err != nil {
		switch {
		case errors.Is(err, unix.EEXIST):
			added = false // rdma_rxe: "already configured on" this netdev
		case errors.Is(err, unix.EINVAL):
			// nldev_newlink: no link type "rxe" registered, and no modprobe to load it.
			return fail(fmt.Errorf("add %s: %w (module rdma_rxe not loaded?)", name, err))
		case errors.Is(err, unix.ENODEV):
			return fail(fmt.Errorf("add %s: %w: no network device %q", name, err, netdev))
		default:
			return fail(fmt.Errorf("add %s: %w", name, err))
		}
	}
	r, err := waitSoftRoCE(ctx, sys, netdev)
	if err != nil {
		return fail(err)
	}
	r.Added = added
	return r, nil
}

// rdmaExec sends one request with an acknowledgement asked for, bounded by ctx.
func rdmaExec(ctx context.Context, c *netlink.Conn, typ netlink.HeaderType, data []byte) error {
	dl, _ := ctx.Deadline()
	// nltest's fake kernel takes no deadline and answers at once.
	_ = c.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: typ, Flags: netlink.Request | netlink.Acknowledge},
		Data:   data,
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	// The kernel's errno is the message: "invalid argument", not "netlink receive: invalid argument".
	var oe *netlink.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// portActive is the port state rdma_rxe reports once its network device is up with carrier
// (/sys/class/infiniband/DEV/ports/1/state, ib_port_state IB_PORT_ACTIVE).
const portActive = "4: ACTIVE"

// waitSoftRoCE polls sysfs until an RDMA device whose parent is netdev has an ACTIVE port 1 and an
// address GID, or ctx ends. An ACTIVE port without an address GID by then is returned with GIDReady
// false: the login's own retries cover the kernel's GID worker being late, a missing port does not.
func waitSoftRoCE(ctx context.Context, sys, netdev string) (SoftRoCE, error) {
	var last SoftRoCE
	state := "no RDMA device"
	if wait.Until(ctx, 20*time.Millisecond, func() bool {
		r, st, ok := findSoftRoCE(sys, netdev)
		if ok {
			last, state = r, st
		}
		return ok && st == portActive && r.GIDReady
	}) == nil || state == portActive {
		return last, nil
	}
	return SoftRoCE{}, fmt.Errorf("%w: waiting for an RDMA device on %s with an ACTIVE port: %s", ErrTimeout, netdev, state)
}

// findSoftRoCE finds the RDMA device whose parent (rdma_rxe's sysfs attribute) is netdev and returns it
// with its port 1 state.
func findSoftRoCE(sys, netdev string) (SoftRoCE, string, bool) {
	devs, _ := filepath.Glob(filepath.Join(sys, "class", "infiniband", "*", "parent"))
	for _, p := range devs {
		b, err := os.ReadFile(p)
		if err != nil || strings.TrimSpace(string(b)) != netdev {
			continue
		}
		dir := filepath.Dir(p)
		st, _ := os.ReadFile(filepath.Join(dir, "ports", "1", "state"))
		return SoftRoCE{Name: filepath.Base(dir), Netdev: netdev, GIDReady: hasAddressGID(filepath.Join(dir, "ports", "1", "gids"))},
			strings.TrimSpace(string(st)), true
	}
	return SoftRoCE{}, "", false
}

// hasAddressGID says whether a GID table (one file per index) holds a GID made from an address of the
// network device: the kernel (core/roce_gid_mgmt.c) puts the default GID, fe80:: from the MAC address,
// at index 0 and adds one per IP address after it, an IPv4 one as ::ffff:a.b.c.d. Empty entries read as
// zeros.
func hasAddressGID(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		g := strings.TrimSpace(string(b))
		if strings.Trim(g, "0:") != "" && !strings.HasPrefix(g, "fe80:") {
			return true
		}
	}
	return false
}
