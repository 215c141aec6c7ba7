package store

import (
	"sync"
	"time"
)

// The user access hashes are read for every update gotd's updates manager
// handles (once per user it carries) and for every message the bot sends
// outside an update, and written back whenever an update brings one: over
// a dozen Redis round trips per verification for values that never change
// (a user's access hash is fixed for a given bot). The Store keeps those
// it read or wrote for hashCacheTTL in the process.
//
// Erasure: DeleteUser drops the user's hashes from its own Store at once.
// Another instance may hold one for up to hashCacheTTL after the erasure;
// in that time it does not write it back (a Set of the hash it holds is
// not sent), which is what the forget marker asks of it anyway, and it may
// use it to write to the user, as it could before. hashCacheTTL is well
// under ForgetWindow: once the marker is gone, no instance holds the hash.

// hashCacheTTL is how long a Store trusts an access hash it read or wrote.
const hashCacheTTL = time.Minute

// hashCacheMax bounds the hashes a Store holds; beyond it, the expired go,
// then all.
const hashCacheMax = 1 << 16

// userHashes is the Store's cache of user access hashes by bot user and
// user. The zero value is empty and ready.
type userHashes struct {
	mu sync.Mutex
	m  map[[2]int64]cachedHash
}

type cachedHash struct {
	hash  int64
	until time.Time
}

// get returns the hash of user for self, if held and not expired at now.
func (c *userHashes) get(self, user int64, now time.Time) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[[2]int64{self, user}]
	if !ok || !now.Before(h.until) {
		return 0, false
	}
	return h.hash, true
}

// put holds hash as the hash of user for self from now.
func (c *userHashes) put(self, user, hash int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]int64]cachedHash{}
	}
	if len(c.m) >= hashCacheMax {
		for k, h := range c.m {
			if !now.Before(h.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= hashCacheMax {
			clear(c.m)
		}
	}
	c.m[[2]int64{self, user}] = cachedHash{hash: hash, until: now.Add(hashCacheTTL)}
}

// forget drops every hash of user, whatever the bot user.
func (c *userHashes) forget(user int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k[1] == user {
			delete(c.m, k)
		}
	}
}
