package main

import (
	"context"
	"errors"
	"io"

	"github.com/iscsiboot/iscsiboot/boot"
	"github.com/iscsiboot/iscsiboot/ibft"
	"github.com/iscsiboot/iscsiboot/internal/iscsierr"
)

// setupNICs is -N: boot.SetupFirmwareNICs from the table of --ibft or the
// machine's. No NIC to set up is exit 21, one that failed exit 4.
func setupNICs(ctx context.Context, o *options, stderr io.Writer) error {
	t, err := loadTable(ctx, o)
	if err != nil {
		return err
	}
	err = boot.SetupFirmwareNICs(ctx, t, ibft.SysResolver("/"), stderr)
	if errors.Is(err, boot.ErrNoFirmwareNIC) {
		return iscsierr.Mark(iscsierr.ErrNotFound, err)
	}
	return err
}
