//go:build !linux

package pid1

import "context"

// Run is the guest /init on Linux alone.
func Run(ctx context.Context, ownFlag func(name string) bool) (bool, error) { return false, nil }
