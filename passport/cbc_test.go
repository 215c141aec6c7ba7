package passport

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	mrand "math/rand/v2"
	"testing"
)

// TestCBCBackend checks which AES-256-CBC decrypts (OpenSSL's where the
// build has the OpenSSL backend, crypto/cipher's elsewhere) and that
// OpenSSL's, fed the stream in pieces of random sizes as FileReader feeds
// it, in place or not, decrypts as crypto/cipher does in one go.
func TestCBCBackend(t *testing.T) {
	secret, hash := make([]byte, SecretSize), make([]byte, HashSize)
	ct := make([]byte, 300*aes.BlockSize)
	for _, b := range [][]byte{secret, hash, ct} {
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	mode, err := newCBC(secret, hash, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ssl := mode.(*sslCBC); ssl != nativeBackend {
		t.Fatalf("decryption on %T; the OpenSSL backend in this build: %v", mode, nativeBackend)
	}
	key, iv := keyIV(secret, hash)
	block, err := aes.NewCipher(key[:])
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv[:]).CryptBlocks(want, ct)
	rng := mrand.New(mrand.NewPCG(1, 2))
	for round := range 20 {
		mode, err := newCBC(secret, hash, true)
		if err != nil {
			t.Fatal(err)
		}
		inPlace := round%2 == 0
		got := make([]byte, len(ct))
		if inPlace {
			copy(got, ct)
		}
		for off := 0; off < len(ct); {
			n := min(aes.BlockSize*rng.IntN(40), len(ct)-off)
			if inPlace {
				mode.CryptBlocks(got[off:off+n], got[off:off+n])
			} else {
				mode.CryptBlocks(got[off:off+n], ct[off:off+n])
			}
			off += n
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d (in place: %v): differs from crypto/cipher", round, inPlace)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a partial block did not panic, as crypto/cipher's CryptBlocks does")
		}
	}()
	mode.CryptBlocks(make([]byte, 20), make([]byte, 20))
}
