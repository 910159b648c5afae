package pid1_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/iscsiboot/iscsiboot/pid1"
)

// Booting the root from iSCSI with the packages as a library, as a u-root
// uinit does (cmd/iscsiboot-uinit, in full): the kernel command line, the
// image's modules, Boot (plan, network, logins, hand-off files), the root
// device, its mount, the hand-off into the root, then switch_root. It
// needs a machine to boot, so it has no output to check.
func ExampleBoot() {
	ctx := context.Background()
	cmdline, err := pid1.ReadCmdline("/proc/cmdline")
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := pid1.ParseCmdline(cmdline)
	if err != nil {
		log.Printf("warning: %v", err) // that setting keeps its default
	}
	loaded, err := pid1.LoadModules(ctx, pid1.ModuleList)
	if err != nil {
		log.Printf("warning: %v", err)
	}
	b, err := pid1.Boot(ctx, cmdline, os.Stderr)
	if err != nil {
		log.Fatalf("boot: %v%s", err, pid1.MissingDriverNote(err, loaded))
	}
	dev, err := pid1.WaitRoot(ctx, cfg, b.Device)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := pid1.MountRoot(dev, cfg, "/root"); err != nil {
		log.Fatal(err)
	}
	init, err := pid1.FindInit("/root", cfg.Init)
	if err != nil {
		log.Fatal(err)
	}
	if msg, err := b.Handoff("/root"); msg != "" || err != nil {
		log.Print(msg, err) // a warning: the root is up either way
	}
	log.Fatal(pid1.SwitchRoot("/root", init)) // returns only on failure
}

// FindInit picks the root's init as the kernel would: init= if the command
// line names one, else the first executable of /sbin/init, /etc/init,
// /bin/init, /bin/sh.
func ExampleFindInit() {
	root, err := os.MkdirTemp("", "root")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	if err := os.MkdirAll(filepath.Join(root, "sbin"), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sbin/init"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		log.Fatal(err)
	}
	cfg, err := pid1.ParseCmdline("console=ttyS0 netroot=iscsi:192.0.2.1::3260::iqn.2001-04.com.example:root rw")
	if err != nil {
		log.Fatal(err)
	}
	init, err := pid1.FindInit(root, cfg.Init)
	fmt.Println(init, err, cfg.ReadOnly)
	_, err = pid1.FindInit(root, "/lib/systemd/systemd")
	fmt.Println(err != nil)
	// Output:
	// /sbin/init <nil> false
	// true
}
