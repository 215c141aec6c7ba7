package passport

import (
	"crypto/aes"
	"crypto/md5" //nolint:gosec // Telegram's upload checksum is MD5.
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Telegram Passport uses RSA-OAEP with SHA-1.
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/gotd/td/tg"
)

// ErrWrongPassword means the passport secret could not be decrypted with
// the given 2FA password.
var ErrWrongPassword = errors.New("passport: wrong password")

// PassportSecretIterations is the PBKDF2-HMAC-SHA512 iteration count that
// protects the passport secret under the 2FA password.
const PassportSecretIterations = 100000

// EncryptOption configures client-side encryption.
type EncryptOption func(*encryptOptions)

type encryptOptions struct {
	padding int // 0 = random
}

// WithPadding forces the padding length (32..255, and padding plus data
// length a multiple of 16). Tests use it to cover every length; apps leave
// it random.
func WithPadding(n int) EncryptOption {
	return func(o *encryptOptions) { o.padding = n }
}

// Pad prefixes data with random padding as Telegram apps do: a length in
// 32..255 chosen at random among those making the total a multiple of 16;
// the first byte holds the length, the rest is random.
func Pad(r io.Reader, data []byte, opts ...EncryptOption) ([]byte, error) {
	var o encryptOptions
	for _, opt := range opts {
		opt(&o)
	}
	pad := o.padding
	if pad == 0 {
		// 32 + (16 - (32+len)%16)%16 is the smallest valid length; the 14
		// valid lengths step by 16 from there.
		smallest := MinPadding + (16-(MinPadding+len(data))%16)%16
		var b [1]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("passport: read random bytes for padding: %w", err)
		}
		choices := (MaxPadding-smallest)/16 + 1
		pad = smallest + 16*(int(b[0])%choices)
	}
	if pad < MinPadding || pad > MaxPadding || (pad+len(data))%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: padding length %d is invalid for %d bytes of data", ErrBadPadding, pad, len(data))
	}
	out := make([]byte, pad+len(data))
	if _, err := io.ReadFull(r, out[1:pad]); err != nil {
		return nil, fmt.Errorf("passport: read random bytes for padding: %w", err)
	}
	out[0] = byte(pad)
	copy(out[pad:], data)
	return out, nil
}

// EncryptedValue is a value (data JSON or file) encrypted the way a
// Telegram app encrypts it.
type EncryptedValue struct {
	// Ciphertext is what is stored on Telegram's servers.
	Ciphertext []byte
	// Hash is the data_hash or file_hash: SHA-256 of the padded plaintext.
	Hash []byte
	// Secret is the value secret in clear. It goes into the credentials
	// shared with a bot; on the server it is stored encrypted (SecretFor).
	Secret []byte
}

// EncryptValue encrypts plaintext with a fresh value secret from r.
func EncryptValue(r io.Reader, plaintext []byte, opts ...EncryptOption) (EncryptedValue, error) {
	secret, err := NewSecret(r)
	if err != nil {
		return EncryptedValue{}, err
	}
	padded, err := Pad(r, plaintext, opts...)
	if err != nil {
		return EncryptedValue{}, err
	}
	hash, ct, err := EncryptPadded(secret, padded)
	if err != nil {
		return EncryptedValue{}, err
	}
	return EncryptedValue{Ciphertext: ct, Hash: hash, Secret: secret}, nil
}

// SecretFor returns the value secret encrypted under the passport secret,
// the form account.saveSecureValue sends.
func (v EncryptedValue) SecretFor(passportSecret []byte) ([]byte, error) {
	return EncryptValueSecret(passportSecret, v.Hash, v.Secret)
}

// SecureData returns the tg.SecureData for account.saveSecureValue.
func (v EncryptedValue) SecureData(passportSecret []byte) (tg.SecureData, error) {
	s, err := v.SecretFor(passportSecret)
	if err != nil {
		return tg.SecureData{}, err
	}
	return tg.SecureData{Data: v.Ciphertext, DataHash: v.Hash, Secret: s}, nil
}

// InputFileUploaded returns the tg.InputSecureFileUploaded for a file whose
// ciphertext was uploaded with upload.saveFilePart as fileID in parts parts.
func (v EncryptedValue) InputFileUploaded(passportSecret []byte, fileID int64, parts int) (*tg.InputSecureFileUploaded, error) {
	s, err := v.SecretFor(passportSecret)
	if err != nil {
		return nil, err
	}
	sum := md5.Sum(v.Ciphertext) //nolint:gosec // protocol checksum, not security.
	return &tg.InputSecureFileUploaded{
		ID: fileID, Parts: parts, MD5Checksum: hex.EncodeToString(sum[:]), FileHash: v.Hash, Secret: s,
	}, nil
}

