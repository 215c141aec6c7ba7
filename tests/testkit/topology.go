package testkit

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// KeysPerMaster counts the keys under prefix on each master of a Redis
// Cluster, by address.
func KeysPerMaster(ctx context.Context, c redis.UniversalClient, prefix string) (map[string]int, error) {
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		return nil, fmt.Errorf("not a cluster client: %T", c)
	}
	per := map[string]int{}
	var mu sync.Mutex
	err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		count := 0
		err := scanNode(ctx, n, prefix, func(string) { count++ })
		mu.Lock()
		per[n.Options().Addr] = count
		mu.Unlock()
		return err
	})
	return per, err
}

// Sentinel talks to the sentinels of a Sentinel topology.
type Sentinel struct {
	top Topology
}

// NewSentinel returns the sentinels of t (a "sentinel" topology).
func NewSentinel(t Topology) Sentinel { return Sentinel{top: t} }

func (s Sentinel) each(ctx context.Context, f func(*redis.SentinelClient) error) error {
	var err error
	for _, a := range s.top.Addrs {
		c := redis.NewSentinelClient(&redis.Options{Addr: a, DialTimeout: time.Second, MaxRetries: -1})
		err = f(c)
		_ = c.Close()
		if err == nil {
			return nil
		}
	}
	return err
}

// Master returns the address of the master, as the sentinels see it.
func (s Sentinel) Master(ctx context.Context) (string, error) {
	var addr string
	err := s.each(ctx, func(c *redis.SentinelClient) error {
		a, err := c.GetMasterAddrByName(ctx, s.top.MasterName).Result()
		if err == nil {
			addr = strings.Join(a, ":")
		}
		return err
	})
	return addr, err
}

// Failover asks a sentinel to fail the master over (SENTINEL FAILOVER).
func (s Sentinel) Failover(ctx context.Context) error {
	return s.each(ctx, func(c *redis.SentinelClient) error { return c.Failover(ctx, s.top.MasterName).Err() })
}

// WaitMasterChange waits until the master is another than before, and
// returns it.
func (s Sentinel) WaitMasterChange(ctx context.Context, before string) (string, error) {
	for {
		if m, err := s.Master(ctx); err == nil && m != before {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the master is still %s: %w", before, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitReplica waits until the master has a replica in sync again.
func (s Sentinel) WaitReplica(ctx context.Context) error {
	for {
		ok := false
		_ = s.each(ctx, func(c *redis.SentinelClient) error {
			replicas, err := c.Replicas(ctx, s.top.MasterName).Result()
			for _, r := range replicas {
				if r["master-link-status"] == "ok" && !strings.Contains(r["flags"], "down") {
					ok = true
				}
			}
			return err
		})
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the master has no replica in sync: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// KillServer kills the redis-server at addr with SIGKILL and returns a
// function that starts it again as it was started (its executable and
// config file, from INFO server), as a replica of master when master is
// not empty (as an operator brings back a failed master after a
// failover).
func KillServer(ctx context.Context, addr string) (restart func(master string) error, err error) {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: -1})
	info, err := c.Info(ctx, "server").Result()
	_ = c.Close()
	if err != nil {
		return nil, fmt.Errorf("INFO server of %s: %w", addr, err)
	}
	field := func(name string) string {
		for l := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
				return v
			}
		}
		return ""
	}
	pid, err := strconv.Atoi(field("process_id"))
	exe, conf := field("executable"), field("config_file")
	if err != nil || exe == "" || conf == "" {
		return nil, fmt.Errorf("INFO server of %s: no process_id, executable or config_file", addr)
	}
	if _, err := os.Stat(exe); err != nil {
		// Started as a bare name: INFO resolves it against the directory
		// it was started in.
		if exe, err = exec.LookPath(filepath.Base(exe)); err != nil {
			return nil, fmt.Errorf("redis-server at %s: %w", addr, err)
		}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return nil, fmt.Errorf("kill redis-server %d at %s: %w", pid, addr, err)
	}
	// Gone, or a zombie whose parent does not reap it (its port is free
	// either way): a connection to it fails.
	for range 100 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err != nil {
			break
		} else {
			_ = c.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func(master string) error {
		args := []string{conf}
		if host, port, err := net.SplitHostPort(master); err == nil {
			args = append(args, "--replicaof", host, port)
		}
		out, err := exec.Command(exe, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("start %s %s again: %w: %s", exe, conf, err, out)
		}
		return nil
	}, nil
}

// WantSpread fails the test unless the keys under prefix are on at least
// two masters of the cluster c, of three at least: proof that the test
// talked to a real cluster. It logs how many keys each master holds.
func WantSpread(t testing.TB, c redis.UniversalClient, prefix string) {
	t.Helper()
	per, err := KeysPerMaster(context.Background(), c, prefix)
	if err != nil {
		t.Fatal(err)
	}
	with := 0
	for _, n := range per {
		if n > 0 {
			with++
		}
	}
	t.Logf("keys per cluster master: %v", per)
	if len(per) < 3 || with < 2 {
		t.Errorf("keys per master %v: want a cluster of 3 masters or more, with keys on at least 2", per)
	}
}
