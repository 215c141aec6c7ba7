package verification

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"

	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/passport"
)

// After a Passport key rotation, a submission encrypted to the public key
// of a previous key still decrypts; one encrypted to a key the bot never
// had fails with the same error as without a rotation.
func TestDecryptCredentialsWithPreviousKeys(t *testing.T) {
	current := handlerstest.Key(t)
	previous, err := passport.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := passport.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	elements := goodProfile(t).elements()
	shareTo := func(k *rsa.PrivateKey) passport.EncryptedCredentials {
		sh, err := passport.EncryptSubmission(rand.Reader, &k.PublicKey, "nonce-of-the-request", elements)
		if err != nil {
			t.Fatal(err)
		}
		return sh.Submission.Credentials
	}
	cases := []struct {
		name     string
		to       *rsa.PrivateKey
		previous []*rsa.PrivateKey
		ok       bool
	}{
		{"to the current key", current, []*rsa.PrivateKey{previous}, true},
		{"to the previous key, kept", previous, []*rsa.PrivateKey{previous}, true},
		{"to the previous key, among others", previous, []*rsa.PrivateKey{stranger, previous}, true},
		{"to the previous key, dropped", previous, nil, false},
		{"to a key the bot never had", stranger, []*rsa.PrivateKey{previous}, false},
	}
	// The error of a submission to a key the bot never had, without a
	// rotation: every failure must look exactly like it.
	_, want := (&Flow{keys: decryptionKeys(current, nil)}).decryptCredentials(shareTo(stranger))
	if !errors.Is(want, passport.ErrWrongKey) {
		t.Fatalf("a submission to another key: %v, want ErrWrongKey", want)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &Flow{keys: decryptionKeys(current, tc.previous)}
			creds, err := f.decryptCredentials(shareTo(tc.to))
			if tc.ok {
				if err != nil || creds.Nonce != "nonce-of-the-request" {
					t.Fatalf("decrypt: %v, %v; want the credentials", creds, err)
				}
				return
			}
			if err == nil || err.Error() != want.Error() || !errors.Is(err, passport.ErrWrongKey) {
				t.Fatalf("decrypt: %v; want the same error as without a rotation: %v", err, want)
			}
		})
	}
}
