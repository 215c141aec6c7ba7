package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
	"github.com/kycbot/kycbot/verify"
	"github.com/redis/go-redis/v9"
)

// newStore returns a store on the test Redis under a fresh prefix, with
// the outbox key of testSecret.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	c := testkit.Need(t)
	return store.New(c, store.WithPrefix(testkit.Prefix(t, c, "delivery")), store.WithOutboxKey(OutboxKey(testSecret)),
		store.WithScanLinkKey(testLinkKey))
}

// testLinkKey seals the scan links of the tests.
var testLinkKey = []byte("scan link key of the tests, 32 b")

// testLinks returns the scan links of st, on https://kyc.example.com.
func testLinks(t *testing.T, st *store.Store) *Links {
	t.Helper()
	l, err := NewLinks(st, LinkOptions{URL: func(token string) string { return testLinkBase + token }})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

const testLinkBase = "https://kyc.example.com/passport/scans/"

// hit is one request a receiver got.
type hit struct {
	at      time.Time
	header  http.Header
	body    []byte
	sigErr  error
	eventID string
}

// receiver is an httptest webhook receiver that records every request
// and answers with respond (200 when nil).
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	hits    []hit
	respond func(n int, w http.ResponseWriter, r *http.Request) // n counts from 1
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{t: t, respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hit{at: time.Now(), header: r.Header.Clone(), body: body, eventID: r.Header.Get(EventIDHeader),
			sigErr: Verify(testSecret, r.Header.Get(SignatureHeader), body, time.Now(), time.Minute)}
		rc.mu.Lock()
		rc.hits = append(rc.hits, h)
		n := len(rc.hits)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// url has a token in its query, which must never be logged.
func (rc *receiver) url() string { return rc.srv.URL + "/kyc?token=url-token-never-logged" }

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

// logs is a logger whose output the test reads after the sender stopped.
func logs() (*slog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

// checkLogs fails when the logs hold personal data, the URL's token or
// the secret.
func checkLogs(t *testing.T, b *bytes.Buffer) {
	t.Helper()
	out := b.String()
	for _, p := range append(personal, "url-token-never-logged", string(testSecret), "127.0.0.1") {
		if strings.Contains(out, p) {
			t.Errorf("logs hold %q:\n%s", p, out)
		}
	}
}

// start runs a sender until the test ends or stop is called; stop waits
// for Run to return.
func start(t *testing.T, s *Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// resultLog records what OnResult receives.
type resultLog struct {
	mu sync.Mutex
	rs []string
}

func (l *resultLog) add(r string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rs = append(l.rs, r)
}

func (l *resultLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.rs)
}

func depth(t *testing.T, s *store.Store) (int64, int64) {
	t.Helper()
	p, k, err := s.Outbox().Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p, k
}

// Each event reaches the receiver once, signed, with its ID header and a
// body that decodes to the event added.
func TestSenderDelivers(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	rc := newReceiver(t, nil)
	log, logBuf := logs()

	v, _ := sampleVerified(t)
	full, err := FromVerified(ctx, v, Include{Data: true, Files: true})
	if err != nil {
		t.Fatal(err)
	}
	v.UserID, v.Submission.Nonce = 515151, "another nonce of another request"
	bare, err := FromVerified(ctx, v, Include{})
	if err != nil {
		t.Fatal(err)
	}
	rej := FromRejected(verification.Rejected{UserID: 77, Level: "basic", At: time.Now(), Codes: []string{"too_young"},
		Problems: []verify.Problem{{Element: passport.TypePersonalDetails, Target: passport.Field("birth_date"), Code: verify.CodeTooYoung, Final: true}}})
	events := map[string]Event{full.EventID: full, bare.EventID: bare, rej.EventID: rej}
	out := NewOutbox(st)
	for _, ev := range []Event{full, bare, rej, full} { // full twice: one delivery
		if err := out.Add(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}

	links := testLinks(t, st)
	s, err := NewSender(st, Options{URL: rc.url(), Secret: testSecret, Logger: log, PollInterval: 10 * time.Millisecond, Links: links})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	eventually(t, "three deliveries", 10*time.Second, func() bool { return len(rc.got()) >= 3 })
	eventually(t, "an empty outbox", 5*time.Second, func() bool { p, _ := depth(t, st); return p == 0 })
	time.Sleep(100 * time.Millisecond)
	stop()

	hits := rc.got()
	if len(hits) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(hits))
	}
	seen := map[string]bool{}
	for _, h := range hits {
		if h.sigErr != nil {
			t.Errorf("event %s: signature: %v", h.eventID, h.sigErr)
		}
		if ct, ua := h.header.Get("Content-Type"), h.header.Get("User-Agent"); ct != "application/json" || ua != "kycbot/1" {
			t.Errorf("Content-Type %q, User-Agent %q", ct, ua)
		}
		var got Event
		if err := json.Unmarshal(h.body, &got); err != nil {
			t.Fatal(err)
		}
		if got.EventID != h.eventID || seen[got.EventID] {
			t.Errorf("event %s under header %s (seen before: %v)", got.EventID, h.eventID, seen[got.EventID])
		}
		seen[got.EventID] = true
		want, ok := events[got.EventID]
		if !ok {
			t.Fatalf("unknown event %s", got.EventID)
		}
		// Each scan comes with a link minted for this attempt, which
		// leads to its source once.
		want.Files = slices.Clone(want.Files)
		for i := range got.Files {
			g, w := &got.Files[i], &want.Files[i]
			token, ok := strings.CutPrefix(g.URL, testLinkBase)
			if !ok || g.ExpiresAt.Before(time.Now().Add(DefaultLinkTTL-time.Minute)) {
				t.Errorf("file %d: link %q expiring %v", i, g.URL, g.ExpiresAt)
				continue
			}
			sc, err := links.Take(ctx, token)
			if err != nil || sc.SHA256 != w.SHA256 || sc.Size != w.Size || !reflect.DeepEqual(sc.File, *w.source) {
				t.Errorf("file %d: the link leads to %+v, %v", i, sc, err)
			}
			if _, err := links.Take(ctx, token); !errors.Is(err, ErrLinkNotFound) {
				t.Errorf("file %d: second Take = %v, want ErrLinkNotFound", i, err)
			}
			g.URL, g.ExpiresAt, w.source = "", time.Time{}, nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("received\n%v\nwant\n%v", got, want) // String: no data in the output
		}
		var raw map[string]any
		_ = json.Unmarshal(h.body, &raw)
		if strings.Contains(string(h.body), "kycbot_scan_sources") || strings.Contains(string(h.body), "credentials") {
			t.Errorf("event %s: the body holds the scans' sources", got.EventID)
		}
		if raw["schema"] != float64(Schema) || raw["kind"] != want.Kind || raw["decision"] != want.Decision {
			t.Errorf("body fields %v %v %v", raw["schema"], raw["kind"], raw["decision"])
		}
	}
	if p, k := depth(t, st); p != 0 || k != 0 {
		t.Fatalf("depth %d/%d, want 0/0", p, k)
	}
	if pending, parked, err := s.Depth(ctx); err != nil || pending != 0 || parked != 0 {
		t.Fatalf("Sender.Depth %d/%d %v", pending, parked, err)
	}
	checkLogs(t, logBuf)
	if !strings.Contains(logBuf.String(), full.EventID) || !strings.Contains(logBuf.String(), "status=200") {
		t.Errorf("logs lack the event ID or status:\n%s", logBuf)
	}
}

// A receiver that fails the first attempts gets the event again after
// growing pauses, then once more when it recovers, and never after.
func TestSenderRetriesWithBackoff(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	const fails = 3
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= fails {
			http.Error(w, "down, with a body that is never logged: Johanna", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	log, logBuf := logs()
	ev := FromRejected(verification.Rejected{UserID: 99, Level: "basic", At: time.Now(), Codes: []string{"too_young"}})
	if err := NewOutbox(st).Add(ctx, ev); err != nil {
		t.Fatal(err)
	}
	const minBackoff = 40 * time.Millisecond
	var parked []Parked
	results := &resultLog{}
	s, err := NewSender(st, Options{URL: rc.url(), Secret: testSecret, Logger: log, PollInterval: 5 * time.Millisecond,
		MinBackoff: minBackoff, MaxBackoff: time.Second, OnParked: func(_ context.Context, p Parked) { parked = append(parked, p) },
		OnResult: results.add})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, s)
	eventually(t, "the delivery after the failures", 10*time.Second, func() bool { return len(rc.got()) >= fails+1 })
	eventually(t, "an empty outbox", 5*time.Second, func() bool { p, _ := depth(t, st); return p == 0 })
	time.Sleep(300 * time.Millisecond) // several pauses: no redelivery
	stop()

	hits := rc.got()
	if len(hits) != fails+1 {
		t.Fatalf("receiver got %d requests, want %d", len(hits), fails+1)
	}
	var gaps []time.Duration
	for i := 1; i < len(hits); i++ {
		if hits[i].eventID != ev.EventID || hits[i].sigErr != nil {
			t.Errorf("request %d: event %s, signature %v", i, hits[i].eventID, hits[i].sigErr)
		}
		gaps = append(gaps, hits[i].at.Sub(hits[i-1].at))
	}
	for i, g := range gaps {
		// After the (i+1)-th failure: between half and all of minBackoff·2^i,
		// plus the time to notice.
		if low := minBackoff << i / 2; g < low {
			t.Errorf("pause %d is %v, want at least %v (all: %v)", i+1, g, low, gaps)
		}
	}
	if gaps[2] <= gaps[0] {
		t.Errorf("pauses %v do not grow", gaps)
	}
	if len(parked) != 0 {
		t.Errorf("parked %v", parked)
	}
	if got, want := results.get(), []string{ResultRetried, ResultRetried, ResultRetried, ResultDelivered}; !reflect.DeepEqual(got, want) {
		t.Errorf("OnResult got %v, want %v", got, want)
	}
	checkLogs(t, logBuf)
	for _, want := range []string{"reason=http_500", "attempt=3", "attempt=4", "status=204"} {
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logBuf)
		}
	}
}

// A sender stopped mid-delivery (its context ends while the receiver
// hangs) hands the event back: another sender delivers it at once, long
// before ReclaimAfter. One that dies (it cannot reach Redis any more, so
// it cannot hand anything back) leaves the event to another sender, which
// takes it over once the first one's claim is ReclaimAfter old.
func TestSenderStopsMidDelivery(t *testing.T) {
	for _, tt := range []struct {
		name    string
		dies    bool
		reclaim time.Duration
		log     string
	}{
		{name: "stopped", reclaim: time.Hour, log: "event handed back to be sent again at once"},
		{name: "dies", dies: true, reclaim: 400 * time.Millisecond, log: "will be taken over after reclaim_after"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			// Each instance has its own connection to Redis, under one prefix.
			cb := testkit.Need(t)
			prefix := testkit.Prefix(t, cb, "delivery")
			on := func(c redis.UniversalClient) *store.Store {
				return store.New(c, store.WithPrefix(prefix), store.WithOutboxKey(OutboxKey(testSecret)), store.WithScanLinkKey(testLinkKey))
			}
			ca := testkit.Need(t)
			sa, sb := on(ca), on(cb)
			first := make(chan struct{})
			rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					close(first)
					<-r.Context().Done() // hangs until the sender gives up the request
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			ev := FromRejected(verification.Rejected{UserID: 5, Level: "basic", At: time.Now(), Codes: []string{"expired"}})
			if err := NewOutbox(sb).Add(ctx, ev); err != nil {
				t.Fatal(err)
			}
			logA, logBuf := logs()
			opts := func(consumer string, log *slog.Logger) Options {
				return Options{URL: rc.url(), Secret: testSecret, Consumer: consumer, PollInterval: 10 * time.Millisecond,
					ReclaimAfter: tt.reclaim, HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}, Logger: log}
			}
			a, err := NewSender(sa, opts("instance-a", logA))
			if err != nil {
				t.Fatal(err)
			}
			stopA := start(t, a)
			select {
			case <-first:
			case <-time.After(10 * time.Second):
				t.Fatal("no delivery")
			}
			if tt.dies {
				_ = ca.Close()
			}
			stopA() // before the receiver answers
			if p, _ := depth(t, sb); p != 1 {
				t.Fatalf("pending %d after instance-a stopped, want 1", p)
			}
			if !strings.Contains(logBuf.String(), tt.log) {
				t.Errorf("instance-a's logs lack %q:\n%s", tt.log, logBuf)
			}

			b, err := NewSender(sb, opts("instance-b", slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			stopB := start(t, b)
			// Within the test's wait only if handed back: ReclaimAfter is an
			// hour then.
			eventually(t, "the second delivery", 10*time.Second, func() bool { return len(rc.got()) >= 2 })
			eventually(t, "an empty outbox", 5*time.Second, func() bool { p, _ := depth(t, sb); return p == 0 })
			time.Sleep(100 * time.Millisecond)
			stopB()

			hits := rc.got()
			if len(hits) != 2 {
				t.Fatalf("receiver got %d requests, want 2 (the one cut short and the delivery)", len(hits))
			}
			if hits[1].eventID != ev.EventID || hits[1].sigErr != nil {
				t.Fatalf("second request: event %s, signature %v", hits[1].eventID, hits[1].sigErr)
			}
			if gap := hits[1].at.Sub(hits[0].at); tt.dies && gap < tt.reclaim-100*time.Millisecond {
				t.Fatalf("taken over after %v, before the claim was %v old", gap, tt.reclaim)
			}
			checkLogs(t, logBuf)
		})
	}
}

// Failing beyond GiveUpAfter parks the event with the reason's code and
// calls OnParked once.
func TestSenderParks(t *testing.T) {
	blackhole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + blackhole.Addr().String() + "/kyc?token=url-token-never-logged"
	blackhole.Close()
	other := newReceiver(t, nil)

	for _, tc := range []struct {
		name    string
		respond func(n int, w http.ResponseWriter, r *http.Request)
		url     string
		// ahead is how far ahead of the enqueuing store the sender's
		// clock is: an hour parks on the first failure.
		ahead  time.Duration
		reason string
	}{
		{name: "retried then parked", respond: func(n int, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, reason: "http_503"},
		{name: "timeout", respond: func(n int, w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, ahead: time.Hour, reason: "timeout"},
		{name: "refused", url: refused, ahead: time.Hour, reason: "connection_refused"},
		{name: "redirect not followed", respond: func(n int, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.url(), http.StatusTemporaryRedirect)
		}, ahead: time.Hour, reason: "http_307"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			ctx := context.Background()
			url := tc.url
			var rc *receiver
			if url == "" {
				rc = newReceiver(t, tc.respond)
				url = rc.url()
			}
			v, _ := sampleVerified(t)
			ev, err := FromVerified(ctx, v, Include{Data: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := NewOutbox(st).Add(ctx, ev); err != nil {
				t.Fatal(err)
			}
			var (
				mu     sync.Mutex
				parked []Parked
			)
			log, logBuf := logs()
			results := &resultLog{}
			s, err := NewSender(st, Options{
				URL: url, Secret: testSecret, Logger: log, PollInterval: 5 * time.Millisecond, OnResult: results.add,
				GiveUpAfter: 300 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond,
				HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}, ReclaimAfter: time.Second,
				Clock: func() time.Time { return time.Now().Add(tc.ahead) },
				OnParked: func(_ context.Context, p Parked) {
					mu.Lock()
					defer mu.Unlock()
					parked = append(parked, p)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			stop := start(t, s)
			eventually(t, "the event parked", 10*time.Second, func() bool { _, k := depth(t, st); return k == 1 })
			time.Sleep(100 * time.Millisecond)
			stop()

			mu.Lock()
			defer mu.Unlock()
			if len(parked) != 1 {
				t.Fatalf("OnParked called %d times, want once", len(parked))
			}
			p := parked[0]
			if p.EventID != ev.EventID || p.UserID != ev.UserID || p.Reason != tc.reason || p.Attempts < 1 {
				t.Fatalf("parked %+v, want event %s, reason %s", p, ev.EventID, tc.reason)
			}
			if tc.ahead == 0 && p.Attempts < 2 {
				t.Errorf("parked after %d attempts, want retries first", p.Attempts)
			}
			if tc.ahead > 0 && p.Attempts != 1 {
				t.Errorf("parked after %d attempts, want 1", p.Attempts)
			}
			if pending, k := depth(t, st); pending != 0 || k != 1 {
				t.Fatalf("depth %d/%d, want 0/1", pending, k)
			}
			if got := results.get(); len(got) != p.Attempts || got[len(got)-1] != ResultParked ||
				slices.ContainsFunc(got[:len(got)-1], func(r string) bool { return r != ResultRetried }) {
				t.Errorf("OnResult got %v after %d attempts, want retried then parked", got, p.Attempts)
			}
			if rc != nil && len(rc.got()) != p.Attempts {
				t.Errorf("receiver got %d requests, %d attempts counted", len(rc.got()), p.Attempts)
			}
			if len(other.got()) != 0 {
				t.Error("the redirect was followed")
			}
			checkLogs(t, logBuf)
			if !strings.Contains(logBuf.String(), "reason="+tc.reason) || !strings.Contains(logBuf.String(), "event parked") {
				t.Errorf("logs lack the reason or the parking:\n%s", logBuf)
			}
		})
	}
}

func TestNewSenderOptions(t *testing.T) {
	st := newStore(t)
	ok := Options{URL: "https://backend.example.com/kyc", Secret: testSecret}
	s, err := NewSender(st, ok)
	if err != nil {
		t.Fatal(err)
	}
	if !validConsumer(s.Consumer()) || s.o.GiveUpAfter != DefaultGiveUpAfter || s.o.MinBackoff != DefaultMinBackoff ||
		s.o.MaxBackoff != DefaultMaxBackoff || s.client.Timeout != DefaultTimeout || s.o.ReclaimAfter != max(DefaultReclaimAfter, 3*DefaultTimeout) {
		t.Errorf("defaults: consumer %q, %+v, timeout %v", s.Consumer(), s.o, s.client.Timeout)
	}
	s2, _ := NewSender(st, ok)
	if s2.Consumer() == s.Consumer() {
		t.Errorf("two senders share the consumer %q", s.Consumer())
	}
	mod := func(f func(*Options)) Options { o := ok; f(&o); return o }
	for name, o := range map[string]Options{
		"no URL":            mod(func(o *Options) { o.URL = "" }),
		"relative URL":      mod(func(o *Options) { o.URL = "/kyc" }),
		"ftp URL":           mod(func(o *Options) { o.URL = "ftp://example.com/" }),
		"short secret":      mod(func(o *Options) { o.Secret = []byte("short") }),
		"bad consumer":      mod(func(o *Options) { o.Consumer = "two words" }),
		"max below min":     mod(func(o *Options) { o.MinBackoff, o.MaxBackoff = time.Minute, time.Second }),
		"reclaim too early": mod(func(o *Options) { o.ReclaimAfter = 5 * time.Second }),
	} {
		if _, err := NewSender(st, o); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), string(testSecret)) {
			t.Errorf("%s: error shows the secret", name)
		}
	}
	if _, err := NewSender(nil, ok); err == nil {
		t.Error("nil store: no error")
	}
}

func TestBackoff(t *testing.T) {
	s := &Sender{o: Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	for n, full := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		full *= time.Millisecond
		for range 50 {
			if d := s.backoff(n); d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, full/2, full)
			}
		}
	}
	if d := s.backoff(1 << 20); d > time.Second {
		t.Fatalf("backoff after many failures %v", d)
	}
}

// Without an outbox key Run fails at once, saying so.
func TestSenderNoOutboxKey(t *testing.T) {
	c := testkit.Need(t)
	st := store.New(c, store.WithPrefix(testkit.Prefix(t, c, "delivery")))
	s, err := NewSender(st, Options{URL: "http://127.0.0.1:1/", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Run(ctx); !errors.Is(err, store.ErrOutboxKey) {
		t.Fatalf("Run: %v, want ErrOutboxKey", err)
	}
}

// NewRequest builds what the Sender posts: the headers, the body as
// given, and a signature a receiver verifies.
func TestNewRequest(t *testing.T) {
	ctx := context.Background()
	var got hit
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = hit{header: r.Header.Clone(), body: body, eventID: r.Header.Get(EventIDHeader),
			sigErr: Verify(testSecret, r.Header.Get(SignatureHeader), body, testNow, time.Minute)}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	const eventID = "evt_0123456789abcdef0123456789abcdef"
	req, err := NewRequest(ctx, srv.URL+"/kyc?token=url-token-never-logged", testSecret, eventID, testBody, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodPost || req.URL.Path != "/kyc" || req.ContentLength != int64(len(testBody)) || req.GetBody == nil {
		t.Errorf("request %s %s, length %d, GetBody %v", req.Method, req.URL.Path, req.ContentLength, req.GetBody != nil)
	}
	for h, want := range map[string]string{
		"Content-Type": "application/json", "User-Agent": UserAgent, EventIDHeader: eventID,
		SignatureHeader: Sign(testSecret, testNow, testBody),
	} {
		if v := req.Header.Get(h); v != want {
			t.Errorf("header %s = %q, want %q", h, v, want)
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || got.sigErr != nil || !bytes.Equal(got.body, testBody) || got.eventID != eventID {
		t.Errorf("status %d, signature %v, body %q, event ID %q", resp.StatusCode, got.sigErr, got.body, got.eventID)
	}

	for name, u := range map[string]string{
		"empty":          "",
		"relative":       "/kyc?token=url-token-never-logged",
		"ftp":            "ftp://backend.example.com/?token=url-token-never-logged",
		"no host":        "https:///kyc?token=url-token-never-logged",
		"does not parse": "https://back end.example.com/?token=url-token-never-logged",
	} {
		_, err := NewRequest(ctx, u, testSecret, eventID, testBody, testNow)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "url-token-never-logged") || strings.Contains(err.Error(), "example.com") {
			t.Errorf("%s: error %q shows the URL", name, err)
		}
	}
}

// The config's defaults of the delivery settings are the Sender's (config
// cannot import this package: it keeps its own constants), and the
// shortest reclaim_after it allows leaves room for the request timeout.
func TestConfigDefaults(t *testing.T) {
	for _, c := range []struct {
		key              string
		config, delivery time.Duration
	}{
		{"give_up_after", config.DefaultGiveUpAfter, DefaultGiveUpAfter},
		{"min_backoff", config.DefaultMinBackoff, DefaultMinBackoff},
		{"max_backoff", config.DefaultMaxBackoff, DefaultMaxBackoff},
		{"reclaim_after", config.DefaultReclaimAfter, max(DefaultReclaimAfter, 3*DefaultTimeout)},
	} {
		if c.config != c.delivery {
			t.Errorf("delivery.%s defaults to %v in config, %v in the Sender", c.key, c.config, c.delivery)
		}
	}
	if config.MinReclaimAfter < 3*DefaultTimeout {
		t.Errorf("config allows reclaim_after %v, less than three request timeouts (%v)", config.MinReclaimAfter, 3*DefaultTimeout)
	}
}
