//go:build linux && !dropin

package handoff

import (
	"github.com/iscsiboot/iscsiboot/multipath"
)

// reinstater is the resident loop's hook for dm-multipath: after it logs a
// path in again, the path goes back into its map (reinstate_path), which
// multipathd's path checker would do once it runs. It opens the
// device-mapper's control node now, while /dev is still where it was: the
// loop outlives switch_root. Without a map among the paths it is nil.
func reinstater(st ResidentState, logf func(string, ...any)) func(ResidentPath) {
	need := false
	for _, p := range st.Paths {
		need = need || p.Map != ""
	}
	if !need {
		return nil
	}
	c, err := multipath.OpenControl(multipath.ControlPath)
	if err != nil {
		logf("warning: %v: paths logged in again stay failed in their map until multipathd runs", err)
		return nil
	}
	return func(p ResidentPath) {
		if p.Map == "" {
			return
		}
		switch ok, err := c.Reinstate(p.Map, p.Dev); {
		case err != nil:
			logf("session %d: reinstate path %s in map %s: %v", p.SID, p.Dev, p.Map, err)
		case ok:
			logf("session %d: path %s back in use in map %s", p.SID, p.Dev, p.Map)
		}
	}
}
