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

// Environment variables that point the tests at another Redis than the
// single server at Addr; scripts/test.sh sets one at a time, to run the
// store's tests and the topology tests on each topology it starts.
const (
	// ClusterEnv holds the seed addresses of a Redis Cluster,
	// comma-separated.
	ClusterEnv = "KYCBOT_TEST_REDIS_CLUSTER"
	// SentinelEnv holds the addresses of the sentinels, comma-separated,
	// that watch the master MasterName.
	SentinelEnv = "KYCBOT_TEST_REDIS_SENTINEL"
	// ServerEnv holds the address of one server other than Addr (a
	// valkey-server, say).
	ServerEnv = "KYCBOT_TEST_REDIS"
)

// MasterName is the name the test sentinels know the master by.
const MasterName = "kycbot-test"

// Topology is the Redis the tests use, as the environment says (see
// ClusterEnv): Mode is "single", "cluster" or "sentinel", as in the
// config's redis.mode.
type Topology struct {
	Mode       string
	Addrs      []string
	MasterName string
}

// String describes the topology, such as "sentinel 127.0.0.1:26379".
func (t Topology) String() string { return t.Mode + " " + strings.Join(t.Addrs, ",") }

// RedisTopology returns the Redis the tests use: the cluster of
// ClusterEnv, the sentinels of SentinelEnv, the server of ServerEnv, or
// the single server at Addr.
func RedisTopology() Topology {
	if v := os.Getenv(ClusterEnv); v != "" {
		return Topology{Mode: "cluster", Addrs: strings.Split(v, ",")}
	}
	if v := os.Getenv(SentinelEnv); v != "" {
		return Topology{Mode: "sentinel", Addrs: strings.Split(v, ","), MasterName: MasterName}
	}
	if v := os.Getenv(ServerEnv); v != "" {
		return Topology{Mode: "single", Addrs: []string{v}}
	}
	return Topology{Mode: "single", Addrs: []string{Addr}}
}

// NewClient returns a client to the test Redis (RedisTopology) and a
// description of where it points. Failures come fast: no retries. Its
// scripts and transactions must keep their keys in one slot, on every
// topology (the hook slotCheck).
func NewClient() (redis.UniversalClient, string) {
	t := RedisTopology()
	var c redis.UniversalClient
	switch t.Mode {
	case "cluster":
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: t.Addrs, DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1})
	case "sentinel":
		c = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: t.MasterName, SentinelAddrs: t.Addrs,
			DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1})
	default:
		c = redis.NewClient(&redis.Options{Addr: t.Addrs[0], DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1})
	}
	c.AddHook(slotCheck{})
	return c, t.String()
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
	if cc, ok := c.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock() // f need not be safe for concurrent use
			defer mu.Unlock()
			return scanNode(ctx, n, prefix, f)
		})
	}
	return scanNode(ctx, c, prefix, f)
}

// scanNode calls f on every key under prefix on one server.
func scanNode(ctx context.Context, n redis.UniversalClient, prefix string, f func(string)) error {
	iter := n.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		f(iter.Val())
	}
	return iter.Err()
}
