package handlerstest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/store"
)

// Audit returns the audit events st holds, oldest first, read with the
// store's own reader, with the user IDs of every user who still has an
// audit key (not erased) resolved; with users, only the events about
// them (or by them, as the actor). It fails t when the trail cannot be
// read.
func Audit(t testing.TB, ctx context.Context, st *store.Store, users ...int64) []store.Event {
	t.Helper()
	known, err := AuditUsers(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Event
	if err := st.Audit().Events(ctx, func(e store.RecordedEvent) error {
		if len(users) == 0 || slices.Contains(users, e.UserID) || e.Actor != 0 && slices.Contains(users, e.Actor) {
			out = append(out, e.Event)
		}
		return nil
	}, known...); err != nil {
		t.Fatal(err)
	}
	return out
}

// AuditUsers returns the users who have an audit key in st (who were
// audited and not erased): what to give AuditTrail.Events to see every
// user ID it can resolve.
func AuditUsers(ctx context.Context, st *store.Store) ([]int64, error) {
	var known []int64
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		it := c.Scan(ctx, 0, st.Prefix()+"{u:*}:audit", 1000).Iterator()
		for it.Next(ctx) {
			id := strings.TrimSuffix(strings.TrimPrefix(it.Val(), st.Prefix()+"{u:"), "}:audit")
			if u, err := strconv.ParseInt(id, 10, 64); err == nil {
				known = append(known, u)
			}
		}
		return it.Err()
	}
	var err error
	if cc, ok := st.Client().(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return scan(ctx, n)
		})
	} else {
		err = scan(ctx, st.Client())
	}
	return known, err
}

// AuditKey returns an audit key for test stores (store.WithAuditKey).
func AuditKey() []byte { return []byte("handlers' audit key for tests..!") }

// DocumentKey returns the document key of the handlers' tests (the bot
// derives its own: bot.DocumentKey).
func DocumentKey() []byte { return []byte("handlers' document key, tests..!") }

// ReviewKey returns the review key of the handlers' tests (the bot derives
// its own: bot.ReviewKey).
func ReviewKey() []byte { return []byte("handlers' review key, 32 bytes!!") }
