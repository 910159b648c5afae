package core_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iscsiboot/iscsiboot/core"
	"github.com/iscsiboot/iscsiboot/core/coretest"
)

// ISEROffers makes the offers open-iscsi's login.c sends over iSER: no
// digests, InitiatorRecvDataSegmentLength instead of
// MaxRecvDataSegmentLength (keeping the user's value), RDMAExtensions.
func TestISEROffers(t *testing.T) {
	in, err := core.ApplyOverrides(core.DefaultOffers(), map[string]string{"node.conn[0].iscsi.MaxRecvDataSegmentLength": "131072"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range core.ISEROffers(in) {
		if _, dup := got[kv.Key]; dup {
			t.Errorf("key %s offered twice", kv.Key)
		}
		got[kv.Key] = kv.Value
	}
	for _, k := range []string{"HeaderDigest", "DataDigest", "MaxRecvDataSegmentLength"} {
		if v, ok := got[k]; ok {
			t.Errorf("iSER offers %s=%s; open-iscsi leaves it out", k, v)
		}
	}
	want := map[string]string{"InitiatorRecvDataSegmentLength": "131072", "TargetRecvDataSegmentLength": "8192",
		"RDMAExtensions": "Yes", "ImmediateData": "Yes", "ErrorRecoveryLevel": "0"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("iSER offers %s=%q, want %q", k, got[k], v)
		}
	}
}

// An iSER login takes its segment lengths from the iSER declarations, the
// smaller of ours and the target's for each; a target without iSER fails
// it, since the kernel's iSER transport cannot run without RDMAExtensions.
func TestISERLogin(t *testing.T) {
	offers := core.ISEROffers(core.DefaultOffers())
	t.Run("iSER portal", func(t *testing.T) {
		addr := start(t, &coretest.Target{Name: iqnDisk, ISER: true})
		s, err := login(t, addr, core.Config{TargetName: iqnDisk, Offers: offers})
		if err != nil {
			t.Fatal(err)
		}
		got := [3]any{s.Params.RDMAExtensions, s.Params.MaxRecvDataSegmentLength, s.Params.MaxXmitDataSegmentLength}
		// Ours 262144 against the target's 131072; ours 8192 against 4096.
		if diff := cmp.Diff([3]any{true, uint32(131072), uint32(4096)}, got); diff != "" {
			t.Errorf("RDMAExtensions, MaxRecv, MaxXmit (-want +got):\n%s", diff)
		}
	})
	t.Run("TCP-only target", func(t *testing.T) {
		addr := start(t, &coretest.Target{Name: iqnDisk})
		_, err := login(t, addr, core.Config{TargetName: iqnDisk, Offers: offers})
		if !errors.Is(err, core.ErrProtocol) || !strings.Contains(err.Error(), "RDMAExtensions") {
			t.Fatalf("login = %v, want a protocol error naming RDMAExtensions", err)
		}
	})
	t.Run("TCP login unchanged", func(t *testing.T) {
		addr := start(t, &coretest.Target{Name: iqnDisk, ISER: true})
		s, err := login(t, addr, core.Config{TargetName: iqnDisk})
		if err != nil {
			t.Fatal(err)
		}
		if s.Params.RDMAExtensions || s.Params.MaxXmitDataSegmentLength != 65536 {
			t.Errorf("TCP login: RDMAExtensions %v, MaxXmit %d; want false, the target's 65536", s.Params.RDMAExtensions, s.Params.MaxXmitDataSegmentLength)
		}
	})
}
