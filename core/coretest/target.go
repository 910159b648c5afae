// Package coretest is a scriptable in-process iSCSI target for tests of
// what a real target such as tgtd will not do on demand: redirects,
// target errors, bad digests, wrong or reflected CHAP, a connection
// dropped in the middle of a login, malformed PDUs and slow replies.
//
// It speaks just enough of the target side of RFC 7143 for an initiator's
// login, SendTargets, NOP, REPORT LUNS, INQUIRY and logout. It is never a
// storage target.
package coretest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iscsiboot/iscsiboot/core"
)

// Target is the script of a fake target. The zero value plus a Name is a
// target that accepts any initiator without authentication.
type Target struct {
	Name  string // TargetName served; others get 0x0203 not found
	Alias string
	TPGT  uint16
	LUNs  []uint64 // what REPORT LUNS answers; INQUIRY says disk

	CHAPUser, CHAPSecret     string // required of the initiator when set
	MutualUser, MutualSecret string // our own credentials for mutual CHAP
	CHAPAlg                  core.CHAPAlg
	Digests                  bool // accept CRC32C when offered
	// ISER answers RDMAExtensions=Yes and declares its iSER segment
	// lengths (RFC 7145, Section 6.3), as an iSER portal does; without
	// it, RDMAExtensions is answered No.
	ISER bool

	// Faults.
	Status            uint16        // class<<8|detail answered to the first login PDU
	RedirectTo        string        // with Status 0x0101/0x0102: TargetAddress value
	DropAfterPDUs     int           // close after reading this many PDUs (0: never)
	Delay             time.Duration // before every reply
	ReflectChallenge  bool          // send the initiator's last mutual challenge back as ours
	WrongMutual       bool          // answer mutual CHAP with a wrong response
	MalformedReply    bool          // reply to the first login PDU with a truncated text segment
	CorruptDigest     bool          // corrupt the header digest of full-feature replies
	NeverTransit      bool          // never set T in operational negotiation
	DiscoveryTargets  []string      // SendTargets answer: "name" or "name addr,tpgt"
	DiscoveryKVs      []core.KV     // SendTargets answer as it is, instead of DiscoveryTargets
	Inquiry           string        // INQUIRY bytes 8-35: vendor, product, revision (IET VIRTUAL-DISK when empty)
	SplitTextResponse int           // split SendTargets answers into PDUs of this many bytes
	DropFirst         int           // close the first this many connections after their first PDU
	// EndlessContinue answers every login PDU with the C bit set, so the
	// text never ends; ContinueBytes new bytes of it in each answer.
	EndlessContinue bool
	// EndlessText does the same to every text request in full feature
	// phase (F=0, C=1), with ContinueBytes new bytes in each answer.
	EndlessText   bool
	ContinueBytes int

	mu            sync.Mutex
	lastChallenge []byte
	conns         int
	pdus          int
	Logins        int // successful logins, read after the test
	ln            net.Listener
	wg            sync.WaitGroup
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func (t *Target) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	t.ln = ln
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				defer c.Close()
				t.Serve(c)
			}()
		}
	}()
	return ln.Addr().String(), nil
}

// PDUs returns how many PDUs the target has read on all connections.
func (t *Target) PDUs() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pdus
}

