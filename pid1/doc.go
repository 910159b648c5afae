// Package pid1 is the guest side of iscsiboot: the initramfs's /init, all in
// one place. Run decides whether the kernel started this process as init
// (PID 1, run by an init path, none of the command's own options); Main
// mounts the kernel file systems, loads the modules the image lists
// (internal/modlist) without modprobe, runs Boot (the iSCSI step, a linear
// list of named steps over packages plan, boot and handoff), waits for the
// root device, mounts it, hands the sessions over to the real root and
// switches to it. Every phase prints one timestamped line on the console;
// any failure prints one line and ends in a rescue shell, a reboot or a
// power-off, never a hang.
//
// The same steps are a library for an init that is not ours: a u-root
// uinit (cmd/iscsiboot-uinit, and ExampleBoot) calls ReadCmdline,
// ParseCmdline, LoadModules with ModuleList, Boot, WaitRoot, MountRoot,
// FindInit, Booted.Handoff and SwitchRoot; Main is those very calls with
// the console lines, breaks and rescue around them.
//
// It reads the kernel command line with the plan's own tokenizer
// (plan.SplitCmdline). It never runs on the build host: the image builder
// (package initramfs) shares only the module list's format with it.
package pid1
