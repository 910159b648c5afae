package digest

import (
	"encoding/binary"
	"hash"
	"math/bits"
)

// Sizes of the digests, in bytes.
const (
	MD5Size    = 16
	SHA1Size   = 20
	SHA256Size = 32
)

// mdBlock is the block size of MD5, SHA-1 and SHA-256.
const mdBlock = 64

// md is the Merkle-Damgard framing that MD5, SHA-1 and SHA-256 share
// (RFC 1321, Section 3.1-3.2; FIPS 180-4, Section 5.1.1): 64-byte blocks,
// then 0x80, zeros and the message's length in bits as the last 8 bytes.
type md struct {
	h      [8]uint32
	init   [8]uint32
	words  int // of h that make the digest
	big    bool
	block  func(h *[8]uint32, p []byte)
	buf    [mdBlock]byte
	nbuf   int
	length uint64
}

func (d *md) Reset() {
	d.h, d.nbuf, d.length = d.init, 0, 0
}

func (d *md) Size() int      { return 4 * d.words }
func (d *md) BlockSize() int { return mdBlock }

func (d *md) Write(p []byte) (int, error) {
	n := len(p)
	d.length += uint64(n)
	if d.nbuf > 0 {
		c := copy(d.buf[d.nbuf:], p)
		d.nbuf += c
		p = p[c:]
		if d.nbuf < mdBlock {
			return n, nil
		}
		d.block(&d.h, d.buf[:])
		d.nbuf = 0
	}
	for len(p) >= mdBlock {
		d.block(&d.h, p[:mdBlock])
		p = p[mdBlock:]
	}
	d.nbuf = copy(d.buf[:], p)
	return n, nil
}

func (d *md) Sum(b []byte) []byte {
	c := *d // Sum does not change the running hash
	var pad [mdBlock + 8]byte
	pad[0] = 0x80
	n := 56 - int(c.length%mdBlock)
	if n <= 0 {
		n += mdBlock
	}
	if c.big {
		binary.BigEndian.PutUint64(pad[n:], c.length*8)
	} else {
		binary.LittleEndian.PutUint64(pad[n:], c.length*8)
	}
	c.Write(pad[:n+8])
	for _, w := range c.h[:c.words] {
		if c.big {
			b = binary.BigEndian.AppendUint32(b, w)
		} else {
			b = binary.LittleEndian.AppendUint32(b, w)
		}
	}
	return b
}

func newMD(words int, big bool, block func(*[8]uint32, []byte), init ...uint32) hash.Hash {
	d := &md{words: words, big: big, block: block}
	copy(d.init[:], init)
	d.Reset()
	return d
}

// NewMD5 returns an MD5 hash (RFC 1321).
func NewMD5() hash.Hash {
	return newMD(4, false, md5Block, 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476)
}

// md5S are the rotations of RFC 1321, Section 3.4, four per round.
var md5S = [4][4]int{{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}}

// md5K is RFC 1321's table T: T[i] = floor(2^32 * abs(sin(i+1))).
var md5K = [64]uint32{
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
}

// md5Block is RFC 1321, Section 3.4, on one 64-byte block.
func md5Block(h *[8]uint32, p []byte) {
	var m [16]uint32
	for i := range m {
		m[i] = binary.LittleEndian.Uint32(p[4*i:])
	}
	a, b, c, d := h[0], h[1], h[2], h[3]
	for i := range 64 {
		var f uint32
		var g int
		switch i / 16 {
		case 0:
			f, g = b&c|^b&d, i
		case 1:
			f, g = d&b|^d&c, (5*i+1)%16
		case 2:
			f, g = b^c^d, (3*i+5)%16
		default:
			f, g = c^(b|^d), 7*i%16
		}
		f += a + md5K[i] + m[g]
		a, d, c = d, c, b
		b += bits.RotateLeft32(f, md5S[i/16][i%4])
	}
	h[0] += a
	h[1] += b
	h[2] += c
	h[3] += d
}

// NewSHA1 returns a SHA-1 hash (FIPS 180-4, Section 6.1).
func NewSHA1() hash.Hash {
	return newMD(5, true, sha1Block, 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0)
}

func sha1Block(h *[8]uint32, p []byte) {
	var w [80]uint32
	for i := range 16 {
		w[i] = binary.BigEndian.Uint32(p[4*i:])
	}
	for i := 16; i < 80; i++ {
		w[i] = bits.RotateLeft32(w[i-3]^w[i-8]^w[i-14]^w[i-16], 1)
	}
	a, b, c, d, e := h[0], h[1], h[2], h[3], h[4]
	for i := range 80 {
		var f, k uint32
		switch i / 20 {
		case 0:
			f, k = b&c|^b&d, 0x5a827999
		case 1:
			f, k = b^c^d, 0x6ed9eba1
		case 2:
			f, k = b&c|b&d|c&d, 0x8f1bbcdc
		default:
			f, k = b^c^d, 0xca62c1d6
		}
		t := bits.RotateLeft32(a, 5) + f + e + k + w[i]
		a, b, c, d, e = t, a, bits.RotateLeft32(b, 30), c, d
	}
	h[0] += a
	h[1] += b
	h[2] += c
	h[3] += d
	h[4] += e
}

// NewSHA256 returns a SHA-256 hash (FIPS 180-4, Section 6.2).
func NewSHA256() hash.Hash {
	return newMD(8, true, sha256Block, 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
}

// SHA256 returns the SHA-256 digest of b.
func SHA256(b []byte) [SHA256Size]byte {
	h := NewSHA256()
	h.Write(b)
	var s [SHA256Size]byte
	h.Sum(s[:0])
	return s
}

// sha256K are FIPS 180-4's constants (Section 4.2.2): the first 32 bits of
// the fractional parts of the cube roots of the first 64 primes.
var sha256K = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

func sha256Block(h *[8]uint32, p []byte) {
	var w [64]uint32
	for i := range 16 {
		w[i] = binary.BigEndian.Uint32(p[4*i:])
	}
	for i := 16; i < 64; i++ {
		s0 := bits.RotateLeft32(w[i-15], -7) ^ bits.RotateLeft32(w[i-15], -18) ^ w[i-15]>>3
		s1 := bits.RotateLeft32(w[i-2], -17) ^ bits.RotateLeft32(w[i-2], -19) ^ w[i-2]>>10
		w[i] = w[i-16] + s0 + w[i-7] + s1
	}
	a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for i := range 64 {
		s1 := bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)
		t1 := hh + s1 + (e&f ^ ^e&g) + sha256K[i] + w[i]
		s0 := bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)
		t2 := s0 + (a&b ^ a&c ^ b&c)
		hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
	}
	for i, v := range [8]uint32{a, b, c, d, e, f, g, hh} {
		h[i] += v
	}
}
