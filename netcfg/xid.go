//go:build !dropin

package netcfg

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"

	uiorand "github.com/u-root/uio/rand"
)

// DHCP's transaction ids need no cryptographic randomness: they only tell
// a client's exchanges apart (RFC 2131, Section 4.1: "a random number";
// RFC 8415, Section 16.1). insomniacslk/dhcp draws them from u-root's
// reader, which polls getrandom(GRND_NONBLOCK) until the kernel's pool is
// initialized; early in a boot on a machine without a hardware RNG (QEMU
// under TCG: 1.2 s) that is a wait for nothing. nonBlockingXIDs points
// that reader at math/rand/v2's generator instead, which the Go runtime
// seeds from the kernel's AT_RANDOM auxiliary vector at exec and never
// blocks. Only CHAP challenges need the pool (core, through crypto/rand).
var xidOnce sync.Once

// nonBlockingXIDs installs xidReader as u-root's reader, once; the DHCP
// clients call it before their first message.
func nonBlockingXIDs() {
	xidOnce.Do(func() { uiorand.Reader = xidReader{} })
}

// xidReader fills buffers from math/rand/v2; it never blocks and never
// fails.
type xidReader struct{}

func (xidReader) Read(b []byte) (int, error) {
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rand.Uint64())
		copy(b[i:], w[:])
	}
	return len(b), nil
}

func (r xidReader) ReadContext(_ context.Context, b []byte) (int, error) { return r.Read(b) }
