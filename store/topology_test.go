package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/tests/testkit"
)

// openTopology opens the test Redis as the bot does (Open), on the
// topology the environment names (testkit.RedisTopology).
func openTopology(t *testing.T) (redis.UniversalClient, testkit.Topology) {
	t.Helper()
	needRedis(t)
	top := testkit.RedisTopology()
	c, err := Open(context.Background(), Config{Mode: top.Mode, Addrs: top.Addrs, MasterName: top.MasterName})
	if err != nil {
		t.Fatalf("open %s: %v", top, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, top
}

// TestWithReplicas: the writes that must survive a failover wait for the
// replicas WithReplicas asks for, and fail with ErrUnavailable when they
// are not there; a Redis Cluster refuses the option.
func TestWithReplicas(t *testing.T) {
	c, top := openTopology(t)
	ctx := context.Background()
	prefix := testPrefix(t, c)
	s := New(c, WithPrefix(prefix), WithQueueKey(testQueueKey), WithReplicas(1))
	item := QueueItem{Key: "m:1", UserID: 1001, Payload: []byte("{}"), Keep: time.Minute}
	_, appendErr := s.Queue().Append(ctx, item)
	_, issueErr := s.Requests().Issue(ctx, RequestParams{UserID: 1001, ChatID: 1001, Level: "basic"}, time.Minute)
	switch top.Mode {
	case ModeCluster:
		for _, err := range []error{appendErr, issueErr} {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Sentinel and single servers") {
				t.Errorf("WithReplicas on a cluster: %v, want ErrInvalid saying what it is for", err)
			}
		}
	case ModeSentinel: // one replica
		for _, err := range []error{appendErr, issueErr} {
			if err != nil {
				t.Errorf("WithReplicas(1) with one replica: %v", err)
			}
		}
		r, err := s.Requests().Issue(ctx, RequestParams{UserID: 1002, ChatID: 1002, Level: "basic"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Requests().Consume(ctx, r.Nonce, 1002); err != nil {
			t.Errorf("consume with WithReplicas(1): %v", err)
		}
	default: // a server without replicas
		for name, err := range map[string]error{"append": appendErr, "issue": issueErr} {
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "0 of the 1 replicas") {
				t.Errorf("%s waiting for a replica that is not there: %v, want ErrUnavailable saying 0 of the 1 replicas", name, err)
			}
		}
		// Waiting for none is the default and works.
		if _, err := New(c, WithPrefix(prefix), WithQueueKey(testQueueKey)).Queue().Append(ctx, item); err != nil {
			t.Errorf("append without waiting: %v", err)
		}
	}
	if _, _, err := New(c, WithPrefix(prefix), WithQueueKey(testQueueKey), WithReplicas(-1)).Queue().Depth(ctx); !errors.Is(err, ErrInvalid) {
		t.Errorf("WithReplicas(-1): %v, want ErrInvalid", err)
	}
}

// TestTopologyCluster proves the cluster tests talk to a real Redis
// Cluster: the keys of a few dozen users spread over several masters,
// each script and transaction in one slot (the test client's slot check
// and the cluster itself enforce it).
func TestTopologyCluster(t *testing.T) {
	c, top := openTopology(t)
	if top.Mode != ModeCluster {
		t.Skipf("the test Redis is %s: scripts/test.sh runs this with %s set", top, testkit.ClusterEnv)
	}
	ctx := context.Background()
	prefix := testPrefix(t, c)
	s := New(c, WithPrefix(prefix), WithQueueKey(testQueueKey))
	for u := int64(1001); u <= 1040; u++ {
		r, err := s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Requests().Consume(ctx, r.Nonce, u); err != nil {
			t.Fatal(err)
		}
		if err := s.Statuses().Set(ctx, Status{UserID: u, Level: "basic", State: StateVerified}); err != nil {
			t.Fatal(err)
		}
	}
	testkit.WantSpread(t, c, prefix)
}

// TestTopologySentinelFailover: while requests are issued and consumed and
// updates queued (waiting for the replica), the sentinels fail the master
// over (SENTINEL FAILOVER). The master changes; every operation completes
// (Open's client waits out the failover, and what it gives up on the
// caller repeats, as the bot does); nothing acknowledged is lost.
func TestTopologySentinelFailover(t *testing.T) {
	c, top := openTopology(t)
	if top.Mode != ModeSentinel {
		t.Skipf("the test Redis is %s: scripts/test.sh runs this with %s set", top, testkit.SentinelEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sentinel := testkit.NewSentinel(top)
	if err := sentinel.WaitReplica(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := sentinel.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prefix := testPrefix(t, c)
	s := New(c, WithPrefix(prefix), WithQueueKey(testQueueKey), WithReplicas(1))

	// repeat runs op until it succeeds, as the bot repeats work that met
	// ErrUnavailable, and counts the repeats.
	var repeats int
	repeat := func(what string, op func() error) {
		for {
			err := op()
			if err == nil {
				return
			}
			if !errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
				t.Fatalf("%s: %v", what, err)
			}
			repeats++
			time.Sleep(100 * time.Millisecond)
		}
	}
	stop := make(chan struct{})
	done := make(chan int64)
	go func() {
		u := int64(2000)
		defer func() { done <- u - 2000 }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			u++
			var r Request
			repeat("issue", func() (err error) {
				r, err = s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic"}, time.Minute, IssuedFor("test:"+strconv.FormatInt(u, 10)))
				return err
			})
			repeat("consume", func() error { _, err := s.Requests().Consume(ctx, r.Nonce, u, ByMessage(int(u))); return err })
			repeat("append", func() error {
				_, err := s.Queue().Append(ctx, QueueItem{Key: fmt.Sprint("m:", u), UserID: u, Payload: []byte("{}"), Keep: time.Hour})
				return err
			})
		}
	}()
	time.Sleep(500 * time.Millisecond)
	if err := sentinel.Failover(ctx); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	after, err := sentinel.WaitMasterChange(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // operations on the new master, while the old one becomes its replica
	close(stop)
	users := <-done
	t.Logf("master %s -> %s; %d users issued, consumed and queued; %d operations repeated after ErrUnavailable", before, after, users, repeats)
	// Everything acknowledged is on the new master.
	entries, _, err := s.Queue().Depth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if entries != users {
		t.Errorf("the queue holds %d entries after the failover, want %d (one per user)", entries, users)
	}
	for u := int64(2001); u <= 2000+users; u++ {
		_, live, err := s.Requests().Live(ctx, u)
		if err != nil || live {
			t.Errorf("user %d: the consumed request is live again after the failover (%v)", u, err)
			break
		}
	}
	if err := sentinel.WaitReplica(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMasterOnly: sentinel mode's connections refuse a server that is not
// the master (a sentinel late to learn of a failover can name the old
// master, back as a replica without data yet), with an error the store
// reports as ErrUnavailable and retries as never run; a master is taken.
func TestMasterOnly(t *testing.T) {
	srv := testkit.StartServer(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: noRetries})
	defer admin.Close()
	// A replica of a master that is not there: ROLE says slave, and the
	// server holds no data.
	if err := admin.Do(ctx, "REPLICAOF", "127.0.0.1", "1").Err(); err != nil {
		t.Fatal(err)
	}
	dial := func() error {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: noRetries, OnConnect: masterOnly})
		defer c.Close()
		return c.Get(ctx, "kycbot-test:any").Err()
	}
	err := dial()
	if !errors.Is(err, ErrNotMaster) {
		t.Fatalf("a read on a replica: %v, want ErrNotMaster", err)
	}
	if !unreachable(err) || !notRun(err) {
		t.Errorf("ErrNotMaster: unreachable %v, notRun %v; want both (retried as a failover)", unreachable(err), notRun(err))
	}
	if err := admin.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	if err := dial(); !errors.Is(err, redis.Nil) {
		t.Errorf("a read on a master: %v, want redis.Nil (no such key)", err)
	}
}
