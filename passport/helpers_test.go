package passport

import (
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
