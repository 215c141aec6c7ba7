package handlerstest

import (
	"crypto/rsa"
	"sync"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

// The keys are made once per test binary: making one is slow, more so
// under the race detector.
var (
	botKey   = sync.OnceValues(generateKey)
	otherKey = sync.OnceValues(generateKey)
)

func generateKey() (*rsa.PrivateKey, error) { return passport.GenerateKey(2048) }

// Key returns the bot's throwaway 2048-bit Passport key, the same for
// every test of the binary.
func Key(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := botKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// OtherKey returns a key that is not Key's (a submission encrypted for
// another bot).
func OtherKey(t testing.TB) *rsa.PublicKey {
	t.Helper()
	k, err := otherKey()
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}
