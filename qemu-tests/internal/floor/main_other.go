//go:build !linux

package main

import (
	"fmt"
	"os"
)

// The kernel transport it measures is Linux's.
func main() {
	fmt.Fprintln(os.Stderr, "floor: Linux only")
	os.Exit(1)
}
