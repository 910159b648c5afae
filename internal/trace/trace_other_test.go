//go:build !linux

package trace

const processStartKnown = false
