// Package digest is MD5 (RFC 1321), SHA-1 and SHA-256 (FIPS 180-4) and
// SHA3-256 (FIPS 202) in plain Go, for CHAP's responses (RFC 1994; RFC
// 7143, Section 12.1.3) and the initiator name derived from a machine id.
//
// It exists for size: importing any of the standard library's crypto
// packages links the whole FIPS 140 module (its DRBG, AES and GCM, the
// self-tests), 80 KB of the drop-in's gzip'd bytes, for a few hashes of
// short messages per login, where speed does not matter. The functions use
// only additions, rotations and logic on the data, no tables indexed by
// it. The tests compare every function with the standard library's.
//
// It never hashes anything but what its caller gives it, and holds no
// state between hashes.
package digest
