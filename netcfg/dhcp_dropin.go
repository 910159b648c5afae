//go:build dropin

package netcfg

// HasDHCP tells whether this build has the DHCPv4 and DHCPv6 clients: the drop-in build (-tags dropin), for
// initramfs images whose own scripts run DHCP (initramfs-tools' ipconfig), leaves them out, with the DHCP
// libraries and their package initialisation, and refuses an interface with method dhcp or dhcp6 before
// touching anything.
const HasDHCP = false
