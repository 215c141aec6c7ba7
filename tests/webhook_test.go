package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// webhookSecret signs the test deliveries (at least 32 characters).
const webhookSecret = "e2e-webhook-secret-0123456789abcdef0123"

// webhookConfig is the demo configuration delivering to url.
func webhookConfig(url string) string {
	return demo.DefaultConfig() + fmt.Sprintf(`delivery:
  webhook_url: %q
  webhook_secret: %q
  include_data: true
  give_up_after: 24h
`, url, webhookSecret)
}

// receiver is the business's backend: an HTTP server that checks every
// webhook request's signature and counts deliveries by event and user.
type receiver struct {
	srv *httptest.Server
	now func() time.Time // the bot's clock: signatures carry its time

	mu       sync.Mutex
	secret   string        // the secret signatures are checked with (webhookSecret unless set)
	status   int           // the answer (200 unless set)
	hang     chan struct{} // while not nil, requests wait for it (or the sender's cancel)
	attempts map[string]int
	ok       map[string]int            // 2xx answers, by event ID
	answered map[string]int            // requests answered or cut short, by event ID
	byUser   map[int64]int             // 2xx answers, by user
	events   map[string]delivery.Event // the body of each event's first request
	headers  map[string]string         // the signature header of each event's last request (when not nil)
	heard    map[string]time.Time      // the bot's time when each event's last request was checked (with headers)
	bodies   map[string][]byte         // the body of each event's last request
	arrived  []string                  // event IDs in the order their first request came
	bad      []string                  // what was wrong with requests
	cut      int                       // requests the sender gave up while held
	changed  chan struct{}
}

func newReceiver(t testing.TB, now func() time.Time) *receiver {
	r := &receiver{now: now, secret: webhookSecret, status: http.StatusOK, attempts: map[string]int{}, ok: map[string]int{}, answered: map[string]int{},
		byUser: map[int64]int{}, events: map[string]delivery.Event{}, changed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.release()
		r.srv.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, b := range r.bad {
			t.Errorf("webhook receiver: %s", b)
		}
	})
	return r
}

func (r *receiver) serve(rw http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	id := req.Header.Get(delivery.EventIDHeader)
	var ev delivery.Event
	problems := []string{}
	switch {
	case err != nil:
		problems = append(problems, "reading the body: "+err.Error())
	case req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json":
		problems = append(problems, fmt.Sprintf("%s with Content-Type %q", req.Method, req.Header.Get("Content-Type")))
	}
	r.mu.Lock()
	secret := r.secret
	r.mu.Unlock()
	now := r.now()
	if err := delivery.Verify([]byte(secret), req.Header.Get(delivery.SignatureHeader), body, now, 10*time.Minute); err != nil {
		problems = append(problems, fmt.Sprintf("event %s: signature: %v", id, err))
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		problems = append(problems, fmt.Sprintf("event %s: body: %v", id, err))
	} else if ev.EventID != id || !strings.HasPrefix(id, "evt_") {
		problems = append(problems, fmt.Sprintf("header %s %q, body event_id %q", delivery.EventIDHeader, id, ev.EventID))
	}

	r.mu.Lock()
	r.bad = append(r.bad, problems...)
	r.attempts[id]++
	if r.headers != nil {
		r.headers[id] = req.Header.Get(delivery.SignatureHeader)
		r.heard[id] = now
	}
	if r.bodies == nil {
		r.bodies = map[string][]byte{}
	}
	r.bodies[id] = body
	if _, ok := r.events[id]; !ok {
		r.events[id] = ev
		r.arrived = append(r.arrived, id)
	}
	hang := r.hang
	// The answer is decided as the request is counted: a test that waits
	// for an attempt and then changes the answer changes the next ones
	// only (a held request takes the answer set when it is released).
	status := r.status
	r.signalLocked()
	r.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-req.Context().Done(): // the sender gave up (or died)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answered[id]++
	if req.Context().Err() != nil {
		r.cut++
		r.signalLocked()
		return
	}
	if hang != nil {
		status = r.status
	}
	if status >= 200 && status <= 299 {
		r.ok[id]++
		r.byUser[ev.UserID]++
	}
	r.signalLocked()
	rw.WriteHeader(status)
}

