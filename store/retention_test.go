package store

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStatusRetention(t *testing.T) {
	clock := newFakeClock()
	s, c := newTestStore(t, WithClock(clock.Now), WithStatusRetention(time.Hour))
	ctx := context.Background()
	const u1, u2 = 8101, 8102
	set := func(uid int64, level, state string) {
		t.Helper()
		if err := s.Statuses().Set(ctx, Status{UserID: uid, Level: level, State: state}); err != nil {
			t.Fatal(err)
		}
	}
	stats := func(wantTotal map[string]map[string]int) Stats {
		t.Helper()
		st, err := s.Statuses().Stats(ctx, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st.Total, wantTotal) {
			t.Fatalf("totals %v, want %v", st.Total, wantTotal)
		}
		return st
	}
	state := func(uid int64, level string) string {
		t.Helper()
		st, err := s.Statuses().Get(ctx, uid, level)
		if err != nil {
			t.Fatal(err)
		}
		return st.State
	}

	set(u1, "basic", StateVerified)
	set(u2, "basic", StatePending)
	// Redis collects the hash after the retention.
	if ttl := c.PTTL(ctx, s.userKey(u1, "status")).Val(); ttl < time.Hour-time.Minute || ttl > time.Hour {
		t.Fatalf("status TTL %v, want about an hour", ttl)
	}

	// Every SetStatus keeps all the user's statuses for the retention.
	clock.Advance(30 * time.Minute)
	set(u1, "full", StateVerified)
	clock.Advance(40 * time.Minute) // u2 is 70 minutes old, u1 40
	if got := state(u2, "basic"); got != StateNone {
		t.Fatalf("u2 after the retention: %s, want none", got)
	}
	if l, err := s.Statuses().List(ctx, u2); err != nil || len(l) != 0 {
		t.Fatalf("u2's statuses after the retention: %v, %v", l, err)
	}
	if l, _ := s.Statuses().List(ctx, u1); len(l) != 2 || state(u1, "basic") != StateVerified {
		t.Fatalf("u1's statuses within the retention: %v", l)
	}
	stats(map[string]map[string]int{"basic": {StateVerified: 1}, "full": {StateVerified: 1}})

	// An expired user starts anew: a new creation time, counted once.
	set(u2, "basic", StateVerified)
	if st, _ := s.Statuses().Get(ctx, u2, "basic"); !st.CreatedAt.Equal(clock.Now()) {
		t.Fatalf("u2 created %v, want now %v", st.CreatedAt, clock.Now())
	}
	today := stats(map[string]map[string]int{"basic": {StateVerified: 2}, "full": {StateVerified: 1}})
	if want := (map[string]map[string]int{"basic": {StatePending: 1, StateVerified: 2}, "full": {StateVerified: 1}}); !reflect.DeepEqual(today.Today, want) {
		t.Fatalf("today %v, want %v", today.Today, want)
	}

	// Everything expires; resetting an expired status changes nothing.
	clock.Advance(61 * time.Minute)
	if err := s.Statuses().Reset(ctx, u1, "basic"); err != nil {
		t.Fatal(err)
	}
	stats(map[string]map[string]int{})
	if n := c.HLen(ctx, s.statsKey("held")).Val() + c.ZCard(ctx, s.statsKey("expiry")).Val(); n != 0 {
		t.Fatalf("%d entries left in the held hash and expiry set", n)
	}

	// Turning the retention off keeps the counts right and the status.
	set(u1, "basic", StatePending)
	forever := New(c, WithPrefix(s.Prefix()), WithClock(clock.Now))
	if err := forever.Statuses().Set(ctx, Status{UserID: u1, Level: "basic", State: StateVerified}); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, s.userKey(u1, "status")).Val(); ttl != -1 {
		t.Fatalf("status TTL %v without retention, want none", ttl)
	}
	if c.HExists(ctx, s.statsKey("held"), strconv.Itoa(u1)).Val() {
		t.Fatal("the stats still hold u1 for expiry")
	}
	clock.Advance(2 * time.Hour)
	if st, _ := forever.Statuses().Stats(ctx, clock.Now()); !reflect.DeepEqual(st.Total, map[string]map[string]int{"basic": {StateVerified: 1}}) {
		t.Fatalf("totals %v, want u1 verified", st.Total)
	}
}

