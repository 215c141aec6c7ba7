package passport

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrKey means a key could not be parsed or is not usable for Passport.
var ErrKey = errors.New("passport: unusable key")

// MinKeyBits is the smallest RSA key size accepted.
const MinKeyBits = 2048

// GenerateKey creates a new RSA private key for a bot (2048 bits is what
// Telegram's documentation uses; 4096 works too).
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if bits < MinKeyBits {
		return nil, fmt.Errorf("%w: %d-bit keys are too small, use at least %d", ErrKey, bits, MinKeyBits)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("passport: generate RSA key: %w", err)
	}
	return k, nil
}

// MarshalPrivateKey encodes a private key as PKCS#1 PEM ("BEGIN RSA PRIVATE
// KEY", the form `openssl genrsa` writes).
func MarshalPrivateKey(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// ParsePrivateKey parses a PEM RSA private key, PKCS#1 ("BEGIN RSA PRIVATE
// KEY") or PKCS#8 ("BEGIN PRIVATE KEY"), and precomputes its CRT values.
// Errors never include key material.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found (expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)", ErrKey)
	}
	if x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck // detecting legacy encrypted PEM to refuse it clearly.
		return nil, fmt.Errorf("%w: the private key is password-protected; decrypt it first (openssl rsa -in key.pem -out plain.pem)", ErrKey)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid PKCS#1 private key", ErrKey)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid PKCS#8 private key", ErrKey)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: the private key is %T, Passport needs RSA", ErrKey, k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrKey, block.Type)
	}
	if key.N.BitLen() < MinKeyBits {
		return nil, fmt.Errorf("%w: %d-bit key is too small, use at least %d", ErrKey, key.N.BitLen(), MinKeyBits)
	}
	key.Precompute()
	return key, nil
}

// MarshalPublicKey encodes a public key as SPKI PEM ("BEGIN PUBLIC KEY"),
// the form to give @BotFather: TDLib-based apps cannot read PKCS#1
// ("BEGIN RSA PUBLIC KEY").
func MarshalPublicKey(k *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: encode public key: %v", ErrKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKey parses a PEM RSA public key, SPKI ("BEGIN PUBLIC KEY") or
// PKCS#1 ("BEGIN RSA PUBLIC KEY").
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found (expected BEGIN PUBLIC KEY)", ErrKey)
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid SPKI public key", ErrKey)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: the public key is %T, Passport needs RSA", ErrKey, k)
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid PKCS#1 public key", ErrKey)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a public key", ErrKey, block.Type)
	}
}