func (r *receiver) signalLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// answer sets the status code of the answers to the requests counted from
// now on.
func (r *receiver) answer(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// hold makes the next requests wait until release (or until the sender
// cancels them).
func (r *receiver) hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hang == nil {
		r.hang = make(chan struct{})
	}
}

func (r *receiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hang != nil {
		close(r.hang)
		r.hang = nil
	}
}

// wait waits until cond (called under the lock) holds; every tick (if
// not nil) runs every 200 ms meanwhile, for example to move the bot's
// clock.
func (r *receiver) wait(t testing.TB, ctx context.Context, what string, cond func() bool, tick func()) {
	t.Helper()
	tk := time.NewTicker(200 * time.Millisecond)
	defer tk.Stop()
	for {
		r.mu.Lock()
		done, ch := cond(), r.changed
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-tk.C:
			if tick != nil {
				tick()
			}
		case <-ctx.Done():
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("webhook receiver: %s did not happen: attempts %v, delivered %v", what, r.attempts, r.ok)
		}
	}
}

// eventOf returns the ID of the event about a user of a kind, or "".
func (r *receiver) eventOf(userID int64, kind string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eventOfLocked(userID, kind)
}

func (r *receiver) eventOfLocked(userID int64, kind string) string {
	for id, ev := range r.events {
		if ev.UserID == userID && ev.Kind == kind {
			return id
		}
	}
	return ""
}

// counts returns the attempts and 2xx answers of an event.
func (r *receiver) counts(id string) (attempts, ok int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[id], r.ok[id]
}

// quiet waits a moment and checks that nothing more came for an event:
// a duplicate would have been sent by now (the senders poll every second).
// It first waits for the answers to the requests already counted, so that
// a delivery whose request was counted but not yet answered when the test
// saw it is not taken for a second one.
func (r *receiver) quiet(t testing.TB, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r.wait(t, ctx, "the answers to event "+id+"'s requests", func() bool { return r.answered[id] == r.attempts[id] }, nil)
	a, ok := r.counts(id)
	time.Sleep(2 * time.Second)
	if a2, ok2 := r.counts(id); a2 != a || ok2 != ok {
		t.Errorf("event %s: %d more attempts (%d more delivered) after it was delivered", id, a2-a, ok2-ok)
	}
}

