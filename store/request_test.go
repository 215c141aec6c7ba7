package store

import (
	"bytes"
	"context"
	"encoding/json"
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

func TestIssueRequestRoundTrip(t *testing.T) {
	clock := newFakeClock()
	s, c := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()

	p := RequestParams{UserID: 1001, ChatID: 1001, Level: "full", Lang: "pt-BR", Ref: "crm-42_A"}
	r, err := s.Requests().Issue(ctx, p, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ID) != 22 || !idRE.MatchString(r.ID) {
		t.Errorf("request ID %q is not 16 bytes of base64url", r.ID)
	}
	if len(r.Nonce) != 43 || !nonceRE.MatchString(r.Nonce) {
		t.Errorf("nonce %q is not 32 bytes of base64url", r.Nonce)
	}
	if !r.IssuedAt.Equal(clock.Now()) || r.ExpiresAt.Sub(r.IssuedAt) != 30*time.Minute {
		t.Errorf("times %v .. %v, want %v + 30m", r.IssuedAt, r.ExpiresAt, clock.Now())
	}
	if r.UserID != p.UserID || r.ChatID != p.ChatID || r.Level != p.Level || r.Lang != p.Lang || r.Ref != p.Ref {
		t.Errorf("request %+v does not carry params %+v", r, p)
	}

	got, err := s.Requests().Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != r {
		t.Errorf("Request(id) = %+v, want %+v", got, r)
	}

	// The nonce never appears in a key name; its hash does.
	var hashed bool
	for _, k := range allKeys(t, c, s.Prefix()) {
		if strings.Contains(k, r.Nonce) {
			t.Errorf("key %s names the nonce", k)
		}
		if strings.Contains(k, r.NonceHash()) {
			hashed = true
		}
	}
	if !hashed {
		t.Error("no key names the nonce's SHA-256")
	}

	// The tombstone outlives the request by NonceTombstoneTTL, by the
	// store's clock and for Redis.
	state, err := c.HGet(ctx, s.userKey(p.UserID, "nonces"), r.NonceHash()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.FormatInt(r.ExpiresAt.Add(NonceTombstoneTTL).UnixMilli(), 10) + "|live"; state != want {
		t.Errorf("nonce state %q, want %q", state, want)
	}
	pttl, err := c.PTTL(ctx, s.userKey(p.UserID, "nonces")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := 30*time.Minute + NonceTombstoneTTL; pttl < want-time.Minute || pttl > want {
		t.Errorf("nonces hash TTL %v, want about %v", pttl, want)
	}
}

func TestIssueRequestValidation(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	ok := RequestParams{UserID: 1, ChatID: 1, Level: "basic", Lang: "en", Ref: "abc"}
	tests := []struct {
		name string
		edit func(*RequestParams)
		ttl  time.Duration
		ok   bool
	}{
		{"valid", func(*RequestParams) {}, time.Minute, true},
		{"empty ref", func(p *RequestParams) { p.Ref = "" }, time.Minute, true},
		{"64 char ref", func(p *RequestParams) { p.Ref = strings.Repeat("a", 64) }, time.Minute, true},
		{"ref of every allowed character", func(p *RequestParams) { p.Ref = "AZaz09_-" }, time.Minute, true},
		{"no lang", func(p *RequestParams) { p.Lang = "" }, time.Minute, true},
		{"65 char ref", func(p *RequestParams) { p.Ref = strings.Repeat("a", 65) }, time.Minute, false},
		{"ref with space", func(p *RequestParams) { p.Ref = "a b" }, time.Minute, false},
		{"ref with dot", func(p *RequestParams) { p.Ref = "a.b" }, time.Minute, false},
		{"ref with non-ASCII", func(p *RequestParams) { p.Ref = "Müller" }, time.Minute, false},
		{"ref with @", func(p *RequestParams) { p.Ref = "john@example.com" }, time.Minute, false},
		{"no level", func(p *RequestParams) { p.Level = "" }, time.Minute, false},
		{"bad lang", func(p *RequestParams) { p.Lang = "en_US!" }, time.Minute, false},
		{"zero user", func(p *RequestParams) { p.UserID = 0 }, time.Minute, false},
		{"negative user", func(p *RequestParams) { p.UserID = -5 }, time.Minute, false},
		{"zero TTL", func(*RequestParams) {}, 0, false},
		{"negative TTL", func(*RequestParams) {}, -time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.edit(&p)
			_, err := s.Requests().Issue(ctx, p, tt.ttl)
			if tt.ok && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tt.ok {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v, want ErrInvalid", err)
				}
				if p.Ref != "" && len(p.Ref) > 3 && strings.Contains(err.Error(), p.Ref) {
					t.Errorf("error %q repeats the input", err)
				}
			}
		})
	}
}

func TestConsumeNonce(t *testing.T) {
	const alice, bob = 2001, 2002
	type step struct {
		user    int64
		useOld  bool // consume the first request's nonce instead of the last
		advance time.Duration
		want    error // nil for success
	}
	tests := []struct {
		name   string
		issues int
		steps  []step
	}{
		{"once then used", 1, []step{
			{user: alice},
			{user: alice, want: ErrNonceUsed},
			{user: alice, want: ErrNonceUsed},
		}},
		{"other user does not burn it", 1, []step{
			{user: bob, want: ErrNonceOtherUser},
			{user: bob, want: ErrNonceOtherUser},
			{user: alice},
			{user: bob, want: ErrNonceOtherUser},
			{user: alice, want: ErrNonceUsed},
		}},
		{"expired", 1, []step{
			{user: alice, advance: 10*time.Minute + time.Millisecond, want: ErrNonceExpired},
			{user: alice, want: ErrNonceExpired},
		}},
		{"expires exactly at ExpiresAt", 1, []step{
			{user: alice, advance: 10 * time.Minute, want: ErrNonceExpired},
		}},
		{"just before expiry", 1, []step{
			{user: alice, advance: 10*time.Minute - time.Millisecond},
		}},
		{"superseded", 2, []step{
			{user: alice, useOld: true, want: ErrNonceSuperseded},
			{user: alice},
			{user: alice, useOld: true, want: ErrNonceSuperseded},
			{user: alice, want: ErrNonceUsed},
		}},
		{"superseded then the new one expires", 2, []step{
			{user: alice, advance: time.Hour, want: ErrNonceExpired},
			{user: alice, useOld: true, want: ErrNonceSuperseded},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s, _ := newTestStore(t, WithClock(clock.Now))
			ctx := context.Background()
			var reqs []Request
			for range tt.issues {
				r, err := s.Requests().Issue(ctx, RequestParams{UserID: alice, ChatID: alice, Level: "basic", Ref: "r1"}, 10*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				reqs = append(reqs, r)
			}
			for i, st := range tt.steps {
				clock.Advance(st.advance)
				r := reqs[len(reqs)-1]
				if st.useOld {
					r = reqs[0]
				}
				got, err := s.Requests().Consume(ctx, r.Nonce, st.user)
				if st.want == nil {
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if got != r {
						t.Fatalf("step %d: got request %+v, want %+v", i, got, r)
					}
					continue
				}
				if !errors.Is(err, st.want) {
					t.Fatalf("step %d: error %v, want %v", i, err, st.want)
				}
				if strings.Contains(err.Error(), r.Nonce) {
					t.Fatalf("step %d: error %q holds the nonce", i, err)
				}
				if !strings.Contains(err.Error(), r.NonceHash()[:12]) {
					t.Errorf("step %d: error %q does not name the nonce hash", i, err)
				}
			}
		})
	}
}

func TestConsumeNonceUnknown(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for _, nonce := range []string{
		"", "short", strings.Repeat("A", 43), strings.Repeat("A", 44), "not a nonce at all, has spaces and is long!!",
	} {
		if _, err := s.Requests().Consume(ctx, nonce, 1); !errors.Is(err, ErrNonceUnknown) {
			t.Errorf("Consume(%q) error %v, want ErrNonceUnknown", nonce, err)
		}
	}
}

func TestRequestLookup(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	p := RequestParams{UserID: 3001, ChatID: 3001, Level: "basic"}

	old, err := s.Requests().Issue(ctx, p, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Requests().Issue(ctx, p, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{
		"superseded": old.ID,
		"unknown":    "AAAAAAAAAAAAAAAAAAAAAA",
		"malformed":  "../../etc/passwd",
	} {
		if _, err := s.Requests().Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: error %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.Requests().Get(ctx, cur.ID); err != nil {
		t.Fatalf("current: %v", err)
	}
	clock.Advance(time.Minute)
	if _, err := s.Requests().Get(ctx, cur.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired: error %v, want ErrNotFound", err)
	}

	// A used request is gone too.
	used, err := s.Requests().Issue(ctx, p, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Requests().Consume(ctx, used.Nonce, p.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Requests().Get(ctx, used.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("used: error %v, want ErrNotFound", err)
	}
}

// Several instances (stores sharing the Redis) racing on one submission:
// another user's attempts, all at once, are refused without burning the
// nonce; then of 100 attempts by the right user, exactly one consumes it.
func TestConsumeNonceConcurrent(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const user, intruder, n = 4001, 4002, 100
	r, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	race := func(uid int64) map[error]int {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			start = make(chan struct{})
			out   = map[error]int{}
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				other := New(c, WithPrefix(s.Prefix())) // an instance of its own, on the shared client
				<-start
				got, err := other.Requests().Consume(ctx, r.Nonce, uid)
				for _, sentinel := range []error{ErrNonceUsed, ErrNonceOtherUser} {
					if errors.Is(err, sentinel) {
						err = sentinel
					}
				}
				if err == nil && got != r {
					t.Errorf("the winner got request %+v, want %+v", got, r)
				}
				mu.Lock()
				defer mu.Unlock()
				out[err]++
			}()
		}
		close(start)
		wg.Wait()
		return out
	}
	if got := race(intruder); got[ErrNonceOtherUser] != n {
		t.Fatalf("another user's attempts: %v, want %d refusals", got, n)
	}
	if got := race(user); got[nil] != 1 || got[ErrNonceUsed] != n-1 {
		t.Fatalf("the user's attempts: %v; want 1 success and %d ErrNonceUsed", got, n-1)
	}
}

// Expiry holds on the Redis clock too: a request with a short TTL (in
// milliseconds) and the real clock.
func TestConsumeNonceRealExpiry(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	r, err := s.Requests().Issue(ctx, RequestParams{UserID: 4101, ChatID: 4101, Level: "basic"}, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, s.userKey(4101, "request")).Val(); ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("request TTL %v, want at most 300ms", ttl)
	}
	time.Sleep(400 * time.Millisecond)
	if c.Exists(ctx, s.userKey(4101, "request")).Val() != 0 {
		t.Error("Redis kept the request past its TTL")
	}
	if _, err := s.Requests().Get(ctx, r.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("page after expiry: %v, want ErrNotFound", err)
	}
	for range 2 { // expired, and stays so (the tombstone)
		if _, err := s.Requests().Consume(ctx, r.Nonce, 4101); !errors.Is(err, ErrNonceExpired) {
			t.Fatalf("consume after expiry: %v, want ErrNonceExpired", err)
		}
	}
}

// Concurrent issues for one user leave exactly one live request.
func TestIssueRequestConcurrent(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	const n = 12
	reqs := make([]Request, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqs[i], errs[i] = s.Requests().Issue(ctx, RequestParams{UserID: 5001, ChatID: 5001, Level: "basic"}, time.Minute)
		}()
	}
	wg.Wait()
	live, superseded := 0, 0
	for i, r := range reqs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		_, err := s.Requests().Consume(ctx, r.Nonce, 5001)
		switch {
		case err == nil:
			live++
		case errors.Is(err, ErrNonceSuperseded):
			superseded++
		default:
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if live != 1 || superseded != n-1 {
		t.Fatalf("live %d, superseded %d; want 1 and %d", live, superseded, n-1)
	}
}

func TestBadPrefix(t *testing.T) {
	c := needRedis(t)
	s := New(c, WithPrefix("kycbot:{x}:"))
	if _, err := s.Requests().Issue(context.Background(), RequestParams{UserID: 1, Level: "basic"}, time.Minute); !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v, want ErrInvalid for a prefix with braces", err)
	}
}

func TestConsumeNonceByMessageIsRepeatable(t *testing.T) {
	st, c := newTestStore(t)
	ctx := context.Background()
	req, err := st.Requests().Issue(ctx, RequestParams{UserID: 7001, ChatID: 7001, Level: "full", Lang: "ru", Ref: "r-1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	first, err := st.Requests().Consume(ctx, req.Nonce, 7001, ByMessage(42))
	if err != nil {
		t.Fatal(err)
	}
	// The same update again (a retry after a failure) gets the same request.
	again, err := st.Requests().Consume(ctx, req.Nonce, 7001, ByMessage(42))
	if err != nil {
		t.Fatalf("repeated consume by the same message: %v", err)
	}
	if again != first || again.Nonce != req.Nonce || again.Level != "full" || again.Ref != "r-1" || again.Lang != "ru" {
		t.Errorf("repeated consume = %+v, want %+v", again, first)
	}
	// Another message, no message, or another user: still a replay.
	for name, try := range map[string]func() error{
		"other message": func() error { _, err := st.Requests().Consume(ctx, req.Nonce, 7001, ByMessage(43)); return err },
		"no message":    func() error { _, err := st.Requests().Consume(ctx, req.Nonce, 7001); return err },
	} {
		if err := try(); !errors.Is(err, ErrNonceUsed) {
			t.Errorf("%s: %v, want ErrNonceUsed", name, err)
		}
	}
	if _, err := st.Requests().Consume(ctx, req.Nonce, 7002, ByMessage(42)); !errors.Is(err, ErrNonceOtherUser) {
		t.Errorf("other user: %v, want ErrNonceOtherUser", err)
	}
	// The nonce itself is not kept in Redis after use.
	if err := scanAll(ctx, c, st.Prefix(), func(k string) {
		if v, _ := c.Get(ctx, k).Result(); strings.Contains(v, req.Nonce) {
			t.Errorf("key %s holds the nonce after use", k)
		}
	}); err != nil {
		t.Fatal(err)
	}
	// Without ByMessage a used nonce stays a plain replay.
	req2, err := st.Requests().Issue(ctx, RequestParams{UserID: 7003, ChatID: 7003, Level: "full"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Requests().Consume(ctx, req2.Nonce, 7003); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Requests().Consume(ctx, req2.Nonce, 7003, ByMessage(1)); !errors.Is(err, ErrNonceUsed) {
		t.Errorf("consume by a message after a plain consume: %v, want ErrNonceUsed", err)
	}
}

func TestIssuedFor(t *testing.T) {
	const user = 6001
	params := RequestParams{UserID: user, ChatID: user, Level: "basic", Ref: "r1"}
	tests := []struct {
		name string
		// between runs after the first issue, made IssuedFor("q-1").
		between func(t *testing.T, s *Store, clock *testkit.Clock, first Request)
		params  func(*RequestParams)
		opts    []IssueOption // of the second issue
		same    bool          // the second issue answers the first request
		// firstErr is what consuming the first request's nonce afterwards
		// answers.
		firstErr error
	}{
		{name: "same source", opts: []IssueOption{IssuedFor("q-1")}, same: true},
		{name: "same source, other params", params: func(p *RequestParams) { p.Level, p.Ref = "full", "r2" },
			opts: []IssueOption{IssuedFor("q-1")}, same: true},
		{name: "another source", opts: []IssueOption{IssuedFor("q-2")}, firstErr: ErrNonceSuperseded},
		{name: "no source", firstErr: ErrNonceSuperseded},
		{name: "same source, request used", opts: []IssueOption{IssuedFor("q-1")}, firstErr: ErrNonceUsed,
			between: func(t *testing.T, s *Store, _ *testkit.Clock, first Request) {
				if _, err := s.Requests().Consume(context.Background(), first.Nonce, user); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "same source, request cancelled", opts: []IssueOption{IssuedFor("q-1")}, firstErr: ErrNonceCancelled,
			between: func(t *testing.T, s *Store, _ *testkit.Clock, _ Request) {
				if ok, err := s.Requests().Cancel(context.Background(), user); err != nil || !ok {
					t.Fatalf("cancel: %v %v", ok, err)
				}
			}},
		{name: "same source, request expired", opts: []IssueOption{IssuedFor("q-1")}, firstErr: ErrNonceSuperseded,
			between: func(_ *testing.T, _ *Store, clock *testkit.Clock, _ Request) { clock.Advance(10 * time.Minute) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s, _ := newTestStore(t, WithClock(clock.Now))
			ctx := context.Background()
			first, err := s.Requests().Issue(ctx, params, 10*time.Minute, IssuedFor("q-1"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.between != nil {
				tt.between(t, s, clock, first)
			}
			p := params
			if tt.params != nil {
				tt.params(&p)
			}
			second, err := s.Requests().Issue(ctx, p, 10*time.Minute, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := second == first; got != tt.same {
				t.Fatalf("second issue = %+v, first %+v; same %v, want %v", second, first, got, tt.same)
			}
			// The second is the live request, whose page and nonce work.
			if live, ok, err := s.Requests().Live(ctx, user); err != nil || !ok || live != second {
				t.Errorf("live request = %+v %v %v, want %+v", live, ok, err, second)
			}
			if got, err := s.Requests().Get(ctx, second.ID); err != nil || got != second {
				t.Errorf("page = %+v %v, want %+v", got, err, second)
			}
			if !tt.same {
				if _, err := s.Requests().Consume(ctx, first.Nonce, user); !errors.Is(err, tt.firstErr) {
					t.Errorf("consuming the first nonce: %v, want %v", err, tt.firstErr)
				}
			}
			if got, err := s.Requests().Consume(ctx, second.Nonce, user); err != nil || got != second {
				t.Errorf("consuming the second nonce = %+v %v, want %+v", got, err, second)
			}
		})
	}
}

// An issue whose worker died between its two steps (the request installed,
// its routing keys not written) is completed by the same source's next
// issue: the page finds the request, and another user's attempt with its
// nonce is told apart from an unknown nonce.
func TestIssuedForRestoresRouting(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const user, other = 6101, 6102
	first, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic"}, time.Hour, IssuedFor("entry-1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{s.key("nidx:" + first.NonceHash()), s.key("ridx:" + first.ID)} {
		if err := c.Del(ctx, k).Err(); err != nil { // one at a time: different cluster slots
			t.Fatal(err)
		}
	}
	if _, err := s.Requests().Get(ctx, first.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("page without its routing key: %v, want ErrNotFound", err)
	}
	again, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic"}, time.Hour, IssuedFor("entry-1"))
	if err != nil || again != first {
		t.Fatalf("issue again = %+v %v, want %+v", again, err, first)
	}
	if got, err := s.Requests().Get(ctx, first.ID); err != nil || got != first {
		t.Errorf("page = %+v %v", got, err)
	}
	if pttl := c.PTTL(ctx, s.key("ridx:"+first.ID)).Val(); pttl < time.Hour+NonceTombstoneTTL-time.Minute || pttl > time.Hour+NonceTombstoneTTL {
		t.Errorf("restored routing key TTL %v, want about %v", pttl, time.Hour+NonceTombstoneTTL)
	}
	if _, err := s.Requests().Consume(ctx, first.Nonce, other); !errors.Is(err, ErrNonceOtherUser) {
		t.Errorf("another user: %v, want ErrNonceOtherUser", err)
	}
	if _, err := s.Requests().Consume(ctx, first.Nonce, user); err != nil {
		t.Errorf("the user: %v", err)
	}
}

// The same queue entry processed by several workers at once gives the
// user one request.
func TestIssuedForConcurrent(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	const n = 12
	reqs := make([]Request, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			reqs[i], errs[i] = s.Requests().Issue(ctx, RequestParams{UserID: 6201, ChatID: 6201, Level: "basic"}, time.Minute, IssuedFor("1700000000000-0"))
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if reqs[i] != reqs[0] {
			t.Fatalf("issue %d = %+v, issue 0 = %+v: want one request", i, reqs[i], reqs[0])
		}
	}
	if _, err := s.Requests().Consume(ctx, reqs[0].Nonce, 6201); err != nil {
		t.Fatal(err)
	}
}

func TestIssuedForValidation(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	p := RequestParams{UserID: 6301, ChatID: 6301, Level: "basic"}
	tests := []struct {
		src string
		ok  bool
	}{
		{"1700000000000-0", true},
		{"queue:entry_7.a-B", true},
		{strings.Repeat("q", 128), true},
		{"", false},
		{strings.Repeat("q", 129), false},
		{"a b", false},
		{"entry/1", false},
		{"Müller", false},
	}
	for _, tt := range tests {
		_, err := s.Requests().Issue(ctx, p, time.Minute, IssuedFor(tt.src))
		if tt.ok != (err == nil) {
			t.Errorf("IssuedFor(%q): %v, want ok %v", tt.src, err, tt.ok)
		}
		if !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("IssuedFor(%q): %v, want ErrInvalid", tt.src, err)
		}
		if !tt.ok && tt.src != "" && strings.Contains(err.Error(), tt.src) {
			t.Errorf("IssuedFor(%q): error %q repeats the source", tt.src, err)
		}
	}
	// Redis only sees the source's SHA-256.
	for _, k := range allKeys(t, c, s.Prefix()) {
		if v := dumpKey(t, c, k); strings.Contains(k+v, "queue:entry_7") || strings.Contains(k+v, "1700000000000-0") {
			t.Errorf("key %s holds a source in clear", k)
		}
	}
}

// Nonce states are forgotten NonceTombstoneTTL after their request's
// expiry, by the store's clock, and the next issue prunes them.
func TestNonceTombstonesForgotten(t *testing.T) {
	clock := newFakeClock()
	s, c := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	const user = 6401
	var old []Request
	for range 4 {
		r, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, r)
	}
	if n := c.HLen(ctx, s.userKey(user, "nonces")).Val(); n != 4 {
		t.Fatalf("%d nonce states, want 4", n)
	}
	clock.Advance(time.Minute + NonceTombstoneTTL - time.Millisecond)
	if _, err := s.Requests().Consume(ctx, old[0].Nonce, user); !errors.Is(err, ErrNonceSuperseded) {
		t.Fatalf("just before its tombstone ends: %v, want ErrNonceSuperseded", err)
	}
	clock.Advance(time.Millisecond)
	for _, r := range old {
		if _, err := s.Requests().Consume(ctx, r.Nonce, user); !errors.Is(err, ErrNonceUnknown) {
			t.Errorf("after the tombstone: %v, want ErrNonceUnknown", err)
		}
	}
	if _, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := c.HLen(ctx, s.userKey(user, "nonces")).Val(); n != 1 {
		t.Errorf("%d nonce states after the next issue, want 1 (the old ones pruned)", n)
	}
	if n := c.ZCard(ctx, s.userKey(user, "index")).Val(); n != 2 {
		t.Errorf("index of %d members, want the new request's 2", n)
	}
}

// A nonce whose state has a key of its own, as before the nonces hash,
// is consumed as it was: its key moves into the hash. DeleteUser deletes
// such keys too.
func TestConsumeLegacyNonceKey(t *testing.T) {
	const user = 6501
	tests := []struct {
		state string // "" for the request's consume by message 42, as JSON
		opts  []ConsumeOption
		want  error
	}{
		{state: "live"},
		{state: "", opts: []ConsumeOption{ByMessage(42)}},
		{state: "", opts: []ConsumeOption{ByMessage(43)}, want: ErrNonceUsed},
		{state: "used", want: ErrNonceUsed},
		{state: "superseded", want: ErrNonceSuperseded},
		{state: "expired", want: ErrNonceExpired},
		{state: "cancelled", want: ErrNonceCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			s, c := newTestStore(t)
			ctx := context.Background()
			r, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic", Ref: "r-9"}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			state := tt.state
			if state == "" {
				flat := []string{"id", r.ID, "nh", r.NonceHash(), "uid", "6501", "chat", "6501", "level", "basic", "lang", "", "ref", "r-9",
					"iat", strconv.FormatInt(r.IssuedAt.UnixMilli(), 10), "exp", strconv.FormatInt(r.ExpiresAt.UnixMilli(), 10)}
				b, err := json.Marshal(flat)
				if err != nil {
					t.Fatal(err)
				}
				state = "used|m42|" + string(b)
			}
			legacy := s.userKey(user, "nonce:"+r.NonceHash())
			if err := c.HDel(ctx, s.userKey(user, "nonces"), r.NonceHash()).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, legacy, state, time.Hour+NonceTombstoneTTL).Err(); err != nil {
				t.Fatal(err)
			}
			got, err := s.Requests().Consume(ctx, r.Nonce, user, tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("consume: %v, want %v", err, tt.want)
			}
			if err == nil && got != r {
				t.Errorf("consume = %+v, want %+v", got, r)
			}
			if c.Exists(ctx, legacy).Val() != 0 {
				t.Error("the nonce's own key is still there")
			}
			v, err := c.HGet(ctx, s.userKey(user, "nonces"), r.NonceHash()).Result()
			if err != nil {
				t.Fatalf("the state did not move into the nonces hash: %v", err)
			}
			until, _, _ := strings.Cut(v, "|")
			if ms, _ := strconv.ParseInt(until, 10, 64); time.Until(time.UnixMilli(ms)) < time.Hour+NonceTombstoneTTL-time.Minute {
				t.Errorf("moved state %q is kept until %v, want about %v from now", v, time.UnixMilli(ms), time.Hour+NonceTombstoneTTL)
			}

			// A key of the old layout left behind is erased with the user.
			if err := c.Set(ctx, legacy, "superseded", time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DeleteUser(ctx, user); err != nil {
				t.Fatal(err)
			}
			if c.Exists(ctx, legacy).Val() != 0 {
				t.Error("DeleteUser left the nonce's own key")
			}
		})
	}
}

// A random source that repeats is caught: a nonce the user had before, or
// a routing key that names another user, fails the issue.
func TestIssueRandomRepeated(t *testing.T) {
	block := func(b byte) []byte { return bytes.Repeat([]byte{b}, 16+32) } // a request ID and a nonce
	tests := []struct {
		name   string
		blocks [][]byte
		users  []int64
	}{
		{"another user's", [][]byte{block(1), block(1)}, []int64{6601, 6602}},
		{"an earlier nonce of the user", [][]byte{block(1), block(2), block(1)}, []int64{6601, 6601, 6601}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, WithRandom(bytes.NewReader(bytes.Join(tt.blocks, nil))))
			ctx := context.Background()
			last := len(tt.users) - 1
			for i, u := range tt.users {
				_, err := s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic"}, time.Minute)
				if i < last && err != nil {
					t.Fatalf("issue %d: %v", i, err)
				}
				if i == last && (err == nil || !strings.Contains(err.Error(), "random source repeated")) {
					t.Fatalf("issue %d: %v, want the random source repeated", i, err)
				}
			}
		})
	}
}

// failNth is a go-redis hook that fails the nth round trip (from 1) it
// sees with err, without sending it, as a failover cutting the connection
// does; a new connection's handshake does not count.
type failNth struct {
	mu  sync.Mutex
	n   int
	err error
}

func (h *failNth) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *failNth) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if handshake(cmd) {
			return next(ctx, cmd)
		}
		if err := h.step(); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (h *failNth) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && handshake(cmds[0]) {
			return next(ctx, cmds)
		}
		if err := h.step(); err != nil {
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		return next(ctx, cmds)
	}
}

// handshake tells the commands go-redis sends on a new connection.
func handshake(c redis.Cmder) bool { return c.Name() == "hello" || c.Name() == "client" }

func (h *failNth) step() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n--
	if h.n == 0 {
		return h.err
	}
	return nil
}

// An issue cut short at either of its steps (Redis failing over between
// them, the caller giving up) never leaves the user a live request
// whose page cannot find it: the bot reminds the live request, so a
// request without its routing keys would be a dead button for good.
func TestIssueCutShortLeavesNoDeadRequest(t *testing.T) {
	cut := errors.New("connection reset by a failover")
	for step := 1; step <= 2; step++ {
		t.Run(fmt.Sprintf("cut at round trip %d", step), func(t *testing.T) {
			h := &failNth{err: cut} // armed after the ping
			c := redis.NewClient(&redis.Options{Addr: testRedisAddr, MaxRetries: -1})
			c.AddHook(h)
			t.Cleanup(func() { _ = c.Close() })
			if err := c.Ping(context.Background()).Err(); err != nil {
				t.Fatalf("no Redis at %s: %v", testRedisAddr, err)
			}
			h.mu.Lock()
			h.n = step // the ping above went through the hook
			h.mu.Unlock()
			s := New(c, WithPrefix(testPrefix(t, c)))
			ctx := context.Background()
			const user = 6201
			if _, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic"}, time.Hour); !errors.Is(err, cut) {
				t.Fatalf("issue cut at round trip %d: %v, want the cut", step, err)
			}
			if live, ok, err := s.Requests().Live(ctx, user); err != nil {
				t.Fatal(err)
			} else if ok {
				if _, err := s.Requests().Get(ctx, live.ID); err != nil {
					t.Errorf("the live request (which the bot reminds) is not found by its page: %v", err)
				}
			}
			// The user asks again: the new request works.
			again, err := s.Requests().Issue(ctx, RequestParams{UserID: user, ChatID: user, Level: "basic"}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := s.Requests().Get(ctx, again.ID); err != nil || got != again {
				t.Errorf("page of the request asked again = %+v %v", got, err)
			}
		})
	}
}
