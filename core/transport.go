package core

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"time"
)

// Transport carries whole PDUs between the login state machine and a
// target. StreamTransport is the user-space TCP implementation; the kernel
// implementation (SEND_PDU out, RECV_PDU in) lives in package core/kernel,
// with the rest of the kernel session.
type Transport interface {
	WritePDU(ctx context.Context, p *PDU) error
	ReadPDU(ctx context.Context) (*PDU, error)
}

// castagnoli is made at the first digest, not at every start: its
// tables are 9 KiB that a login without digests never reads (issue 16).
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// digestLen is the size of a CRC32C digest on the wire (RFC 7143,
// Section 11.1).
const digestLen = 4

// crc32c returns the iSCSI digest of b. It travels least significant byte
// first: RFC 3720, Appendix B.4 gives 32 zero bytes as aa 36 91 8a.
func crc32c(b ...[]byte) [digestLen]byte {
	var c uint32
	for _, s := range b {
		c = crc32.Update(c, castagnoli(), s)
	}
	var d [digestLen]byte
	binary.LittleEndian.PutUint32(d[:], c)
	return d
}

// deadliner is what net.Conn offers and what StreamTransport uses to make
// a blocked read or write obey its context.
type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// StreamTransport frames PDUs on a byte stream, normally a TCP connection:
// padding, CRC32C header and data digests once negotiated, and a bound on
// the data segment a peer may send (RFC 7143, Sections 11.1 and 13.12).
type StreamTransport struct {
	rw           io.ReadWriter
	rmu, wmu     sync.Mutex
	headerDigest bool
	dataDigest   bool
	maxRecv      int
}

// DefaultMaxRecvDataSegment is the largest data segment StreamTransport
// accepts until told otherwise: our default declaration (262144) is what a
// target may send after login; during login RFC 7143 allows 8192.
const DefaultMaxRecvDataSegment = 262144

// NewStreamTransport returns a transport over rw. If rw has read and write
// deadlines (a net.Conn), contexts given to ReadPDU and WritePDU bound
// them.
func NewStreamTransport(rw io.ReadWriter) *StreamTransport {
	return &StreamTransport{rw: rw, maxRecv: DefaultMaxRecvDataSegment}
}

// SetDigests turns CRC32C header and data digests on or off; a login turns
// them on as negotiated before the first full-feature PDU.
func (t *StreamTransport) SetDigests(header, data bool) {
	t.rmu.Lock()
	t.wmu.Lock()
	t.headerDigest, t.dataDigest = header, data
	t.wmu.Unlock()
	t.rmu.Unlock()
}

// SetMaxRecvDataSegmentLength sets the largest data segment accepted.
func (t *StreamTransport) SetMaxRecvDataSegmentLength(n int) {
	t.rmu.Lock()
	t.maxRecv = n
	t.rmu.Unlock()
}

// watch makes ctx interrupt a blocked read or write on t.rw, and returns
// the function that ends the watch.
func (t *StreamTransport) watch(ctx context.Context, read bool) func() {
	d, ok := t.rw.(deadliner)
	if !ok {
		return func() {}
	}
	set := d.SetWriteDeadline
	if read {
		set = d.SetReadDeadline
	}
	if dl, ok := ctx.Deadline(); ok {
		set(dl)
	}
	stop := context.AfterFunc(ctx, func() { set(time.Unix(1, 0)) })
	return func() {
		stop()
		set(time.Time{})
	}
}

// ctxErr prefers the context's error to the deadline error it caused. The
// connection's deadline can fire a moment before the context's own timer,
// so a passed deadline counts as the context's.
func ctxErr(ctx context.Context, err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, io.ErrClosedPipe) {
		return err
	}
	if ce := ctx.Err(); ce != nil {
		return ce
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}

// Close closes the underlying stream if it can be closed.
func (t *StreamTransport) Close() error {
	if c, ok := t.rw.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// WritePDU sends p with padding and any digests in force.
func (t *StreamTransport) WritePDU(ctx context.Context, p *PDU) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	q := *p
	if err := q.setLengths(); err != nil {
		return err
	}
	buf := make([]byte, 0, BHSLen+len(q.AHS)+2*digestLen+pad4(len(q.Data)))
	buf = append(buf, q.BHS[:]...)
	buf = append(buf, q.AHS...)
	if t.headerDigest {
		d := crc32c(buf)
		buf = append(buf, d[:]...)
	}
	if len(q.Data) > 0 {
		start := len(buf)
		buf = append(buf, q.Data...)
		buf = append(buf, make([]byte, pad4(len(q.Data))-len(q.Data))...)
		if t.dataDigest {
			d := crc32c(buf[start:])
			buf = append(buf, d[:]...)
		}
	}
	defer t.watch(ctx, false)()
	if _, err := t.rw.Write(buf); err != nil {
		return fmt.Errorf("send %s: %w", p.Opcode(), ctxErr(ctx, err))
	}
	return nil
}

// ReadPDU receives one PDU, checking digests in force.
func (t *StreamTransport) ReadPDU(ctx context.Context) (*PDU, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.rmu.Lock()
	defer t.rmu.Unlock()
	defer t.watch(ctx, true)()
	p := new(PDU)
	if _, err := io.ReadFull(t.rw, p.BHS[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("connection closed in the middle of a PDU header: %w", err)
		}
		return nil, fmt.Errorf("receive: %w", ctxErr(ctx, err))
	}
	ahs := p.TotalAHSLength() * 4
	dl := p.DataSegmentLength()
	if dl > t.maxRecv {
		return nil, fmt.Errorf("receive %s: data segment of %d bytes exceeds MaxRecvDataSegmentLength %d: %w",
			p.Opcode(), dl, t.maxRecv, ErrProtocol)
	}
	rest := ahs
	if t.headerDigest {
		rest += digestLen
	}
	hdr := make([]byte, rest)
	if _, err := io.ReadFull(t.rw, hdr); err != nil {
		return nil, fmt.Errorf("receive %s header: %w", p.Opcode(), ctxErr(ctx, err))
	}
	p.AHS = hdr[:ahs]
	if t.headerDigest {
		if got, want := hdr[ahs:], crc32c(p.BHS[:], p.AHS); string(got) != string(want[:]) {
			return nil, fmt.Errorf("receive %s: %w", p.Opcode(), errHeaderDigest)
		}
	}
	if dl > 0 {
		n := pad4(dl)
		if t.dataDigest {
			n += digestLen
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(t.rw, data); err != nil {
			return nil, fmt.Errorf("receive %s data: %w", p.Opcode(), ctxErr(ctx, err))
		}
		if t.dataDigest {
			if got, want := data[pad4(dl):], crc32c(data[:pad4(dl)]); string(got) != string(want[:]) {
				return nil, fmt.Errorf("receive %s: %w", p.Opcode(), errDataDigest)
			}
		}
		p.Data = data[:dl]
	}
	return p, nil
}
