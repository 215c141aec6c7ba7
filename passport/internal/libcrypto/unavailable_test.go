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

// TestNoCBC checks that a build without OpenSSL has no AES from it either.
func TestNoCBC(t *testing.T) {
	var lib *libcrypto.Lib
	if lib.CBC() {
		t.Fatal("CBC() = true without OpenSSL")
	}
	if err := lib.DecryptCBC(make([]byte, 32), make([]byte, 16), make([]byte, 16), make([]byte, 16)); !errors.Is(err, libcrypto.ErrUnavailable) {
		t.Fatalf("DecryptCBC: %v, want ErrUnavailable", err)
	}
}
