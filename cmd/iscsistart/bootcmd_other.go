//go:build !linux && !dropin

package main

import (
	"context"
	"io"

	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

func bootCmd(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	return iscsierr.Markf(iscsierr.ErrUnsupported, "--boot needs Linux")
}
