package store

import (
	"context"
	"testing"
)

// TestUserAccessHashCache: a Store reads a user's access hash from Redis
// once and writes it once, then answers from memory for hashCacheTTL; a
// changed hash is written; another instance reads it once too. DeleteUser
// drops it from its Store at once: the erased user's hash is neither
// answered nor written back; another instance holding it answers it until
// hashCacheTTL, never writes it back, and then no longer finds it.
func TestUserAccessHashCache(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	a, ha := newCountingStore(t, WithClock(clk.Now))
	b := New(a.rdb, WithPrefix(a.prefix), WithQueueKey(testQueueKey), WithClock(clk.Now)) // another instance
	const (
		self int64 = 9900000003
		user int64 = 7700112233
	)
	hashA, hashB := a.Sessions().UserAccessHasher(), b.Sessions().UserAccessHasher()
	rt := func(step string, want int) {
		t.Helper()
		if got, _, names := ha.take(); got != want {
			t.Errorf("%s: %d round trips (%s), want %d", step, got, names, want)
		}
	}
	find := func(step string, h interface {
		GetUserAccessHash(context.Context, int64, int64) (int64, bool, error)
	}, want int64) {
		t.Helper()
		got, found, err := h.GetUserAccessHash(ctx, self, user)
		if err != nil || found != (want != 0) || got != want {
			t.Errorf("%s: hash %d, found %v, %v; want %d", step, got, found, err, want)
		}
	}

	// Open the connections (HELLO, CLIENT) with another user's hash.
	if err := hashA.SetUserAccessHash(ctx, self, user+1, 1); err != nil {
		t.Fatal(err)
	}
	ha.take()
	if err := hashA.SetUserAccessHash(ctx, self, user, 111); err != nil {
		t.Fatal(err)
	}
	rt("first set", 1)
	find("get after set", hashA, 111)
	if err := hashA.SetUserAccessHash(ctx, self, user, 111); err != nil {
		t.Fatal(err)
	}
	rt("get and set of the hash held", 0)
	if err := hashA.SetUserAccessHash(ctx, self, user, 222); err != nil {
		t.Fatal(err)
	}
	rt("set of another hash", 1)
	find("get of the new hash", hashA, 222)
	rt("get of the new hash", 0)
	find("another instance", hashB, 222) // b shares a's counted client
	find("another instance again", hashB, 222)
	rt("two gets on another instance", 1)
	clk.Advance(hashCacheTTL)
	find("get once the hash expired", hashA, 222)
	find("get once the hash expired, again", hashA, 222)
	rt("two gets once the hash expired", 1)
	find("the other instance reads it again", hashB, 222)
	clk.Advance(hashCacheTTL / 2)

	if _, err := a.DeleteUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	ha.take()
	find("get after DeleteUser", hashA, 0)
	rt("get after DeleteUser", 1)
	if err := hashA.SetUserAccessHash(ctx, self, user, 222); err != nil {
		t.Fatal(err)
	}
	find("get after a set refused by the forget marker", hashA, 0)
	find("the other instance within hashCacheTTL", hashB, 222)
	if err := hashB.SetUserAccessHash(ctx, self, user, 222); err != nil {
		t.Fatal(err)
	}
	if n, err := a.rdb.HExists(ctx, a.selfKey(self, "uhash"), "7700112233").Result(); err != nil || n {
		t.Errorf("the erased user's hash is back in Redis (%v, %v)", n, err)
	}
	clk.Advance(hashCacheTTL / 2)
	find("the other instance after hashCacheTTL", hashB, 0)
}
