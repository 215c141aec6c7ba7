package passport

import (
	"crypto/aes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// secretSumTarget is the value every valid secret's byte sum has modulo 255.
const secretSumTarget = 239

// NewSecret returns 32 random bytes from r whose byte sum modulo 255 is 239,
// the form Telegram apps give every Passport secret. Pass crypto/rand.Reader
// in production.
func NewSecret(r io.Reader) ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("passport: read random bytes for a secret: %w", err)
	}
	sum := secretSum(b)
	b[0] = byte((int(b[0]) + 255 + secretSumTarget - sum) % 255)
	return b, nil
}

func secretSum(b []byte) int {
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	return sum % 255
}

// ValidSecret reports whether b has the length and byte sum of a Passport
// secret. Telegram servers refuse secrets that fail this check.
func ValidSecret(b []byte) bool {
	return len(b) == SecretSize && secretSum(b) == secretSumTarget
}

// SecretID returns the secure_secret_id of a passport secret: the first 8
// bytes of its SHA-256 read as a little-endian int64.
func SecretID(passportSecret []byte) int64 {
	sum := sha256.Sum256(passportSecret)
	return int64(binary.LittleEndian.Uint64(sum[:8]))
}

// cryptSecret encrypts or decrypts a 32-byte value secret under the passport
// secret with the key derived from the value's data or file hash (AES-256-CBC
// without padding, 32 bytes in, 32 bytes out).
func cryptSecret(passportSecret, hash, in []byte, decrypt bool) ([]byte, error) {
	if err := checkSecret(passportSecret); err != nil {
		return nil, fmt.Errorf("passport secret: %w", err)
	}
	if len(in) != SecretSize || len(in)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: value secret is %d bytes, want %d", ErrMalformed, len(in), SecretSize)
	}
	mode, err := newCBC(passportSecret, hash, decrypt)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(in))
	mode.CryptBlocks(out, in)
	return out, nil
}

// EncryptValueSecret encrypts a value or file secret under the passport
// secret, as sent to the server in secureData.secret / inputSecureFileUploaded.secret.
func EncryptValueSecret(passportSecret, hash, valueSecret []byte) ([]byte, error) {
	return cryptSecret(passportSecret, hash, valueSecret, false)
}

// DecryptValueSecret recovers a value or file secret stored on the server
// encrypted under the passport secret. It fails with ErrHashMismatch when the
// result is not a valid secret (wrong passport secret or hash).
func DecryptValueSecret(passportSecret, hash, encrypted []byte) ([]byte, error) {
	s, err := cryptSecret(passportSecret, hash, encrypted, true)
	if err != nil {
		return nil, err
	}
	if !ValidSecret(s) {
		return nil, fmt.Errorf("%w: decrypted value secret is not a valid secret (wrong passport secret?)", ErrHashMismatch)
	}
	return s, nil
}
