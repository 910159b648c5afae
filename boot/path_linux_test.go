package boot

import (
	"net"
	"net/netip"
	"testing"

	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/netcfg"
)

// TestKernelPath: netcfg's path as struct iscsi_path holds it.
func TestKernelPath(t *testing.T) {
	src, dst := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.78.0.9")
	mac, _ := net.ParseMAC("02:00:00:00:00:07")
	for _, tt := range []struct {
		in   netcfg.Path
		want kernel.Path
	}{
		{netcfg.Path{Src: src, Dst: dst, MTU: 1400, MAC: mac, VLAN: 7}, kernel.Path{Src: src, Dst: dst, MTU: 1400, MAC: [6]byte{2, 0, 0, 0, 0, 7}, VLAN: 7}},
		{netcfg.Path{Src: src, Dst: dst, MTU: 65536, MAC: net.HardwareAddr{}}, kernel.Path{Src: src, Dst: dst, MTU: 0xffff}},
	} {
		if got := kernelPath(tt.in); got != tt.want {
			t.Errorf("kernelPath(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
