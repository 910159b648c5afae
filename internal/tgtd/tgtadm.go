package tgtd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// tgtadmTimeout bounds one tgtadm call; tgtd answers in milliseconds.
const tgtadmTimeout = 10 * time.Second

// Tgtadm runs `tgtadm -C <ControlPort> --lld iscsi ARGS...` and returns its output. The command line is
// written to the log with passwords redacted; errors carry the redacted command line and tgtadm's message.
func (s *Server) Tgtadm(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, tgtadmTimeout)
	defer cancel()
	full := append([]string{"-C", strconv.Itoa(s.ControlPort), "--lld", "iscsi"}, args...)
	line := "tgtadm " + strings.Join(Redact(full), " ")
	fmt.Fprintf(s.log, "%s %s\n", time.Now().Format("15:04:05.000"), line)
	out, err := exec.CommandContext(ctx, "tgtadm", full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", line, err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// Redact returns args with the value of every --password option replaced by "<redacted>".
func Redact(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		switch {
		case i > 0 && (args[i-1] == "--password" || args[i-1] == "-w"):
			out[i] = "<redacted>"
		case strings.HasPrefix(a, "--password="):
			out[i] = "--password=<redacted>"
		default:
			out[i] = a
		}
	}
	return out
}

// NewTarget creates target tid named iqn.
func (s *Server) NewTarget(ctx context.Context, tid int, iqn string) error {
	_, err := s.Tgtadm(ctx, "--op", "new", "--mode", "target", "--tid", strconv.Itoa(tid), "--targetname", iqn)
	return err
}

// AddLUN adds logical unit lun backed by the file at path to target tid. LUN 0 is tgt's controller, so the
// first disk is LUN 1.
func (s *Server) AddLUN(ctx context.Context, tid, lun int, path string) error {
	_, err := s.Tgtadm(ctx, "--op", "new", "--mode", "logicalunit", "--tid", strconv.Itoa(tid),
		"--lun", strconv.Itoa(lun), "--backing-store", path)
	return err
}

// AllowAll lets every initiator address reach target tid; tgt refuses all until an address is bound.
func (s *Server) AllowAll(ctx context.Context, tid int) error {
	_, err := s.Tgtadm(ctx, "--op", "bind", "--mode", "target", "--tid", strconv.Itoa(tid),
		"--initiator-address", "ALL")
	return err
}

// NewDiskTarget creates target tid named iqn with the file at path as LUN 1, open to all initiators: the
// usual root-disk target.
func (s *Server) NewDiskTarget(ctx context.Context, tid int, iqn, path string) error {
	if err := s.NewTarget(ctx, tid, iqn); err != nil {
		return err
	}
	if err := s.AddLUN(ctx, tid, 1, path); err != nil {
		return err
	}
	return s.AllowAll(ctx, tid)
}

// NewAccount creates a CHAP account.
func (s *Server) NewAccount(ctx context.Context, user, password string) error {
	_, err := s.Tgtadm(ctx, "--op", "new", "--mode", "account", "--user", user, "--password", password)
	return err
}

// BindAccount requires CHAP with the account user on target tid. With outgoing, the account is instead the
// target's own identity for mutual CHAP (the initiator authenticates the target with it).
func (s *Server) BindAccount(ctx context.Context, tid int, user string, outgoing bool) error {
	args := []string{"--op", "bind", "--mode", "account", "--tid", strconv.Itoa(tid), "--user", user}
	if outgoing {
		args = append(args, "--outgoing")
	}
	_, err := s.Tgtadm(ctx, args...)
	return err
}

// SetParam sets a target's iSCSI parameter, for example HeaderDigest or DataDigest to "None", "CRC32C" or
// "CRC32C,None". tgt keeps a digest list as a set, not in order: with both it accepts whichever the
// initiator proposes first, and `show` prints CRC32C.
func (s *Server) SetParam(ctx context.Context, tid int, name, value string) error {
	_, err := s.Tgtadm(ctx, "--op", "update", "--mode", "target", "--tid", strconv.Itoa(tid),
		"--name", name, "--value", value)
	return err
}

// DeleteTarget deletes target tid; with force, even while initiators are logged in, which drops them.
func (s *Server) DeleteTarget(ctx context.Context, tid int, force bool) error {
	args := []string{"--op", "delete", "--mode", "target", "--tid", strconv.Itoa(tid)}
	if force {
		args = append(args, "--force")
	}
	_, err := s.Tgtadm(ctx, args...)
	return err
}

// Conn is one iSCSI connection tgtd holds on a target.
type Conn struct {
	SID       int    // tgt's session id
	CID       int    // connection id within the session
	Initiator string // initiator name from the login
	Address   string // initiator IP address
}

// Connections lists the connections logged in to target tid.
func (s *Server) Connections(ctx context.Context, tid int) ([]Conn, error) {
	out, err := s.Tgtadm(ctx, "--op", "show", "--mode", "conn", "--tid", strconv.Itoa(tid))
	if err != nil {
		return nil, err
	}
	return parseConns(out)
}

// DropConnection closes one connection from the target side, as a target reboot or network fault would.
func (s *Server) DropConnection(ctx context.Context, tid int, c Conn) error {
	_, err := s.Tgtadm(ctx, "--op", "delete", "--mode", "conn", "--tid", strconv.Itoa(tid),
		"--sid", strconv.Itoa(c.SID), "--cid", strconv.Itoa(c.CID))
	return err
}

// Targets lists the ids of the targets tgtd has.
func (s *Server) Targets(ctx context.Context) ([]int, error) {
	out, err := s.Tgtadm(ctx, "--op", "show", "--mode", "target")
	if err != nil {
		return nil, err
	}
	return parseTargets(out)
}

// parseConns reads `tgtadm --op show --mode conn` output:
//
//	Session: 2
//	    Connection: 0
//	        Initiator: iqn.2025-01.test:init
//	        IP Address: 127.0.0.1
func parseConns(out string) ([]Conn, error) {
	var conns []Conn
	sid := -1
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), ": ")
		if !ok {
			continue
		}
		switch key {
		case "Session":
			n, err := strconv.Atoi(val)
			if err != nil {
				return nil, fmt.Errorf("tgtadm show conn: session %q: %w", val, err)
			}
			sid = n
		case "Connection":
			n, err := strconv.Atoi(val)
			if err != nil {
				return nil, fmt.Errorf("tgtadm show conn: connection %q: %w", val, err)
			}
			if sid < 0 {
				return nil, fmt.Errorf("tgtadm show conn: connection %d outside a session", n)
			}
			conns = append(conns, Conn{SID: sid, CID: n})
		case "Initiator":
			if len(conns) > 0 {
				conns[len(conns)-1].Initiator = val
			}
		case "IP Address":
			if len(conns) > 0 {
				conns[len(conns)-1].Address = val
			}
		}
	}
	return conns, sc.Err()
}

// parseTargets reads the "Target N: IQN" lines of `tgtadm --op show --mode target`.
func parseTargets(out string) ([]int, error) {
	var tids []int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Target ")
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("tgtadm show target: target id %q: %w", num, err)
		}
		tids = append(tids, n)
	}
	return tids, sc.Err()
}
