package core

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/iscsiboot/iscsiboot/internal/esc"
)

// nextITT returns a fresh Initiator Task Tag, skipping the reserved
// 0xffffffff (RFC 7143, Section 11.2.1.8).
func (s *Session) nextITT() uint32 {
	s.itt++
	if s.itt == reservedTag {
		s.itt = 1
	}
	return s.itt
}

// sendCommand stamps a non-immediate command with CmdSN and ExpStatSN and
// sends it, checking the command window (RFC 7143, Section 4.2.2.1).
func (s *Session) sendCommand(ctx context.Context, p *PDU) error {
	if int32(s.CmdSN-s.MaxCmdSN) > 0 {
		return fmt.Errorf("command window closed (CmdSN %d > MaxCmdSN %d)", s.CmdSN, s.MaxCmdSN)
	}
	put32(p.BHS[24:], s.CmdSN)
	put32(p.BHS[28:], s.ExpStatSN)
	if p.BHS[0]&immediateBit == 0 {
		s.CmdSN++
	}
	return s.t.WritePDU(ctx, p)
}

// statusUpdate records StatSN and MaxCmdSN from a response that carries
// them (every target PDU but Data-In without status and R2T).
func (s *Session) statusUpdate(statSN, maxCmdSN uint32) {
	s.StatSN = statSN
	s.ExpStatSN = statSN + 1
	if int32(maxCmdSN-s.MaxCmdSN) > 0 {
		s.MaxCmdSN = maxCmdSN
	}
}

// await reads PDUs until one answers itt, handling what a target may send
// unasked in the meantime: NOP-In pings (answered), asynchronous messages
// (a logout request ends the session), and rejects of our PDU.
func (s *Session) await(ctx context.Context, itt uint32) (*PDU, error) {
	for i := 0; ; i++ {
		if i == 1024 {
			return nil, fmt.Errorf("no answer to task 0x%x after 1024 unrelated PDUs: %w", itt, ErrProtocol)
		}
		p, err := s.t.ReadPDU(ctx)
		if err != nil {
			return nil, err
		}
		switch p.Opcode() {
		case OpNOPIn:
			var n NOPIn
			n.decode(p)
			if n.ITT == reservedTag && n.TTT != reservedTag {
				s.statusUpdate(n.StatSN-1, n.MaxCmdSN) // a ping does not advance StatSN (11.19.2)
				out := &NOPOut{Immediate: true, ITT: reservedTag, TTT: n.TTT, LUN: n.LUN}
				if err := s.sendCommand(ctx, out.Encode()); err != nil {
					return nil, err
				}
				continue
			}
		case OpAsyncMessage:
			var a AsyncMessage
			a.decode(p)
			s.statusUpdate(a.StatSN, a.MaxCmdSN)
			if a.AsyncEvent == 1 || a.AsyncEvent == 2 || a.AsyncEvent == 3 {
				return nil, fmt.Errorf("target ends the session (asynchronous event %d)", a.AsyncEvent)
			}
			continue
		case OpReject:
			var r Reject
			r.decode(p)
			if len(r.Data) >= BHSLen && binary.BigEndian.Uint32(r.Data[16:20]) == itt {
				return nil, fmt.Errorf("target rejected our PDU: %s: %w", r.ReasonText(), ErrProtocol)
			}
			continue
		}
		if p.ITT() == itt {
			return p, nil
		}
	}
}

// maxTextPDUs bounds the PDUs of one text exchange: the 64 KiB we accept
// (maxTextLen) in PDUs of at least 512 bytes, the smallest
// MaxRecvDataSegmentLength anyone may declare (RFC 7143, Section 13.12).
const maxTextPDUs = maxTextLen / 512

// Text runs one text negotiation in full feature phase, joining a
// response the target splits over several PDUs (RFC 7143, Section 11.10).
func (s *Session) Text(ctx context.Context, kvs []KV) ([]KV, error) {
	data, err := EncodeText(kvs)
	if err != nil {
		return nil, err
	}
	itt := s.nextITT()
	req := &TextRequest{Final: true, ITT: itt, TTT: reservedTag, Data: data}
	var all []byte
	for i := 0; ; i++ {
		if i == maxTextPDUs {
			return nil, fmt.Errorf("text response still continuing after %d PDUs: %w", i, ErrProtocol)
		}
		if err := s.sendCommand(ctx, req.Encode()); err != nil {
			return nil, err
		}
		p, err := s.await(ctx, itt)
		if err != nil {
			return nil, err
		}
		if p.Opcode() != OpTextResp {
			return nil, fmt.Errorf("got %s for a text request: %w", p.Opcode(), ErrProtocol)
		}
		var r TextResponse
		r.decode(p)
		s.statusUpdate(r.StatSN, r.MaxCmdSN)
		all = append(all, r.Data...)
		if len(all) > maxTextLen {
			return nil, fmt.Errorf("text response over %d bytes: %w", maxTextLen, ErrProtocol)
		}
		if r.Final && r.Continue {
			return nil, fmt.Errorf("text response with both the F and C bits: %w", ErrProtocol)
		}
		if r.Final {
			break
		}
		// An answer that asks us to go on must bring text, or the
		// exchange makes no progress.
		if len(r.Data) == 0 {
			return nil, fmt.Errorf("unfinished text response (F=0) with no text: %w", ErrProtocol)
		}
		// Ask for the rest with an empty request carrying the target's
		// transfer tag (RFC 7143, Section 11.10.4).
		req = &TextRequest{Final: true, ITT: itt, TTT: r.TTT}
	}
	got, err := ParseText(all)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrProtocol)
	}
	return got, nil
}

