//go:build !cgo || !linux || kycbot_purego

package libcrypto_test

import (
	"errors"
	"testing"

	"github.com/kycbot/kycbot/passport/internal/libcrypto"
)

// TestUnavailable checks that a build without the OpenSSL backend says so
// (the caller then uses crypto/rsa).
func TestUnavailable(t *testing.T) {
	if _, err := libcrypto.Load(); !errors.Is(err, libcrypto.ErrUnavailable) {
		t.Fatalf("Load: %v, want ErrUnavailable", err)
	}
}

// loadLib stops a test that needs the library: this build has none.
func loadLib(t *testing.T) *libcrypto.Lib {
	t.Helper()
	t.Skip("no OpenSSL backend in this build")
	return nil
}
