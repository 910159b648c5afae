package netcfg

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/nstest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The tests run in private network, mount and PID namespaces (nstest): the "host" side of every test is a
// namespace with only lo in it, and the peer side of each veth pair lives in a second namespace the test
// makes and drops. No packet leaves them.
func TestMain(m *testing.M) { nstest.Main(m) }

// vethSeq makes link names unique across the tests of one run.
var vethSeq atomic.Int32

// testbed is a veth pair: Link in the test's namespace, Peer in a private peer namespace.
type testbed struct {
	Link   string // our end
	Peer   string // the far end, inside the peer namespace
	peerNS int    // fd of the peer namespace
	host   *Conn  // rtnetlink in our namespace
	peer   *Conn  // rtnetlink in the peer namespace
}

// newTestbed creates a veth pair with one end in a new namespace, brings the peer end up with peerAddrs,
// and removes it all when the test ends.
func newTestbed(t *testing.T, peerAddrs ...netip.Prefix) *testbed {
	t.Helper()
	nstest.Require(t)
	n := vethSeq.Add(1)
	tb := &testbed{Link: fmt.Sprintf("veth%d", n), Peer: fmt.Sprintf("peer%d", n), peerNS: newNetNS(t)}
	var err error
	if tb.host, err = Dial(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.host.Close() })
	// The socket is opened inside the peer namespace and stays bound to it.
	if err := inNS(tb.peerNS, func() error {
		var err error
		tb.peer, err = Dial()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.peer.Close() })

	ctx := testContext(t)
	if err := addVeth(ctx, tb.host, tb.Link, tb.Peer, tb.peerNS); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Deleting one end deletes both; the peer namespace goes with its last fd.
		if l, err := tb.host.LinkByName(context.Background(), tb.Link); err == nil {
			_ = deleteLink(context.Background(), tb.host, l.Index)
		}
	})
	pl, err := tb.peer.LinkByName(ctx, tb.Peer)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peerAddrs {
		if err := tb.peer.AddAddress(ctx, pl.Index, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.peer.SetUp(ctx, pl.Index); err != nil {
		t.Fatal(err)
	}
	return tb
}

// peerLink is the far end as the peer namespace sees it.
func (tb *testbed) peerLink(t *testing.T) Link {
	t.Helper()
	l, err := tb.peer.LinkByName(testContext(t), tb.Peer)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// testContext bounds every test: nothing here may take longer than a minute.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newNetNS makes a network namespace and returns an fd that keeps it alive until the test ends. The calling
// thread enters it only for the unshare and leaves again at once.
func newNetNS(t *testing.T) int {
	t.Helper()
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer unix.Close(orig)
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	fd, ferr := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with the goroutine: it must never run other code in the wrong namespace.
		t.Fatalf("return to the test namespace: %v", err)
	}
	runtime.UnlockOSThread()
	if ferr != nil {
		t.Fatal(ferr)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// inNS runs fn on a thread inside the namespace fd. Sockets fn opens stay in that namespace afterwards,
// whatever thread uses them.
func inNS(fd int, fn func() error) error {
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer unix.Close(orig)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter namespace: %w", err)
	}
	ferr := fn()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("leave namespace (thread left locked): %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// addVeth creates the veth pair name/peer with peer moved into the namespace peerNS (linux/veth.h:
// VETH_INFO_PEER carries a struct ifinfomsg and the peer's attributes).
// vethInfoPeer is VETH_INFO_PEER from linux/veth.h, which x/sys/unix does not carry.
const vethInfoPeer = 1

func addVeth(ctx context.Context, c *Conn, name, peer string, peerNS int) error {
	ph, _ := ifInfoMsg{}.MarshalBinary()
	pae := netlink.NewAttributeEncoder()
	pae.String(unix.IFLA_IFNAME, peer)
	pae.Uint32(unix.IFLA_NET_NS_FD, uint32(peerNS))
	pattrs, err := pae.Encode()
	if err != nil {
		return err
	}
	h, _ := ifInfoMsg{}.MarshalBinary()
	ae := netlink.NewAttributeEncoder()
	ae.String(unix.IFLA_IFNAME, name)
	ae.Nested(unix.IFLA_LINKINFO, func(nae *netlink.AttributeEncoder) error {
		nae.String(unix.IFLA_INFO_KIND, "veth")
		nae.Nested(unix.IFLA_INFO_DATA, func(dae *netlink.AttributeEncoder) error {
			dae.Bytes(vethInfoPeer, append(ph, pattrs...))
			return nil
		})
		return nil
	})
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	if _, err := c.exec(ctx, unix.RTM_NEWLINK, netlink.Acknowledge|netlink.Create|netlink.Excl, append(h, attrs...)); err != nil {
		return fmt.Errorf("add veth %s/%s: %w", name, peer, err)
	}
	return nil
}

func deleteLink(ctx context.Context, c *Conn, idx int) error {
	h, _ := ifInfoMsg{Index: int32(idx)}.MarshalBinary()
	_, err := c.exec(ctx, unix.RTM_DELLINK, netlink.Acknowledge, h)
	return err
}

// setDown clears IFF_UP, e.g. on the peer end to take carrier away from ours.
func setDown(ctx context.Context, c *Conn, idx int) error {
	h, _ := ifInfoMsg{Index: int32(idx), Change: unix.IFF_UP}.MarshalBinary()
	_, err := c.exec(ctx, unix.RTM_NEWLINK, netlink.Acknowledge, h)
	return err
}

// hostAddrs lists the addresses on link name in our namespace, without link-local ones.
func hostAddrs(t *testing.T, c *Conn, name string) []netip.Prefix {
	t.Helper()
	ctx := testContext(t)
	l, err := c.LinkByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	as, err := c.Addresses(ctx, l.Index)
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.Prefix
	for _, a := range as {
		if !a.Prefix.Addr().IsLinkLocalUnicast() {
			out = append(out, a.Prefix)
		}
	}
	return out
}

// hostRoutes lists the routes through link name that have a gateway or are host routes.
func hostRoutes(t *testing.T, c *Conn, name string) []Route {
	t.Helper()
	ctx := testContext(t)
	l, err := c.LinkByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.Routes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []Route
	for _, r := range rs {
		if r.Index == l.Index && (r.Gateway.IsValid() || r.Dst.IsSingleIP()) && !r.Dst.Addr().IsMulticast() &&
			!r.Dst.Addr().IsLinkLocalUnicast() && r.Protocol == unix.RTPROT_BOOT {
			out = append(out, r)
		}
	}
	return out
}
