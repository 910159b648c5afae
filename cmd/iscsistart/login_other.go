//go:build !linux

package main

import (
	"context"
	"io"

	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

func loginCmd(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	return iscsierr.Markf(iscsierr.ErrUnsupported, "kernel login needs Linux")
}

func setupNICs(ctx context.Context, o *options, stderr io.Writer) error {
	return iscsierr.Markf(iscsierr.ErrUnsupported, "-N needs Linux")
}