// DataCredentials returns the credentials a bot needs to decrypt v as data.
func (v EncryptedValue) DataCredentials() *DataCredentials {
	return &DataCredentials{DataHash: v.Hash, Secret: v.Secret}
}

// FileCredentials returns the credentials a bot needs to decrypt v as a file.
func (v EncryptedValue) FileCredentials() FileCredentials {
	return FileCredentials{FileHash: v.Hash, Secret: v.Secret}
}

// passwordKey derives the key and IV protecting the passport secret.
func passwordKey(password, salt []byte) (key, iv []byte, err error) {
	out, err := pbkdf2.Key(sha512.New, string(password), salt, PassportSecretIterations, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("passport: derive key from password: %w", err)
	}
	return out[:32], out[32:48], nil
}

// EncryptPassportSecret encrypts the passport secret under the 2FA password
// as account.updatePasswordSettings stores it. The salt is the server's salt
// followed by 32 random bytes from r; the full salt is returned for
// securePasswordKdfAlgoSHA512 and must be kept with the ciphertext.
func EncryptPassportSecret(r io.Reader, password, serverSalt, passportSecret []byte) (salt, encrypted []byte, err error) {
	if err := checkSecret(passportSecret); err != nil {
		return nil, nil, fmt.Errorf("passport secret: %w", err)
	}
	salt = make([]byte, len(serverSalt)+32)
	copy(salt, serverSalt)
	if _, err := io.ReadFull(r, salt[len(serverSalt):]); err != nil {
		return nil, nil, fmt.Errorf("passport: read random bytes for the salt: %w", err)
	}
	key, iv, err := passwordKey(password, salt)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	encrypted = make([]byte, SecretSize)
	cbcEncrypt(block, iv, encrypted, passportSecret)
	return salt, encrypted, nil
}

// DecryptPassportSecret recovers the passport secret from its encrypted form
// with the 2FA password and the full salt. A wrong password yields
// ErrWrongPassword 254 times in 255: the result is then not a valid secret
// (ValidSecret), but random bytes pass that check once in 255. Compare
// SecretID of the result with the account's secure_secret_id to be sure,
// as Telegram's apps do.
func DecryptPassportSecret(password, salt, encrypted []byte) ([]byte, error) {
	if len(encrypted) != SecretSize {
		return nil, fmt.Errorf("%w: encrypted passport secret is %d bytes, want %d", ErrMalformed, len(encrypted), SecretSize)
	}
	key, iv, err := passwordKey(password, salt)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	secret := make([]byte, SecretSize)
	cbcDecrypt(block, iv, secret, encrypted)
	if !ValidSecret(secret) {
		return nil, fmt.Errorf("%w: the decrypted passport secret is not valid", ErrWrongPassword)
	}
	return secret, nil
}

// EncryptCredentials builds what account.acceptAuthorization sends: the
// credentials JSON encrypted with a fresh credentials secret, and that
// secret encrypted to the bot's public key with RSA-OAEP-SHA1.
func EncryptCredentials(r io.Reader, pub *rsa.PublicKey, c *Credentials, opts ...EncryptOption) (EncryptedCredentials, error) {
	if pub == nil {
		return EncryptedCredentials{}, fmt.Errorf("%w: no public key", ErrKey)
	}
	plain, err := c.MarshalJSON()
	if err != nil {
		return EncryptedCredentials{}, fmt.Errorf("passport: encode credentials: %w", err)
	}
	v, err := EncryptValue(r, plain, opts...)
	if err != nil {
		return EncryptedCredentials{}, err
	}
	secret, err := rsa.EncryptOAEP(sha1.New(), r, pub, v.Secret, nil)
	if err != nil {
		return EncryptedCredentials{}, fmt.Errorf("%w: RSA-OAEP encryption of the credentials secret: %v", ErrKey, err)
	}
	return EncryptedCredentials{Data: v.Ciphertext, Hash: v.Hash, Secret: secret}, nil
}

// TL returns the credentials as gotd's tg.SecureCredentialsEncrypted.
func (ec EncryptedCredentials) TL() tg.SecureCredentialsEncrypted {
	return tg.SecureCredentialsEncrypted{Data: ec.Data, Hash: ec.Hash, Secret: ec.Secret}
}