// Logout closes the session (RFC 7143, Sections 11.14 and 11.15).
func (s *Session) Logout(ctx context.Context) error {
	itt := s.nextITT()
	req := &LogoutRequest{Immediate: true, Reason: LogoutCloseSession, ITT: itt, CID: s.Config.CID}
	if err := s.sendCommand(ctx, req.Encode()); err != nil {
		return err
	}
	p, err := s.await(ctx, itt)
	if err != nil {
		return err
	}
	if p.Opcode() != OpLogoutResp {
		return fmt.Errorf("got %s for a logout request: %w", p.Opcode(), ErrProtocol)
	}
	var r LogoutResponse
	r.decode(p)
	if r.Response != 0 {
		return fmt.Errorf("logout refused: response %d", r.Response)
	}
	return nil
}

// Ping sends a NOP-Out and waits for its NOP-In (RFC 7143, Section 11.18).
func (s *Session) Ping(ctx context.Context) error {
	itt := s.nextITT()
	req := &NOPOut{Immediate: true, ITT: itt, TTT: reservedTag}
	if err := s.sendCommand(ctx, req.Encode()); err != nil {
		return err
	}
	p, err := s.await(ctx, itt)
	if err != nil {
		return err
	}
	if p.Opcode() != OpNOPIn {
		return fmt.Errorf("got %s for a NOP-Out: %w", p.Opcode(), ErrProtocol)
	}
	return nil
}

// DiscoveredTarget is one SendTargets result: a target name and the
// portals it is reachable at (RFC 7143, Section 13.3 and Appendix C).
type DiscoveredTarget struct {
	Name    string
	Portals []Portal
}

// Portal is a network portal with its portal group tag.
type Portal struct {
	Address string // host:port
	TPGT    int    // -1 when not given
}

// SendTargets asks a discovery session for every target (SendTargets=All)
// and groups the TargetAddress keys under the TargetName they follow. A
// TargetName that is not an iSCSI name (CheckName) or a TargetAddress that
// ParseTargetAddress refuses fails the whole answer with ErrProtocol,
// rather than being skipped: the answer is one text from one target, a
// line we cannot trust makes the lines around it no more trustworthy, and
// skipping a name would leave its addresses to be pinned on another.
func (s *Session) SendTargets(ctx context.Context) ([]DiscoveredTarget, error) {
	kvs, err := s.Text(ctx, []KV{{"SendTargets", "All"}})
	if err != nil {
		return nil, err
	}
	var out []DiscoveredTarget
	for _, kv := range kvs {
		switch kv.Key {
		case "TargetName":
			if err := CheckName(kv.Value); err != nil {
				return nil, fmt.Errorf("SendTargets: TargetName: %w: %w", err, ErrProtocol)
			}
			out = append(out, DiscoveredTarget{Name: kv.Value})
		case "TargetAddress":
			if len(out) == 0 {
				return nil, fmt.Errorf("SendTargets: TargetAddress %s before any TargetName: %w", clip(kv.Value), ErrProtocol)
			}
			addr, tpgt, err := ParseTargetAddress(kv.Value)
			if err != nil {
				return nil, fmt.Errorf("SendTargets: %w: %w", err, ErrProtocol)
			}
			t := &out[len(out)-1]
			t.Portals = append(t.Portals, Portal{addr, tpgt})
		}
	}
	// A target listed without addresses is reachable where we asked
	// (RFC 7143, Appendix C).
	for i := range out {
		if len(out[i].Portals) == 0 {
			out[i].Portals = []Portal{{s.Config.Portal, -1}}
		}
	}
	return out, nil
}

// FormatDiscovery lists results one per line like `iscsiadm -m
// discovery`: "ADDR:PORT,TPGT IQN", TPGT -1 where the target gave none.
// Names and addresses are escaped, though SendTargets has checked them.
func FormatDiscovery(ts []DiscoveredTarget) string {
	var b strings.Builder
	for _, t := range ts {
		for _, p := range t.Portals {
			fmt.Fprintf(&b, "%s,%d %s\n", esc.String(p.Address), p.TPGT, esc.String(t.Name))
		}
	}
	return b.String()
}
