//go:build !dropin

package netcfg

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
	"unsafe"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"golang.org/x/sys/unix"
)

// poolNotReady makes every getrandom(2) of this process, in all its
// threads, fail with EAGAIN, as GRND_NONBLOCK does before the kernel's
// pool is initialized (a classic BPF seccomp filter: load the syscall
// number, seccomp_data offset 0; return ERRNO for getrandom, else allow).
func poolNotReady() error {
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_GETRANDOM},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EAGAIN)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return errno
	}
	return nil
}

// TestXIDsWithoutThePool builds DHCPv4 and DHCPv6 messages in a child
// process whose getrandom always says "not ready": a transaction id must
// come at once anyway. With u-root's reader the DHCPv4 one fails after
// its deadline and the DHCPv6 one spins until the child is killed.
func TestXIDsWithoutThePool(t *testing.T) {
	if os.Getenv("NETCFG_XID_CHILD") == "1" {
		if err := poolNotReady(); err != nil {
			t.Fatalf("seccomp: %v", err)
		}
		var b [1]byte
		if _, err := unix.Getrandom(b[:], unix.GRND_NONBLOCK); err != unix.EAGAIN {
			t.Fatalf("getrandom under the filter: %v, want EAGAIN", err)
		}
		nonBlockingXIDs()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		seen := map[dhcpv4.TransactionID]bool{}
		for range 16 {
			x, err := dhcpv4.GenerateTransactionIDWithContext(ctx)
			if err != nil {
				t.Fatalf("DHCPv4 xid: %v", err)
			}
			seen[x] = true
		}
		if len(seen) < 15 {
			t.Errorf("16 DHCPv4 xids, only %d different", len(seen))
		}
		if _, err := dhcpv4.NewDiscovery([]byte{2, 0, 0, 0, 0, 1}); err != nil {
			t.Fatalf("DISCOVER: %v", err)
		}
		if _, err := dhcpv6.NewSolicit([]byte{2, 0, 0, 0, 0, 1}); err != nil {
			t.Fatalf("SOLICIT: %v", err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestXIDsWithoutThePool$", "-test.v")
	cmd.Env = append(os.Environ(), "NETCFG_XID_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestXIDReader(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 8, 9, 17} {
		b := make([]byte, n)
		got, err := xidReader{}.ReadContext(context.Background(), b)
		if got != n || err != nil {
			t.Errorf("ReadContext(%d bytes) = %d, %v", n, got, err)
		}
	}
}
