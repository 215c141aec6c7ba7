package bot

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"github.com/gotd/td/session"

	"github.com/kycbot/kycbot/store"
)

// TestSessionKey: every instance with the same Passport key derives the
// same 32-byte session key, another Passport key another one, and it is
// not the queue key.
func TestSessionKey(t *testing.T) {
	key := keys.get(t)
	a, b := SessionKey(key), SessionKey(key)
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("session keys %x and %x from one Passport key: want the same 32 bytes", a, b)
	}
	if bytes.Equal(a, QueueKey(key)) {
		t.Fatal("the session key is the queue key")
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(SessionKey(other), a) {
		t.Fatal("two Passport keys give the same session key")
	}
}

func TestInstanceName(t *testing.T) {
	tests := []struct{ host, want string }{
		{"kyc-1.eu.example.com", "kyc-1.eu.example.com"},
		{"build_host", "build_host"},
		{"zürich box", "z-rich-box"},
		{"", "kycbot"},
		{strings.Repeat("h", 70), strings.Repeat("h", 64)},
	}
	for _, tt := range tests {
		if got := sanitizeInstance(tt.host); got != tt.want {
			t.Errorf("sanitizeInstance(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// The bot's session storage is sealed and its own: the session older
// versions shared unsealed is dropped (and logged) once, and a session
// that does not open makes gotd log in again instead of failing.
func TestSessionStorage(t *testing.T) {
	env := newTestEnv(t)
	tb := env.newBot(t, "kyc-a", "", "")
	ctx := context.Background()
	const botID = 4242
	legacy := env.prefix + "gotd:session:4242"
	if err := env.rdb.Set(ctx, legacy, `{"Version":1}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	st := tb.SessionStorage(ctx, botID)
	if env.rdb.Exists(ctx, legacy).Val() != 0 {
		t.Error("the legacy session is still there")
	}
	const dropped = "removed the gotd session older versions shared"
	if n := strings.Count(tb.logs.String(), dropped); n != 1 {
		t.Fatalf("%d logs of the legacy session dropped, want 1:\n%s", n, tb.logs)
	}
	if _, err := st.LoadSession(ctx); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("no session yet: %v", err)
	}
	data := []byte(`{"Version":1,"Data":{"DC":2,"AuthKey":"c2VjcmV0"}}`)
	if err := st.StoreSession(ctx, data); err != nil {
		t.Fatal(err)
	}
	again := tb.SessionStorage(ctx, botID) // the next start
	if got, err := again.LoadSession(ctx); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the next start loads %q, %v", got, err)
	}
	if n := strings.Count(tb.logs.String(), dropped); n != 1 {
		t.Errorf("%d logs of the legacy session dropped after the next start, want still 1", n)
	}
	if names, err := tb.Store().Sessions().Instances(ctx, botID); err != nil || len(names) != 1 || names[0] != tb.Instance() {
		t.Errorf("instances %q, %v; want this instance's", names, err)
	}

	// Sealed under another key (the Passport key changed).
	other := store.New(env.rdb, store.WithPrefix(env.prefix), store.WithSessionKey(bytes.Repeat([]byte{1}, 32)))
	if err := other.Sessions().Session(botID, tb.Instance()).StoreSession(ctx, data); err != nil {
		t.Fatal(err)
	}
	if got, err := again.LoadSession(ctx); !errors.Is(err, session.ErrNotFound) || got != nil {
		t.Fatalf("a session that does not open: %q, %v; want session.ErrNotFound, to log in again", got, err)
	}
	if !strings.Contains(tb.logs.String(), "the stored gotd session does not open; logging in again") {
		t.Errorf("not logged:\n%s", tb.logs)
	}
}
