package libcrypto

import "errors"

var (
	// ErrUnavailable means libcrypto.so.3 cannot be used: this build has
	// no cgo (or has the kycbot_purego tag, or is not for Linux), the
	// library is missing, or it lacks a function this package calls.
	ErrUnavailable = errors.New("libcrypto: OpenSSL 3 is not available")
	// ErrDecrypt is the one error of a failed decryption, whatever OpenSSL
	// refused.
	ErrDecrypt = errors.New("libcrypto: RSA-OAEP decryption failed")
	// ErrKey means OpenSSL did not accept the private key.
	ErrKey = errors.New("libcrypto: OpenSSL refused the private key")
	// ErrCBC is the one error of a failed AES-256-CBC decryption (sizes
	// included).
	ErrCBC = errors.New("libcrypto: AES-256-CBC decryption failed")
	// ErrClosed means the key was used after Close.
	ErrClosed = errors.New("libcrypto: key closed")
)
