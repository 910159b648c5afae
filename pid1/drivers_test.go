package pid1

import (
	"errors"
	"fmt"
	"testing"

	"github.com/iscsiboot/iscsiboot/netcfg"
)

func TestModuleName(t *testing.T) {
	for file, want := range map[string]string{
		"/lib/modules/6.1.0-28-amd64/kernel/drivers/net/virtio_net.ko": "virtio_net",
		"/lib/modules/k/kernel/crypto/crc-t10dif.ko.xz":                "crc_t10dif",
		"/lib/modules/k/kernel/fs/ext4/ext4.ko.zst":                    "ext4",
	} {
		if got := ModuleName(file); got != want {
			t.Errorf("ModuleName(%s) = %s, want %s", file, got, want)
		}
	}
}

// TestMissingDriverNote: a boot that found no NIC names the modules loaded;
// any other failure does not.
func TestMissingDriverNote(t *testing.T) {
	missing := fmt.Errorf("network: no network interface after 10s: %w", netcfg.ErrLinkNotFound)
	tests := []struct {
		err    error
		loaded []string
		want   string
	}{
		{missing, []string{"iscsi_tcp", "sd_mod"}, " (modules loaded: iscsi_tcp sd_mod)"},
		{missing, nil, " (modules loaded: none)"},
		{errors.New("login failed"), []string{"iscsi_tcp"}, ""},
	}
	for _, tt := range tests {
		if got := MissingDriverNote(tt.err, tt.loaded); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.err, got, tt.want)
		}
	}
}
