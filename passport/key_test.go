package passport

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the protocol's OAEP hash.
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"
)

// decrypterOnly hides the key's type: DecryptCredentialsSecret then takes
// the path of any crypto.Decrypter (a hardware module's key, say).
type decrypterOnly struct{ k *rsa.PrivateKey }

func (d decrypterOnly) Public() crypto.PublicKey { return d.k.Public() }
func (d decrypterOnly) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return d.k.Decrypt(r, msg, opts)
}

// notRSA is a crypto.Decrypter of a key that is not RSA.
type notRSA struct{ pub crypto.PublicKey }

func (n notRSA) Public() crypto.PublicKey { return n.pub }
func (n notRSA) Decrypt(io.Reader, []byte, crypto.DecrypterOpts) ([]byte, error) {
	return nil, errors.New("not RSA")
}

// outcome is what a decryption gave, comparable across backends.
func outcome(secret []byte, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("secret %x", secret)
}

// ciphertexts are valid and invalid credentials secrets for priv.
func ciphertexts(t *testing.T, priv *rsa.PrivateKey, other *rsa.PublicKey) map[string][]byte {
	t.Helper()
	enc := func(pub *rsa.PublicKey, msg, label []byte) []byte {
		ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, msg, label)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	valid := enc(&priv.PublicKey, random(SecretSize), nil)
	flipped := bytes.Clone(valid)
	flipped[len(flipped)/2] ^= 0x10
	belowN := random(priv.Size())
	belowN[0] = 0
	sha256OAEP, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &priv.PublicKey, random(SecretSize), nil)
	if err != nil {
		t.Fatal(err)
	}
	cts := map[string][]byte{
		"valid":              valid,
		"31-byte secret":     enc(&priv.PublicKey, random(SecretSize-1), nil),
		"empty secret":       enc(&priv.PublicKey, nil, nil),
		"longest message":    enc(&priv.PublicKey, random(priv.Size()-2*sha1.Size-2), nil),
		"other key":          enc(other, random(SecretSize), nil),
		"label":              enc(&priv.PublicKey, random(SecretSize), []byte("x")),
		"OAEP-SHA256":        sha256OAEP,
		"bit flipped":        flipped,
		"random":             random(priv.Size()),
		"random below N":     belowN,
		"zeros":              make([]byte, priv.Size()),
		"ones":               bytes.Repeat([]byte{0xFF}, priv.Size()),
		"one byte short":     valid[:len(valid)-1],
		"128 bytes too long": append(bytes.Clone(valid), random(128)...),
		"empty":              nil,
	}
	for i := range 20 {
		m := bytes.Clone(valid)
		m[i*len(m)/20] ^= byte(1 << (i % 8))
		cts[fmt.Sprintf("mutation %d", i)] = m
	}
	return cts
}

// TestBackendsAgree decrypts valid and invalid credentials secrets under
// random keys with every backend: the secrets and the error texts must be
// the same, and every failed decryption one error.
func TestBackendsAgree(t *testing.T) {
	other := testKey(t, 2048)
	privs := []*rsa.PrivateKey{testKey(t, 4096)}
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		privs = append(privs, k)
	}
	for _, priv := range privs {
		t.Run(fmt.Sprint(priv.N.BitLen()), func(t *testing.T) {
			keys := append(decryptionKeys(t, priv), namedKey{"crypto.Decrypter", decrypterOnly{priv}})
			var wrongKeyText string
			for name, ct := range ciphertexts(t, priv, &other.PublicKey) {
				want := outcome(DecryptCredentialsSecret(keys[0].key, ct))
				for _, k := range keys[1:] {
					if got := outcome(DecryptCredentialsSecret(k.key, ct)); got != want {
						t.Errorf("%s, %s: %s\n%s: %s", name, k.name, got, keys[0].name, want)
					}
				}
				secret, err := DecryptCredentialsSecret(keys[len(keys)-1].key, ct)
				switch {
				case name == "valid" || name == "longest message" && priv.Size()-2*sha1.Size-2 == SecretSize:
					if err != nil || len(secret) != SecretSize {
						t.Errorf("%s: %x, %v", name, secret, err)
					}
				case name == "31-byte secret" || name == "empty secret" || name == "longest message":
					if !errors.Is(err, ErrMalformed) {
						t.Errorf("%s: %v, want ErrMalformed (a secret of the wrong length)", name, err)
					}
				case len(ct) != priv.Size():
					if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrWrongKey) {
						t.Errorf("%s: %v, want ErrMalformed or ErrWrongKey", name, err)
					}
				default:
					if !errors.Is(err, ErrWrongKey) {
						t.Fatalf("%s: %v, want ErrWrongKey", name, err)
					}
					if wrongKeyText == "" {
						wrongKeyText = err.Error()
					}
					if err.Error() != wrongKeyText {
						t.Errorf("%s: %q; every refused ciphertext must give %q", name, err, wrongKeyText)
					}
				}
			}
		})
	}
}

