package core

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// randomBytes fills b from getrandom(2), which blocks until the kernel's
// pool is ready, as crypto/rand does; crypto/rand would link the FIPS 140
// module (its DRBG and AES) into the binary for these few bytes.
func randomBytes(b []byte) error {
	// A short read or EINTR only after a signal: a few tries are plenty.
	for try := 0; len(b) > 0; try++ {
		n, err := unix.Getrandom(b, 0)
		switch {
		case errors.Is(err, unix.EINTR) && try < 16:
			continue
		case err != nil:
			return fmt.Errorf("getrandom: %w", err)
		case n == 0 || try >= 16:
			return fmt.Errorf("getrandom: %d bytes short", len(b))
		}
		b = b[n:]
	}
	return nil
}
