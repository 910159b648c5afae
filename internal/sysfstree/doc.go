// Package sysfstree lays out sysfs trees for tests: the files, directories
// and symlinks a text description (testdata/*.txt) gives, under a test's
// own directory, as the kernel's drivers show them. The trees are written
// from the kernel's attribute names (scsi_transport_iscsi.c,
// iscsi_boot_sysfs.c, the offload drivers), so code that reads sysfs runs
// its real paths against hardware a test machine does not have.
//
// It never touches the real /sys: a caller that wants a tree there mounts
// it (cmd/iscsistart's tests, in their own mount namespace).
package sysfstree
