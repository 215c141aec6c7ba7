package passport

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
)

// Throwaway keys, made once per test binary: 4096-bit generation is slow.
var (
	keysMu sync.Mutex
	keys   = map[int]*rsa.PrivateKey{}
)

func testKey(tb testing.TB, bits int) *rsa.PrivateKey {
	tb.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k := keys[bits]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatal(err)
	}
	k.Precompute()
	keys[bits] = k
	return k
}

// namedKey is a decryption key on one backend.
type namedKey struct {
	name string
	key  crypto.Decrypter
}

// decryptionKeys is priv on every backend a caller can have: the bare
// *rsa.PrivateKey (crypto/rsa), a Key forced onto crypto/rsa, and a Key
// as NewKey makes it by default (OpenSSL in a Linux build with cgo).
func decryptionKeys(tb testing.TB, priv *rsa.PrivateKey) []namedKey {
	tb.Helper()
	goKey, err := NewKey(priv, WithGoRSA())
	if err != nil {
		tb.Fatal(err)
	}
	def, err := NewKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = def.Close() })
	if goKey.Backend() != BackendGo {
		tb.Fatalf("WithGoRSA: backend %q", goKey.Backend())
	}
	if got := def.Backend() != BackendGo; got != nativeBackend {
		tb.Fatalf("NewKey: backend %q; this build should use OpenSSL: %v", def.Backend(), nativeBackend)
	}
	return []namedKey{{"rsa.PrivateKey", priv}, {"Key-go", goKey}, {"Key-default", def}}
}
