package pid1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iscsiboot/iscsiboot/plan"
)

// TestDeriveInitiatorStep: a plan without a name gets the machine's and a
// line saying so; a given name is kept.
func TestDeriveInitiatorStep(t *testing.T) {
	dir := t.TempDir()
	uuid := filepath.Join(dir, "product_uuid")
	if err := os.WriteFile(uuid, []byte("4a8f1c2e-5b6d-4e7f-8a9b-0c1d2e3f4a5b\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "machine-id")
	tests := []struct {
		given, uuid, want, line string
	}{
		{"", uuid, "iqn.2005-03.org.open-iscsi:744351fa9283",
			"initiator name iqn.2005-03.org.open-iscsi:744351fa9283, derived from the DMI product UUID (none given)"},
		{"iqn.2001-04.com.example:given", uuid, "iqn.2001-04.com.example:given", ""},
		{"", missing, "", "warning: no initiator name given and none derived: no identity to derive an initiator name from: DMI product UUID: none; machine-id: none"},
	}
	for _, tt := range tests {
		var lines []string
		p := &plan.Plan{Initiator: tt.given}
		deriveInitiator(p, tt.uuid, missing, func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) })
		if p.Initiator != tt.want || strings.Join(lines, "\n") != tt.line {
			t.Errorf("given %q: initiator %q, lines %q; want %q, %q", tt.given, p.Initiator, lines, tt.want, tt.line)
		}
	}
}
