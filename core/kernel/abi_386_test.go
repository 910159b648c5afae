package kernel

// r is the offset of union r in struct iscsi_uevent on i386: 16 + the 20
// bytes of union u, whose uint64_t members are 4-byte aligned there.
const r = 36
