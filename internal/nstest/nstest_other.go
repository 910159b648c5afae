//go:build !linux

package nstest

import (
	"fmt"
	"os"
	"testing"
)

// Main fails: namespaces exist only on Linux.
func Main(m *testing.M) {
	fmt.Fprintln(os.Stderr, "nstest: private namespaces need Linux")
	os.Exit(1)
}

// Inside reports false: there are no namespaces to be inside of.
func Inside() bool { return false }

// Require fails t: namespaces exist only on Linux.
func Require(t testing.TB) {
	t.Helper()
	t.Fatal("nstest: private namespaces need Linux")
}
