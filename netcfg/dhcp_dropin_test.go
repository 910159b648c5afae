//go:build dropin

package netcfg

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckNoDHCP: the drop-in build refuses DHCP before anything on the machine changes, with a line that
// names the method; static and SLAAC interfaces pass as in the full build.
func TestCheckNoDHCP(t *testing.T) {
	for _, m := range []string{MethodDHCP, MethodDHCP6} {
		ifc := Interface{Name: "eth0", Method: m}
		err := ifc.check()
		if !errors.Is(err, ErrNoDHCP) {
			t.Fatalf("check(method %s) = %v, want ErrNoDHCP", m, err)
		}
		if want := "method " + m; !strings.Contains(err.Error(), want) {
			t.Errorf("check(method %s) = %q, want it to name %q", m, err, want)
		}
	}
	for _, m := range []string{MethodStatic, MethodAuto6} {
		ifc := Interface{Name: "eth0", Method: m}
		if err := ifc.check(); err != nil {
			t.Errorf("check(method %s) = %v, want nil", m, err)
		}
	}
}
