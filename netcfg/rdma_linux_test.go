package netcfg

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// writeRXE writes the sysfs entries of an rdma_rxe device as drivers/infiniband/sw/rxe and
// core/sysfs.c lay them out: parent, ports/1/state and the GID table, as a Debian 6.1 guest showed them
// (index 0 the default GID from the MAC, index 1 ::ffff:10.0.2.15).
func writeRXE(t *testing.T, sys, name, parent, state string, gids ...string) {
	t.Helper()
	dir := filepath.Join(sys, "class", "infiniband", name)
	if err := os.MkdirAll(filepath.Join(dir, "ports", "1", "gids"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"parent": parent + "\n", "ports/1/state": state + "\n"}
	for i, g := range gids {
		files["ports/1/gids/"+string(rune('0'+i))] = g + "\n"
	}
	for f, v := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	zeroGID = "0000:0000:0000:0000:0000:0000:0000:0000"
	macGID  = "fe80:0000:0000:0000:5054:00ff:fe12:3456"
	ipv4GID = "0000:0000:0000:0000:0000:ffff:0a00:020f"
)

func TestAddSoftRoCE(t *testing.T) {
	for _, tt := range []struct {
		name    string
		errno   unix.Errno // the kernel's answer to NEWLINK
		sysfs   func(t *testing.T, sys string)
		want    SoftRoCE
		wantErr error
		errText string
	}{
		{
			name: "added",
			sysfs: func(t *testing.T, sys string) {
				writeRXE(t, sys, "mlx5_0", "eth1", portActive, macGID, ipv4GID)
				writeRXE(t, sys, "rxe_eth0", "eth0", portActive, macGID, ipv4GID, zeroGID)
			},
			want: SoftRoCE{Name: "rxe_eth0", Netdev: "eth0", Added: true, GIDReady: true},
		},
		{
			name:  "already there under another name",
			errno: unix.EEXIST,
			sysfs: func(t *testing.T, sys string) {
				writeRXE(t, sys, "rxe0", "eth0", portActive, macGID, ipv4GID)
			},
			want: SoftRoCE{Name: "rxe0", Netdev: "eth0", GIDReady: true},
		},
		{
			name: "active without an address GID",
			sysfs: func(t *testing.T, sys string) {
				writeRXE(t, sys, "rxe_eth0", "eth0", portActive, macGID, zeroGID)
			},
			want: SoftRoCE{Name: "rxe_eth0", Netdev: "eth0", Added: true},
		},
		{
			name: "port never active",
			sysfs: func(t *testing.T, sys string) {
				writeRXE(t, sys, "rxe_eth0", "eth0", "1: DOWN", macGID, ipv4GID)
			},
			wantErr: ErrTimeout, errText: "eth0: soft-RoCE: timed out: waiting for an RDMA device on eth0 with an ACTIVE port: 1: DOWN",
		},
		{
			name: "no device appears", sysfs: func(*testing.T, string) {},
			wantErr: ErrTimeout, errText: "ACTIVE port: no RDMA device",
		},
		{
			name: "no rxe link type", errno: unix.EINVAL, sysfs: func(*testing.T, string) {},
			wantErr: unix.EINVAL, errText: "eth0: soft-RoCE: add rxe_eth0: invalid argument (module rdma_rxe not loaded?)",
		},
		{
			name: "no such netdev", errno: unix.ENODEV, sysfs: func(*testing.T, string) {},
			wantErr: unix.ENODEV, errText: `no network device "eth0"`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sys := t.TempDir()
			tt.sysfs(t, sys)
			var reqs [][]byte
			c := nltest.Dial(func(req []netlink.Message) ([]netlink.Message, error) {
				b, _ := req[0].MarshalBinary()
				reqs = append(reqs, b)
				return nltest.Error(int(tt.errno), req)
			})
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			got, err := addSoftRoCE(ctx, c, sys, "eth0")
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.errText)) {
				t.Fatalf("addSoftRoCE = %v, want %v with %q", err, tt.wantErr, tt.errText)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("addSoftRoCE (-want +got):\n%s", diff)
			}
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			// Sequence and port id are the socket's: compare from the flags on.
			if got, want := reqs[0][4:8], newLinkGolden[4:8]; !bytes.Equal(got, want) {
				t.Errorf("request type and flags % x, want % x", got, want)
			}
			if got, want := reqs[0][16:], newLinkGolden[16:]; !bytes.Equal(got, want) {
				t.Errorf("request attributes:\n%s\nwant:\n%s", hex.Dump(got), hex.Dump(want))
			}
		})
	}
}