func TestNewKey(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, priv := range map[string]*rsa.PrivateKey{"nil": nil, "empty": {}, "1024 bits": small} {
		if _, err := NewKey(priv); !errors.Is(err, ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
	}
	priv := testKey(t, 2048)
	k, err := NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if k.PrivateKey() != priv || !priv.PublicKey.Equal(k.Public()) {
		t.Error("the Key does not hold the key it was given")
	}
	if nativeBackend && k.Backend() == BackendGo {
		t.Errorf("Backend = %q; this build must use OpenSSL (is libcrypto.so.3 installed?)", k.Backend())
	}
}

// TestKeyDecrypter uses a Key as a crypto.Decrypter: OAEP-SHA1 on the
// Key's backend, everything else on crypto/rsa, errors as crypto/rsa's.
func TestKeyDecrypter(t *testing.T) {
	priv := testKey(t, 2048)
	k, err := NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	msg := []byte("thirty-two bytes of secret data.")
	oaep1, _ := rsa.EncryptOAEP(sha1.New(), rand.Reader, &priv.PublicKey, msg, nil)
	oaep256, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &priv.PublicKey, msg, nil)
	pkcs1, _ := rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, msg) //nolint:staticcheck // the other kind a crypto.Decrypter serves.
	tests := []struct {
		name string
		ct   []byte
		opts crypto.DecrypterOpts
	}{
		{"OAEP-SHA1", oaep1, &rsa.OAEPOptions{Hash: crypto.SHA1}},
		{"OAEP-SHA1, MGF1-SHA1", oaep1, &rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}},
		{"OAEP-SHA256", oaep256, &rsa.OAEPOptions{Hash: crypto.SHA256}},
		{"PKCS#1 v1.5", pkcs1, nil},
	}
	for _, tt := range tests {
		got, err := k.Decrypt(rand.Reader, tt.ct, tt.opts)
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("%s: %q, %v", tt.name, got, err)
		}
		bad := bytes.Clone(tt.ct)
		bad[3] ^= 1
		if _, err := k.Decrypt(rand.Reader, bad, tt.opts); !errors.Is(err, rsa.ErrDecryption) {
			t.Errorf("%s, altered: %v, want rsa.ErrDecryption", tt.name, err)
		}
	}
}

// TestKeyClose closes a Key: it goes on decrypting, with crypto/rsa.
func TestKeyClose(t *testing.T) {
	priv := testKey(t, 2048)
	k, err := NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &priv.PublicKey, make([]byte, SecretSize), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := k.Close(); err != nil {
			t.Fatalf("Close %d: %v", i+1, err)
		}
	}
	if s, err := DecryptCredentialsSecret(k, ct); err != nil || len(s) != SecretSize {
		t.Fatalf("after Close: %x, %v", s, err)
	}
	ct[5] ^= 1
	if _, err := DecryptCredentialsSecret(k, ct); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("after Close, altered: %v, want ErrWrongKey", err)
	}
}

// TestZeroKey uses a Key not made by NewKey: errors, never a panic.
func TestZeroKey(t *testing.T) {
	for name, k := range map[string]*Key{"zero": {}, "nil": nil} {
		if _, err := k.Decrypt(rand.Reader, make([]byte, 256), &rsa.OAEPOptions{Hash: crypto.SHA1}); !errors.Is(err, ErrKey) {
			t.Errorf("%s Key: Decrypt: %v, want ErrKey", name, err)
		}
		if k.Public() != nil || k.PrivateKey() != nil || k.Backend() != "" {
			t.Errorf("%s Key: it holds a key", name)
		}
		if err := k.Close(); err != nil {
			t.Errorf("%s Key: Close: %v", name, err)
		}
	}
}

func TestDecryptCredentialsSecretKeys(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ct := make([]byte, 256)
	tests := []struct {
		name string
		key  crypto.Decrypter
		err  error
	}{
		{"nil", nil, ErrWrongKey},
		{"nil *rsa.PrivateKey", (*rsa.PrivateKey)(nil), ErrWrongKey},
		{"nil *Key", (*Key)(nil), ErrWrongKey},
		{"ECDSA", notRSA{ec.Public()}, ErrKey},
	}
	for _, tt := range tests {
		if _, err := DecryptCredentialsSecret(tt.key, ct); !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
		}
	}
}
