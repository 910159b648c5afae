package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/core/kernel"
	"github.com/iscsiboot/iscsiboot/internal/trace"
)

// The keys of the one login request: RFC 7143's defaults, which tgt and
// LIO accept in the operational stage without security negotiation
// (Section 6.3: a login may start in LoginOperationalNegotiation).
const (
	maxRecv    = 262144
	maxBurst   = 262144
	firstBurst = 65536
)

func main() {
	trace.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := run(ctx, os.Args[1:])
	cancel()
	trace.Mark("exit")
	if err != nil {
		fmt.Fprintf(os.Stderr, "floor: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) != 3 {
		return errors.New("usage: floor INITIATOR TARGET ADDRESS:PORT")
	}
	initiator, target, portal := args[0], args[1], args[2]
	sys := kernel.Sysfs{Root: "/"}
	handle, err := sys.TransportHandle("tcp")
	if err != nil {
		return err
	}
	nl, err := kernel.Dial()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer nl.Close()
	trace.Mark("netlink open")

	trace.Mark("connecting")
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", portal)
	if err != nil {
		return err
	}
	defer c.Close()
	trace.Mark("connected")
	resp, keys, err := login(ctx, c, initiator, target)
	if err != nil {
		return err
	}
	trace.MarkN("login PDU answered", 1)

	sid, host, err := nl.CreateSession(ctx, handle, 1, 0, 0)
	if err != nil {
		return err
	}
	trace.Mark("session created")
	cid, err := nl.CreateConn(ctx, handle, sid, 0)
	if err != nil {
		return err
	}
	trace.Mark("connection created")
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		return err
	}
	defer f.Close()
	if err := nl.BindConn(ctx, handle, sid, cid, int(f.Fd()), true); err != nil {
		return err
	}
	trace.Mark("connection bound")
	for _, p := range params(resp, keys) {
		if err := nl.SetParam(ctx, handle, sid, cid, p.Param, p.Value); err != nil {
			return fmt.Errorf("set param %d=%s: %w", p.Param, p.Value, err)
		}
	}
	trace.Mark("negotiated params set")
	if err := nl.StartConn(ctx, handle, sid, cid); err != nil {
		return err
	}
	trace.Mark("connection started")
	trace.Mark("scan request")
	if err := sys.ScanAll(int(host)); err != nil {
		return err
	}
	dev, err := sys.WaitBlockDevice(ctx, int(host), 0, true)
	if err != nil {
		return err
	}
	for {
		f, err := os.Open("/dev/" + dev)
		if err == nil {
			f.Close()
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("/dev/%s: %w", dev, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	trace.Mark("disk node present")
	fmt.Printf("floor: /dev/%s\n", dev)
	return nil
}

// login sends one login request, operational stage to full feature phase,
// over c and reads the target's answer: its BHS and its keys.
func login(ctx context.Context, c net.Conn, initiator, target string) (*core.LoginResponse, map[string]string, error) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	var kvs []core.KV
	for _, kv := range [][2]string{
		{"InitiatorName", initiator}, {"TargetName", target}, {"SessionType", "Normal"},
		{"HeaderDigest", "None"}, {"DataDigest", "None"},
		{"MaxRecvDataSegmentLength", strconv.Itoa(maxRecv)}, {"MaxBurstLength", strconv.Itoa(maxBurst)},
		{"FirstBurstLength", strconv.Itoa(firstBurst)}, {"InitialR2T", "Yes"}, {"ImmediateData", "Yes"},
		{"MaxOutstandingR2T", "1"}, {"DataPDUInOrder", "Yes"}, {"DataSequenceInOrder", "Yes"},
		{"ErrorRecoveryLevel", "0"}, {"DefaultTime2Wait", "2"}, {"DefaultTime2Retain", "0"}, {"MaxConnections", "1"},
	} {
		kvs = append(kvs, core.KV{Key: kv[0], Value: kv[1]})
	}
	data, err := core.EncodeText(kvs)
	if err != nil {
		return nil, nil, err
	}
	req := &core.LoginRequest{Transit: true, CSG: core.StageOperational, NSG: core.StageFullFeature,
		ISID: core.ISID(1), ITT: 0, CmdSN: 1, Data: data}
	b, err := req.Encode().MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	if _, err := c.Write(b); err != nil {
		return nil, nil, fmt.Errorf("login request: %w", err)
	}
	bhs := make([]byte, core.BHSLen)
	if _, err := io.ReadFull(c, bhs); err != nil {
		return nil, nil, fmt.Errorf("login response: %w", err)
	}
	n := int(bhs[4])*4 + int(binary.BigEndian.Uint32(bhs[4:8])&0xffffff+3)&^3
	if n > 1<<16 {
		return nil, nil, fmt.Errorf("login response of %d bytes", n)
	}
	rest := make([]byte, n)
	if _, err := io.ReadFull(c, rest); err != nil {
		return nil, nil, fmt.Errorf("login response: %w", err)
	}
	var resp core.LoginResponse
	if err := resp.UnmarshalBinary(append(bhs, rest...)); err != nil {
		return nil, nil, err
	}
	if resp.StatusClass != 0 || !resp.Transit || resp.NSG != core.StageFullFeature {
		return nil, nil, fmt.Errorf("login refused: status %02x%02x, transit %v to stage %d", resp.StatusClass, resp.StatusDetail, resp.Transit, resp.NSG)
	}
	answer, err := core.ParseText(resp.Data)
	if err != nil {
		return nil, nil, err
	}
	keys := map[string]string{}
	for _, kv := range answer {
		keys[kv.Key] = kv.Value
	}
	c.SetDeadline(time.Time{})
	return &resp, keys, nil
}

// params are what the kernel needs of the login before START_CONN: the
// outcome of the fixed offer against the target's answer (RFC 7143,
// Section 13: numbers to the lower, InitialR2T or, ImmediateData and).
func params(resp *core.LoginResponse, keys map[string]string) []kernel.ParamValue {
	num := func(key string, ours int) string {
		if v, err := strconv.Atoi(keys[key]); err == nil && v < ours {
			return strconv.Itoa(v)
		}
		return strconv.Itoa(ours)
	}
	yes := func(key, ours string) string {
		if keys[key] != "" {
			ours = keys[key]
		}
		if ours == "Yes" {
			return "1"
		}
		return "0"
	}
	xmit := "8192" // the default, when the target declares none (Section 13.12)
	if v := keys["MaxRecvDataSegmentLength"]; v != "" {
		xmit = v
	}
	return []kernel.ParamValue{
		{Param: kernel.ParamMaxRecvDLength, Value: strconv.Itoa(maxRecv)},
		{Param: kernel.ParamMaxXmitDLength, Value: xmit},
		{Param: kernel.ParamHdrDgstEn, Value: "0"},
		{Param: kernel.ParamDataDgstEn, Value: "0"},
		{Param: kernel.ParamInitialR2TEn, Value: yes("InitialR2T", "Yes")},
		{Param: kernel.ParamMaxR2T, Value: "1"},
		{Param: kernel.ParamImmDataEn, Value: yes("ImmediateData", "Yes")},
		{Param: kernel.ParamFirstBurst, Value: num("FirstBurstLength", firstBurst)},
		{Param: kernel.ParamMaxBurst, Value: num("MaxBurstLength", maxBurst)},
		{Param: kernel.ParamPDUInOrderEn, Value: "1"},
		{Param: kernel.ParamDataSeqInOrderEn, Value: "1"},
		{Param: kernel.ParamERL, Value: "0"},
		{Param: kernel.ParamExpStatSN, Value: strconv.FormatUint(uint64(resp.StatSN)+1, 10)},
	}
}
