//go:build !linux

package pid1

import "context"

// Main is the init process of a Linux initramfs; elsewhere it only fails.
func Main(ctx context.Context, boot BootFunc) error { return errNotSupported }

// LoadModules loads Linux kernel modules; elsewhere it only fails.
func LoadModules(ctx context.Context, list string) ([]string, error) { return nil, errNotSupported }
