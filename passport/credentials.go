package passport

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Telegram Passport uses RSA-OAEP with SHA-1.
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// EncryptedCredentials is the encrypted credentials block of a submission
// (MTProto secureCredentialsEncrypted, Bot API EncryptedCredentials), with
// raw bytes.
type EncryptedCredentials struct {
	// Data is the encrypted credentials JSON.
	Data []byte
	// Hash is SHA-256 of the padded credentials JSON.
	Hash []byte
	// Secret is the credentials secret encrypted with the bot's public key.
	Secret []byte
}

// DataCredentials decrypt an element's data object.
type DataCredentials struct {
	// DataHash is SHA-256 of the padded data JSON; it is also the hash that
	// a SecureValueErrorData must carry.
	DataHash []byte `json:"data_hash"`
	// Secret is the value secret (32 bytes).
	Secret []byte `json:"secret"`
}

// ValueCredentials are the credentials of one element, as in
// secure_data.<type> of the credentials JSON. Only the parts the element has
// (and the scope asked for) are present.
type ValueCredentials struct {
	Data        *DataCredentials  `json:"data,omitempty"`
	FrontSide   *FileCredentials  `json:"front_side,omitempty"`
	ReverseSide *FileCredentials  `json:"reverse_side,omitempty"`
	Selfie      *FileCredentials  `json:"selfie,omitempty"`
	Files       []FileCredentials `json:"files,omitempty"`
	Translation []FileCredentials `json:"translation,omitempty"`
}

// Credentials is the decrypted credentials JSON: the secrets of every shared
// element and the nonce of the request it answers.
type Credentials struct {
	// SecureData holds the credentials of each shared element.
	SecureData map[ElementType]*ValueCredentials
	// Nonce is the nonce the bot put in the request ("nonce", or the
	// legacy "payload" key of old apps).
	Nonce string
	// Legacy is true when the nonce came from the legacy "payload" key.
	Legacy bool
}

type credentialsJSON struct {
	SecureData map[string]*ValueCredentials `json:"secure_data"`
	Nonce      *string                      `json:"nonce,omitempty"`
	Payload    *string                      `json:"payload,omitempty"`
}

// ParseCredentials parses and validates a decrypted credentials JSON.
// Unknown element types in secure_data are ignored (a newer app may know
// more types than this package); every known element's secrets and hashes
// must be 32 bytes.
func ParseCredentials(b []byte) (*Credentials, error) {
	secureData, nonce, payload, err := decodeCredentials(b)
	if err != nil {
		return nil, err
	}
	if secureData == nil {
		secureData = map[ElementType]*ValueCredentials{}
	}
	c := &Credentials{SecureData: secureData}
	switch {
	case nonce != nil:
		c.Nonce = *nonce
	case payload != nil:
		c.Nonce, c.Legacy = *payload, true
	}
	var problems []error
	for t, vc := range secureData {
		if !t.Valid() || vc == nil {
			delete(secureData, t)
			continue
		}
		if err := vc.check(t); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		sortErrors(problems)
		return nil, errors.Join(problems...)
	}
	return c, nil
}

// MarshalJSON encodes the credentials as a Telegram app does, writing the
// nonce under "payload" when Legacy is set.
func (c *Credentials) MarshalJSON() ([]byte, error) {
	raw := credentialsJSON{SecureData: make(map[string]*ValueCredentials, len(c.SecureData))}
	for t, vc := range c.SecureData {
		raw.SecureData[string(t)] = vc
	}
	nonce := c.Nonce
	if c.Legacy {
		raw.Payload = &nonce
	} else {
		raw.Nonce = &nonce
	}
	return json.Marshal(raw)
}