// Close stops listening and waits, bounded, for the connections to end.
func (t *Target) Close() {
	if t.ln != nil {
		t.ln.Close()
	}
	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

type conn struct {
	t      *Target
	tr     *core.StreamTransport
	c      net.Conn
	reads  int
	statSN uint32
	cmdSN  uint32
	kind   string // "Normal" or "Discovery"
	chapC  []byte
	chapI  byte
	alg    core.CHAPAlg
}

var errDrop = errors.New("coretest: dropped by script")

// Serve runs one connection to its end.
func (t *Target) Serve(c net.Conn) error {
	cn := &conn{t: t, tr: core.NewStreamTransport(c), c: c, statSN: 100}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.mu.Lock()
	t.conns++
	drop := t.conns <= t.DropFirst
	t.mu.Unlock()
	if drop {
		cn.tr.ReadPDU(ctx)
		return errDrop
	}
	if t.EndlessContinue {
		return cn.endlessContinue(ctx)
	}
	if err := cn.login(ctx); err != nil {
		return err
	}
	return cn.fullFeature(ctx)
}

func (cn *conn) read(ctx context.Context) (*core.PDU, error) {
	p, err := cn.tr.ReadPDU(ctx)
	if err != nil {
		return nil, err
	}
	cn.reads++
	cn.t.mu.Lock()
	cn.t.pdus++
	cn.t.mu.Unlock()
	if cn.t.DropAfterPDUs > 0 && cn.reads >= cn.t.DropAfterPDUs {
		cn.c.Close()
		return nil, errDrop
	}
	return p, nil
}

func (cn *conn) write(ctx context.Context, m core.Message) error {
	if cn.t.Delay > 0 {
		select {
		case <-time.After(cn.t.Delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return cn.tr.WritePDU(ctx, m.Encode())
}

func hashFor(a core.CHAPAlg) hash.Hash {
	switch a {
	case core.CHAPSHA1:
		return sha1.New()
	case core.CHAPSHA256:
		return sha256.New()
	case core.CHAPSHA3256:
		return sha3.New256()
	}
	return md5.New()
}

func chapResp(a core.CHAPAlg, id byte, secret string, c []byte) []byte {
	h := hashFor(a)
	h.Write([]byte{id})
	h.Write([]byte(secret))
	h.Write(c)
	return h.Sum(nil)
}

func decodeHex(s string) []byte {
	b, _ := hex.DecodeString(strings.TrimPrefix(strings.ToLower(s), "0x"))
	return b
}

func (cn *conn) login(ctx context.Context) error {
	t := cn.t
	first := true
	authed := t.CHAPUser == ""
	for round := 0; round < 128; round++ {
		p, err := cn.read(ctx)
		if err != nil {
			return err
		}
		var req core.LoginRequest
		if err := req.UnmarshalBinary(mustMarshal(p)); err != nil {
			return err
		}
		cn.cmdSN = req.CmdSN
		kvs, _ := core.ParseText(req.Data)
		m := map[string]string{}
		for _, kv := range kvs {
			m[kv.Key] = kv.Value
		}
		resp := &core.LoginResponse{CSG: req.CSG, ISID: req.ISID, ITT: req.ITT, StatSN: cn.statSN,
			ExpCmdSN: req.CmdSN, MaxCmdSN: req.CmdSN + 32}
		if first {
			first = false
			if t.MalformedReply {
				resp.Data = []byte("TargetAlias=x\x00broken")
				return cn.write(ctx, resp)
			}
			cn.kind = m["SessionType"]
			if cn.kind == "" {
				cn.kind = "Normal"
			}
			if t.Status != 0 {
				resp.StatusClass, resp.StatusDetail = uint8(t.Status>>8), uint8(t.Status)
				if t.RedirectTo != "" {
					resp.Data = encode([]core.KV{{Key: "TargetAddress", Value: t.RedirectTo}})
				}
				return cn.write(ctx, resp)
			}
			if cn.kind == "Normal" && m["TargetName"] != t.Name {
				resp.StatusClass, resp.StatusDetail = 0x02, 0x03
				return cn.write(ctx, resp)
			}
		}
		var out []core.KV
		switch req.CSG {
		case core.StageSecurity:
			if _, ok := m["AuthMethod"]; ok {
				if t.CHAPUser != "" {
					if !strings.Contains(m["AuthMethod"], "CHAP") {
						resp.StatusClass, resp.StatusDetail = 0x02, 0x01
						return cn.write(ctx, resp)
					}
					out = append(out, core.KV{Key: "AuthMethod", Value: "CHAP"})
				} else {
					out = append(out, core.KV{Key: "AuthMethod", Value: "None"})
				}
				out = append(out, core.KV{Key: "TargetPortalGroupTag", Value: strconv.Itoa(int(t.TPGT))})
			}
			if a, ok := m["CHAP_A"]; ok {
				cn.alg = t.CHAPAlg
				if cn.alg == 0 {
					cn.alg = core.CHAPMD5
				}
				if !strings.Contains(","+a+",", ","+strconv.Itoa(int(cn.alg))+",") {
					resp.StatusClass, resp.StatusDetail = 0x02, 0x01
					return cn.write(ctx, resp)
				}
				cn.chapC = make([]byte, 16)
				rand.Read(cn.chapC)
				t.mu.Lock()
				if t.ReflectChallenge && t.lastChallenge != nil {
					cn.chapC = t.lastChallenge
				}
				t.mu.Unlock()
				cn.chapI = 7
				out = append(out, core.KV{Key: "CHAP_A", Value: strconv.Itoa(int(cn.alg))},
					core.KV{Key: "CHAP_I", Value: "7"}, core.KV{Key: "CHAP_C", Value: "0x" + hex.EncodeToString(cn.chapC)})
			}
			if r, ok := m["CHAP_R"]; ok {
				want := chapResp(cn.alg, cn.chapI, t.CHAPSecret, cn.chapC)
				if m["CHAP_N"] != t.CHAPUser || !bytes.Equal(decodeHex(r), want) {
					resp.StatusClass, resp.StatusDetail = 0x02, 0x01
					return cn.write(ctx, resp)
				}
				authed = true
				if c, ok := m["CHAP_C"]; ok {
					ch := decodeHex(c)
					t.mu.Lock()
					t.lastChallenge = ch
					t.mu.Unlock()
					id, _ := strconv.Atoi(m["CHAP_I"])
					rr := chapResp(cn.alg, byte(id), t.MutualSecret, ch)
					if t.WrongMutual {
						rr[0] ^= 0xff
					}
					out = append(out, core.KV{Key: "CHAP_N", Value: t.MutualUser}, core.KV{Key: "CHAP_R", Value: "0x" + hex.EncodeToString(rr)})
				}
			}
		case core.StageOperational:
			for _, kv := range kvs {
				v := kv.Value
				switch kv.Key {
				case "HeaderDigest", "DataDigest":
					v = "None"
					if t.Digests && strings.Contains(kv.Value, "CRC32C") {
						v = "CRC32C"
					}
				case "MaxRecvDataSegmentLength":
					v = "65536"
				case "RDMAExtensions":
					if !t.ISER {
						v = "No"
					}
				case "InitiatorRecvDataSegmentLength", "TargetRecvDataSegmentLength":
					if !t.ISER {
						v = "NotUnderstood"
						break
					}
					v = map[string]string{"InitiatorRecvDataSegmentLength": "131072", "TargetRecvDataSegmentLength": "4096"}[kv.Key]
				case "InitialR2T", "ImmediateData", "MaxConnections", "MaxBurstLength", "FirstBurstLength",
					"DefaultTime2Wait", "DefaultTime2Retain", "MaxOutstandingR2T", "DataPDUInOrder",
					"DataSequenceInOrder", "ErrorRecoveryLevel", "IFMarker", "OFMarker":
				default:
					v = "NotUnderstood"
				}
				out = append(out, core.KV{Key: kv.Key, Value: v})
			}
			if t.Alias != "" {
				out = append(out, core.KV{Key: "TargetAlias", Value: t.Alias})
			}
		}
		resp.Data = encode(out)
		if req.Transit && authed && !(t.NeverTransit && req.CSG == core.StageOperational) {
			resp.Transit, resp.NSG = true, req.NSG
			if req.NSG == core.StageFullFeature {
				resp.TSIH = 0x1234
				if err := cn.write(ctx, resp); err != nil {
					return err
				}
				cn.statSN++
				t.mu.Lock()
				t.Logins++
				t.mu.Unlock()
				return nil
			}
		}
		if err := cn.write(ctx, resp); err != nil {
			return err
		}
		cn.statSN++
	}
	return fmt.Errorf("coretest: login did not finish")
}

// endlessContinue answers every login PDU with C=1 and ContinueBytes more
// bytes of text that never ends, until the initiator gives up; bounded by
// the connection's context and a count no initiator should reach.
func (cn *conn) endlessContinue(ctx context.Context) error {
	for i := 0; i < 1<<20; i++ {
		p, err := cn.read(ctx)
		if err != nil {
			return err
		}
		var req core.LoginRequest
		if err := req.UnmarshalBinary(mustMarshal(p)); err != nil {
			return err
		}
		resp := &core.LoginResponse{Continue: true, CSG: req.CSG, ISID: req.ISID, ITT: req.ITT, StatSN: cn.statSN,
			ExpCmdSN: req.CmdSN, MaxCmdSN: req.CmdSN + 32, Data: bytes.Repeat([]byte("a"), cn.t.ContinueBytes)}
		if err := cn.write(ctx, resp); err != nil {
			return err
		}
		cn.statSN++
	}
	return fmt.Errorf("coretest: endless login went on for %d PDUs", 1<<20)
}

// encode is core.EncodeText without its checks, so that a script can send
// what a real initiator refuses to: NULs, control bytes, bad UTF-8.
func encode(kvs []core.KV) []byte {
	var b []byte
	for _, kv := range kvs {
		b = append(b, kv.Key+"="+kv.Value+"\x00"...)
	}
	return b
}

func mustMarshal(p *core.PDU) []byte {
	b, _ := p.MarshalBinary()
	return b
}
