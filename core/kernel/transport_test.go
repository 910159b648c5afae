package kernel

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// transports lays out /sys/class/iscsi_transport as the transport class
// shows it (scsi_transport_iscsi.c: handle "%llu", caps "0x%x"), with the
// caps the drivers' struct iscsi_transport set: iscsi_tcp RECOVERY_L0,
// MULTI_R2T, HDRDGST, DATADGST; ib_iser RECOVERY_L0, MULTI_R2T, TEXT_NEGO;
// bnx2i iscsi_tcp's and TEXT_NEGO, DATA_PATH_OFFLOAD (bnx2i_iscsi.c);
// qla4xxx TEXT_NEGO, DATA_PATH_OFFLOAD, HDRDGST, DATADGST, LOGIN_OFFLOAD,
// MULTI_R2T (ql4_os.c).
func transports(tr *tree) {
	for _, x := range []struct{ name, handle, caps string }{
		{"tcp", "18446744072637906944", "0x39"},
		{"iser", "18446744072637911040", "0x89"},
		{"bnx2i", "18446744072637915136", "0x8b9"},
		{"qla4xxx", "18446744072637919232", "0x48b8"},
	} {
		tr.file("class/iscsi_transport/"+x.name+"/handle", x.handle+"\n")
		tr.file("class/iscsi_transport/"+x.name+"/caps", x.caps+"\n")
	}
}

// The transport's caps decide the route, as open-iscsi's transport table
// does: a socket for tcp, ep_connect for iSER and the offload NICs (these
// through their host), nothing for an HBA that logs in by itself.
func TestTransportRoute(t *testing.T) {
	tr := newTree(t)
	transports(tr)
	tests := []struct {
		name      string
		route     Route
		rdma      bool
		bindsHost bool
	}{
		{"tcp", RouteSocket, false, false},
		{"iser", RouteEndpoint, true, false},
		{"bnx2i", RouteEndpoint, false, true},
		{"qla4xxx", RouteHBA, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := tr.sysfs().Transport(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{x.Route(), x.RDMA(), x.BindsHost()}
			if diff := cmp.Diff([]any{tt.route, tt.rdma, tt.bindsHost}, got); diff != "" {
				t.Errorf("route, RDMA, binds host (-want +got):\n%s", diff)
			}
			if x.Handle == 0 || x.Caps == 0 {
				t.Errorf("Transport = %+v, want the handle and caps read", x)
			}
		})
	}
}

// A transport that is not registered names its module and what is
// registered; a name that is not one is refused before any path is made.
func TestTransportMissing(t *testing.T) {
	tr := newTree(t)
	tr.file("class/iscsi_transport/tcp/handle", "1\n")
	tr.file("class/iscsi_transport/tcp/caps", "0x39\n")
	_, err := tr.sysfs().Transport("iser")
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "load ib_iser") || !strings.Contains(err.Error(), "registered: tcp") {
		t.Errorf("Transport(iser) = %v, want not registered, load ib_iser, registered: tcp", err)
	}
	for _, bad := range []string{"", "../tcp", "..", "a/b"} {
		if _, err := tr.sysfs().Transport(bad); !errors.Is(err, errTransportName) {
			t.Errorf("Transport(%q) = %v, want %v", bad, err, errTransportName)
		}
	}
	tr.file("class/iscsi_transport/odd/handle", "1\n")
	tr.file("class/iscsi_transport/odd/caps", "lots\n")
	if _, err := tr.sysfs().Transport("odd"); err == nil || !strings.Contains(err.Error(), `caps "lots"`) {
		t.Errorf("Transport(odd) with caps lots = %v, want an error naming the value", err)
	}
	if got, _ := tr.sysfs().Transports(); !cmp.Equal(got, []string{"odd", "tcp"}) {
		t.Errorf("Transports = %v", got)
	}
}

func TestModuleFor(t *testing.T) {
	for name, want := range map[string]string{"tcp": "iscsi_tcp", "iser": "ib_iser", "bnx2i": "bnx2i", "qedi": "qedi"} {
		if got := ModuleFor(name); got != want {
			t.Errorf("ModuleFor(%s) = %s, want %s", name, got, want)
		}
	}
}

// HostFor finds the offload transport's SCSI host on a netdev or MAC, as
// iscsid's iscsi_sysfs_get_host_no_from_hwinfo does, and skips hosts of
// other drivers on the same netdev.
func TestHostFor(t *testing.T) {
	tr := newTree(t)
	host := func(n, driver, netdev, mac string) {
		tr.file("class/scsi_host/host"+n+"/proc_name", driver+"\n")
		tr.file("class/iscsi_host/host"+n+"/netdev", netdev+"\n")
		tr.file("class/iscsi_host/host"+n+"/hwaddress", mac+"\n")
	}
	host("2", "iscsi_tcp", "eth0", "52:54:00:12:34:56")
	host("5", "bnx2i", "eth0", "00:10:18:aa:bb:cc")
	host("6", "bnx2i", "eth1", "00:10:18:aa:bb:cd")
	bnx2i := Transport{Name: "bnx2i", Caps: CapDataPathOffload}
	for _, tt := range []struct {
		netdev, mac string
		want        int
	}{{"eth0", "", 5}, {"eth1", "", 6}, {"", "00:10:18:AA:BB:CD", 6}} {
		if got, err := tr.sysfs().HostFor(bnx2i, tt.netdev, tt.mac); err != nil || got != tt.want {
			t.Errorf("HostFor(%q, %q) = %d, %v; want %d", tt.netdev, tt.mac, got, err, tt.want)
		}
	}
	if _, err := tr.sysfs().HostFor(bnx2i, "eth9", ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("HostFor(eth9) = %v, want not found", err)
	}
}
