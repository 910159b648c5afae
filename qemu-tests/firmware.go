package qemutests

import (
	"fmt"
	"os"
	"path/filepath"
)

// The option ROM that carries a table into the BIOS's low memory.
const (
	romBlock       = 512  // option ROM sizes count 512-byte blocks (byte 2 of the header)
	romTableOffset = 0x20 // past the ROM header; 16-byte aligned, as the legacy scan wants
	romMaxBlocks   = 255
)

// LegacyIBFTArgs returns the QEMU arguments that publish table, byte for byte, where BIOS firmware
// such as iPXE or a NIC's boot ROM leaves an iBFT: in the option ROM area below 1 MiB, outside the
// ACPI tables, so the guest finds it only by the legacy scan of 0x80000-0x100000 (LAB.md gotcha 9).
// -acpitable cannot carry a corrupt table: QEMU recomputes the checksum of every table it is given.
func (h *Harness) LegacyIBFTArgs(table []byte) []string {
	h.t.Helper()
	rom, err := optionROM(table)
	if err != nil {
		h.t.Fatalf("legacy iBFT: %v", err)
	}
	h.images++
	p := filepath.Join(h.Dir, fmt.Sprintf("ibft%d.rom", h.images))
	if err := os.WriteFile(p, rom, 0o644); err != nil {
		h.t.Fatalf("legacy iBFT: %v", err)
	}
	return []string{"-option-rom", p}
}

// optionROM wraps table in a legacy BIOS option ROM (PCI Firmware 3.0, Section 5.1.1, the 0x55 0xAA
// header) for QEMU's -option-rom. SeaBIOS copies such a ROM to a 2 KiB boundary above 0xC0000 and keeps
// it there; with no PnP header it registers the entry point at offset 3 as a boot connection vector
// and calls it once before booting, so that entry is a bare far return. SeaBIOS refuses a ROM whose
// bytes do not sum to zero: the ROM's last byte, past the table, balances the sum, so the table keeps
// whatever checksum it was given.
func optionROM(table []byte) ([]byte, error) {
	blocks := (romTableOffset + len(table) + 1 + romBlock - 1) / romBlock
	if blocks > romMaxBlocks {
		return nil, fmt.Errorf("table of %d bytes does not fit an option ROM", len(table))
	}
	rom := make([]byte, blocks*romBlock)
	rom[0], rom[1] = 0x55, 0xaa
	rom[2] = byte(blocks)
	rom[3] = 0xcb // retf
	copy(rom[romTableOffset:], table)
	var sum byte
	for _, b := range rom {
		sum += b
	}
	rom[len(rom)-1] = -sum
	return rom, nil
}
