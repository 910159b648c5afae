package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/iscsiboot/iscsiboot/plan"

	"github.com/iscsiboot/iscsiboot/internal/esc"

	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// options are the parsed command line.
type options struct {
	initiator, target, address string
	tpgt, port                 int
	username, password         string
	usernameIn, passwordIn     string
	debug                      int
	params                     []param // -P, in order
	fwConnect, fwNetwork       bool    // -b, -N
	fwPrint                    bool    // -f
	help, version              bool
	probe, discover, plan      bool
	ibftFile, cmdline          string
	json, showSecrets          bool
	config                     string // -c: accepted for compatibility, unused
	timeout                    time.Duration
	timeoutSet                 bool // --timeout given: a login waits that long instead of 120 s
	require                    string
	resident                   bool
	multipath                  bool // --multipath: a dm-multipath map over the sessions
	bootCmd                    bool // --boot
}

type param struct{ name, value string }

// paramList collects repeated -P NAME=VALUE.
type paramList struct{ p *[]param }

func (l paramList) String() string { return "" }

func (l paramList) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || value == "" || name == "" {
		return errors.New("missing value, want NAME=VALUE")
	}
	*l.p = append(*l.p, param{name, value})
	return nil
}

// portValue is -p: a TCP port, checked, unlike atoi in open-iscsi.
type portValue struct{ p *int }

func (v portValue) String() string { return "" }

func (v portValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return errors.New("want a TCP port, 1 to 65535")
	}
	*v.p = n
	return nil
}

type tpgtValue struct{ p *int }

func (v tpgtValue) String() string { return "" }

func (v tpgtValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return errors.New("want a target portal group tag, 0 to 65535")
	}
	*v.p = n
	return nil
}

const usage = `Usage: iscsistart [OPTION]
Open-iSCSI compatible root-disk initiator (iscsiboot).
  -c, --config=[path]      accepted for compatibility; no config file is read
  -i, --initiatorname=name set InitiatorName to name (Required)
  -t, --targetname=name    set TargetName to name (Required)
  -g, --tgpt=N             set target portal group tag to N (Required)
  -a, --address=A.B.C.D    set IP address to A.B.C.D (Required)
  -p, --port=N             set port to N (Default 3260)
  -u, --username=N         set username to N (optional)
  -w, --password=N         set password to N (optional)
  -U, --username_in=N      set incoming username to N (optional)
  -W, --password_in=N      set incoming password to N (optional)
  -d, --debug=debuglevel   print debugging information
  -b, --fwparam_connect    create a session to the target using iBFT
  -N, --fwparam_network    bring up the network as specified by iBFT
  -f, --fwparam_print      print the iBFT info to STDOUT
  -P, --param=NAME=VALUE   set parameter with the name NAME to VALUE
  -h, --help               display this help and exit
  -v, --version            display version and exit
iscsiboot additions:
      --probe              log in and out over TCP in user space, print the
                           negotiated parameters and LUNs (no kernel session)
      --discover           SendTargets discovery at -a/-p, one line per portal
      --plan               print the boot plan as JSON and touch nothing
      --cmdline=STRING     with --plan: use STRING instead of /proc/cmdline
      --ibft=FILE          read a raw iBFT from FILE instead of the firmware
      --json               with -f: print JSON
      --show-secrets       with -f: print CHAP secrets instead of <redacted>
      --require=all|any    with -b or several targets: every target must come
                           up (all, the default) or one is enough (any)
      --timeout=DURATION   overall deadline: probe 30s, kernel login 120s
      --boot               in an initramfs: boot as our /init does, from the
                           kernel command line (or --cmdline) and the iBFT:
                           network, logins, hand-off files; print the root
                           disk's device on stdout (for dracut's hook)
      --resident           after a kernel login, keep a process that logs the
                           sessions in again if the target drops them, until
                           iscsid runs (also rd.iscsi.resident=1 for /init)
      --multipath          after a kernel login, make a dm-multipath map of each
                           disk (queue_if_no_path, named as multipathd would),
                           with the open-iscsi README's multipath timers (8.1)
                           unless -P sets them; /init does this by itself when
                           a target has several portals (rd.multipath=0: off)
Exit codes are those of open-iscsi's iscsi_err.h (7: invalid arguments or
a corrupt firmware table, 21: no firmware table or target, 4: transport
error, 8: transport timeout, 24: login authentication failed, 19: fatal
login, 2: no session of an HBA that logs in by itself, ...). With several targets, the code is that of the first target
left without a session; the sessions that came up stay.
`

