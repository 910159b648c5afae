// Package handoff leaves the boot's sessions to the real root: node
// records for open-iscsi's iscsid, written as the root's own iscsiadm
// would (NewNodeRecord, InstallNodeRecords: into the root's node database,
// or through a systemd drop-in on a read-only root), the maps' WWIDs for
// multipathd (InstallWWIDs), Debian's hand-off files (WriteHandoff), and the resident loop that logs the sessions in
// again on the kernel's connection errors until iscsid runs (Resident,
// started as a process of its own by StartResident).
//
// Its values come from the plan and its table of session values (package
// plan) and from what the kernel shows of the sessions (core/kernel,
// through package boot). It never parses a command line and never decides
// what to log in to.
package handoff
