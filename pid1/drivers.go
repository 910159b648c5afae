package pid1

import (
	"errors"
	"path"
	"strings"

	"github.com/iscsiboot/iscsiboot/netcfg"
)

// ModuleName is the kernel's name of a module file:
// /lib/modules/6.1.0-28-amd64/kernel/drivers/net/virtio_net.ko.xz gives
// virtio_net, crc-t10dif.ko crc_t10dif (the kernel writes '_' for '-').
func ModuleName(file string) string {
	n := path.Base(file)
	for _, ext := range []string{".xz", ".zst", ".gz"} {
		n = strings.TrimSuffix(n, ext)
	}
	return strings.ReplaceAll(strings.TrimSuffix(n, ".ko"), "-", "_")
}

// MissingDriverNote is what the failed boot's line adds when err says that
// a network interface never appeared: the modules /init loaded, since the
// usual cause is a NIC driver (or its bus driver) left out of the image.
// Otherwise it is "".
func MissingDriverNote(err error, loaded []string) string {
	if !errors.Is(err, netcfg.ErrLinkNotFound) {
		return ""
	}
	if len(loaded) == 0 {
		return " (modules loaded: none)"
	}
	return " (modules loaded: " + strings.Join(loaded, " ") + ")"
}
