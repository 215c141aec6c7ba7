package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/tests/testkit"
)

// rtCounter is a go-redis hook that counts round trips to Redis: a
// command alone is one, and so is a pipeline or a transaction, however
// many commands it carries. MULTI and EXEC are not counted as commands.
type rtCounter struct {
	mu    sync.Mutex
	rt    int
	cmds  int
	names []string
}

func (h *rtCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *rtCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "cluster" {
			return next(ctx, cmd) // the cluster client's own: CLUSTER SLOTS
		}
		h.mu.Lock()
		h.rt++
		h.cmds++
		h.names = append(h.names, cmdName(cmd))
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *rtCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var names []string
		for _, c := range cmds {
			if n := c.Name(); n != "multi" && n != "exec" {
				names = append(names, cmdName(c))
			}
		}
		h.mu.Lock()
		h.rt++
		h.cmds += len(names)
		h.names = append(h.names, "["+strings.Join(names, ", ")+"]")
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

func cmdName(c redis.Cmder) string {
	n := strings.ToUpper(c.Name())
	if args := c.Args(); n == "SET" && len(args) > 3 {
		for _, a := range args[3:] {
			if s, ok := a.(string); ok && strings.EqualFold(s, "nx") {
				return "SET NX"
			}
		}
	}
	return n
}

// take returns and resets the round trips and commands counted.
func (h *rtCounter) take() (rt, cmds int, names string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rt, cmds, names = h.rt, h.cmds, strings.Join(h.names, ", ")
	h.rt, h.cmds, h.names = 0, 0, nil
	return rt, cmds, names
}

// newCountingStore returns a store on a client of its own to the single
// test server (testRedisAddr), with a round trip counter.
func newCountingStore(tb testing.TB, opts ...Option) (*Store, *rtCounter) {
	tb.Helper()
	h := &rtCounter{}
	counted := redis.NewClient(&redis.Options{Addr: testRedisAddr, MaxRetries: -1})
	counted.AddHook(h)
	return newCountingStoreOn(tb, counted, h, opts...), h
}

// newCountingClusterStore is newCountingStore on the test cluster
// (testkit.ClusterEnv): the counter is on each node's client, so that a
// pipeline split over two nodes counts two round trips.
func newCountingClusterStore(tb testing.TB, opts ...Option) (*Store, *rtCounter) {
	tb.Helper()
	top := testkit.RedisTopology()
	if top.Mode != ModeCluster {
		tb.Skipf("the test Redis is %s, not a cluster (%s)", top, testkit.ClusterEnv)
	}
	h := &rtCounter{}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: top.Addrs, MaxRetries: -1})
	cc.OnNewNode(func(n *redis.Client) { n.AddHook(h) })
	return newCountingStoreOn(tb, cc, h, opts...), h
}

func newCountingStoreOn(tb testing.TB, counted redis.UniversalClient, h *rtCounter, opts ...Option) *Store {
	tb.Helper()
	tb.Cleanup(func() { _ = counted.Close() })
	if err := counted.Ping(context.Background()).Err(); err != nil {
		tb.Fatal(err)
	}
	h.take()
	prefix := testPrefix(tb, counted)
	all := append([]Option{WithPrefix(prefix), WithOutboxKey(testKey), WithDocumentKey(testDocKey), WithQueueKey(testQueueKey), WithAuditKey(testAuditKey)}, opts...)
	return New(counted, all...)
}

// verification is the store traffic of one verification: the request is
// issued (/start), the request page shows it, the receiver appends the
// submission to the queue, a worker reads it, consumes the nonce and, the
// outcome told, acknowledges it.
func verification(ctx context.Context, s *Store, user int64, msgID int) error {
	r, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic", Lang: "en", Ref: "crm-42"}, 10*time.Minute)
	if err != nil {
		return err
	}
	if _, err := s.Requests().Get(ctx, r.ID); err != nil {
		return err
	}
	// Named by the request, which is new each time (the benchmarks run the
	// same users and message IDs again).
	if _, err := s.Queue().Append(ctx, QueueItem{Key: "m:" + r.ID, UserID: user, Payload: samplePayload, Keep: time.Hour}); err != nil {
		return err
	}
	got, err := s.Queue().Read(ctx, "w1", 1, 0, false)
	if err != nil {
		return err
	}
	if len(got) != 1 {
		return fmt.Errorf("read %d entries, want 1", len(got))
	}
	if _, err := s.Requests().Consume(ctx, r.Nonce, user, ByMessage(msgID)); err != nil {
		return err
	}
	return s.Queue().Ack(ctx, got[0].ID)
}