// waitPaused waits until an outbox event is paused for a retry.
func waitPaused(t testing.TB, ctx context.Context, w *world) {
	t.Helper()
	due := w.Config.Redis.Prefix + "{outbox}:due"
	for {
		n, err := w.Redis.ZCard(ctx, due).Result()
		if err == nil && n > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no event paused for a retry (%s: %d, %v)", due, n, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// verifyUser takes a user from /start to the verified message.
func (w *world) verifyUser(ctx context.Context, u *sandbox.SimUser, ref string) {
	w.t.Helper()
	page, _ := w.request(ctx, u, ref)
	w.share(ctx, u, page)
	if m := w.next(ctx, u); m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		w.t.Fatalf("user %d: the bot said %q, want verified", u.User.ID, m.Text)
	}
}

// TestWebhook: verified results reach the business's webhook, signed,
// once each; a failing receiver gets them again once it recovers, also
// from another instance when the one delivering stops; a delivery failing
// past give_up_after is parked and the admins are told.
func TestWebhook(t *testing.T) {
	t.Parallel() // mostly waiting: alongside the other parallel tests
	clk := &testkit.Clock{}
	rcv := newReceiver(t, clk.Now)
	w := newWorld(t, worldOptions{clock: clk, configYAML: webhookConfig(rcv.srv.URL + "/kyc/webhook")})
	// The senders' pauses after a failure (5 s, 10 s, ...) are timed by
	// the bot's clock: moving it makes the retries due at once.
	advance := func(d time.Duration) func() { return func() { w.clock.Advance(d) } }

	t.Run("signed and once", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		u := w.user("en", nil)
		w.verifyUser(ctx, u, "crm-7")
		rcv.wait(t, ctx, "the delivery", func() bool { return rcv.ok[rcv.eventOfLocked(u.User.ID, delivery.KindVerified)] > 0 }, nil)
		id := rcv.eventOf(u.User.ID, delivery.KindVerified)
		rcv.quiet(t, id)
		if a, ok := rcv.counts(id); a != 1 || ok != 1 {
			t.Errorf("event %s: %d requests, %d delivered; want exactly one", id, a, ok)
		}
		rcv.mu.Lock()
		ev := rcv.events[id]
		rcv.mu.Unlock()
		if ev.Decision != delivery.DecisionVerified || ev.Ref != "crm-7" || ev.Level != w.Config.DefaultLevelName || len(ev.Problems) != 0 || ev.Schema != delivery.Schema {
			t.Errorf("event %+v: want a verified decision with ref crm-7 at the default level", ev.String())
		}
		p := u.Profile()
		docs := 0
		for typ, fields := range ev.Data {
			el, ok := p[typ]
			if !ok {
				t.Errorf("the webhook holds %s, which the user does not have", typ)
				continue
			}
			// The dates as ISO 8601 (schema 3), the rest as shared.
			want := maps.Clone(el.Fields)
			for _, name := range []string{"birth_date", "expiry_date"} {
				if v, ok := want[name]; ok {
					want[name] = isoDate(t, v)
				}
			}
			switch typ {
			case passport.TypePhoneNumber:
				want = map[string]string{"phone_number": el.Phone}
			case passport.TypeEmail:
				want = map[string]string{"email": el.Email}
			case passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard:
				docs++
			}
			if !maps.Equal(fields, want) {
				t.Errorf("the webhook's %s differs from what the user shared", typ)
			}
		}
		for _, typ := range []passport.ElementType{passport.TypePersonalDetails, passport.TypeAddress, passport.TypePhoneNumber, passport.TypeEmail} {
			if _, ok := ev.Data[typ]; !ok {
				t.Errorf("the webhook's data lacks %s", typ)
			}
		}
		if docs != 1 {
			t.Errorf("the webhook's data holds %d identity documents, want the one shared", docs)
		}
		if len(ev.Files) != 0 {
			t.Errorf("the webhook holds %d scans though include_files is off", len(ev.Files))
		}
	})

	t.Run("receiver down, then back", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		rcv.answer(http.StatusInternalServerError)
		u := w.user("en", nil)
		w.verifyUser(ctx, u, "")
		attempted := func(n int) func() bool {
			return func() bool { return rcv.attempts[rcv.eventOfLocked(u.User.ID, delivery.KindVerified)] >= n }
		}
		rcv.wait(t, ctx, "a first attempt", attempted(1), nil)
		rcv.wait(t, ctx, "a retry", attempted(3), advance(time.Minute))
		rcv.answer(http.StatusOK)
		id := rcv.eventOf(u.User.ID, delivery.KindVerified)
		rcv.wait(t, ctx, "the delivery once the receiver is back", func() bool { return rcv.ok[id] > 0 }, advance(time.Minute))
		rcv.quiet(t, id)
		if a, ok := rcv.counts(id); ok != 1 || a < 4 {
			t.Errorf("event %s: %d requests, %d delivered; want at least 3 failures then exactly one delivery", id, a, ok)
		}
	})

	t.Run("the delivering instance stops", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		rcv.answer(http.StatusServiceUnavailable)
		u := w.user("en", nil)
		w.verifyUser(ctx, u, "")
		rcv.wait(t, ctx, "a first attempt", func() bool { return rcv.attempts[rcv.eventOfLocked(u.User.ID, delivery.KindVerified)] >= 1 }, nil)
		id := rcv.eventOf(u.User.ID, delivery.KindVerified)
		// The only instance failed once and waits to retry (the event is
		// paused in the outbox): it stops, and another one (same account,
		// Redis and config) takes over. (Stopped in the middle of a
		// request instead: TestWebhookSenderDiesMidRequest.)
		waitPaused(t, ctx, w)
		if err := w.StopBot(); err != nil {
			t.Fatal(err)
		}
		other, err := w.StartInstance(ctx, "second")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = other.Stop() })
		rcv.answer(http.StatusOK)
		rcv.wait(t, ctx, "the delivery by the other instance", func() bool { return rcv.ok[id] > 0 }, advance(time.Minute))
		rcv.quiet(t, id)
		if _, ok := rcv.counts(id); ok != 1 {
			t.Errorf("event %s delivered %d times, want once", id, ok)
		}
		if err := other.Stop(); err != nil {
			t.Error(err)
		}
		if err := w.StartBot(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("parked, admins told", func(t *testing.T) {
		w := w.sub(t)
		ctx := testContext(t)
		admin := w.user("en", nil)
		w.request(ctx, admin, "") // the admin talked to the bot: it may write to them
		w.restartWith(ctx, func(c *config.Config) {
			c.Admins = []int64{admin.User.ID}
			c.Delivery.GiveUpAfter = time.Minute // the least the config allows
		})
		rcv.answer(http.StatusBadGateway)
		u := w.user("en", nil)
		w.verifyUser(ctx, u, "")
		rcv.wait(t, ctx, "a first attempt", func() bool { return rcv.attempts[rcv.eventOfLocked(u.User.ID, delivery.KindVerified)] >= 1 }, nil)
		id := rcv.eventOf(u.User.ID, delivery.KindVerified)
		// Every retry fails; the bot's clock runs fast until the event is
		// older than give_up_after.
		alert := w.Bot().Catalog().Language(w.Bot().Catalog().DefaultLanguage()).Plural(i18n.MsgAdminDeliveriesParked, 1, nil)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		got := make(chan error, 1)
		go func() {
			_, err := admin.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return m.Text == alert })
			got <- err
		}()
	wait:
		for {
			select {
			case err := <-got:
				if err != nil {
					t.Fatalf("the admin was not told of the parked delivery: %v", err)
				}
				break wait
			case <-tick.C:
				w.clock.Advance(20 * time.Second)
			}
		}
		a, ok := rcv.counts(id)
		if ok != 0 || a < 2 {
			t.Errorf("event %s: %d attempts, %d delivered; want several failed attempts", id, a, ok)
		}
		kinds := w.events(ctx, u.User.ID)
		if countKind(kinds, "delivery_parked") != 1 {
			t.Errorf("audit events %v: want one delivery_parked", kinds)
		}
		if _, parked, err := w.Bot().Store().Outbox().Depth(ctx); err != nil || parked != 1 {
			t.Errorf("%d parked deliveries (%v), want 1", parked, err)
		}
		// Parked means given up: no more attempts, whatever the clock.
		w.clock.Advance(time.Hour)
		rcv.quiet(t, id)
		if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
			t.Errorf("status %s: a parked delivery must not change the verification", st.State)
		}
	})
}