// newFlagSet defines every option of the command line on o.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("iscsistart", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(p *string, short, long string) {
		fs.StringVar(p, short, *p, "")
		fs.StringVar(p, long, *p, "")
	}
	boolean := func(p *bool, short, long string) {
		if short != "" {
			fs.BoolVar(p, short, false, "")
		}
		fs.BoolVar(p, long, false, "")
	}
	str(&o.config, "c", "config")
	str(&o.initiator, "i", "initiatorname")
	str(&o.target, "t", "targetname")
	str(&o.address, "a", "address")
	str(&o.username, "u", "username")
	str(&o.password, "w", "password")
	str(&o.usernameIn, "U", "username_in")
	str(&o.passwordIn, "W", "password_in")
	for _, n := range []string{"g", "tgpt", "tpgt"} {
		fs.Var(tpgtValue{&o.tpgt}, n, "")
	}
	for _, n := range []string{"p", "port"} {
		fs.Var(portValue{&o.port}, n, "")
	}
	for _, n := range []string{"P", "param"} {
		fs.Var(paramList{&o.params}, n, "")
	}
	for _, n := range []string{"d", "debug"} {
		fs.IntVar(&o.debug, n, 0, "")
	}
	boolean(&o.fwConnect, "b", "fwparam_connect")
	boolean(&o.fwNetwork, "N", "fwparam_network")
	boolean(&o.fwPrint, "f", "fwparam_print")
	boolean(&o.help, "h", "help")
	boolean(&o.version, "v", "version")
	boolean(&o.probe, "", "probe")
	boolean(&o.discover, "", "discover")
	boolean(&o.plan, "", "plan")
	boolean(&o.json, "", "json")
	boolean(&o.showSecrets, "", "show-secrets")
	boolean(&o.resident, "", "resident")
	boolean(&o.multipath, "", "multipath")
	boolean(&o.bootCmd, "", "boot")
	str(&o.ibftFile, "ibft", "ibft-file")
	fs.StringVar(&o.cmdline, "cmdline", "", "")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "")
	fs.StringVar(&o.require, "require", "all", "")
	return fs
}

// ownFlag tells whether name (without dashes) is one of our options.
func ownFlag(name string) bool { return newFlagSet(&options{}).Lookup(name) != nil }

func parseFlags(args []string, stdout io.Writer) (*options, error) {
	o := &options{tpgt: -1, port: 3260, timeout: 30 * time.Second}
	fs := newFlagSet(o)
	names := optionNames(fs)
	var valueErr error
	checkValues(fs, names, &valueErr)
	if err := fs.Parse(args); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			o.help = true
		case valueErr != nil:
			return nil, iscsierr.Markf(iscsierr.ErrUsage, "%v (try --help)", valueErr)
		default:
			return nil, iscsierr.Markf(iscsierr.ErrUsage, "%v (try --help)", flagError(err, names))
		}
	}
	fs.Visit(func(f *flag.Flag) { o.timeoutSet = o.timeoutSet || f.Name == "timeout" })
	if fs.NArg() > 0 {
		return nil, iscsierr.Markf(iscsierr.ErrUsage, "unexpected argument %q (try --help)", fs.Arg(0))
	}
	if o.help {
		io.WriteString(stdout, usage)
		return o, nil
	}
	if o.version {
		fmt.Fprintf(stdout, "iscsistart version 2.1.8 (iscsiboot %s%s)\n", version, buildName)
		return o, nil
	}
	if o.require != "all" && o.require != "any" {
		return nil, iscsierr.Markf(iscsierr.ErrUsage, "invalid value %q for --require: want all or any", o.require)
	}
	if o.timeout <= 0 {
		return nil, iscsierr.Markf(iscsierr.ErrUsage, "invalid value %q for --timeout: want a positive duration", o.timeout)
	}
	for _, s := range []struct{ name, v string }{{"targetname", o.target}, {"initiatorname", o.initiator}} {
		if len(s.v) > 223 {
			return nil, iscsierr.Markf(iscsierr.ErrUsage, "invalid %s: %d bytes, at most 223 (RFC 7143, Section 4.2.7.1)", s.name, len(s.v))
		}
	}
	for _, s := range []struct{ name, v string }{{"username", o.username}, {"password", o.password}, {"username_in", o.usernameIn}, {"password_in", o.passwordIn}} {
		if len(s.v) > 256 {
			return nil, iscsierr.Markf(iscsierr.ErrUsage, "invalid %s: %d bytes, at most 256", s.name, len(s.v))
		}
	}
	return o, nil
}

// checkLoginFlags enforces what open-iscsi's check_params does for a login
// from flags.
func (o *options) checkLoginFlags(needTPGT bool) error {
	switch {
	case o.initiator == "":
		return iscsierr.Markf(iscsierr.ErrUsage, "InitiatorName not set (-i)")
	case needTPGT && o.tpgt < 0:
		return iscsierr.Markf(iscsierr.ErrUsage, "Portal Group not set (-g)")
	case o.target == "":
		return iscsierr.Markf(iscsierr.ErrUsage, "TargetName not set (-t)")
	case o.address == "":
		return iscsierr.Markf(iscsierr.ErrUsage, "IP Address not set (-a)")
	}
	return nil
}

// checkParams checks every -P against the table of session values: a bad
// value is exit 7 naming it; a name iscsiboot does not know is warned about
// and dropped, so that nothing acts on it. discovery.sendtargets.auth.*
// are checked as their node.session.auth.* twins and count only for
// --discover.
func (o *options) checkParams(stderr io.Writer) error {
	kept := o.params[:0]
	for _, p := range o.params {
		name := p.name
		if rest, ok := strings.CutPrefix(name, "discovery.sendtargets.auth."); ok {
			name = "node.session.auth." + rest
			if !o.discover {
				fmt.Fprintf(stderr, "iscsistart: warning: %s is used by --discover only: ignored\n", esc.Clip(p.name, 64))
				continue
			}
		}
		known, err := plan.CheckParam(name, p.value)
		if !known {
			fmt.Fprintf(stderr, "iscsistart: warning: %s\n", plan.IgnoredParam(p.name))
			continue
		}
		if err != nil {
			return iscsierr.Mark(iscsierr.ErrUsage, fmt.Errorf("invalid -P: %w", err))
		}
		kept = append(kept, p)
	}
	o.params = kept
	return nil
}
