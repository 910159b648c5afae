//go:build !linux

package main

import (
	"fmt"
	"os"
)

const residentArg = "--resident-loop"

func residentMain() int {
	fmt.Fprintln(os.Stderr, "iscsistart: the resident loop needs Linux")
	return 1
}
