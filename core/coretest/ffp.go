package coretest

import (
	"bytes"
	"context"
	"encoding/binary"

	"github.com/iscsiboot/iscsiboot/core"
)

// fullFeature answers the few full-feature requests an initiator's probe
// and discovery send, until logout or a closed connection.
func (cn *conn) fullFeature(ctx context.Context) error {
	t := cn.t
	// Digests are off in the fake's transport unless negotiated; the
	// initiator turns them on after login, so must we.
	cn.tr.SetDigests(t.Digests, t.Digests)
	for {
		p, err := cn.read(ctx)
		if err != nil {
			return err
		}
		if t.CorruptDigest {
			// A header digest that cannot match: the initiator must
			// notice and fail, not hang.
			b := p.BHS
			b[0] = byte(core.OpNOPIn)
			cn.c.Write(append(b[:], 0xde, 0xad, 0xbe, 0xef))
			continue
		}
		m, err := core.Decode(p)
		if err != nil {
			continue
		}
		sn := func() (uint32, uint32, uint32) {
			s := cn.statSN
			cn.statSN++
			return s, cn.cmdSN + 1, cn.cmdSN + 32
		}
		switch r := m.(type) {
		case *core.TextRequest:
			cn.cmdSN = r.CmdSN
			if t.EndlessText {
				st, exp, max := sn()
				if err := cn.write(ctx, &core.TextResponse{Continue: true, ITT: r.ITT, TTT: 0x77, StatSN: st,
					ExpCmdSN: exp, MaxCmdSN: max, Data: bytes.Repeat([]byte("a"), t.ContinueBytes)}); err != nil {
					return err
				}
				continue
			}
			data := cn.sendTargets()
			if r.TTT != 0xffffffff {
				data = nil
			}
			chunk := t.SplitTextResponse
			for {
				part := data
				more := chunk > 0 && len(part) > chunk
				if more {
					part = part[:chunk]
				}
				data = data[len(part):]
				st, exp, max := sn()
				resp := &core.TextResponse{Final: !more, Continue: more, ITT: r.ITT, TTT: 0xffffffff,
					StatSN: st, ExpCmdSN: exp, MaxCmdSN: max, Data: part}
				if more {
					resp.TTT = 0x77
				}
				if err := cn.write(ctx, resp); err != nil {
					return err
				}
				if !more {
					break
				}
				// Wait for the initiator's request for the rest.
				q, err := cn.read(ctx)
				if err != nil {
					return err
				}
				var tr core.TextRequest
				if b, err := q.MarshalBinary(); err == nil {
					tr.UnmarshalBinary(b)
				}
				if tr.TTT != 0x77 {
					return nil
				}
			}
		case *core.NOPOut:
			if r.ITT == 0xffffffff {
				continue
			}
			st, exp, max := sn()
			if err := cn.write(ctx, &core.NOPIn{ITT: r.ITT, TTT: 0xffffffff, StatSN: st, ExpCmdSN: exp, MaxCmdSN: max, Data: r.Data}); err != nil {
				return err
			}
		case *core.SCSICommand:
			cn.cmdSN = r.CmdSN
			var data []byte
			switch r.CDB[0] {
			case 0xa0:
				data = make([]byte, 8+8*len(t.LUNs))
				binary.BigEndian.PutUint32(data, uint32(8*len(t.LUNs)))
				for i, l := range t.LUNs {
					e := core.EncodeLUN(l)
					copy(data[8+8*i:], e[:])
				}
			case 0x12:
				data = make([]byte, 36)
				inq := t.Inquiry
				if inq == "" {
					inq = "IET     VIRTUAL-DISK    0001"
				}
				copy(data[8:], inq)
			}
			if int(r.ExpectedLength) < len(data) {
				data = data[:r.ExpectedLength]
			}
			st, exp, max := sn()
			if err := cn.write(ctx, &core.DataIn{Final: true, HasStatus: true, ITT: r.ITT, TTT: 0xffffffff,
				StatSN: st, ExpCmdSN: exp, MaxCmdSN: max, Data: data}); err != nil {
				return err
			}
		case *core.LogoutRequest:
			st, exp, max := sn()
			cn.write(ctx, &core.LogoutResponse{ITT: r.ITT, StatSN: st, ExpCmdSN: exp, MaxCmdSN: max})
			return nil
		}
	}
}

func (cn *conn) sendTargets() []byte {
	if cn.t.DiscoveryKVs != nil {
		return encode(cn.t.DiscoveryKVs)
	}
	var kvs []core.KV
	for _, d := range cn.t.DiscoveryTargets {
		name, addr, ok := cut(d)
		kvs = append(kvs, core.KV{Key: "TargetName", Value: name})
		if ok {
			kvs = append(kvs, core.KV{Key: "TargetAddress", Value: addr})
		}
	}
	return encode(kvs)
}

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
