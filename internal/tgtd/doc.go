// Package tgtd runs a real Linux SCSI target daemon (tgt's tgtd) for tests and drives it with tgtadm: targets,
// logical units, access lists, CHAP accounts, digest parameters, and forced connection drops.
//
// tgtd listens on 127.0.0.1 only and keeps its control socket under /var/run/tgtd, a path compiled into tgt,
// so it runs only inside the private namespaces of package nstest: Start fails the test otherwise. Several
// servers can run side by side in one namespace; each gets its own iSCSI port and control port.
//
// tgtd ignores SIGTERM. Stop deletes every target with --force, then asks tgtd to exit through tgtadm, and
// kills it only if it does not. Its log stays in the test's temporary directory and is printed when the test
// fails. Passwords given to tgtadm never appear in any log line or error.
package tgtd
