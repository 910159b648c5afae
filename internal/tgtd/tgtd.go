package tgtd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/nstest"
)

const (
	// readyTimeout bounds how long a fresh tgtd may take to answer tgtadm; it is ready in about 20 ms.
	readyTimeout = 5 * time.Second
	// exitTimeout bounds how long tgtd may take to exit after `--op delete --mode system` before SIGKILL.
	exitTimeout = 3 * time.Second
	// stopTimeout bounds the whole Stop run from a test cleanup.
	stopTimeout = 10 * time.Second
)

// nextControlPort numbers tgtd instances in this process. The control "port" only names the socket
// /var/run/tgtd/socket.N, and /run is private to this test binary, so counting from 1 is unique.
var nextControlPort atomic.Int32

// Server is one running tgtd.
type Server struct {
	// Port is the iSCSI portal port on Address.
	Port int
	// Address is the portal's IP address: 127.0.0.1 unless WithAddress.
	Address string
	// ControlPort is tgtd's -C number, which selects its control socket.
	ControlPort int
	// LogPath is the file that receives tgtd's output and every tgtadm command line, passwords redacted.
	LogPath string

	t        testing.TB
	cmd      *exec.Cmd
	log      *os.File
	exited   chan struct{} // closed once tgtd has exited and been reaped
	waitErr  error         // tgtd's exit status, valid after exited is closed
	stopOnce sync.Once
	stopErr  error
}

// Option configures Start.
type Option func(*config)

type config struct {
	port int
	addr string
}

// WithPort makes tgtd listen on 127.0.0.1:port instead of a free port picked by Start.
func WithPort(port int) Option {
	return func(c *config) { c.port = port }
}

// WithAddress makes tgtd listen on addr, an address of an interface inside the test's own namespace (a
// tap the test made), instead of 127.0.0.1.
func WithAddress(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// Start runs tgtd on 127.0.0.1 inside the test's namespace and waits until it answers tgtadm. It fails t on
// error and stops tgtd in t's cleanup, printing its log if t failed.
func Start(ctx context.Context, t testing.TB, opts ...Option) *Server {
	t.Helper()
	nstest.Require(t)
	s, err := start(ctx, t, opts...)
	if err != nil {
		t.Fatalf("start tgtd: %v", err)
	}
	return s
}

func start(ctx context.Context, t testing.TB, opts ...Option) (*Server, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.addr == "" {
		c.addr = "127.0.0.1"
	}
	if c.port == 0 {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		c.port = p
	}
	if err := os.MkdirAll("/var/run/tgtd", 0o755); err != nil {
		return nil, fmt.Errorf("control socket dir: %w", err)
	}
	s := &Server{
		Port:        c.port,
		Address:     c.addr,
		ControlPort: int(nextControlPort.Add(1)),
		t:           t,
		exited:      make(chan struct{}),
	}
	s.LogPath = filepath.Join(t.TempDir(), fmt.Sprintf("tgtd.%d.log", s.ControlPort))
	f, err := os.Create(s.LogPath)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	s.log = f
	s.cmd = exec.Command("tgtd", "-f", "-C", strconv.Itoa(s.ControlPort),
		"--iscsi", "portal="+s.Addr())
	s.cmd.Stdout, s.cmd.Stderr = f, f
	s.cmd.SysProcAttr = daemonAttr()
	if err := s.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("run tgtd (scripts/deps.sh installs it): %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop tgtd: %v", err)
		}
		if t.Failed() {
			s.dumpLog()
		}
	})
	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr is the portal address, Address:Port.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.Address, strconv.Itoa(s.Port))
}

// waitReady polls tgtadm until tgtd answers, tgtd exits, or readyTimeout passes.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := s.Tgtadm(ctx, "--op", "show", "--mode", "portal")
		if err == nil {
			// tgtd keeps running when it cannot bind its portal; only the portal list tells.
			if !strings.Contains(out, "Portal: "+s.Addr()+",") {
				return fmt.Errorf("tgtd has no portal %s (port taken?): %q, log %s", s.Addr(), out, s.LogPath)
			}
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("tgtd exited at start (%v), log %s", s.waitErr, s.LogPath)
		case <-ctx.Done():
			return fmt.Errorf("tgtd not answering tgtadm: %w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// Stop deletes every target with --force, asks tgtd to exit, and kills it if it has not exited within a
// few seconds. It is safe to call more than once; later calls return the first result.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *Server) stop(ctx context.Context) error {
	defer s.log.Close()
	var errs []error
	select {
	case <-s.exited:
		return fmt.Errorf("tgtd had already exited (%v), log %s", s.waitErr, s.LogPath)
	default:
	}
	tids, err := s.Targets(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, tid := range tids {
		if err := s.DeleteTarget(ctx, tid, true); err != nil {
			errs = append(errs, err)
		}
	}
	// tgtd refuses to exit while it has targets; the error then is in errs and SIGKILL ends it below.
	if _, err := s.Tgtadm(ctx, "--op", "delete", "--mode", "system"); err != nil {
		errs = append(errs, err)
	}
	timer := time.NewTimer(exitTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
	case <-timer.C:
		errs = append(errs, fmt.Errorf("tgtd did not exit within %v of delete system; killed", exitTimeout))
		_ = s.cmd.Process.Kill()
		<-s.exited
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("waiting for tgtd to exit: %w; killed", ctx.Err()))
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	return errors.Join(errs...)
}

// dumpLog prints tgtd's log into the test output.
func (s *Server) dumpLog() {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		s.t.Logf("tgtd log %s: %v", s.LogPath, err)
		return
	}
	s.t.Logf("tgtd log %s:\n%s", s.LogPath, b)
}

// Ports for tgtd come from 3260, the iSCSI port, upwards, and stay below the kernel's ephemeral range
// (32768-60999 in a fresh network namespace, whose sysctl starts at the default). A port the kernel picks
// for ":0" could instead be taken, between the check and tgtd's bind, as the source port of an outgoing
// connection, such as slirp's to another tgtd; tgtd then runs without its portal.
const (
	firstPort = 3260
	lastPort  = 32767
)

var lastPortUsed atomic.Int32

func init() { lastPortUsed.Store(firstPort - 1) }

// freePort returns the next port from firstPort on that nothing listens on. The namespace is private to
// this test binary, so only its own tests could bind the port before tgtd does.
func freePort() (int, error) {
	for {
		p := int(lastPortUsed.Add(1))
		if p > lastPort {
			return 0, fmt.Errorf("pick a port: all of %d-%d used", firstPort, lastPort)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		return p, nil
	}
}
