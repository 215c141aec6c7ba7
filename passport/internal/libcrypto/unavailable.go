//go:build !cgo || !linux || kycbot_purego

package libcrypto

import "fmt"

// Lib is libcrypto.so.3, opened; this build cannot open it.
type Lib struct{}

// Load reports ErrUnavailable: this build has no cgo, is not for Linux,
// or has the kycbot_purego tag.
func Load() (*Lib, error) {
	return nil, fmt.Errorf("%w: built without cgo on Linux, or with the kycbot_purego tag", ErrUnavailable)
}

// Version is empty: no library is loaded.
func (l *Lib) Version() string { return "" }

// CBC reports false: this build has no OpenSSL.
func (l *Lib) CBC() bool { return false }

// DecryptCBC fails with ErrUnavailable.
func (l *Lib) DecryptCBC(key, iv, dst, src []byte) error { return ErrUnavailable }

// NewKey fails with ErrUnavailable.
func (l *Lib) NewKey([]byte) (*Key, error) { return nil, ErrUnavailable }

// Key is an RSA private key held by OpenSSL; this build has none.
type Key struct{}

// Size is 0.
func (k *Key) Size() int { return 0 }

// DecryptOAEPSHA1 fails with ErrUnavailable.
func (k *Key) DecryptOAEPSHA1([]byte) ([]byte, error) { return nil, ErrUnavailable }

// Close does nothing.
func (k *Key) Close() error { return nil }
