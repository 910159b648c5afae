//go:build linux && dropin

package handoff

// reinstater: the drop-in build makes no maps (its --multipath is refused; multipath-tools makes them and
// multipathd reinstates their paths), so the resident loop has no map to put a path back into.
func reinstater(ResidentState, func(string, ...any)) func(ResidentPath) { return nil }
