package passport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"

	"github.com/kycbot/kycbot/passport/internal/libcrypto"
)

// Sizes fixed by the protocol.
const (
	// SecretSize is the length of every Passport secret (credentials,
	// passport, value and file secrets).
	SecretSize = 32
	// HashSize is the length of every data and file hash (SHA-256).
	HashSize = sha256.Size
	// MinPadding and MaxPadding bound the length of the padding prefix.
	MinPadding = 32
	MaxPadding = 255
)

// keyIV derives the AES-256 key and CBC IV: SHA512(secret || hash), key is
// the first 32 bytes, IV the next 16.
func keyIV(secret, hash []byte) (key [32]byte, iv [16]byte) {
	// secret || hash on the stack: 64 bytes for every well-formed input
	// (append moves a longer one to the heap).
	var buf [SecretSize + HashSize]byte
	sum := sha512.Sum512(append(append(buf[:0], secret...), hash...))
	copy(key[:], sum[:32])
	copy(iv[:], sum[32:48])
	return key, iv
}

func newCBC(secret, hash []byte, decrypt bool) (cipher.BlockMode, error) {
	key, iv := keyIV(secret, hash)
	if decrypt {
		if lib, err := libcrypto.Load(); err == nil && lib.CBC() {
			return &sslCBC{lib: lib, key: key, iv: iv}, nil
		}
	}
	return goCBC(key, iv, decrypt)
}

// goCBC is AES-256-CBC on crypto/aes.
func goCBC(key [32]byte, iv [aes.BlockSize]byte, decrypt bool) (cipher.BlockMode, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if decrypt {
		return cipher.NewCBCDecrypter(block, iv[:]), nil
	}
	return cipher.NewCBCEncrypter(block, iv[:]), nil
}

// sslCBC is AES-256-CBC decryption on the system's OpenSSL, where
// libcrypto.Load finds it (as the RSA of a Key): several times the speed
// of crypto/cipher's, which decrypts one block after the other on amd64,
// where OpenSSL decrypts several at once. It keeps the key and the
// chaining value in Go memory and hands each run of blocks to OpenSSL in
// one call that holds nothing afterwards. Should OpenSSL ever fail a run,
// crypto/aes decrypts it: the result is the same either way.
type sslCBC struct {
	lib *libcrypto.Lib
	key [32]byte
	iv  [aes.BlockSize]byte
}

// BlockSize implements cipher.BlockMode.
func (c *sslCBC) BlockSize() int { return aes.BlockSize }

// CryptBlocks implements cipher.BlockMode (decryption; dst and src may be
// the same slice). Like crypto/cipher's, it panics when src is not whole
// blocks or dst is shorter: a bug of the caller's.
func (c *sslCBC) CryptBlocks(dst, src []byte) {
	if len(src)%aes.BlockSize != 0 || len(dst) < len(src) {
		panic("passport: CBC input not full blocks, or output smaller than input")
	}
	if len(src) == 0 {
		return
	}
	var next [aes.BlockSize]byte // the last ciphertext block chains on
	copy(next[:], src[len(src)-aes.BlockSize:])
	if err := c.lib.DecryptCBC(c.key[:], c.iv[:], dst, src); err != nil {
		// OpenSSL fails before it writes (no context, sizes it refuses).
		mode, err := goCBC(c.key, c.iv, true)
		if err != nil {
			panic("passport: AES-256 refused a 32-byte key: " + err.Error())
		}
		mode.CryptBlocks(dst, src)
	}
	c.iv = next
}

// checkSecret validates the length of a secret.
func checkSecret(secret []byte) error {
	if len(secret) != SecretSize {
		return fmt.Errorf("%w: secret is %d bytes, want %d", ErrMalformed, len(secret), SecretSize)
	}
	return nil
}

// DecryptData applies the Passport primitive: it decrypts ciphertext with the
// key and IV derived from secret and hash, checks that SHA-256 of the padded
// plaintext equals hash and strips the padding prefix. It is used for
// credentials, element data and (whole, in-memory) files; for large files use
// NewFileReader, which streams.
//
// A hash that is not 32 bytes cannot match and yields ErrHashMismatch.
func DecryptData(secret, hash, ciphertext []byte) ([]byte, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	if len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext is %d bytes, want a positive multiple of %d",
			ErrMalformed, len(ciphertext), aes.BlockSize)
	}
	mode, err := newCBC(secret, hash, true)
	if err != nil {
		return nil, err
	}
	padded := make([]byte, len(ciphertext))
	mode.CryptBlocks(padded, ciphertext)
	if err := checkHash(sha256.Sum256(padded), hash); err != nil {
		return nil, err
	}
	pad, err := paddingLength(padded[0], len(padded))
	if err != nil {
		return nil, err
	}
	return padded[pad:], nil
}

func checkHash(sum [HashSize]byte, want []byte) error {
	if len(want) != HashSize {
		return fmt.Errorf("%w: declared hash is %d bytes, want %d", ErrHashMismatch, len(want), HashSize)
	}
	if subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return fmt.Errorf("%w: SHA-256 of the decrypted bytes differs from the declared hash "+
			"(tampered data or wrong secret)", ErrHashMismatch)
	}
	return nil
}

// paddingLength validates the first byte of a padded plaintext of length n.
func paddingLength(first byte, n int) (int, error) {
	pad := int(first)
	if pad < MinPadding {
		return 0, fmt.Errorf("%w: padding length %d is below %d", ErrBadPadding, pad, MinPadding)
	}
	if pad > n {
		return 0, fmt.Errorf("%w: padding length %d exceeds the %d decrypted bytes", ErrBadPadding, pad, n)
	}
	return pad, nil
}

// CheckPadding validates a padded plaintext as the primitive would after
// the hash check and returns the unpadded payload. It never panics.
func CheckPadding(padded []byte) ([]byte, error) {
	if len(padded) == 0 {
		return nil, fmt.Errorf("%w: no bytes", ErrBadPadding)
	}
	pad, err := paddingLength(padded[0], len(padded))
	if err != nil {
		return nil, err
	}
	return padded[pad:], nil
}

// EncryptPadded is the inverse of DecryptData for an already padded
// plaintext (see Pad): it returns the data hash (SHA-256 of padded) and the
// ciphertext encrypted with the key derived from secret and that hash.
func EncryptPadded(secret, padded []byte) (hash, ciphertext []byte, err error) {
	if err := checkSecret(secret); err != nil {
		return nil, nil, err
	}
	if _, err := CheckPadding(padded); err != nil {
		return nil, nil, err
	}
	if len(padded)%aes.BlockSize != 0 {
		return nil, nil, fmt.Errorf("%w: padded length %d is not a multiple of %d", ErrBadPadding, len(padded), aes.BlockSize)
	}
	sum := sha256.Sum256(padded)
	mode, err := newCBC(secret, sum[:], false)
	if err != nil {
		return nil, nil, err
	}
	ciphertext = make([]byte, len(padded))
	mode.CryptBlocks(ciphertext, padded)
	return sum[:], ciphertext, nil
}

func cbcEncrypt(block cipher.Block, iv, dst, src []byte) {
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(dst, src)
}

func cbcDecrypt(block cipher.Block, iv, dst, src []byte) {
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(dst, src)
}
