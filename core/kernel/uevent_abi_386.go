package kernel

// offR is where the reply union r of struct iscsi_uevent starts. On i386 a
// u64 inside a struct is 4-byte aligned, so u is 20 bytes and r follows at
// 36; aligned(sizeof(uint64_t)) still rounds the struct up to 56.
const offR = 36
