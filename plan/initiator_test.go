package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/core"
)

// TestDeriveInitiator: the DMI product UUID first, the machine-id else,
// placeholders skipped; the golden names are SHA-256 of the identifier's
// 16 bytes computed outside Go (python3 hashlib).
func TestDeriveInitiator(t *testing.T) {
	const (
		uuid      = "4a8f1c2e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
		fromUUID  = "iqn.2005-03.org.open-iscsi:744351fa9283"
		machineID = "0123456789abcdef0123456789abcdef"
		fromID    = "iqn.2005-03.org.open-iscsi:223e0a160af9"
	)
	tests := []struct {
		name, uuid, machineID string
		want, from            string
		err                   string
	}{
		{"product UUID", uuid + "\n", machineID, fromUUID, FromProductUUID, ""},
		{"upper case UUID", strings.ToUpper(uuid), "", fromUUID, FromProductUUID, ""},
		{"machine-id", "", machineID + "\n", fromID, FromMachineID, ""},
		{"zero UUID", "00000000-0000-0000-0000-000000000000", machineID, fromID, FromMachineID, ""},
		{"ones UUID", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", machineID, fromID, FromMachineID, ""},
		{"neither", "", "", "", "",
			"no identity to derive an initiator name from: DMI product UUID: none; machine-id: none"},
		{"bad both", "not-a-uuid\x1b[2J", "uninitialized", "", "",
			`no identity to derive an initiator name from: DMI product UUID: not a UUID: "not-a-uuid\x1b[2J"; machine-id: not 32 lower-case hex digits: uninitialized`},
		{"zero machine-id", "", strings.Repeat("0", 32), "", "",
			"no identity to derive an initiator name from: DMI product UUID: none; machine-id: a placeholder, not an identity: " + strings.Repeat("0", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from, err := DeriveInitiator(tt.uuid, tt.machineID)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, errNoMachineID) {
					t.Fatalf("err %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || from != tt.from {
				t.Fatalf("got %s from %s (%v), want %s from %s", got, from, err, tt.want, tt.from)
			}
			if err := core.CheckName(got); err != nil {
				t.Errorf("%s: %v", got, err)
			}
		})
	}
}

// FuzzDeriveInitiator: any bytes in either file give a valid iSCSI name or
// a one-line error.
func FuzzDeriveInitiator(f *testing.F) {
	f.Add("4a8f1c2e-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "")
	f.Add("", "0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, uuid, machineID string) {
		name, _, err := DeriveInitiator(uuid, machineID)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r\x1b") {
				t.Fatalf("error spans lines or escapes: %q", err)
			}
			return
		}
		if err := core.CheckName(name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	})
}
