//go:build !386

package kernel

// offR is where the reply union r of struct iscsi_uevent starts: u is 24
// bytes because its largest members (msg_bind_conn, msg_stop_conn: u32,
// u32, u64, u32) are padded to the 8-byte alignment of their u64.
const offR = 40
