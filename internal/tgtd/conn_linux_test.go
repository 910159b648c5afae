package tgtd

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// login performs a minimal iSCSI login straight to full feature phase, without security negotiation, which
// tgt allows on a target with no account bound: one Login Request with CSG=1 (operational), NSG=3 and the
// Transit bit (RFC 7143, Section 11.12), and a check of the response's status (Section 11.13).
func login(t *testing.T, c net.Conn, initiator, target string) {
	t.Helper()
	var data []byte
	for _, kv := range []string{"InitiatorName=" + initiator, "TargetName=" + target, "SessionType=Normal"} {
		data = append(append(data, kv...), 0)
	}
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	bhs := make([]byte, 48)
	bhs[0] = 0x40 | 0x03 // immediate, Login Request
	bhs[1] = 0x80 | 1<<2 | 3
	bhs[5], bhs[6], bhs[7] = byte(len(data)>>16), byte(len(data)>>8), byte(len(data))
	copy(bhs[8:14], []byte{0x00, 0x02, 0x3d, 0x00, 0x00, 0x01}) // ISID: OUI format, as open-iscsi's
	binary.BigEndian.PutUint32(bhs[16:20], 1)                   // ITT
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append(bhs, data...)); err != nil {
		t.Fatalf("send login: %v", err)
	}
	resp := make([]byte, 48)
	if _, err := io.ReadFull(c, resp); err != nil {
		t.Fatalf("read login response: %v", err)
	}
	if op, class, detail := resp[0]&0x3f, resp[36], resp[37]; op != 0x23 || class != 0 {
		t.Fatalf("login response opcode %#x status %d/%d, want 0x23 and success", op, class, detail)
	}
	n := int(resp[5])<<16 | int(resp[6])<<8 | int(resp[7])
	if _, err := io.ReadFull(c, make([]byte, (n+3)&^3)); err != nil {
		t.Fatalf("read login response data: %v", err)
	}
	c.SetDeadline(time.Time{})
}

func TestDropConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := Start(ctx, t)
	if err := s.NewDiskTarget(ctx, 1, "iqn.2025-01.test:disk1", disk(t)); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", s.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	login(t, c, "iqn.2025-01.test:init", "iqn.2025-01.test:disk1")

	conns, err := s.Connections(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 1 || conns[0].Initiator != "iqn.2025-01.test:init" || conns[0].Address != "127.0.0.1" {
		t.Fatalf("Connections() = %+v, want one from iqn.2025-01.test:init at 127.0.0.1", conns)
	}
	if err := s.DropConnection(ctx, 1, conns[0]); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	// EOF or a reset: either way tgtd closed it.
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case err == nil:
		t.Fatal("read data after DropConnection, want the connection closed")
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatal("connection still open 5 s after DropConnection")
	}
	if conns, err := s.Connections(ctx, 1); err != nil || len(conns) != 0 {
		t.Errorf("after drop Connections() = %+v, %v; want none", conns, err)
	}
}
