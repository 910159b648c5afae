// iscsistart logs in to the iSCSI root disk of a Linux machine from its
// initramfs, a drop-in for open-iscsi's iscsistart with no shared libraries.
//
// Synopsis:
//
//	iscsistart -i INITIATOR -t TARGET -g TPGT -a ADDRESS [-p PORT] [-u USER -w PASS [-U USER_IN -W PASS_IN]] [-P NAME=VALUE]...
//	iscsistart -b | -N | -f [--ibft FILE] [--json] [--show-secrets]
//	iscsistart --probe -i INITIATOR -t TARGET -a ADDRESS [-p PORT] [-g TPGT] [CHAP flags] [-P NAME=VALUE]...
//	iscsistart --discover -a ADDRESS [-p PORT] [CHAP flags]
//	iscsistart --plan [--cmdline STRING] [--ibft FILE] [flags]
//
// Options are open-iscsi 2.1.x's (-i -t -g -a -p -u -w -U -W -d -b -N -f
// -P -h -v and their long forms) plus the ones above; `iscsistart -h`
// lists them. Exit codes are those of open-iscsi's iscsi_err.h.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/iscsiboot/iscsiboot/handoff"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
	"github.com/iscsiboot/iscsiboot/internal/trace"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	trace.Start() // ISCSIBOOT_TRACE=1: the login's steps on stderr
	if len(os.Args) == 2 && os.Args[1] == handoff.ResidentArg {
		os.Exit(handoff.ResidentMain())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if ok, err := runInit(ctx); ok {
		// Reached only when the boot failed past every rescue.
		fmt.Fprintf(os.Stderr, "iscsiboot: %v\n", err)
		os.Exit(1)
	}
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "iscsistart: %v\n", err)
	}
	trace.Mark("exit")
	os.Exit(iscsierr.Code(err))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	if err := o.checkParams(stderr); err != nil {
		return err
	}
	if o.multipath && !hasMultipath {
		return iscsierr.Markf(iscsierr.ErrUsage, "--multipath: not in the drop-in build (built with -tags dropin), where multipath-tools-boot makes the maps; the full build of iscsistart has it")
	}
	switch {
	case o.help, o.version:
		return nil
	case o.probe:
		return probe(ctx, o, stdout, stderr)
	case o.discover:
		return discover(ctx, o, stdout)
	case o.fwNetwork:
		return setupNICs(ctx, o, stderr)
	case o.fwPrint:
		return fwPrint(ctx, o, stdout)
	case o.plan:
		return printPlan(ctx, o, stdout)
	case o.bootCmd:
		return bootCmd(ctx, o, stdout, stderr)
	}
	return loginCmd(ctx, o, stdout, stderr)
}
