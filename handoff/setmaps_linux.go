package handoff

// SetMaps tells the resident loop which map each of its paths is in, so
// that it puts a path back in use (reinstate_path) after logging it in
// again: without multipathd nothing else would.
func (st *ResidentState) SetMaps(ms interface {
	PathOf(sid int) (name, dev string, ok bool)
}) {
	for i, p := range st.Paths {
		if name, dev, ok := ms.PathOf(int(p.SID)); ok {
			st.Paths[i].Map, st.Paths[i].Dev = name, dev
		}
	}
}
