package digest

import (
	"encoding/binary"
	"hash"
	"math/bits"
)

// SHA3256Size is the size of a SHA3-256 digest in bytes.
const SHA3256Size = 32

// sha3Rate is SHA3-256's rate in bytes: 1600 bits less twice the digest
// (FIPS 202, Section 6.1).
const sha3Rate = 136

// sha3State is a SHA3-256 sponge over Keccak-f[1600] (FIPS 202).
type sha3State struct {
	a    [25]uint64
	buf  [sha3Rate]byte
	nbuf int
}

// NewSHA3256 returns a SHA3-256 hash (FIPS 202, Section 6.1).
func NewSHA3256() hash.Hash { return new(sha3State) }

func (s *sha3State) Reset()         { *s = sha3State{} }
func (s *sha3State) Size() int      { return SHA3256Size }
func (s *sha3State) BlockSize() int { return sha3Rate }

func (s *sha3State) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		c := copy(s.buf[s.nbuf:], p)
		s.nbuf += c
		p = p[c:]
		if s.nbuf == sha3Rate {
			s.absorb()
		}
	}
	return n, nil
}

// absorb XORs a full buffer into the state and permutes it.
func (s *sha3State) absorb() {
	for i := range sha3Rate / 8 {
		s.a[i] ^= binary.LittleEndian.Uint64(s.buf[8*i:])
	}
	keccakF(&s.a)
	s.nbuf = 0
}

func (s *sha3State) Sum(b []byte) []byte {
	c := *s // Sum does not change the running hash
	// SHA-3's domain bits 01, then pad10*1 (FIPS 202, Sections 5.1, 6.1).
	clear(c.buf[c.nbuf:])
	c.buf[c.nbuf] ^= 0x06
	c.buf[sha3Rate-1] ^= 0x80
	c.absorb()
	for _, w := range c.a[:SHA3256Size/8] {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// keccakRC are the round constants of FIPS 202, Section 3.2.5.
var keccakRC = [24]uint64{
	0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000,
	0x000000000000808b, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
	0x000000000000008a, 0x0000000000000088, 0x0000000080008009, 0x000000008000000a,
	0x000000008000808b, 0x800000000000008b, 0x8000000000008089, 0x8000000000008003,
	0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
	0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
}

// keccakRho are the rotations of FIPS 202, Section 3.2.2, for lane x+5y.
var keccakRho = [25]int{0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14}

// keccakF is Keccak-f[1600] (FIPS 202, Section 3.3) on lanes a[x+5y].
func keccakF(a *[25]uint64) {
	for _, rc := range keccakRC {
		var c [5]uint64 // theta
		for x := range 5 {
			c[x] = a[x] ^ a[x+5] ^ a[x+10] ^ a[x+15] ^ a[x+20]
		}
		for x := range 5 {
			d := c[(x+4)%5] ^ bits.RotateLeft64(c[(x+1)%5], 1)
			for y := 0; y < 25; y += 5 {
				a[x+y] ^= d
			}
		}
		var b [25]uint64 // rho and pi: lane (x, y) moves to (y, 2x+3y)
		for x := range 5 {
			for y := range 5 {
				b[y+5*((2*x+3*y)%5)] = bits.RotateLeft64(a[x+5*y], keccakRho[x+5*y])
			}
		}
		for y := 0; y < 25; y += 5 { // chi
			for x := range 5 {
				a[x+y] = b[x+y] ^ ^b[(x+1)%5+y]&b[(x+2)%5+y]
			}
		}
		a[0] ^= rc // iota
	}
}
