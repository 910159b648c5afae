//go:build !linux

package core

import "crypto/rand"

// randomBytes fills b with random bytes.
func randomBytes(b []byte) error {
	_, err := rand.Read(b)
	return err
}
