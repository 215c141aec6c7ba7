//go:build cgo && linux && !kycbot_purego

package libcrypto_test

import (
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport/internal/libcrypto"
)

// loadLib opens libcrypto.so.3. A Linux build with cgo must find it (it is
// on Debian and most Linux systems by default): a test here fails, not
// skips, when it is missing.
func loadLib(t *testing.T) *libcrypto.Lib {
	t.Helper()
	lib, err := libcrypto.Load()
	if err != nil {
		t.Fatalf("Load: %v (install libssl3, or test the pure-Go build: -tags kycbot_purego)", err)
	}
	if !strings.HasPrefix(lib.Version(), "OpenSSL 3.") {
		t.Fatalf("Version = %q, want OpenSSL 3.x", lib.Version())
	}
	return lib
}
