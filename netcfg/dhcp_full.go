//go:build !dropin

package netcfg

// HasDHCP tells whether this build has the DHCPv4 and DHCPv6 clients: the full build does, the drop-in
// (-tags dropin) does not, and refuses an interface with method dhcp or dhcp6 before touching anything.
const HasDHCP = true
