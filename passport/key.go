package passport

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Telegram Passport uses RSA-OAEP with SHA-1.
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/kycbot/kycbot/passport/internal/libcrypto"
)

// BackendGo is what Key.Backend says when Go's crypto/rsa decrypts.
const BackendGo = "Go crypto/rsa"

// Key is a bot's Passport private key prepared once for many decryptions.
// Where the system has OpenSSL 3 (libcrypto.so.3, loaded at run time: a
// Linux build with cgo, without the kycbot_purego tag), the key is handed
// to OpenSSL once, in NewKey, and every RSA-OAEP decryption of a
// credentials secret runs there, about three times faster than Go's
// constant-time crypto/rsa; elsewhere, or with WithGoRSA, crypto/rsa
// decrypts. Both give the same results and the same errors: a ciphertext
// that does not decrypt is ErrWrongKey with one message, whatever the
// reason, so neither backend is a padding oracle.
//
// A Key is safe for concurrent use. It implements crypto.Decrypter, so it
// goes wherever DecryptCredentials and Decrypt take a key. Close frees
// OpenSSL's copy of the key at once; a Key dropped without Close has it
// freed when the Key is garbage collected.
type Key struct {
	priv    *rsa.PrivateKey
	native  *libcrypto.Key // nil: crypto/rsa decrypts
	backend string
}

// KeyOption configures NewKey.
type KeyOption func(*keyOptions)

type keyOptions struct {
	goRSA bool
}

// WithGoRSA makes the Key decrypt with Go's crypto/rsa even where OpenSSL
// is available (building with the kycbot_purego tag does the same for the
// whole program).
func WithGoRSA() KeyOption { return func(o *keyOptions) { o.goRSA = true } }

// NewKey prepares priv for decryption. It refuses a missing key or one
// smaller than MinKeyBits (ErrKey). When OpenSSL cannot be used (not in
// this build, libcrypto.so.3 missing, or OpenSSL refusing the key or
// failing a decryption of a test ciphertext made with the public key),
// the Key uses crypto/rsa: Backend tells which.
func NewKey(priv *rsa.PrivateKey, opts ...KeyOption) (*Key, error) {
	if priv == nil || priv.N == nil {
		return nil, fmt.Errorf("%w: no private key", ErrKey)
	}
	if bits := priv.N.BitLen(); bits < MinKeyBits {
		return nil, fmt.Errorf("%w: %d-bit key is too small, use at least %d", ErrKey, bits, MinKeyBits)
	}
	var o keyOptions
	for _, opt := range opts {
		opt(&o)
	}
	k := &Key{priv: priv, backend: BackendGo}
	if !o.goRSA {
		k.native, k.backend = openSSLKey(priv)
	}
	return k, nil
}

// openSSLKey hands priv to OpenSSL and checks that it decrypts what the
// public key encrypts; nil (and BackendGo) when anything fails.
func openSSLKey(priv *rsa.PrivateKey) (*libcrypto.Key, string) {
	lib, err := libcrypto.Load()
	if err != nil {
		return nil, BackendGo
	}
	der := x509.MarshalPKCS1PrivateKey(priv)
	nk, err := lib.NewKey(der)
	clear(der) // OpenSSL has its own copy; this one would linger until collected
	if err != nil {
		return nil, BackendGo
	}
	probe := make([]byte, SecretSize)
	if _, err := rand.Read(probe); err != nil {
		_ = nk.Close()
		return nil, BackendGo
	}
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &priv.PublicKey, probe, nil)
	if err != nil || nk.Size() != priv.Size() {
		_ = nk.Close()
		return nil, BackendGo
	}
	if got, err := nk.DecryptOAEPSHA1(ct); err != nil || !bytes.Equal(got, probe) {
		_ = nk.Close()
		return nil, BackendGo
	}
	return nk, lib.Version()
}

// Backend names what decrypts (until Close): OpenSSL's version text (for
// example "OpenSSL 3.0.19 27 Jan 2026") or BackendGo.
func (k *Key) Backend() string {
	if k == nil {
		return ""
	}
	return k.backend
}

// PrivateKey returns the key NewKey was given.
func (k *Key) PrivateKey() *rsa.PrivateKey {
	if k == nil {
		return nil
	}
	return k.priv
}

// Public returns the public key (*rsa.PublicKey); nil for a Key not made
// by NewKey.
func (k *Key) Public() crypto.PublicKey {
	if k == nil || k.priv == nil {
		return nil
	}
	return &k.priv.PublicKey
}

// Decrypt implements crypto.Decrypter. RSA-OAEP with SHA-1, MGF1-SHA-1
// and no label (what Passport uses) runs on the Key's backend, every other
// kind of decryption on crypto/rsa. A failed decryption returns
// rsa.ErrDecryption on either backend.
func (k *Key) Decrypt(random io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	if k == nil || k.priv == nil {
		return nil, fmt.Errorf("%w: the Key was not made by NewKey", ErrKey)
	}
	if o, ok := opts.(*rsa.OAEPOptions); ok && k.native != nil && o.Hash == crypto.SHA1 &&
		(o.MGFHash == 0 || o.MGFHash == crypto.SHA1) && len(o.Label) == 0 {
		return k.decryptOAEP(msg)
	}
	return k.priv.Decrypt(random, msg, opts)
}

// decryptOAEP decrypts a Passport credentials secret.
func (k *Key) decryptOAEP(ct []byte) ([]byte, error) {
	if k.native == nil {
		return rsa.DecryptOAEP(sha1.New(), nil, k.priv, ct, nil)
	}
	out, err := k.native.DecryptOAEPSHA1(ct)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, libcrypto.ErrClosed):
		return rsa.DecryptOAEP(sha1.New(), nil, k.priv, ct, nil)
	default:
		return nil, rsa.ErrDecryption
	}
}

// Close frees OpenSSL's copy of the key; the Key then decrypts with
// crypto/rsa. It is safe to call more than once, and concurrently with
// decryptions (it waits for those under way).
func (k *Key) Close() error {
	if k == nil || k.native == nil {
		return nil
	}
	return k.native.Close()
}
