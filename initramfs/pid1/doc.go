// Package pid1 is a minimal /init for initramfs images that have none: it
// mounts the kernel file systems, loads the modules the image lists (see
// ModuleList) without modprobe, runs the caller's boot step (the iSCSI login),
// waits for the root device named by root=, mounts it and switches to it.
// Every phase prints one timestamped line on the console; any failure prints
// one line and ends in a rescue shell, a reboot or a power-off, never a hang.
//
// It never logs in to anything itself and never starts a long-lived process.
// It runs inside the boot binary, so it imports little beyond x/sys/unix.
package pid1
