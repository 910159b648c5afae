package tgtd

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iscsiboot/iscsiboot/internal/nstest"
)

func TestMain(m *testing.M) { nstest.Main(m) }

// disk makes a sparse backing file.
func disk(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 8<<20); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartListens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := Start(ctx, t)
	if err := s.NewDiskTarget(ctx, 1, "iqn.2025-01.test:disk1", disk(t)); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", s.Addr(), 2*time.Second)
	if err != nil {
		t.Fatalf("dial the portal: %v", err)
	}
	c.Close()
	tids, err := s.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1}, tids); diff != "" {
		t.Errorf("Targets() mismatch (-want +got):\n%s", diff)
	}
	conns, err := s.Connections(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 0 {
		t.Errorf("Connections() = %v, want none before any login", conns)
	}
}

func TestTargetSettings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := Start(ctx, t)
	if err := s.NewDiskTarget(ctx, 1, "iqn.2025-01.test:disk1", disk(t)); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		run  func() error
	}{
		{"account", func() error { return s.NewAccount(ctx, "user1", "secret-in-1234") }},
		{"target account", func() error { return s.NewAccount(ctx, "tgt1", "secret-out-1234") }},
		{"bind", func() error { return s.BindAccount(ctx, 1, "user1", false) }},
		{"bind outgoing", func() error { return s.BindAccount(ctx, 1, "tgt1", true) }},
		{"header digest", func() error { return s.SetParam(ctx, 1, "HeaderDigest", "None") }},
		{"data digest", func() error { return s.SetParam(ctx, 1, "DataDigest", "CRC32C") }},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	// tgt prints a target's parameters only for --tid, and its accounts only in the full list.
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--tid", "1"}, []string{"HeaderDigest=None", "DataDigest=CRC32C"}},
		{nil, []string{"user1", "tgt1 (outgoing)"}},
	} {
		out, err := s.Tgtadm(ctx, append([]string{"--op", "show", "--mode", "target"}, c.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.want {
			if !strings.Contains(out, want) {
				t.Errorf("show target %q has no %q:\n%s", c.args, want, out)
			}
		}
	}
	// A duplicate account fails; its error and the log must still hide the password.
	err := s.NewAccount(ctx, "user1", "secret-in-1234")
	if err == nil {
		t.Fatal("duplicate account accepted")
	}
	if strings.Contains(err.Error(), "secret-in") {
		t.Errorf("error shows the password: %v", err)
	}
	log, rerr := os.ReadFile(s.LogPath)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if strings.Contains(string(log), "secret-") {
		t.Errorf("log shows a password:\n%s", log)
	}
	if !strings.Contains(string(log), "--password <redacted>") {
		t.Errorf("log lacks the redacted account command:\n%s", log)
	}
}

func TestStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := Start(ctx, t)
	if err := s.NewDiskTarget(ctx, 1, "iqn.2025-01.test:disk1", disk(t)); err != nil {
		t.Fatal(err)
	}
	// Stop reports an error when only the SIGKILL fallback ended tgtd.
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-s.exited:
	default:
		t.Fatal("tgtd still running after Stop")
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("portal still accepts connections after Stop")
	}
	if err := s.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestTwoServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, b := Start(ctx, t), Start(ctx, t)
	if a.Port == b.Port || a.ControlPort == b.ControlPort {
		t.Fatalf("servers share a port: %d/%d and %d/%d", a.Port, a.ControlPort, b.Port, b.ControlPort)
	}
	for _, s := range []*Server{a, b} {
		if err := s.NewDiskTarget(ctx, 1, "iqn.2025-01.test:disk1", disk(t)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStartPortTaken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = start(ctx, t, WithPort(l.Addr().(*net.TCPAddr).Port))
	if err == nil || !strings.Contains(err.Error(), "no portal") {
		t.Fatalf("start on a taken port: error = %v, want one saying tgtd has no portal", err)
	}
}

func TestPortsBelowEphemeralRange(t *testing.T) {
	seen := map[int]bool{}
	for range 5 {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if p < firstPort || p > lastPort || seen[p] {
			t.Fatalf("freePort() = %d, want a new port in %d-%d", p, firstPort, lastPort)
		}
		seen[p] = true
	}
}
