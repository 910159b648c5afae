//go:build !linux

package main

import (
	"context"
	"io"

	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

func loginCmd(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	return iscsierr.Errorf(iscsierr.OpNotSupp, "kernel login needs Linux")
}

func setupNICs(ctx context.Context, o *options, stderr io.Writer) error {
	return iscsierr.Errorf(iscsierr.OpNotSupp, "-N needs Linux")
}

func bootCmd(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	return iscsierr.Errorf(iscsierr.OpNotSupp, "--boot needs Linux")
}
