package sandbox

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// isRPCError reports whether err carries the RPC error code and type.
func isRPCError(err error, code int, typ string) bool {
	e, ok := tgerr.As(err)
	return ok && e.Code == code && e.Type == typ
}

// storedSession returns the stored data of a session. gotd stores a
// session just after its connection is ready: wait for it.
func storedSession(ctx context.Context, t testing.TB, s session.Storage) []byte {
	t.Helper()
	for {
		data, err := s.LoadSession(ctx)
		if err == nil {
			return data
		}
		if !errors.Is(err, session.ErrNotFound) {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the session was never stored: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// copySession returns a new storage holding a copy of a session, auth key
// included, as a second process reading the same stored session has.
func copySession(ctx context.Context, t testing.TB, s session.Storage) *session.StorageMemory {
	t.Helper()
	c := &session.StorageMemory{}
	if err := c.StoreSession(ctx, storedSession(ctx, t, s)); err != nil {
		t.Fatal(err)
	}
	return c
}

// authKeyOf returns the auth key of a stored session.
func authKeyOf(ctx context.Context, t testing.TB, s session.Storage) authKeyRef {
	t.Helper()
	d, err := (&session.Loader{Storage: copySession(ctx, t, s)}).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref := authKeyRef{dc: d.DC}
	copy(ref.key[:], d.AuthKeyID)
	return ref
}

// runClient runs a gotd client with session storage s, dialing with r,
// until f returns, and returns what Run returns.
func runClient(ctx context.Context, sb *Sandbox, s session.Storage, r dcs.Resolver, f func(context.Context, *telegram.Client) error) error {
	opts := sb.Options(s)
	opts.Resolver = r
	if os.Getenv("SANDBOX_LOG") != "" {
		opts.Logger = testLogger("client")
	}
	c := telegram.NewClient(1, "test", opts)
	return c.Run(ctx, func(ctx context.Context) error { return f(ctx, c) })
}

// callSelf makes an authorized request (users.getUsers of self).
func callSelf(ctx context.Context, api *tg.Client) error {
	_, err := api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
	return err
}

func botLogin(token string) func(context.Context, *telegram.Client) error {
	return func(ctx context.Context, c *telegram.Client) error {
		_, err := c.Auth().Bot(ctx, token)
		return err
	}
}

// waitKeyClosed waits until no open connection carries the key: the
// servers see a client's connections close a moment after the client.
func waitKeyClosed(ctx context.Context, t testing.TB, sb *Sandbox, ref authKeyRef) {
	t.Helper()
	for len(sb.authKeys.openAddrs(ref)) > 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("connections with the key still open: %v", sb.authKeys.openAddrs(ref))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// One auth key used at the same time from two addresses: Telegram answers
// 406 AUTH_KEY_DUPLICATED to both, from then on, and the authorization on
// the key is gone; a fresh key logs in again.
func TestAuthKeyDuplicated(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 90*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, _ := addTestBot(t, sb, "kyc_dup_bot")
	first := newTestBot(t, sb, bot)
	first.resolver = resolverFrom(t, "127.0.0.2")
	first.start(ctx)
	if err := callSelf(ctx, first.API()); err != nil {
		t.Fatalf("first client before the duplicate: %v", err)
	}
	ref := authKeyOf(ctx, t, first.session)

	// Another process with a copy of the session, from another address,
	// while the first one is connected.
	err := runClient(ctx, sb, copySession(ctx, t, first.session), resolverFrom(t, "127.0.0.3"),
		func(ctx context.Context, c *telegram.Client) error { return callSelf(ctx, c.API()) })
	if !isRPCError(err, 406, "AUTH_KEY_DUPLICATED") {
		t.Fatalf("second client from another address: %v, want 406 AUTH_KEY_DUPLICATED", err)
	}
	if err := callSelf(ctx, first.API()); !isRPCError(err, 406, "AUTH_KEY_DUPLICATED") {
		t.Fatalf("first client after the duplicate: %v, want 406 AUTH_KEY_DUPLICATED", err)
	}
	sb.mu.Lock()
	_, bound := sb.w.authKeys[ref]
	sb.mu.Unlock()
	if bound {
		t.Fatal("the duplicated key is still bound to the bot")
	}

	// The key stays invalid, even from the first address alone.
	first.stop()
	waitKeyClosed(ctx, t, sb, ref)
	err = runClient(ctx, sb, first.session, resolverFrom(t, "127.0.0.2"),
		func(ctx context.Context, c *telegram.Client) error { return callSelf(ctx, c.API()) })
	if !isRPCError(err, 406, "AUTH_KEY_DUPLICATED") {
		t.Fatalf("the invalidated key alone: %v, want 406 AUTH_KEY_DUPLICATED", err)
	}

	// A fresh key and a new login work: the bot gets what a user sends.
	third := newTestBot(t, sb, bot)
	third.resolver = resolverFrom(t, "127.0.0.4")
	third.start(ctx)
	user, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000401"}, SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = user.Close() })
	if _, err := user.Start(ctx, "kyc_dup_bot", "p"); err != nil {
		t.Fatal(err)
	}
	in, err := third.next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in.msg == nil || in.msg.Message != "/start p" {
		t.Fatalf("the new login got %+v", in.msg)
	}
}

// Connections sharing a key from one address are normal (gotd opens data
// connections beside the main one, processes on one host share a
// session), and so is a key moving to another address once its
// connections closed.
func TestAuthKeySharedWithoutDuplicate(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 90*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, _ := addTestBot(t, sb, "kyc_shared_bot")
	for _, tc := range []struct {
		name          string
		first, second string
		// together keeps the first client connected while the second one
		// works.
		together bool
	}{
		{"one address, two connections at once", "127.0.0.5", "127.0.0.5", true},
		{"another address once the first closed", "127.0.0.6", "127.0.0.7", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storage := &session.StorageMemory{}
			second := func() error {
				return runClient(ctx, sb, copySession(ctx, t, storage), resolverFrom(t, tc.second),
					func(ctx context.Context, c *telegram.Client) error { return callSelf(ctx, c.API()) })
			}
			if !tc.together {
				if err := runClient(ctx, sb, storage, resolverFrom(t, tc.first), botLogin(bot.Token)); err != nil {
					t.Fatal(err)
				}
				waitKeyClosed(ctx, t, sb, authKeyOf(ctx, t, storage))
				if err := second(); err != nil {
					t.Fatalf("the key from %s after %s closed: %v", tc.second, tc.first, err)
				}
				return
			}
			ready, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- runClient(ctx, sb, storage, resolverFrom(t, tc.first), func(ctx context.Context, c *telegram.Client) error {
					if err := botLogin(bot.Token)(ctx, c); err != nil {
						return err
					}
					close(ready)
					select {
					case <-release:
					case <-ctx.Done():
						return ctx.Err()
					}
					return callSelf(ctx, c.API())
				})
			}()
			select {
			case <-ready:
			case err := <-done:
				t.Fatalf("first client: %v", err)
			}
			if err := second(); err != nil {
				t.Fatalf("second connection from the same address: %v", err)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("first connection after the second: %v", err)
			}
		})
	}
}

func TestResolverFrom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ip string
		ok bool
	}{
		{"127.0.0.2", true},
		{"::ffff:127.0.0.3", true},
		{"localhost", false},
		{"", false},
		{"::1", false},
		{"127.0.0.256", false},
	} {
		r, err := ResolverFrom(tc.ip)
		if tc.ok != (err == nil) || tc.ok != (r != nil) {
			t.Errorf("ResolverFrom(%q) = %v, %v; want ok %v", tc.ip, r, err, tc.ok)
		}
	}
}
