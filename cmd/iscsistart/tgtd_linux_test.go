package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
	"github.com/iscsiboot/iscsiboot/internal/nstest"
	"github.com/iscsiboot/iscsiboot/internal/tgtd"
)

// The tests of this package run in private namespaces, where the real
// tgtd they start listens on 127.0.0.1 only.
func TestMain(m *testing.M) { nstest.Main(m) }

const (
	iqnPlain  = "iqn.2025-01.test:plain"
	iqnCHAP   = "iqn.2025-01.test:chap"
	iqnMutual = "iqn.2025-01.test:mutual"
	initiator = "iqn.2025-01.test:init"
)

// startTgtd runs tgtd with three targets: open, CHAP, and mutual CHAP with
// digests required.
func startTgtd(t *testing.T) (host, port string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := tgtd.Start(ctx, t)
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.NewDiskTarget(ctx, 1, iqnPlain, img))
	must(s.NewDiskTarget(ctx, 2, iqnCHAP, img))
	must(s.NewDiskTarget(ctx, 3, iqnMutual, img))
	must(s.NewAccount(ctx, "alice", "alice-secret-1"))
	must(s.NewAccount(ctx, "disk", "target-secret-2"))
	must(s.BindAccount(ctx, 2, "alice", false))
	must(s.BindAccount(ctx, 3, "alice", false))
	must(s.BindAccount(ctx, 3, "disk", true))
	must(s.SetParam(ctx, 3, "HeaderDigest", "CRC32C"))
	must(s.SetParam(ctx, 3, "DataDigest", "CRC32C"))
	host, port, _ = net.SplitHostPort(s.Addr())
	return host, port
}

func TestAgainstTgtd(t *testing.T) {
	host, port := startTgtd(t)
	base := []string{"-i", initiator, "-a", host, "-p", port, "-g", "1", "--timeout", "10s"}
	chap := []string{"-u", "alice", "-w", "alice-secret-1"}
	mutual := append(chap, "-U", "disk", "-W", "target-secret-2",
		"-P", "node.conn[0].iscsi.HeaderDigest=CRC32C,None", "-P", "node.conn[0].iscsi.DataDigest=CRC32C,None")

	t.Run("discovery", func(t *testing.T) {
		out, errs, code := runCLI(t, "--discover", "-a", host, "-p", port)
		if code != 0 {
			t.Fatalf("code %d: %s", code, errs)
		}
		for _, iqn := range []string{iqnPlain, iqnCHAP, iqnMutual} {
			if !strings.Contains(out, host+":"+port+",1 "+iqn+"\n") {
				t.Errorf("discovery lacks %s:\n%s", iqn, out)
			}
		}
	})
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		expect []string
	}{
		{"no auth", append([]string{"-t", iqnPlain}, base...), 0,
			[]string{"auth None", "HeaderDigest = None", "LUN 0: storage IET Controller", "LUN 1: disk IET VIRTUAL-DISK", "logged out"}},
		{"CHAP", append(append([]string{"-t", iqnCHAP}, base...), chap...), 0, []string{"auth CHAP MD5", "LUN 1: disk"}},
		{"mutual CHAP and digests", append(append([]string{"-t", iqnMutual}, base...), mutual...), 0,
			[]string{"auth CHAP MD5 mutual", "HeaderDigest = CRC32C", "DataDigest = CRC32C", "LUN 1: disk"}},
		// dracut and scripts may give CHAP as record names instead of -u/-w
		{"CHAP as -P record names", append(append([]string{"-t", iqnMutual}, base...),
			"-P", "node.session.auth.authmethod=CHAP", "-P", "node.session.auth.username=alice",
			"-P", "node.session.auth.password=alice-secret-1", "-P", "node.session.auth.username_in=disk",
			"-P", "node.session.auth.password_in=target-secret-2"), 0, []string{"auth CHAP MD5 mutual", "LUN 1: disk"}},
		{"wrong password", append([]string{"-t", iqnCHAP, "-u", "alice", "-w", "wrong-secret-3"}, base...),
			iscsierr.LoginAuthFailed, []string{"0201 authentication failure"}},
		{"mutual with wrong target secret", append(append([]string{"-t", iqnMutual}, base...),
			"-u", "alice", "-w", "alice-secret-1", "-U", "disk", "-W", "not-the-secret-4", "-P", "node.conn[0].iscsi.HeaderDigest=CRC32C"),
			iscsierr.LoginAuthFailed, []string{"wrong response"}},
		{"unknown target", append([]string{"-t", "iqn.2025-01.test:nothing"}, base...),
			iscsierr.FatalLogin, []string{"0203 target not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runCLI(t, append([]string{"--probe"}, tc.args...)...)
			all := out + errs
			if code != tc.code {
				t.Errorf("code %d, want %d:\n%s", code, tc.code, all)
			}
			for _, e := range tc.expect {
				if !strings.Contains(all, e) {
					t.Errorf("output lacks %q:\n%s", e, all)
				}
			}
			for _, s := range []string{"alice-secret-1", "target-secret-2", "wrong-secret-3", "not-the-secret-4"} {
				if strings.Contains(all, s) {
					t.Errorf("secret %q in output", s)
				}
			}
		})
	}
}

// TestRefusedPortal dials a port where nothing listens: a transport error,
// quickly.
func TestRefusedPortal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	begin := time.Now()
	_, errs, code := runCLI(t, "--probe", "-i", initiator, "-t", iqnPlain, "-a", "127.0.0.1", "-p", port, "--timeout", "5s")
	if code != iscsierr.Trans || !strings.Contains(errs, "connection refused") {
		t.Errorf("code %d %q, want %d and connection refused", code, errs, iscsierr.Trans)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}
