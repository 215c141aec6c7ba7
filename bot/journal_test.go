package bot

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// TestJournalKey: every instance with the same Passport key derives the
// same 32-byte journal key, another Passport key another one, and the key
// is not a slice of the private key's bytes.
func TestJournalKey(t *testing.T) {
	key := keys.get(t)
	a, b := JournalKey(key), JournalKey(key)
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("journal keys %x and %x from one Passport key: want the same 32 bytes", a, b)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(JournalKey(other), a) {
		t.Fatal("two Passport keys give the same journal key")
	}
	if bytes.Contains(key.D.Bytes(), a[:8]) {
		t.Fatal("the journal key is taken from the private exponent")
	}
}
