package core

// table is a small lookup table the linker lays out: a map literal is
// built by the package's init at every start of the binary, on the login's
// path (issue 16), while these tables are read a few times per login.
type table[K comparable, V any] []entry[K, V]

type entry[K comparable, V any] struct {
	k K
	v V
}

// get returns the value of k, and whether the table has it.
func (t table[K, V]) get(k K) (V, bool) {
	for _, e := range t {
		if e.k == k {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// at returns the value of k, or V's zero value.
func (t table[K, V]) at(k K) V {
	v, _ := t.get(k)
	return v
}