// TestRoundTrips pins the Redis round trips of each operation of a
// verification (and of the rest of an accepted one), so that a change
// that adds one shows up. Scripts are loaded beforehand: the first run of
// each script on a server costs one more (EVALSHA answers NOSCRIPT, then
// EVAL).
func TestRoundTrips(t *testing.T) {
	s, h := newCountingStore(t, WithSessionKey(testSessionKey))
	ctx := context.Background()
	var r Request
	var ds []Delivery
	var qe []QueueEntry
	doc := DocumentKey{Country: "DE", Type: "passport", Number: "C01X00T47"}
	steps := []struct {
		name     string
		rt, cmds int
		op       func(user int64) error
	}{
		{"Requests.Issue", 2, 3, func(u int64) (err error) {
			r, err = s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic"}, time.Minute)
			return err
		}},
		{"Requests.Issue (superseding)", 2, 3, func(u int64) (err error) {
			r, err = s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic"}, time.Minute, IssuedFor("q-"+strconv.FormatInt(u, 10)))
			return err
		}},
		{"Requests.Issue (same source)", 3, 5, func(u int64) error {
			again, err := s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic"}, time.Minute, IssuedFor("q-"+strconv.FormatInt(u, 10)))
			if err == nil && again != r {
				err = fmt.Errorf("issued %+v, want %+v", again, r)
			}
			return err
		}},
		{"Requests.Live", 1, 1, func(u int64) error { _, _, err := s.Requests().Live(ctx, u); return err }},
		{"Requests.Cancel", 1, 1, func(u int64) error {
			ok, err := s.Requests().Cancel(ctx, u)
			if err == nil && !ok {
				err = errors.New("nothing to cancel")
			}
			return err
		}},
		{"Requests.Issue (after a cancel)", 2, 3, func(u int64) (err error) {
			r, err = s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic"}, time.Minute)
			return err
		}},
		{"Requests.Get (page)", 2, 2, func(int64) error { _, err := s.Requests().Get(ctx, r.ID); return err }},
		{"Requests.Consume (another user's)", 2, 2, func(u int64) error {
			if _, err := s.Requests().Consume(ctx, r.Nonce, u+1000); !errors.Is(err, ErrNonceOtherUser) {
				return fmt.Errorf("consume by another user: %v, want ErrNonceOtherUser", err)
			}
			return nil
		}},
		{"Requests.Consume", 1, 1, func(u int64) error { _, err := s.Requests().Consume(ctx, r.Nonce, u); return err }},
		{"Queue.Append", 1, 1, func(u int64) error {
			_, err := s.Queue().Append(ctx, QueueItem{Key: "m:" + strconv.FormatInt(u, 10), UserID: u, Payload: samplePayload, Keep: time.Hour})
			return err
		}},
		{"Queue.Append (3 at once)", 1, 3, func(u int64) error {
			var items []QueueItem
			for i := range 3 {
				items = append(items, QueueItem{Key: fmt.Sprintf("b:%d:%d", u, i), UserID: u, Payload: samplePayload, Keep: time.Hour})
			}
			_, err := s.Queue().Append(ctx, items...)
			return err
		}},
		{"Queue.Read", 1, 1, func(int64) (err error) {
			qe, err = s.Queue().Read(ctx, "w1", 10, 0, false)
			if err == nil && len(qe) != 4 {
				err = fmt.Errorf("read %d entries, want 4", len(qe))
			}
			return err
		}},
		{"Queue.Touch (4 entries)", 1, 1, func(int64) error {
			ids := []string{qe[0].ID, qe[1].ID, qe[2].ID, qe[3].ID}
			_, err := s.Queue().Touch(ctx, "w1", ids...)
			return err
		}},
		{"Queue.Ack", 1, 1, func(int64) error { return s.Queue().Ack(ctx, qe[0].ID) }},
		{"Queue.Release (3 entries)", 1, 1, func(int64) error {
			_, err := s.Queue().Release(ctx, "w1", qe[1].ID, qe[2].ID, qe[3].ID)
			return err
		}},
		{"Queue.Claim (3 released)", 1, 1, func(int64) (err error) {
			qe, err = s.Queue().Claim(ctx, "w2", time.Minute, 10)
			if err == nil && len(qe) != 3 {
				err = fmt.Errorf("claimed %d entries, want 3", len(qe))
			}
			return err
		}},
		{"Leases.Acquire", 1, 1, func(u int64) error {
			_, err := s.Leases().Acquire(ctx, "receiver:"+strconv.FormatInt(u, 10), "i1", time.Minute)
			return err
		}},
		{"Leases.Renew", 1, 1, func(u int64) error {
			_, err := s.Leases().Renew(ctx, "receiver:"+strconv.FormatInt(u, 10), "i1", time.Minute)
			return err
		}},
		{"Documents.Claim", 2, 3, func(u int64) error {
			doc.Number = "C01X00T" + strconv.FormatInt(u, 10)
			_, err := s.Documents().Claim(ctx, doc, u)
			return err
		}},
		{"Documents.ClaimAll (a document and the person)", 2, 4, func(u int64) error {
			doc.Number = "C01X00P" + strconv.FormatInt(u, 10)
			_, err := s.Documents().ClaimAll(ctx, u, doc, PersonKey{Names: []string{"Ada", "Lovelace" + strconv.FormatInt(u, 10)}, BirthDate: "10.12.1815"})
			return err
		}},
		{"Statuses.Set", 2, 2, func(u int64) error {
			return s.Statuses().Set(ctx, Status{UserID: u, Level: "basic", State: StateVerified, Ref: "crm-42"})
		}},
		{"Outbox.Enqueue", 1, 1, func(u int64) error {
			return s.Outbox().Enqueue(ctx, OutboxEntry{EventID: "ev-" + strconv.FormatInt(u, 10), UserID: u, Kind: "verified", Payload: samplePayload})
		}},
		{"Audit.Append", 2, 3, func(u int64) error { return s.Audit().Append(ctx, Event{Kind: "verified", UserID: u, Level: "basic"}) }},
		{"Outbox.Claim", 3, 3, func(int64) (err error) { ds, err = s.Outbox().Claim(ctx, "c1", time.Minute, 10); return err }},
		{"Outbox.Ack", 1, 1, func(int64) error { return s.Outbox().Ack(ctx, ds[0].ID) }},
		{"Sessions: StoreSession", 1, 1, func(u int64) error {
			return s.Sessions().Session(u, "i1").StoreSession(ctx, sampleSession)
		}},
		{"Sessions: LoadSession", 1, 1, func(u int64) error {
			_, err := s.Sessions().Session(u, "i1").LoadSession(ctx)
			return err
		}},
	}
	// Warm up: load every script.
	for _, st := range steps {
		if err := st.op(1); err != nil {
			t.Fatalf("warm-up %s: %v", st.name, err)
		}
	}
	h.take()
	for _, st := range steps {
		if err := st.op(2); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		rt, cmds, names := h.take()
		t.Logf("%-34s %d round trips, %d commands: %s", st.name, rt, cmds, names)
		if rt != st.rt || cmds != st.cmds {
			t.Errorf("%s: %d round trips and %d commands, want %d and %d (%s)", st.name, rt, cmds, st.rt, st.cmds, names)
		}
	}

	// One verification, as the benchmark runs it.
	if err := verification(ctx, s, 3, 1); err != nil {
		t.Fatal(err)
	}
	if rt, cmds, names := h.take(); rt != 8 || cmds != 9 {
		t.Errorf("a verification: %d round trips and %d commands, want 8 and 9 (%s)", rt, cmds, names)
	}
}

