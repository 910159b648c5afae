package initramfs

// busDrivers maps a device driver to the bus drivers its device needs and no module metadata names: a
// virtio device appears only once its transport (virtio_pci on a PC, virtio_mmio on a microVM) has probed
// the PCI function, but virtio_net depends on the virtio core alone, so modules.dep and softdeps leave the
// transport out and the NIC never shows up (LAB.md: "a virtio guest's NIC needs virtio_pci"). The closure
// adds each of them, when the kernel has it as a module, before the driver that needs it.
var busDrivers = map[string][]string{
	"virtio_net":     {"virtio_pci"},
	"virtio_blk":     {"virtio_pci"},
	"virtio_scsi":    {"virtio_pci"},
	"virtio_console": {"virtio_pci"},
}
