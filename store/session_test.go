package store

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gotd/td/session"
)

// testSessionKey is a fixed session key for tests.
var testSessionKey = []byte("session key for tests, 32 bytes!")

// sampleSession is a gotd session as gotd's Loader writes it.
var sampleSession = []byte(`{"Version":1,"Data":{"DC":2,"Addr":"149.154.167.50:443","AuthKey":"c2VjcmV0IGF1dGgga2V5IG9mIHRoZSBib3Q=","AuthKeyID":"AQIDBAUGBwg=","Salt":7}}`)

func TestSession(t *testing.T) {
	const bot, otherBot int64 = 123456, 654321
	s, c := newTestStore(t, WithSessionKey(testSessionKey))
	ctx := context.Background()
	sv := s.Sessions()
	a := sv.Session(bot, "eu-1")

	if _, err := a.LoadSession(ctx); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("no session yet: %v, want session.ErrNotFound", err)
	}
	if err := a.StoreSession(ctx, sampleSession); err != nil {
		t.Fatal(err)
	}
	if got, err := a.LoadSession(ctx); err != nil || !bytes.Equal(got, sampleSession) {
		t.Fatalf("LoadSession = %q, %v; want what was stored", got, err)
	}
	// Another instance of the bot, or the same instance name of another
	// bot, has none; a second process of the same instance (after a
	// restart, or another Store on the Redis) finds it.
	for name, st := range map[string]session.Storage{
		"another instance": sv.Session(bot, "eu-2"),
		"another bot":      sv.Session(otherBot, "eu-1"),
	} {
		if _, err := st.LoadSession(ctx); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s: %v, want session.ErrNotFound", name, err)
		}
	}
	restarted := New(c, WithPrefix(s.Prefix()), WithSessionKey(testSessionKey)).Sessions().Session(bot, "eu-1")
	if got, err := restarted.LoadSession(ctx); err != nil || !bytes.Equal(got, sampleSession) {
		t.Fatalf("the same instance restarted: %q, %v", got, err)
	}

	// Sealed: neither the session nor its auth key is in Redis in clear.
	for _, k := range allKeys(t, c, s.Prefix()) {
		v := dumpKey(t, c, k)
		for _, secret := range []string{"AuthKey", "c2VjcmV0IGF1dGgga2V5", "149.154.167.50"} {
			if strings.Contains(v, secret) {
				t.Errorf("key %s holds %q in clear", k, secret)
			}
		}
	}

	// Listed by instance, forgotten one by one.
	if err := sv.Session(bot, "us_1.b").StoreSession(ctx, sampleSession); err != nil {
		t.Fatal(err)
	}
	if got, err := sv.Instances(ctx, bot); err != nil || !reflect.DeepEqual(got, []string{"eu-1", "us_1.b"}) {
		t.Fatalf("Instances = %q, %v", got, err)
	}
	if got, err := sv.Instances(ctx, otherBot); err != nil || len(got) != 0 {
		t.Fatalf("Instances of another bot = %q, %v; want none", got, err)
	}
	for i, want := range []bool{true, false} {
		if gone, err := sv.Forget(ctx, bot, "eu-1"); err != nil || gone != want {
			t.Fatalf("Forget #%d = %v, %v; want %v", i+1, gone, err, want)
		}
	}
	if _, err := a.LoadSession(ctx); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("after Forget: %v, want session.ErrNotFound", err)
	}
	if got, err := sv.Instances(ctx, bot); err != nil || !reflect.DeepEqual(got, []string{"us_1.b"}) {
		t.Fatalf("Instances after Forget = %q, %v", got, err)
	}
}

