//go:build !linux

package handoff

import (
	"fmt"
	"os"
)

// ResidentArg, as the first argument, runs the resident loop.
const ResidentArg = "--resident-loop"

// ResidentMain says the loop needs Linux.
func ResidentMain() int {
	fmt.Fprintln(os.Stderr, "iscsistart: the resident loop needs Linux")
	return 1
}