// The retention is a real Redis TTL too (short here, in milliseconds).
func TestStatusRetentionRedisExpiry(t *testing.T) {
	s, c := newTestStore(t, WithStatusRetention(300*time.Millisecond))
	ctx := context.Background()
	if err := s.Statuses().Set(ctx, Status{UserID: 8201, Level: "basic", State: StateVerified}); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, s.userKey(8201, "status")).Val(); ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("status TTL %v, want at most 300ms", ttl)
	}
	time.Sleep(450 * time.Millisecond)
	if n := c.Exists(ctx, s.userKey(8201, "status")).Val(); n != 0 {
		t.Fatal("Redis kept the status past its TTL")
	}
	if st, err := s.Statuses().Get(ctx, 8201, "basic"); err != nil || st.State != StateNone {
		t.Fatalf("Get = %+v, %v; want none", st, err)
	}
	if st, err := s.Statuses().Stats(ctx, time.Now()); err != nil || len(st.Total) != 0 {
		t.Fatalf("totals %v, %v; want none", st.Total, err)
	}
}

func TestRetentionOptions(t *testing.T) {
	c := needRedis(t)
	for name, o := range map[string]Option{
		"status": WithStatusRetention(-time.Second),
		"audit":  WithAuditRetention(-time.Second),
	} {
		s := New(c, WithPrefix(testPrefix(t, c)), o)
		if err := s.Statuses().Set(context.Background(), Status{UserID: 1, Level: "basic", State: StatePending}); !errors.Is(err, ErrInvalid) {
			t.Errorf("negative %s retention: Set error %v, want ErrInvalid", name, err)
		}
		if err := s.Audit().Append(context.Background(), Event{Kind: "x"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("negative %s retention: Audit error %v, want ErrInvalid", name, err)
		}
	}
}

// offsetClock is the real time plus a settable offset: stream IDs come
// from the Redis server's clock, so trimming tests move the store's clock
// ahead of it rather than stopping it.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = d
}

