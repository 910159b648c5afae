// Package trace prints the steps of a login, each with the time of
// CLOCK_MONOTONIC, to stderr when the environment asks for it
// (ISCSIBOOT_TRACE=1, also from the kernel command line for our /init):
// process start, main entered, netlink open, TCP connect, each login
// PDU's round trip, the parameters set, the connection started, the scan
// request and the disk's node. The lines read
//
//	iscsiboot-trace[12.345678] netlink open
//
// so a benchmark lines them up with the guest's /proc/uptime, which reads
// the same clock when the machine never slept.
//
// Off, which is the default, a step costs the test of one bool: no clock
// read, no allocation. It never decides anything and never writes
// anywhere but stderr.
package trace
