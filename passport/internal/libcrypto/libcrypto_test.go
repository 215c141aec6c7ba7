package libcrypto_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the OAEP hash under test.
	"crypto/x509"
	"errors"
	"sync"
	"testing"

	"github.com/kycbot/kycbot/passport/internal/libcrypto"
)

func newKey(t *testing.T, bits int) (*rsa.PrivateKey, *libcrypto.Key) {
	t.Helper()
	lib := loadLib(t)
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	k, err := lib.NewKey(x509.MarshalPKCS1PrivateKey(priv))
	if err != nil {
		t.Fatalf("NewKey: %v", err)
	}
	t.Cleanup(func() { _ = k.Close() })
	return priv, k
}

func encrypt(t *testing.T, pub *rsa.PublicKey, msg []byte) []byte {
	t.Helper()
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func TestDecryptOAEPSHA1(t *testing.T) {
	for _, bits := range []int{2048, 3072, 4096} {
		priv, k := newKey(t, bits)
		if k.Size() != priv.Size() {
			t.Fatalf("%d bits: Size = %d, want %d", bits, k.Size(), priv.Size())
		}
		for _, n := range []int{0, 1, 32, priv.Size() - 2*sha1.Size - 2} {
			msg := bytes.Repeat([]byte{0xA5}, n)
			got, err := k.DecryptOAEPSHA1(encrypt(t, &priv.PublicKey, msg))
			if err != nil || !bytes.Equal(got, msg) {
				t.Errorf("%d bits, %d-byte message: got %x, %v", bits, n, got, err)
			}
		}
	}
}

func TestDecryptFailuresAreOneError(t *testing.T) {
	priv, k := newKey(t, 2048)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := encrypt(t, &priv.PublicKey, make([]byte, 32))
	flipped := bytes.Clone(good)
	flipped[100] ^= 1
	withLabel, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &priv.PublicKey, make([]byte, 32), []byte("label"))
	if err != nil {
		t.Fatal(err)
	}
	aboveN := bytes.Repeat([]byte{0xFF}, priv.Size())
	tests := map[string][]byte{
		"other key":         encrypt(t, &other.PublicKey, make([]byte, 32)),
		"bit flipped":       flipped,
		"label":             withLabel,
		"zeros":             make([]byte, priv.Size()),
		"above the modulus": aboveN,
		"short":             good[:len(good)-1],
		"long":              append(bytes.Clone(good), 0),
		"empty":             nil,
	}
	for name, ct := range tests {
		got, err := k.DecryptOAEPSHA1(ct)
		if err != libcrypto.ErrDecrypt || got != nil { //nolint:errorlint // exactly this error, nothing wrapped around it.
			t.Errorf("%s: got %x, %v; want ErrDecrypt itself", name, got, err)
		}
	}
	// The key still works after failures.
	if got, err := k.DecryptOAEPSHA1(good); err != nil || len(got) != 32 {
		t.Fatalf("after failures: %x, %v", got, err)
	}
}

func TestConcurrentDecryptions(t *testing.T) {
	priv, k := newKey(t, 2048)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				msg := []byte{byte(g), byte(i)}
				ct := encrypt(t, &priv.PublicKey, msg)
				if i%3 == 0 {
					ct[7] ^= 0x40
					if _, err := k.DecryptOAEPSHA1(ct); !errors.Is(err, libcrypto.ErrDecrypt) {
						t.Errorf("altered ciphertext: %v", err)
					}
					continue
				}
				if got, err := k.DecryptOAEPSHA1(ct); err != nil || !bytes.Equal(got, msg) {
					t.Errorf("goroutine %d, %d: %x, %v", g, i, got, err)
				}
			}
		})
	}
	wg.Wait()
}

func TestClose(t *testing.T) {
	priv, k := newKey(t, 2048)
	ct := encrypt(t, &priv.PublicKey, []byte("x"))
	if _, err := k.DecryptOAEPSHA1(ct); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := k.DecryptOAEPSHA1(ct); !errors.Is(err, libcrypto.ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

func TestNewKeyRefusesGarbage(t *testing.T) {
	lib := loadLib(t)
	for name, der := range map[string][]byte{"empty": nil, "garbage": {0x30, 0x03, 1, 2, 3}} {
		if _, err := lib.NewKey(der); !errors.Is(err, libcrypto.ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
	}
}

// TestDecryptCBC compares OpenSSL's AES-256-CBC with crypto/cipher's on
// random keys, IVs and lengths, out of place and in place, and checks that
// wrong sizes are refused with ErrCBC.
func TestDecryptCBC(t *testing.T) {
	lib := loadLib(t)
	if !lib.CBC() {
		t.Fatal("CBC() = false: AES-256-CBC was not fetched or disagreed with crypto/aes")
	}
	for _, n := range []int{0, 16, 32, 48, 256, 2816, 4096 + 16, 64 << 10, 1<<20 + 16} {
		key, iv, ct := make([]byte, 32), make([]byte, 16), make([]byte, n)
		for _, b := range [][]byte{key, iv, ct} {
			if _, err := rand.Read(b); err != nil {
				t.Fatal(err)
			}
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, n)
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(want, ct)
		got := make([]byte, n)
		if err := lib.DecryptCBC(key, iv, got, ct); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: differs from crypto/cipher (%v)", n, err)
		}
		inPlace := bytes.Clone(ct)
		if err := lib.DecryptCBC(key, iv, inPlace, inPlace); err != nil || !bytes.Equal(inPlace, want) {
			t.Fatalf("%d bytes in place: differs from crypto/cipher (%v)", n, err)
		}
	}
	ok := make([]byte, 32)
	for name, c := range map[string]struct{ key, iv, dst, src []byte }{
		"short key":     {ok[:16], ok[:16], ok, ok},
		"short iv":      {ok, ok[:8], ok, ok},
		"partial block": {ok, ok[:16], ok, ok[:20]},
		"short dst":     {ok, ok[:16], ok[:16], ok},
	} {
		if err := lib.DecryptCBC(c.key, c.iv, c.dst, c.src); err != libcrypto.ErrCBC { //nolint:errorlint // exactly this error.
			t.Errorf("%s: %v, want ErrCBC", name, err)
		}
	}
}
