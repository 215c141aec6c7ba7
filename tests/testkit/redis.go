package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr is the Redis server tests use (scripts/test.sh starts it).
const Addr = "127.0.0.1:6379"

// ClusterEnv names the environment variable that, set to comma-separated
// seed addresses, makes NewClient return a Redis Cluster client instead.
const ClusterEnv = "KYCBOT_TEST_REDIS_CLUSTER"

// NewClient returns a client to the test Redis (a single server, or the
// cluster of ClusterEnv) and a description of where it points. Failures
// come fast: no retries.
func NewClient() (redis.UniversalClient, string) {
	if seeds := os.Getenv(ClusterEnv); seeds != "" {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: strings.Split(seeds, ","), DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1,
		}), "cluster " + seeds
	}
	return redis.NewClient(&redis.Options{Addr: Addr, DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1}), Addr
}

// Ping reports whether the test Redis answers, and where it was looked for.
func Ping() (where string, err error) {
	c, where := NewClient()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return where, c.Ping(ctx).Err()
}

// Need returns a client to the test Redis, closed when the test ends.
// Without Redis the test fails when the CI environment variable is set and
// is skipped otherwise.
func Need(t testing.TB) redis.UniversalClient {
	t.Helper()
	if where, err := Ping(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis at %s is unreachable and CI is set: %v", where, err)
		}
		t.Skipf("Redis at %s is unreachable (%v): start redis-server to run this test", where, err)
	}
	c, _ := NewClient()
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a fresh random key prefix ("kycbot-test-<name>:<hex>:")
// whose keys are deleted when the test ends.
func Prefix(t testing.TB, c redis.UniversalClient, name string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	prefix := "kycbot-test-" + name + ":" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() { DeletePrefix(context.Background(), c, prefix) })
	return prefix
}

// DeletePrefix deletes every key under prefix, on every master of a cluster.
func DeletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) {
	var keys []string
	_ = ScanAll(ctx, c, prefix, func(k string) { keys = append(keys, k) })
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

// ScanAll calls f on every key under prefix, on every master of a cluster.
func ScanAll(ctx context.Context, c redis.UniversalClient, prefix string, f func(string)) error {
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
