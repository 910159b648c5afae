// Package boot runs a plan.Plan: it brings the network up (netcfg), logs
// in to every portal of every target in parallel with retries under one
// deadline (Run), through the kernel's iSCSI transport (core/kernel), and
// waits for the root disk; then it hands the sessions over to the real
// root: node records and Debian's files for iscsid, and the optional
// resident loop that keeps the sessions until iscsid runs.
//
// Boot is the whole sequence for the guest /init, as a list of named
// steps. The plan itself, and every parser of what a machine says about
// its root, live in package plan; this package never parses a command
// line.
package boot
