// Command floor is the simplest client of the kernel's iSCSI transport
// there can be, built by the benchmarks to measure the floor of a login
// in the same guest as ours and open-iscsi's: connect, one login request
// and its answer with fixed keys (no authentication, straight to the full
// feature phase), CREATE_SESSION, CREATE_CONN, BIND_CONN, the parameters
// the kernel needs, START_CONN, the scan of the target and the wait for
// its first disk: the job of iscsistart's flags, which name no LUN, so the
// kernel reads the target's REPORT LUNS as it does for ours and open-iscsi's. No plan, no network set-up, no retries, no recovery identity for
// iscsid: every second it takes is the protocol's, the kernel's and the
// target's. It reuses package core's PDU codec and core/kernel's
// NETLINK_ISCSI messages, and prints its steps as internal/trace does.
//
// Synopsis:
//
//	floor INITIATOR TARGET ADDRESS:PORT
//
// It exits 0 when the target's first disk opens, 1 on any failure, with one line
// saying which step failed.
package main
