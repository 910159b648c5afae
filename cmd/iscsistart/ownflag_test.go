package main

import (
	"strings"
	"testing"
)

// TestOwnFlag: pid1.Run's idea of our options is the flag set's.
func TestOwnFlag(t *testing.T) {
	for _, name := range []string{"v", "version", "b", "fwparam_connect", "f", "plan", "d", "debug", "P", "param", "timeout", "h", "help"} {
		if !ownFlag(name) {
			t.Errorf("ownFlag(%q) = false", name)
		}
	}
	for _, name := range []string{"single", "s", "emergency", "bogus", strings.Repeat("v", 2)} {
		if ownFlag(name) {
			t.Errorf("ownFlag(%q) = true", name)
		}
	}
}
