// Package initramfs builds and extends Linux initramfs images on the build
// host: a deterministic newc cpio archive, gzip-compressed, holding the boot
// binary, the files a packager names, and exactly the kernel modules the boot
// needs (the dependency closure from modules.dep, plus crc32c, which iscsi_tcp
// needs and no metadata names).
//
// The modules go in with a load-order list, /etc/iscsiboot/modules (see
// package internal/modlist), each with the modules it needs loaded first,
// so that the guest /init (package pid1) loads them without modprobe, the
// independent ones side by side.
//
// Builder writes one archive segment. Append copies an existing image first
// and adds the segment after it; the kernel unpacks concatenated archives in
// order, later entries replacing earlier ones.
//
// The package never runs in the guest and never loads a module; it only reads
// the kernel's files on the host.
package initramfs
