//go:build !linux

package main

import (
	"context"
	"errors"
	"io"
)

// run boots a Linux machine; elsewhere it only fails.
func run(ctx context.Context, log io.Writer) error {
	return errors.New("a u-root uinit for Linux only")
}
