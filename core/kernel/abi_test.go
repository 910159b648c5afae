//go:build !386

package kernel

// r is the offset of union r in struct iscsi_uevent: 16 + the 24 bytes of
// union u (see uevent_test.go).
const r = 40
