//go:build !linux

package main

import "context"

func asInit(ctx context.Context) (bool, error) { return false, nil }
