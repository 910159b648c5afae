package boot

import (
	"testing"

	"github.com/iscsiboot/iscsiboot/internal/nstest"
)

// TestMain runs the tests in a private network namespace, where the route
// tests find only the addresses they make.
func TestMain(m *testing.M) { nstest.Main(m) }
