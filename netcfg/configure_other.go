//go:build !linux

package netcfg

import (
	"context"
	"net/netip"
)

// Configure fails: interfaces are configured over rtnetlink, which only Linux has.
func Configure(ctx context.Context, ifs []Interface, opts ...Option) ([]Result, error) {
	return nil, errUnsupported
}

// HostRoute fails: routes are added over rtnetlink, which only Linux has.
func HostRoute(ctx context.Context, link string, target, gateway netip.Addr) error {
	return errUnsupported
}

// RenameLink fails: links are renamed over rtnetlink, which only Linux has.
func RenameLink(ctx context.Context, mac, name string) error {
	return errUnsupported
}

// AddSoftRoCE fails: RDMA devices are added over RDMA netlink, which only Linux has.
func AddSoftRoCE(ctx context.Context, netdev string) (SoftRoCE, error) {
	return SoftRoCE{}, errUnsupported
}
