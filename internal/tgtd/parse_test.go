package tgtd

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"none", []string{"--op", "show"}, []string{"--op", "show"}},
		{"separate", []string{"--user", "u", "--password", "p"}, []string{"--user", "u", "--password", "<redacted>"}},
		{"short", []string{"-w", "p", "-u", "u"}, []string{"-w", "<redacted>", "-u", "u"}},
		{"joined", []string{"--password=p"}, []string{"--password=<redacted>"}},
		{"trailing flag", []string{"--password"}, []string{"--password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Redact(tt.in)); diff != "" {
				t.Errorf("Redact(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseConns(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Conn
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"two sessions", `Session: 2
    Connection: 0
        Initiator: iqn.2025-01.test:init
        IP Address: 127.0.0.1
Session: 5
    Connection: 1
        Initiator: iqn.2025-01.test:other
        IP Address: 127.0.0.1
`, []Conn{
			{SID: 2, CID: 0, Initiator: "iqn.2025-01.test:init", Address: "127.0.0.1"},
			{SID: 5, CID: 1, Initiator: "iqn.2025-01.test:other", Address: "127.0.0.1"},
		}, false},
		{"bad session", "Session: x\n", nil, true},
		{"connection without session", "    Connection: 0\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConns(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseConns() error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseConns() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTargets(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []int
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"two", "Target 1: iqn.2025-01.test:disk1\n    System information:\n        Driver: iscsi\nTarget 3: iqn.x:y\n", []int{1, 3}, false},
		{"bad id", "Target x: iqn\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTargets(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseTargets() error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseTargets() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