func (vc *ValueCredentials) check(t ElementType) error {
	var problems []error
	bad := func(part string, err error) {
		problems = append(problems, fmt.Errorf("credentials secure_data.%s.%s: %w", t, part, err))
	}
	if vc.Data != nil {
		if err := checkSecret(vc.Data.Secret); err != nil {
			bad("data.secret", err)
		}
		if len(vc.Data.DataHash) != HashSize {
			bad("data.data_hash", fmt.Errorf("%w: %d bytes, want %d", ErrMalformed, len(vc.Data.DataHash), HashSize))
		}
	}
	for _, side := range [...]struct {
		part string
		fc   *FileCredentials
	}{{"front_side", vc.FrontSide}, {"reverse_side", vc.ReverseSide}, {"selfie", vc.Selfie}} {
		if side.fc != nil {
			if err := side.fc.check(); err != nil {
				bad(side.part, err)
			}
		}
	}
	for i := range vc.Files {
		if err := vc.Files[i].check(); err != nil {
			bad(fmt.Sprintf("files[%d]", i), err)
		}
	}
	for i := range vc.Translation {
		if err := vc.Translation[i].check(); err != nil {
			bad(fmt.Sprintf("translation[%d]", i), err)
		}
	}
	return errors.Join(problems...)
}

func sortErrors(errs []error) {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
}

// DecryptCredentialsSecret decrypts the credentials secret with the bot's
// private key (RSA-OAEP with SHA-1 and MGF1-SHA-1, empty label, as Telegram
// apps encrypt it). The key is a *Key (NewKey: OpenSSL where available, the
// fastest), an *rsa.PrivateKey (Go's crypto/rsa), or any crypto.Decrypter of
// an RSA key (a hardware module's, say). Every failed decryption is
// ErrWrongKey with the same message, whatever the reason.
func DecryptCredentialsSecret(key crypto.Decrypter, encryptedSecret []byte) ([]byte, error) {
	pub, err := rsaPublicKey(key)
	if err != nil {
		return nil, err
	}
	if n := len(encryptedSecret); n < MinKeyBits/8 || n%128 != 0 {
		return nil, fmt.Errorf("%w: encrypted credentials secret is %d bytes, not an RSA ciphertext "+
			"(a %d-bit key gives %d bytes)", ErrMalformed, n, pub.N.BitLen(), pub.Size())
	}
	if len(encryptedSecret) != pub.Size() {
		return nil, fmt.Errorf("%w: encrypted credentials secret is %d bytes but the key is %d bits "+
			"(the public key given to @BotFather is not this key's)", ErrWrongKey, len(encryptedSecret), pub.N.BitLen())
	}
	var secret []byte
	switch k := key.(type) {
	case *Key:
		secret, err = k.decryptOAEP(encryptedSecret)
	case *rsa.PrivateKey:
		secret, err = rsa.DecryptOAEP(sha1.New(), nil, k, encryptedSecret, nil)
	default:
		secret, err = key.Decrypt(rand.Reader, encryptedSecret, &rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1})
	}
	if err != nil {
		return nil, fmt.Errorf("%w: RSA-OAEP decryption of the credentials secret failed "+
			"(the public key given to @BotFather is not this key's, or the secret was altered)", ErrWrongKey)
	}
	if err := checkSecret(secret); err != nil {
		return nil, fmt.Errorf("credentials secret: %w", err)
	}
	return secret, nil
}

// rsaPublicKey is the public half of a decryption key, refusing a missing
// key and keys that are not RSA.
func rsaPublicKey(key crypto.Decrypter) (*rsa.PublicKey, error) {
	switch k := key.(type) {
	case nil:
		return nil, fmt.Errorf("%w: no private key", ErrWrongKey)
	case *Key:
		if k == nil || k.priv == nil {
			return nil, fmt.Errorf("%w: no private key", ErrWrongKey)
		}
		return &k.priv.PublicKey, nil
	case *rsa.PrivateKey:
		if k == nil || k.N == nil {
			return nil, fmt.Errorf("%w: no private key", ErrWrongKey)
		}
		return &k.PublicKey, nil
	}
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok || pub == nil || pub.N == nil {
		return nil, fmt.Errorf("%w: the private key is %T, Passport needs RSA", ErrKey, key)
	}
	return pub, nil
}

// DecryptCredentials decrypts and parses the credentials of a submission
// (key: as for DecryptCredentialsSecret).
func DecryptCredentials(key crypto.Decrypter, ec EncryptedCredentials) (*Credentials, error) {
	secret, err := DecryptCredentialsSecret(key, ec.Secret)
	if err != nil {
		return nil, err
	}
	plain, err := DecryptData(secret, ec.Hash, ec.Data)
	if err != nil {
		return nil, fmt.Errorf("decrypt credentials: %w", err)
	}
	return ParseCredentials(plain)
}
