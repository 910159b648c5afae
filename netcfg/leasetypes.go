package netcfg

import (
	"net/netip"
	"time"
)

// lease4 is what netcfg takes from a DHCPv4 ACK.
type lease4 struct {
	Addr      netip.Prefix
	Routers   []netip.Addr
	Routes    []Route // RFC 3442 classless static routes (option 121), without link index
	DNS       []netip.Addr
	Domain    string
	Search    []string
	Hostname  string
	MTU       int
	RootPath  string
	Initiator string
	Server    netip.Addr
	BootFile  string
	LeaseTime time.Duration
	Dropped   []string // one line per string option dropped for its syntax, for the log
}

// lease6 is what netcfg takes from a DHCPv6 REPLY.
type lease6 struct {
	Addr      netip.Addr
	DNS       []netip.Addr
	Search    []string
	LeaseTime time.Duration
	BootFile  string   // option 59, the boot file URL (RFC 5970, Section 3.1)
	RootPath  string   // BootFile when it is an iSCSI root path (RFC 4173's iscsi: form), as UEFI's iSCSI takes it
	Dropped   []string // as in lease4
}