// A session that does not open is an error, never stored or read in
// clear: without a key, under another key, or moved or changed in Redis.
func TestSessionSealed(t *testing.T) {
	const bot int64 = 777
	s, c := newTestStore(t, WithSessionKey(testSessionKey))
	ctx := context.Background()
	if err := s.Sessions().Session(bot, "a").StoreSession(ctx, sampleSession); err != nil {
		t.Fatal(err)
	}
	sealed := c.HGet(ctx, s.sessionsKey(bot), "a").Val()
	// put stores value as the session of an instance of a bot.
	put := func(t *testing.T, botID int64, instance, value string) {
		t.Helper()
		if err := c.HSet(ctx, s.sessionsKey(botID), instance, value).Err(); err != nil {
			t.Fatal(err)
		}
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-1] ^= 1
	withKey := []Option{WithSessionKey(testSessionKey)}
	tests := []struct {
		name string
		opts []Option
		// setup changes Redis before the load; it may be nil.
		setup func(t *testing.T)
		// The session loaded: of instance, of bot+botOffset.
		instance  string
		botOffset int64
		want      error
	}{
		{name: "no key", instance: "a", want: ErrSessionKey},
		{name: "short key", opts: []Option{WithSessionKey(testSessionKey[:16])}, instance: "a", want: ErrSessionKey},
		{name: "another key", opts: []Option{WithSessionKey(bytes.Repeat([]byte{9}, 32))}, instance: "a", want: ErrSessionDecrypt},
		{name: "tampered", opts: withKey, instance: "a", want: ErrSessionDecrypt,
			setup: func(t *testing.T) { put(t, bot, "a", string(tampered)) }},
		{name: "truncated", opts: withKey, instance: "a", want: ErrSessionDecrypt,
			setup: func(t *testing.T) { put(t, bot, "a", sealed[:10]) }},
		{name: "moved to another instance", opts: withKey, instance: "b", want: ErrSessionDecrypt,
			setup: func(t *testing.T) { put(t, bot, "b", sealed) }},
		{name: "moved to another bot", opts: withKey, instance: "a", botOffset: 1, want: ErrSessionDecrypt,
			setup: func(t *testing.T) { put(t, bot+1, "a", sealed) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put(t, bot, "a", sealed)
			if tt.setup != nil {
				tt.setup(t)
			}
			other := New(c, append([]Option{WithPrefix(s.Prefix())}, tt.opts...)...)
			st := other.Sessions().Session(bot+tt.botOffset, tt.instance)
			data, err := st.LoadSession(ctx)
			if !errors.Is(err, tt.want) || data != nil {
				t.Fatalf("LoadSession = %q, %v; want %v", data, err, tt.want)
			}
			if errors.Is(err, session.ErrNotFound) {
				t.Errorf("LoadSession error %v is also session.ErrNotFound", err)
			}
			if strings.Contains(err.Error(), "AuthKey") {
				t.Errorf("error %q holds the session", err)
			}
			if errors.Is(tt.want, ErrSessionKey) {
				// Never stored in clear either.
				if err := st.StoreSession(ctx, sampleSession); !errors.Is(err, ErrSessionKey) {
					t.Errorf("StoreSession = %v, want ErrSessionKey", err)
				}
				if c.HGet(ctx, s.sessionsKey(bot), "a").Val() != sealed {
					t.Error("StoreSession without a key changed the stored session")
				}
			}
		})
	}
}

func TestSessionValidation(t *testing.T) {
	s, _ := newTestStore(t, WithSessionKey(testSessionKey))
	ctx := context.Background()
	tests := []struct {
		bot      int64
		instance string
		ok       bool
	}{
		{1, "a", true},
		{1, "node-1.eu_2", true},
		{1, strings.Repeat("i", 64), true},
		{1, "", false},
		{1, strings.Repeat("i", 65), false},
		{1, "a b", false},
		{1, "a:b", false},
		{1, "a/b", false},
		{1, "zürich", false},
		{0, "a", false},
		{-5, "a", false},
	}
	for _, tt := range tests {
		sv := s.Sessions()
		errs := map[string]error{
			"StoreSession": sv.Session(tt.bot, tt.instance).StoreSession(ctx, sampleSession),
		}
		_, errs["LoadSession"] = sv.Session(tt.bot, tt.instance).LoadSession(ctx)
		_, errs["Forget"] = sv.Forget(ctx, tt.bot, tt.instance)
		if tt.instance == "a" {
			_, errs["Instances"] = sv.Instances(ctx, tt.bot)
			_, errs["DropLegacy"] = sv.DropLegacy(ctx, tt.bot)
		}
		for name, err := range errs {
			if tt.ok && err != nil {
				t.Errorf("%s(%d, %q): %v", name, tt.bot, tt.instance, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Errorf("%s(%d, %q): %v, want ErrInvalid", name, tt.bot, tt.instance, err)
			}
		}
	}
}

// gotd's own session loader on top of the storage.
func TestSessionWithLoader(t *testing.T) {
	s, _ := newTestStore(t, WithSessionKey(testSessionKey))
	ctx := context.Background()
	l := session.Loader{Storage: s.Sessions().Session(42, "main")}
	if _, err := l.Load(ctx); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load on empty: %v, want session.ErrNotFound", err)
	}
	want := &session.Data{DC: 4, Addr: "149.154.167.91:443", AuthKey: bytes.Repeat([]byte{7}, 256), AuthKeyID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Salt: 99}
	if err := l.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := l.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
}

// The session older versions shared between instances, in clear, is
// dropped once; the sealed ones stay.
func TestSessionDropLegacy(t *testing.T) {
	s, c := newTestStore(t, WithSessionKey(testSessionKey))
	ctx := context.Background()
	const bot int64 = 5150
	legacy := s.key("gotd:session:5150")
	if err := c.Set(ctx, legacy, sampleSession, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, s.key("gotd:session:5151"), sampleSession, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sessions().Session(bot, "a").StoreSession(ctx, sampleSession); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		if dropped, err := s.Sessions().DropLegacy(ctx, bot); err != nil || dropped != want {
			t.Fatalf("DropLegacy #%d = %v, %v; want %v", i+1, dropped, err, want)
		}
	}
	if c.Exists(ctx, legacy).Val() != 0 {
		t.Error("the legacy session is still there")
	}
	if c.Exists(ctx, s.key("gotd:session:5151")).Val() != 1 {
		t.Error("another bot's legacy session was dropped")
	}
	if got, err := s.Sessions().Session(bot, "a").LoadSession(ctx); err != nil || !bytes.Equal(got, sampleSession) {
		t.Errorf("the sealed session after DropLegacy: %q, %v", got, err)
	}
}