// BenchmarkVerificationRoundTrips measures one verification's store
// traffic against the test Redis (issue, page, queue, consume), and each
// of its steps, with the round trips and commands per operation.
func BenchmarkVerificationRoundTrips(b *testing.B) {
	ctx := context.Background()
	report := func(b *testing.B, h *rtCounter) {
		rt, cmds, _ := h.take()
		b.ReportMetric(float64(rt)/float64(b.N), "roundtrips/op")
		b.ReportMetric(float64(cmds)/float64(b.N), "commands/op")
	}
	setup := func(b *testing.B) (*Store, *rtCounter) {
		s, h := newCountingStore(b)
		if err := verification(ctx, s, 1, 0); err != nil { // load the scripts
			b.Fatal(err)
		}
		return s, h
	}
	user := func(i int) int64 { return int64(1 + i%1000) }
	issue := func(b *testing.B, s *Store) []Request {
		reqs := make([]Request, b.N)
		for i := range reqs {
			var err error
			if reqs[i], err = s.Requests().Issue(ctx, RequestParams{UserID: int64(1000 + i), ChatID: 1, Level: "basic"}, 10*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		return reqs
	}

	b.Run("verification", func(b *testing.B) {
		s, h := setup(b)
		h.take()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := verification(ctx, s, user(i), i); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, h)
	})
	b.Run("issue", func(b *testing.B) {
		s, h := setup(b)
		h.take()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Requests().Issue(ctx, RequestParams{UserID: user(i), ChatID: 1, Level: "basic"}, 10*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, h)
	})
	b.Run("page", func(b *testing.B) {
		s, h := setup(b)
		reqs := issue(b, s)
		h.take()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Requests().Get(ctx, reqs[i].ID); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, h)
	})
	b.Run("consume", func(b *testing.B) {
		s, h := setup(b)
		reqs := issue(b, s)
		h.take()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Requests().Consume(ctx, reqs[i].Nonce, reqs[i].UserID); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, h)
	})
	b.Run("queue", func(b *testing.B) {
		s, h := setup(b)
		h.take()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Queue().Append(ctx, QueueItem{Key: "q:" + strconv.Itoa(i), UserID: user(i), Payload: samplePayload, Keep: time.Hour}); err != nil {
				b.Fatal(err)
			}
			got, err := s.Queue().Read(ctx, "w1", 1, 0, false)
			if err != nil || len(got) != 1 {
				b.Fatal(got, err)
			}
			if err := s.Queue().Ack(ctx, got[0].ID); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, h)
	})
	// A verification against as many bare round trips (PINGs), interleaved
	// and alternating which goes first, so that the ratio comes from one
	// run: what the store costs beyond the network and Redis's own work.
	b.Run("verification-vs-pings", func(b *testing.B) {
		s, h := setup(b)
		h.take()
		const pings = 8 // a verification's round trips (TestRoundTrips)
		var tv, tp time.Duration
		ver := func(i int) {
			start := time.Now()
			if err := verification(ctx, s, user(i), i); err != nil {
				b.Fatal(err)
			}
			tv += time.Since(start)
		}
		ping := func() {
			start := time.Now()
			for range pings {
				if err := s.Client().Ping(ctx).Err(); err != nil {
					b.Fatal(err)
				}
			}
			tp += time.Since(start)
		}
		b.ResetTimer()
		for i := range b.N {
			if i%2 == 0 {
				ver(i)
				ping()
			} else {
				ping()
				ver(i)
			}
		}
		b.StopTimer()
		h.take()
		b.ReportMetric(float64(tv)/float64(tp), "verification/"+strconv.Itoa(pings)+"pings")
		b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "verification-ns")
		b.ReportMetric(float64(tp.Nanoseconds())/float64(b.N)/pings, "ping-ns")
	})
	// The floor: one PING per operation on the same kind of client.
	b.Run("ping", func(b *testing.B) {
		s, h := setup(b)
		h.take()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := s.Client().Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, h)
	})
}

// BenchmarkVerificationTopologies is one verification's store traffic
// (as BenchmarkVerificationRoundTrips) on the single test server and, in
// the same run, on the test cluster (with testkit.ClusterEnv set), with
// the round trips per verification counted on each node.
func BenchmarkVerificationTopologies(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		open func(testing.TB, ...Option) (*Store, *rtCounter)
	}{{"single", newCountingStore}, {"cluster", newCountingClusterStore}} {
		b.Run(tc.name, func(b *testing.B) {
			s, h := tc.open(b)
			if err := verification(ctx, s, 1, 0); err != nil { // load the scripts
				b.Fatal(err)
			}
			h.take()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := verification(ctx, s, int64(1+i%1000), i); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			rt, cmds, _ := h.take()
			b.ReportMetric(float64(rt)/float64(b.N), "roundtrips/op")
			b.ReportMetric(float64(cmds)/float64(b.N), "commands/op")
		})
	}
}
