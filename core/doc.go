// Package core is the iSCSI protocol of an initiator in pure Go: PDU
// encoding and decoding (RFC 7143, Section 11), text key negotiation
// (Sections 5, 6 and 13), the login state machine with CHAP (Section 12.1.3,
// RFC 1994), SendTargets discovery, a small full-feature session for probing
// (NOP, REPORT LUNS, INQUIRY) and logout.
//
// It never makes a system call of its own but getrandom(2) for mutual
// CHAP's challenges: every exchange runs over a Transport, which is a
// plain TCP stream (StreamTransport) in user space and the kernel's iSCSI
// transport (package core/kernel) at boot. It never
// prints: failures are typed errors (*LoginError and friends) whose one-line
// messages name the target, the portal, the stage and the decoded status,
// and never contain a secret.
package core
