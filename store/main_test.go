package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/tests/testkit"
)

// testRedisAddr is the Redis the tests use (CI starts it); setting
// testkit.ClusterEnv runs the tests against a Redis Cluster instead (the
// examples still use testRedisAddr).
const testRedisAddr = testkit.Addr

// TestMain skips the examples (which cannot skip themselves) when Redis is
// unreachable outside CI (see testkit.Main).
func TestMain(m *testing.M) { testkit.Main(m, "store") }

// needRedis returns a client to the test Redis (see testkit.Need).
func needRedis(t testing.TB) redis.UniversalClient { return testkit.Need(t) }

// testPrefix returns a fresh key prefix cleaned up after the test.
func testPrefix(t testing.TB, c redis.UniversalClient) string { return testkit.Prefix(t, c, "store") }

// scanAll calls f on every key under prefix (see testkit.ScanAll).
func scanAll(ctx context.Context, c redis.UniversalClient, prefix string, f func(string)) error {
	return testkit.ScanAll(ctx, c, prefix, f)
}

// testKey is a fixed outbox key for tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// testAuditKey is a fixed audit key for tests.
var testAuditKey = []byte("audit key for tests, 32 bytes...")

// testDocKey is a fixed document key for tests.
var testDocKey = []byte("document key for tests, 32 bytes or more")

// newTestStore returns a store on the test Redis under a fresh prefix,
// with the test outbox and document keys and any extra options.
func newTestStore(t testing.TB, opts ...Option) (*Store, redis.UniversalClient) {
	t.Helper()
	c := needRedis(t)
	prefix := testPrefix(t, c)
	all := append([]Option{WithPrefix(prefix), WithOutboxKey(testKey), WithDocumentKey(testDocKey), WithQueueKey(testQueueKey), WithAuditKey(testAuditKey)}, opts...)
	return New(c, all...), c
}

// newFakeClock returns a clock that stands still at the tests' date.
func newFakeClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC))
}

// allKeys lists the keys under the prefix.
func allKeys(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	var keys []string
	if err := scanAll(context.Background(), c, prefix, func(k string) { keys = append(keys, k) }); err != nil {
		t.Fatal(err)
	}
	return keys
}

// dumpKey renders a key's value as text, whatever its type.
func dumpKey(t testing.TB, c redis.UniversalClient, key string) string {
	t.Helper()
	ctx := context.Background()
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	switch typ {
	case "string":
		v, err = c.Get(ctx, key).Result()
	case "hash":
		v, err = c.HGetAll(ctx, key).Result()
	case "set":
		v, err = c.SMembers(ctx, key).Result()
	case "zset":
		v, err = c.ZRangeWithScores(ctx, key, 0, -1).Result()
	case "list":
		v, err = c.LRange(ctx, key, 0, -1).Result()
	case "stream":
		v, err = c.XRange(ctx, key, "-", "+").Result()
	case "none":
		return ""
	default:
		t.Fatalf("key %s has unexpected type %s", key, typ)
	}
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%v", v)
}
