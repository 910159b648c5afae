// Command floor is the simplest client of the kernel's iSCSI transport
// there can be, built by the benchmarks to measure the floor of a login
// in the same guest as ours and open-iscsi's: connect, one login request
// and its answer with fixed keys (no authentication, straight to the full
// feature phase), CREATE_SESSION, CREATE_CONN, BIND_CONN, the parameters
// the kernel needs, START_CONN, the scan of one LUN, and the wait for its
// disk. No plan, no network set-up, no retries, no recovery identity for
// iscsid: every second it takes is the protocol's, the kernel's and the
// target's. It reuses package core's PDU codec and core/kernel's
// NETLINK_ISCSI messages, and prints its steps as internal/trace does.
//
// Synopsis:
//
//	floor INITIATOR TARGET ADDRESS:PORT LUN
//
// It exits 0 when the LUN's disk opens, 1 on any failure, with one line
// saying which step failed.
package main