// TestWebhookStopMidRequest: the only instance stops while its request
// to the receiver is under way (the receiver does not answer); it hands
// the event back as it stops, and another instance sends it again at once
// (reclaim_after is an hour: a test that waits for the takeover of an
// abandoned delivery would time out), and it arrives once.
func TestWebhookStopMidRequest(t *testing.T) {
	t.Parallel()
	clk := &testkit.Clock{}
	rcv := newReceiver(t, clk.Now)
	w := newWorld(t, worldOptions{clock: clk, configYAML: webhookConfig(rcv.srv.URL) + "  reclaim_after: 1h\n"})
	ctx := testContext(t)
	rcv.hold()
	u := w.user("en", nil)
	w.verifyUser(ctx, u, "")
	rcv.wait(t, ctx, "the request", func() bool { return rcv.attempts[rcv.eventOfLocked(u.User.ID, delivery.KindVerified)] >= 1 }, nil)
	id := rcv.eventOf(u.User.ID, delivery.KindVerified)
	if err := w.StopBot(); err != nil { // cancels the request under way
		t.Fatal(err)
	}
	rcv.wait(t, ctx, "the request cut short", func() bool { return rcv.cut == 1 }, nil)
	rcv.release()
	other, err := w.StartInstance(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Stop() })
	rcv.wait(t, ctx, "the delivery by the other instance", func() bool { return rcv.ok[id] > 0 }, nil)
	rcv.quiet(t, id)
	if a, ok := rcv.counts(id); ok != 1 || a != 2 {
		t.Errorf("event %s: %d requests, %d delivered; want the one cut short, then one delivery", id, a, ok)
	}
}
