package qemutests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// IPXEOptions describes a boot through QEMU's iPXE network ROM.
type IPXEOptions struct {
	Port   int    // tgtd's port on the host, reached as HostAddr
	LUN    int    // the LUN iPXE hooks; 0 means 1, tgt's first disk (LUN 0 is its controller)
	Initrd string // image served over TFTP
	Append string // added to BaseAppend
}

// IPXEBoot returns the BootOptions of a firmware boot: SeaBIOS runs iPXE, which gets an address from slirp's
// DHCP, runs a script that hooks the target with `sanhook` (publishing an iBFT the kernel finds by its
// low-memory scan, not through ACPI), fetches the bzImage and initrd over slirp's TFTP and boots them.
// It takes about 16 s under TCG, four times a direct kernel boot.
func (h *Harness) IPXEBoot(o IPXEOptions) BootOptions {
	h.t.Helper()
	lun := o.LUN
	if lun == 0 {
		lun = 1
	}
	dir := filepath.Join(h.Dir, "tftp")
	// Without initiator-iqn iPXE makes up iqn.2010-04.org.ipxe:<uuid>.
	script := strings.Join([]string{
		"#!ipxe",
		"echo ISCSIBOOT-IPXE: script start",
		"dhcp",
		"set initiator-iqn " + InitiatorIQN,
		fmt.Sprintf("sanhook iscsi:%s::%d:%d:%s", HostAddr, o.Port, lun, TargetIQN),
		"kernel tftp://" + HostAddr + "/vmlinuz " + strings.TrimSpace(BaseAppend+" "+o.Append),
		"initrd tftp://" + HostAddr + "/initrd",
		"echo ISCSIBOOT-IPXE: booting kernel",
		"boot",
	}, "\n") + "\n"
	files := []struct {
		name string
		src  string
		data []byte
	}{
		{name: "boot.ipxe", data: []byte(script)},
		{name: "vmlinuz", src: h.Kernel.BzImage()},
		{name: "initrd", src: o.Initrd},
		// SeaBIOS mirrors the BIOS and iPXE text console to the serial port at this I/O port (COM1).
		{name: "sercon-port", data: []byte{0xf8, 0x03}},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatalf("ipxe: %v", err)
	}
	for _, f := range files {
		dst := filepath.Join(dir, f.name)
		var err error
		if f.src != "" {
			// slirp serves files by path; a symlink keeps the 10 MB kernel from being copied.
			err = os.Symlink(f.src, dst)
		} else {
			err = os.WriteFile(dst, f.data, 0o644)
		}
		if err != nil {
			h.t.Fatalf("ipxe: %v", err)
		}
	}
	return BootOptions{
		Firmware: true,
		Netdev:   ",tftp=" + dir + ",bootfile=boot.ipxe",
		ExtraArgs: []string{"-boot", "n",
			"-fw_cfg", "name=etc/sercon-port,file=" + filepath.Join(dir, "sercon-port")},
	}
}

// ReferenceFirmwareGuest logs in with Debian's iscsistart from the firmware's iBFT: `-N` configures the
// network the table describes, `-b` logs in to its targets.
func ReferenceFirmwareGuest() Guest {
	g := ReferenceGuest(0)
	g.Login = "iscsistart -N && iscsistart -b"
	g.NoNet = true
	g.Modules = append(g.Modules, "iscsi_ibft")
	return g
}
