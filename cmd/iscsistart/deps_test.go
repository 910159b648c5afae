package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoCrypto keeps the standard library's crypto out of the drop-in:
// any crypto/* package links the FIPS 140 module (DRBG, AES, GCM,
// self-tests), 73 KB of its gzip'd bytes; CHAP's hashes come from
// internal/digest and its challenges from getrandom(2).
func TestLinksNoCrypto(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "crypto" || strings.HasPrefix(p, "crypto/") {
			t.Errorf("the drop-in links %s", p)
		}
	}
}
