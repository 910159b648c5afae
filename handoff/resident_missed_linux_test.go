package handoff

import (
	"iter"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mdlayher/netlink"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/core/kernel"
)

// quietKernel is a NETLINK_ISCSI socket on which the kernel says nothing.
type quietKernel struct {
	once   sync.Once
	closed chan struct{}
}

func (q *quietKernel) Send(netlink.Message) error           { return nil }
func (q *quietKernel) SendMessages([]netlink.Message) error { return nil }
func (q *quietKernel) Receive() ([]netlink.Message, error)  { <-q.closed; return nil, net.ErrClosed }
func (q *quietKernel) Close() error                         { q.once.Do(func() { close(q.closed) }); return nil }
func (q *quietKernel) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) { <-q.closed; yield(netlink.Message{}, net.ErrClosed) }
}

// A session the kernel shows FAILED when the resident loop starts failed
// while no one listened for its connection error: the loop must log it in
// again without waiting for an event that was already sent. A session
// still LOGGED_IN is left alone.
func TestMissedConnErrors(t *testing.T) {
	root := t.TempDir()
	for sid, state := range map[string]string{"1": "FAILED", "2": "LOGGED_IN"} {
		d := filepath.Join(root, "sys/class/iscsi_session/session"+sid)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "state"), []byte(state+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nl := kernel.NewConn(netlink.NewConn(&quietKernel{closed: make(chan struct{})}, 1))
	defer nl.Close()
	k := &boot.Kernel{Initiator: kernel.NewInitiator(nl, kernel.Sysfs{}, 0)}
	got := missedConnErrors(k, kernel.Sysfs{Root: root}, []ResidentPath{{SID: 1}, {SID: 2}, {SID: 3}})
	if len(got) != 1 || got[0].SID != 1 || got[0].CID != 0 || got[0].Code != kernel.ErrConnFailed {
		t.Fatalf("missedConnErrors = %+v, want one ISCSI_ERR_CONN_FAILED for session 1", got)
	}
}
