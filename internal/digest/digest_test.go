package digest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/hex"
	"hash"
	"testing"
)

// algs pairs each of ours with the standard library's.
var algs = []struct {
	name      string
	ours, std func() hash.Hash
	size      int
	block     int
}{
	{"MD5", NewMD5, md5.New, MD5Size, 64},
	{"SHA-1", NewSHA1, sha1.New, SHA1Size, 64},
	{"SHA-256", NewSHA256, sha256.New, SHA256Size, 64},
	{"SHA3-256", NewSHA3256, func() hash.Hash { return sha3.New256() }, SHA3256Size, 136},
}

// TestKnownAnswers: "abc" from RFC 1321's test suite, FIPS 180-4's and FIPS
// 202's examples.
func TestKnownAnswers(t *testing.T) {
	want := map[string]string{
		"MD5":      "900150983cd24fb0d6963f7d28e17f72",
		"SHA-1":    "a9993e364706816aba3e25717850c26c9cd0d89d",
		"SHA-256":  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"SHA3-256": "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
	}
	for _, a := range algs {
		h := a.ours()
		h.Write([]byte("abc"))
		if got := hex.EncodeToString(h.Sum(nil)); got != want[a.name] {
			t.Errorf("%s(abc) = %s, want %s", a.name, got, want[a.name])
		}
		if h.Size() != a.size || h.BlockSize() != a.block {
			t.Errorf("%s: Size %d BlockSize %d, want %d and %d", a.name, h.Size(), h.BlockSize(), a.size, a.block)
		}
	}
}

// TestAgainstStd: every length across the padding's edges (55, 56, 64,
// 119, 135, 136 ...), written whole and in pieces, Sum twice, and Reset.
func TestAgainstStd(t *testing.T) {
	msg := make([]byte, 600)
	for i := range msg {
		msg[i] = byte(i*7 + i>>3)
	}
	for _, a := range algs {
		for n := 0; n <= len(msg); n++ {
			std := a.std()
			std.Write(msg[:n])
			want := std.Sum(nil)

			h := a.ours()
			h.Write(msg[:n])
			if got := h.Sum([]byte("x")); !bytes.Equal(got[1:], want) || got[0] != 'x' {
				t.Fatalf("%s of %d bytes = %x, want %x", a.name, n, got[1:], want)
			}
			if got := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%s of %d bytes, second Sum = %x, want %x", a.name, n, got, want)
			}
			h.Reset()
			for i := 0; i < n; i += 1 + i%13 { // pieces of 1 to 13 bytes
				h.Write(msg[i:min(n, i+1+i%13)])
			}
			if got := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%s of %d bytes in pieces = %x, want %x", a.name, n, got, want)
			}
		}
	}
}

func TestSHA256(t *testing.T) {
	if got, want := SHA256([]byte("machine-id")), sha256.Sum256([]byte("machine-id")); got != want {
		t.Errorf("SHA256 = %x, want %x", got, want)
	}
}

// FuzzAgainstStd: any message, split anywhere, hashes as the standard
// library's does.
func FuzzAgainstStd(f *testing.F) {
	f.Add([]byte("abc"), uint8(1))
	f.Add(bytes.Repeat([]byte{0xa5}, 200), uint8(63))
	f.Fuzz(func(t *testing.T, msg []byte, cut uint8) {
		c := min(int(cut), len(msg))
		for _, a := range algs {
			std := a.std()
			std.Write(msg)
			h := a.ours()
			h.Write(msg[:c])
			h.Write(msg[c:])
			if got, want := h.Sum(nil), std.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%s(%x) = %x, want %x", a.name, msg, got, want)
			}
		}
	})
}
