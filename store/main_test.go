package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedisAddr is the Redis the tests use (CI starts it). Setting
// KYCBOT_TEST_REDIS_CLUSTER to comma-separated seed addresses runs the
// tests against a Redis Cluster instead (the examples still use
// testRedisAddr).
const testRedisAddr = "127.0.0.1:6379"

// newTestClient returns a client to the test Redis: a single server, or
// the cluster of KYCBOT_TEST_REDIS_CLUSTER. Failures come fast: no retries.
func newTestClient() (redis.UniversalClient, string) {
	if seeds := os.Getenv("KYCBOT_TEST_REDIS_CLUSTER"); seeds != "" {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: strings.Split(seeds, ","), DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1,
		}), "cluster " + seeds
	}
	return redis.NewClient(&redis.Options{Addr: testRedisAddr, DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1}), testRedisAddr
}

func pingRedis() (string, error) {
	c, where := newTestClient()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return where, c.Ping(ctx).Err()
}

// TestMain skips the examples (which cannot skip themselves) when Redis is
// unreachable outside CI; the tests skip or fail one by one in needRedis.
func TestMain(m *testing.M) {
	flag.Parse()
	if where, err := pingRedis(); err != nil && os.Getenv("CI") == "" {
		fmt.Fprintf(os.Stderr, "store: Redis at %s is unreachable (%v): skipping the Redis tests and examples; start redis-server to run them\n", where, err)
		skip := "^Example"
		if f := flag.Lookup("test.skip"); f != nil {
			if cur := f.Value.String(); cur != "" {
				skip = cur + "|" + skip
			}
			_ = f.Value.Set(skip)
		}
	}
	os.Exit(m.Run())
}

// needRedis returns a client to the test Redis; without one the test
// fails when CI is set and skips otherwise.
func needRedis(t testing.TB) redis.UniversalClient {
	t.Helper()
	if where, err := pingRedis(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis at %s is unreachable and CI is set: %v", where, err)
		}
		t.Skipf("Redis at %s is unreachable (%v): start redis-server to run this test", where, err)
	}
	c, _ := newTestClient()
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix returns a fresh random key prefix whose keys are deleted
// when the test ends.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	prefix := "kycbot-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() { deletePrefix(context.Background(), c, prefix) })
	return prefix
}

func deletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) {
	var keys []string
	_ = scanAll(ctx, c, prefix, func(k string) { keys = append(keys, k) })
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 500)]
		keys = keys[len(batch):]
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range batch {
				p.Unlink(ctx, k) // one key per command: they may live in different cluster slots
			}
			return nil
		})
	}
}

// scanAll calls f on every key under prefix, on every master of a cluster.
func scanAll(ctx context.Context, c redis.UniversalClient, prefix string, f func(string)) error {
	scan := func(ctx context.Context, n redis.UniversalClient) error {
		iter := n.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			f(iter.Val())
		}
		return iter.Err()
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock() // f need not be safe for concurrent use
			defer mu.Unlock()
			return scan(ctx, n)
		})
	}
	return scan(ctx, c)
}

// testKey is a fixed outbox key for tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// testDocKey is a fixed document key for tests.
var testDocKey = []byte("document key for tests, 32 bytes or more")

// newTestStore returns a store on the test Redis under a fresh prefix,
// with the test outbox and document keys and any extra options.
func newTestStore(t testing.TB, opts ...Option) (*Store, redis.UniversalClient) {
	t.Helper()
	c := needRedis(t)
	prefix := testPrefix(t, c)
	all := append([]Option{WithPrefix(prefix), WithOutboxKey(testKey), WithDocumentKey(testDocKey)}, opts...)
	return New(c, all...), c
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
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