// trimmedTrail audits 250 events (several stream nodes, whatever the
// server's stream-node-max-* settings), then one more an hour later with
// a retention of an hour, which trims the old ones.
func trimmedTrail(t *testing.T) (*Store, redis.UniversalClient, []redis.XMessage) {
	t.Helper()
	clock := &offsetClock{}
	s, c := newTestStore(t, WithClock(clock.Now), WithAuditRetention(time.Hour))
	ctx := context.Background()
	const old = 250
	for i := range old {
		ev := Event{Kind: "verified", UserID: int64(9000 + i), Level: "basic", Ref: "crm-" + strconv.Itoa(i), Codes: []string{"ok"}}
		if err := s.Audit().Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if sum, err := s.Audit().Verify(ctx); err != nil || sum.Events != old {
		t.Fatalf("before trimming: %+v, %v", sum, err)
	}
	time.Sleep(5 * time.Millisecond) // the old events' IDs are in the past
	clock.Set(time.Hour)
	if err := s.Audit().Append(ctx, Event{Kind: "issued", UserID: 1}); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.XRange(ctx, s.auditKey("stream"), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) > old || len(msgs) < 1 {
		t.Fatalf("%d events after trimming %d old ones", len(msgs), old)
	}
	return s, c, msgs
}

func TestAuditRetention(t *testing.T) {
	s, c, msgs := trimmedTrail(t)
	ctx := context.Background()
	t.Logf("%d of 251 events left after trimming", len(msgs))
	if msgs[0].Values["prev"] == "" {
		t.Fatal("the first remaining event is the first ever: nothing was trimmed")
	}
	if base := c.Get(ctx, s.auditKey("base")).Val(); base != msgs[0].Values["prev"] {
		t.Fatalf("base %q, want the first remaining event's prev %q", base, msgs[0].Values["prev"])
	}
	sum, err := s.Audit().Verify(ctx)
	if n := sum.Events; err != nil || n != len(msgs) {
		t.Fatalf("Verify after trimming = %+v, %v; want %d, nil", sum, err, len(msgs))
	}
	// The chain goes on.
	for range 3 {
		if err := s.Audit().Append(ctx, Event{Kind: "issued", UserID: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if sum, err := s.Audit().Verify(ctx); err != nil || sum.Events != len(msgs)+3 {
		t.Fatalf("Verify after more events = %+v, %v; want %d, nil", sum, err, len(msgs)+3)
	}
}

// Trimming does not blind VerifyAudit: changes inside the remaining chain,
// and removals at its start other than by trimming, are still found.
func TestAuditRetentionTamper(t *testing.T) {
	tests := []struct {
		name  string
		edit  func([]redis.XMessage) []redis.XMessage
		badAt func(n int) int // index in the edited stream of the event reported
	}{
		{"event inside changed", func(m []redis.XMessage) []redis.XMessage {
			i := len(m) / 2
			m[i].Values["e"] = strings.Replace(m[i].Values["e"].(string), `"basic"`, `"full"`, 1)
			return m
		}, func(n int) int { return n / 2 }},
		{"event inside rehashed", func(m []redis.XMessage) []redis.XMessage {
			i := len(m) / 2
			m[i] = rehash(m[i], func(r *auditRecord) { r.Kind = "rejected" })
			return m
		}, func(n int) int { return n / 2 }},
		{"first remaining event removed", func(m []redis.XMessage) []redis.XMessage {
			return m[1:]
		}, func(int) int { return 0 }},
		{"last event removed", func(m []redis.XMessage) []redis.XMessage {
			return m[:len(m)-1]
		}, func(n int) int { return n - 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, before := trimmedTrail(t)
			if len(before) < 3 {
				t.Skipf("only %d events left after trimming", len(before))
			}
			msgs := rewriteAudit(t, s, c, tt.edit)
			_, err := s.Audit().Verify(context.Background())
			var ae *AuditError
			if !errors.As(err, &ae) {
				t.Fatalf("Verify error %v, want an AuditError", err)
			}
			if want := msgs[tt.badAt(len(msgs))].ID; ae.EventID != want {
				t.Fatalf("broken at %s (%v), want %s", ae.EventID, err, want)
			}
		})
	}
}

// Instances may apply the stats of two changes of one user in the
// opposite order of the changes: the totals still come out right, with
// or without a retention.
func TestStatsOutOfOrder(t *testing.T) {
	for name, keep := range map[string]time.Duration{"keep forever": 0, "retention": time.Hour} {
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			s, _ := newTestStore(t, WithClock(clock.Now), WithStatusRetention(keep))
			ctx := context.Background()
			now := clock.Now()
			change := func(script *redis.Script, args ...any) statusChange {
				t.Helper()
				ch, err := runStatusScript(ctx, s, script, 8301, args...)
				if err != nil {
					t.Fatal(err)
				}
				return ch
			}
			rec := func(state string) string { return `{"state":"` + state + `","updated":1}` }
			a := change(setStatusScript, "basic", rec(StatePending), now.UnixMilli(), ms(keep))
			b := change(setStatusScript, "full", rec(StateVerified), now.UnixMilli(), ms(keep))
			c := change(setStatusScript, "basic", rec(StateVerified), now.UnixMilli(), ms(keep))
			d := change(resetStatusScript, "full", now.UnixMilli(), ms(keep))
			for _, step := range []struct {
				level, to string
				ch        statusChange
			}{{"basic", StateVerified, c}, {"full", "", d}, {"basic", StatePending, a}, {"full", StateVerified, b}} {
				if err := s.recount(ctx, 8301, step.level, step.to, step.ch, now); err != nil {
					t.Fatal(err)
				}
			}
			st, err := s.Statuses().Stats(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if want := (map[string]map[string]int{"basic": {StateVerified: 1}}); !reflect.DeepEqual(st.Total, want) {
				t.Fatalf("totals %v, want %v", st.Total, want)
			}
			wantToday := map[string]map[string]int{"basic": {StatePending: 1, StateVerified: 1}, "full": {StateVerified: 1}}
			if !reflect.DeepEqual(st.Today, wantToday) {
				t.Fatalf("today %v, want %v", st.Today, wantToday)
			}
		})
	}
}

// Many instances changing the statuses of the same users at once, with a
// retention: the totals match the statuses.
func TestStatsRetentionConcurrent(t *testing.T) {
	s, c := newTestStore(t, WithStatusRetention(time.Hour))
	ctx := context.Background()
	levels := []string{"basic", "full", "extra"}
	states := []string{StatePending, StateNeedsFixes, StateVerified, StateRejected}
	var wg sync.WaitGroup
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := New(c, WithPrefix(s.Prefix()), WithStatusRetention(time.Hour))
			for i := range 30 {
				uid := int64(8400 + (w+i)%3)
				level := levels[(w*7+i)%len(levels)]
				var err error
				if (w+i)%5 == 0 {
					err = st.Statuses().Reset(ctx, uid, level)
				} else {
					err = st.Statuses().Set(ctx, Status{UserID: uid, Level: level, State: states[(w+i*3)%len(states)]})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := map[string]map[string]int{}
	for uid := int64(8400); uid < 8403; uid++ {
		list, err := s.Statuses().List(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range list {
			if want[st.Level] == nil {
				want[st.Level] = map[string]int{}
			}
			want[st.Level][st.State]++
		}
	}
	got, err := s.Statuses().Stats(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Total, want) {
		t.Fatalf("totals %v, want %v (the statuses)", got.Total, want)
	}
}

// A reset that empties a user's statuses, applied before an older change:
// the older change must not count again.
func TestStatsOutOfOrderAfterReset(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now), WithStatusRetention(time.Hour))
	ctx := context.Background()
	now := clock.Now()
	a, err := runStatusScript(ctx, s, setStatusScript, 8501, "basic", `{"state":"pending","updated":1}`, now.UnixMilli(), ms(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, err := runStatusScript(ctx, s, resetStatusScript, 8501, "basic", now.UnixMilli(), ms(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.recount(ctx, 8501, "basic", "", b, now); err != nil {
		t.Fatal(err)
	}
	if err := s.recount(ctx, 8501, "basic", StatePending, a, now); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Statuses().Stats(ctx, now); err != nil || len(st.Total) != 0 {
		t.Fatalf("totals %v, %v; want none", st.Total, err)
	}
}

// A retention turned on for users counted without one: even the first
// two changes applied out of order count them once.
func TestStatsRetentionBegins(t *testing.T) {
	clock := newFakeClock()
	forever, c := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	for _, level := range []string{"basic", "extra"} {
		if err := forever.Statuses().Set(ctx, Status{UserID: 8601, Level: level, State: StatePending}); err != nil {
			t.Fatal(err)
		}
	}
	s := New(c, WithPrefix(forever.Prefix()), WithClock(clock.Now), WithStatusRetention(time.Hour), WithAuditKey(testAuditKey))
	now := clock.Now()
	keep := ms(time.Hour)
	a, err := runStatusScript(ctx, s, setStatusScript, 8601, "basic", `{"state":"verified","updated":1}`, now.UnixMilli(), keep)
	if err != nil {
		t.Fatal(err)
	}
	b, err := runStatusScript(ctx, s, setStatusScript, 8601, "full", `{"state":"verified","updated":1}`, now.UnixMilli(), keep)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		level string
		ch    statusChange
	}{{"full", b}, {"basic", a}} {
		if err := s.recount(ctx, 8601, step.level, StateVerified, step.ch, now); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]map[string]int{"basic": {StateVerified: 1}, "extra": {StatePending: 1}, "full": {StateVerified: 1}}
	if st, err := s.Statuses().Stats(ctx, now); err != nil || !reflect.DeepEqual(st.Total, want) {
		t.Fatalf("totals %v, %v; want %v", st.Total, err, want)
	}
	// Deleting the user takes all of it out.
	if _, err := s.DeleteUser(ctx, 8601); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Statuses().Stats(ctx, now); err != nil || len(st.Total) != 0 {
		t.Fatalf("totals after deletion %v, %v; want none", st.Total, err)
	}
}
