package qemutests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
)

// RootMarker starts the line the root disk's /sbin/init prints once the guest has switched to it, followed
// by the PRETTY_NAME of the disk's /etc/os-release.
const RootMarker = "ISCSIBOOT-ROOT: "

// rootInit is the root disk's /sbin/init: it proves the guest runs from the iSCSI disk, then powers off.
const rootInit = `#!/bin/busybox sh
read up _ < /proc/uptime
echo "ISCSIBOOT[$up] root init"
. /etc/os-release
echo "` + RootMarker + `$PRETTY_NAME"
/bin/busybox poweroff -f
`

// RootDisk is an ext4 image for a target's LUN.
type RootDisk struct {
	Path string
	// Marker is the whole line the disk's init prints: RootMarker and the PRETTY_NAME it carries.
	Marker string
}

// osReleasePaths are where the host's os-release may live; the disk copies the first one found.
var osReleasePaths = []string{"/etc/os-release", "/usr/lib/os-release"}

// RootDisk builds a 32 MiB ext4 image with static busybox, the host's /etc/os-release and an init that
// prints the disk's marker and powers off.
func (h *Harness) RootDisk(ctx context.Context) RootDisk {
	h.t.Helper()
	d, err := buildRootDisk(ctx, h.Dir)
	if err != nil {
		h.t.Fatalf("root disk: %v", err)
	}
	return d
}

// buildRootDisk is the plain root disk: a RootImage with rootInit alone.
func buildRootDisk(ctx context.Context, dir string) (RootDisk, error) {
	return RootImage{Name: "root.ext4", Init: rootInit, Size: "32M"}.Build(ctx, dir)
}

func readOSRelease() ([]byte, error) {
	var firstErr error
	for _, p := range osReleasePaths {
		b, err := os.ReadFile(p)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("os-release: %w", firstErr)
}

// prettyName returns PRETTY_NAME from os-release contents, unquoted as a shell would.
func prettyName(osr []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(osr))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "PRETTY_NAME=")
		if !ok {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		return v, nil
	}
	return "", fmt.Errorf("os-release: no PRETTY_NAME")
}
