package netcfg

import (
	"errors"
	"fmt"
)

// Sentinels callers branch on, e.g. to choose an exit code.
var (
	// ErrLinkNotFound: no link has the requested name or MAC address.
	ErrLinkNotFound = errors.New("link not found")
	// ErrNoCarrier: the link stayed without carrier until the deadline.
	ErrNoCarrier = errors.New("no carrier")
	// ErrTimeout: DHCP or SLAAC did not finish before the deadline.
	ErrTimeout = errors.New("timed out")
	// ErrNoDHCP: the drop-in build (-tags dropin) has no DHCP clients; the full build has them.
	ErrNoDHCP = errors.New("no DHCP client in this build (the drop-in, built with -tags dropin; the full build has one)")
)

var (
	errUnsupported    = errors.New("network configuration needs Linux")
	errBadMethod      = errors.New("unknown method")
	errNoLinkSelector = errors.New("neither name nor MAC given")
	errBadMAC         = errors.New("bad MAC address")
	errBadVLAN        = errors.New("VLAN id out of range 1-4094")
	errBadMTU         = errors.New("MTU out of range 68-65535")
	errBadAddress     = errors.New("bad address")
	errBadName        = errors.New("bad interface name")
	errShortMessage   = errors.New("netlink message too short")
	errNoAddress      = errors.New("lease has no address")
	errVLANMismatch   = errors.New("exists but is not the requested VLAN")
	errNoVLANSupport  = errors.New("kernel has no 802.1Q VLAN support (module 8021q)")
	errBadHostName    = errors.New("not an RFC 1123 host name")
	errNotPrintable   = errors.New("holds a control byte or invalid UTF-8")
)

// InterfaceError is the failure of one step on one interface. Its message is one line for the console:
// "eth0: DHCPv4: no offer within 10s (3 DISCOVERs sent)", "eth0: no carrier after 10s".
type InterfaceError struct {
	Iface string // the link name, or the MAC address when no link was found
	Step  string // "DHCPv4", "DHCPv6", "SLAAC", "address", "route", "VLAN", ...; empty when Err says it all
	Err   error
}

func (e *InterfaceError) Error() string {
	if e.Step == "" {
		return fmt.Sprintf("%s: %v", e.Iface, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Iface, e.Step, e.Err)
}

func (e *InterfaceError) Unwrap() error { return e.Err }

// timeoutError says what did not happen in how long, and wraps ErrTimeout or ErrNoCarrier.
type timeoutError struct {
	what string // "no offer within 10s (3 DISCOVERs sent)"
	err  error
}

func (e *timeoutError) Error() string { return e.what }

func (e *timeoutError) Unwrap() error { return e.err }
