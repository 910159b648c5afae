package ibft

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Resolver names the Linux network interface a table NIC stands for.
type Resolver func(NIC) (string, error)

// SysResolver resolves a NIC through <root>/sys/class/net: by MAC first
// (each interface's address file), then, when no interface or more than one
// (VLANs, bonds, offload functions with their own MAC) has it, by the PCI
// function the table names, through each interface's device symlink.
func SysResolver(root string) Resolver {
	return func(n NIC) (string, error) {
		dir := filepath.Join(root, "/sys/class/net")
		ents, err := os.ReadDir(dir)
		if err != nil {
			return "", fmt.Errorf("ibft: list interfaces: %w", err)
		}
		var byMAC, all []string
		for _, e := range ents {
			name := e.Name()
			all = append(all, name)
			b, err := os.ReadFile(filepath.Join(dir, name, "address"))
			if err != nil {
				continue
			}
			mac, err := net.ParseMAC(strings.TrimSpace(string(b)))
			if err == nil && len(n.MAC) > 0 && bytes.Equal(mac, n.MAC) {
				byMAC = append(byMAC, name)
			}
		}
		if len(byMAC) == 1 {
			return byMAC[0], nil
		}
		pool := all
		if len(byMAC) > 1 {
			pool = byMAC
		}
		var byBDF []string
		for _, name := range pool {
			dev, err := os.Readlink(filepath.Join(dir, name, "device"))
			if err != nil {
				continue
			}
			if b, ok := parsePCIName(filepath.Base(dev)); ok && b == n.PCIBDF {
				byBDF = append(byBDF, name)
			}
		}
		if len(byBDF) == 1 {
			return byBDF[0], nil
		}
		if len(byMAC) > 1 {
			slices.Sort(byMAC)
			return "", fmt.Errorf("ibft: interface for mac %s pci %s: %w: %s", n.MAC, n.PCIBDF, errAmbiguous, strings.Join(byMAC, ", "))
		}
		return "", fmt.Errorf("ibft: interface for mac %s pci %s: %w", n.MAC, n.PCIBDF, errNoInterface)
	}
}
