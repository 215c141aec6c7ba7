package verification

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
	"github.com/kycbot/kycbot/verify"
)

// outageStore fails the calls of plan (consume, issue, status, audit) as
// many times as planned, as when Redis cannot be reached: those in lost
// run first and then fail, as when Redis ran the command but its answer
// never came back.
type outageStore struct {
	Store
	mu   sync.Mutex
	plan map[string]int
	lost map[string]bool
}

var errOutage = errors.Join(store.ErrUnavailable, errors.New("read tcp 127.0.0.1:6379: i/o timeout"))

// do runs f, the real call op, or fails it as planned.
func (s *outageStore) do(op string, f func() error) error {
	s.mu.Lock()
	fail := s.plan[op] > 0
	if fail {
		s.plan[op]--
	}
	lost := s.lost[op]
	s.mu.Unlock()
	if fail && !lost {
		return errOutage
	}
	if err := f(); err != nil || !fail {
		return err
	}
	return errOutage
}

func (s *outageStore) ConsumeNonce(ctx context.Context, nonce string, userID int64, msgID int) (store.Request, error) {
	var req store.Request
	err := s.do("consume", func() (err error) { req, err = s.Store.ConsumeNonce(ctx, nonce, userID, msgID); return err })
	if err != nil {
		return store.Request{}, err
	}
	return req, nil
}

func (s *outageStore) IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration, src string) (store.Request, error) {
	var req store.Request
	err := s.do("issue", func() (err error) { req, err = s.Store.IssueRequest(ctx, p, ttl, src); return err })
	if err != nil {
		return store.Request{}, err
	}
	return req, nil
}

func (s *outageStore) SetStatus(ctx context.Context, st store.Status) error {
	return s.do("status", func() error { return s.Store.SetStatus(ctx, st) })
}

func (s *outageStore) AuditOnce(ctx context.Context, ev store.Event, id string) error {
	return s.do("audit", func() error { return s.Store.AuditOnce(ctx, ev, id) })
}

// processUntilDone processes sub until it no longer fails with
// ErrRetryLater (at most max times) and returns the number of calls and
// the last error; every retryable failure must wrap want too.
func (e *env) processUntilDone(sub Submission, max int, want error) (int, error) {
	e.t.Helper()
	for attempt := 1; ; attempt++ {
		_, err := e.flow.Process(e.ctx, sub)
		if !errors.Is(err, handlers.ErrRetryLater) || attempt == max {
			return attempt, err
		}
		if want != nil && !errors.Is(err, want) {
			e.t.Fatalf("attempt %d: %v, want an ErrRetryLater wrapping %v", attempt, err, want)
		}
	}
}

// TestStoreUnavailable: Redis fails at some step of a submission; the
// processing fails with ErrRetryLater (wrapping store.ErrUnavailable)
// until Redis answers, and the same submission processed again gets
// through: the user is told once that it takes longer and once the
// verdict, with the status and one verified event recorded.
func TestStoreUnavailable(t *testing.T) {
	tests := []struct {
		name  string
		plan  map[string]int
		lost  []string
		calls int // Process calls in all
		hooks int // OnVerified calls
	}{
		{"consume refused twice", map[string]int{"consume": 2}, nil, 3, 1},
		// The nonce was consumed, the answer lost: the same message
		// consumes it again (not a replay).
		{"consume answer lost", map[string]int{"consume": 1}, []string{"consume"}, 2, 1},
		// After the hook: told verified only once recorded.
		{"status refused", map[string]int{"status": 1}, nil, 2, 2},
		{"status answer lost", map[string]int{"status": 1}, []string{"status"}, 2, 2},
		{"audit answer lost", map[string]int{"audit": 1}, []string{"audit"}, 2, 2},
		{"audit refused twice", map[string]int{"audit": 2}, nil, 3, 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			consumeFails := tt.plan["consume"] > 0 // the outage counts the plan down
			outage := &outageStore{plan: tt.plan, lost: map[string]bool{}}
			for _, op := range tt.lost {
				outage.lost[op] = true
			}
			e := newEnv(t, func(s Store) Store { outage.Store = s; return outage })
			user := int64(5100 + i)
			p := goodProfile(t)
			req := e.issue(user, "en")
			sub := e.submission(e.share(p, req.Nonce, nil), user, "en")
			calls, err := e.processUntilDone(sub, 5, store.ErrUnavailable)
			if err != nil {
				t.Fatalf("after %d calls: %v", calls, err)
			}
			if calls != tt.calls {
				t.Errorf("%d calls until the submission was processed, want %d", calls, tt.calls)
			}
			// Before the nonce is consumed, the delay notice is a message
			// of its own, above the "received" message the verdict is
			// edited into; after it, the delay notice is edited in too.
			delayedText, receivedText, verifiedText := e.text("en", i18n.MsgSubmissionDelayed, nil), e.text("en", i18n.MsgSubmissionReceived, nil),
				e.text("en", i18n.MsgResultVerified, nil)
			told, want, keys := []string{receivedText, delayedText, verifiedText}, []string{verifiedText}, []string{sub.ID + ":" + i18n.MsgSubmissionReceived}
			if consumeFails {
				told, want = []string{delayedText, receivedText, verifiedText}, []string{delayedText, verifiedText}
				keys = []string{sub.ID + ":" + i18n.MsgSubmissionDelayed, sub.ID + ":" + i18n.MsgSubmissionReceived}
			}
			if got := handlerstest.Texts(e.tg.Timeline(user)); !slices.Equal(got, told) {
				t.Errorf("the user was shown %q, want %q", got, told)
			}
			if got := handlerstest.Texts(e.tg.Shown(user)); !slices.Equal(got, want) {
				t.Errorf("the user sees %q, want %q", got, want)
			}
			if got := handlerstest.Keys(e.tg.Shown(user)); !slices.Equal(got, keys) {
				t.Errorf("message keys %q, want %q", got, keys)
			}
			verified, _ := e.hooks()
			if len(verified) != tt.hooks {
				t.Errorf("OnVerified ran %d times, want %d", len(verified), tt.hooks)
			}
			for _, v := range verified {
				if v.NonceHash != req.NonceHash() {
					t.Errorf("OnVerified got nonce hash %q, want %q", v.NonceHash, req.NonceHash())
				}
			}
			if st := e.status(user); st.State != store.StateVerified {
				t.Errorf("status %q, want verified", st.State)
			}
			if n := count(e.auditOf(user), "verified"); n != 1 {
				t.Errorf("%d verified events, want 1", n)
			}
			if !slices.Equal(e.obs.Submissions(), []string{"verified//basic"}) || len(e.obs.Verdicts()) != 1 {
				t.Errorf("observed %v and %d verdicts, want the verdict once", e.obs.Submissions(), len(e.obs.Verdicts()))
			}

			// Processed once more (its worker stopped before taking it
			// out of the queue): the user sees nothing more.
			e.process(sub)
			if got := handlerstest.Texts(e.tg.Shown(user)); !slices.Equal(got, want) {
				t.Errorf("after another processing the user sees %q", got)
			}
			if n := count(e.auditOf(user), "verified"); n != 1 {
				t.Errorf("%d verified events after another processing, want 1", n)
			}
			e.noPersonalData(p)
		})
	}
}

// TestHookErrors: a hook that cannot take the outcome now (its store
// unreachable, as the webhook outbox with Redis down, or ErrRetryLater)
// has the submission processed again later, and the outcome is told and
// recorded once; a hook that fails otherwise ends the submission (the
// user is asked to share again).
func TestHookErrors(t *testing.T) {
	unavailable := fmt.Errorf("webhook event: delivery: %w", store.ErrUnavailable)
	tests := []struct {
		name      string
		young     bool
		fail      []error
		calls     int    // Process calls until it stops failing with ErrRetryLater
		final     bool   // the last call fails for good
		want      string // the outcome's text ID
		event     string // the outcome's audit event
		hookCalls int    // successful hook calls
	}{
		{"verified, store down once", false, []error{unavailable}, 2, false, i18n.MsgResultVerified, "verified", 1},
		{"verified, retry later twice", false, []error{handlers.ErrRetryLater, unavailable}, 3, false, i18n.MsgResultVerified, "verified", 1},
		{"rejected, store down once", true, []error{unavailable}, 2, false, i18n.MsgResultRejected, "rejected", 1},
		{"verified, hook broken", false, []error{errors.New("crm says no")}, 1, true, i18n.MsgSubmissionFailed, "processing_failed", 0},
		// A final rejection is recorded and told whatever its hook says.
		{"rejected, hook broken", true, []error{errors.New("crm says no")}, 1, false, i18n.MsgResultRejected, "rejected", 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.hookFail = tt.fail
			user := int64(5300 + i)
			p := goodProfile(t)
			if tt.young {
				p.BirthDate = "05.06.2011"
			}
			sub := e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
			calls, err := e.processUntilDone(sub, 5, nil)
			if calls != tt.calls {
				t.Errorf("%d calls until the processing ended, want %d", calls, tt.calls)
			}
			if (err != nil) != tt.final || errors.Is(err, handlers.ErrRetryLater) {
				t.Errorf("the last call: %v, want a final error: %v", err, tt.final)
			}
			en := e.catalog.Language("en")
			want := en.Text(tt.want, nil)
			if tt.young {
				reason := en.Problem("too_young", "personal_details", "data.birth_date", map[string]string{"min_age": "18", "age": "14"})
				want = en.Text(tt.want, map[string]any{"Reason": reason})
			}
			// "Received", then (edited in) the delay notice, then the
			// outcome.
			msgs := handlerstest.Texts(e.tg.Timeline(user))
			if tt.calls > 1 {
				if w := []string{en.Text(i18n.MsgSubmissionReceived, nil), en.Text(i18n.MsgSubmissionDelayed, nil), want}; !slices.Equal(msgs, w) {
					t.Errorf("the user was shown %q, want received, the delay notice, then the outcome %q", msgs, w)
				}
			} else if w := []string{en.Text(i18n.MsgSubmissionReceived, nil), want}; !slices.Equal(msgs, w) {
				t.Errorf("the user was shown %q, want %q", msgs, w)
			}
			if shown := handlerstest.Texts(e.tg.Shown(user)); !slices.Equal(shown, []string{want}) {
				t.Errorf("the user sees %q, want %q", shown, want)
			}
			verified, rejected := e.hooks()
			if got := len(verified) + len(rejected); got != tt.hookCalls {
				t.Errorf("%d successful hook calls, want %d", got, tt.hookCalls)
			}
			if n := count(e.auditOf(user), tt.event); n != 1 {
				t.Errorf("%d %s events, want 1", n, tt.event)
			}
			if tt.event == "processing_failed" && !slices.Equal(e.lastAudit().Codes, []string{"hook_failed"}) {
				t.Errorf("audit = %+v, want the code hook_failed", e.lastAudit())
			}
			e.noPersonalData(p)
		})
	}
}

// stopStore ends the processing's context (the bot stopping) when the
// call at is made: after ConsumeNonce succeeded ("consume"), or before
// SetStatus runs ("status").
type stopStore struct {
	Store
	mu   sync.Mutex
	at   string
	stop func()
}

func (s *stopStore) where() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at
}

func (s *stopStore) ConsumeNonce(ctx context.Context, nonce string, userID int64, msgID int) (store.Request, error) {
	req, err := s.Store.ConsumeNonce(ctx, nonce, userID, msgID)
	if s.where() == "consume" {
		s.stop()
	}
	return req, err
}

func (s *stopStore) SetStatus(ctx context.Context, st store.Status) error {
	if s.where() == "status" {
		s.stop()
	}
	return s.Store.SetStatus(ctx, st)
}

// TestCutShort: a processing whose context ends before the user was told
// the outcome stops without telling anything (not even that it takes
// longer) and asks for a retry (ErrRetryLater, with the context's
// error). The same submission processed again finishes it: one verdict,
// one verified event, the nonce given back to the same message.
func TestCutShort(t *testing.T) {
	tests := []struct {
		name  string
		at    string // where the context ends
		hooks int    // OnVerified calls in all
	}{
		{"before anything", "start", 1},
		{"during the download", "download", 1},
		{"recording the status", "status", 2},
		{"telling the verdict", "tell", 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			st := &stopStore{at: tt.at, stop: stop}
			e := newEnv(t, func(s Store) Store { st.Store = s; return st })
			user := int64(5400 + i)
			p := goodProfile(t)
			sub := e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
			switch tt.at {
			case "start":
				stop()
			case "download":
				st.at = "consume"
				e.tg.SetDownloads(0, context.Canceled)
			case "tell":
				// The "received" message goes out; the verdict, which
				// cannot be edited into it, is sent as a new message, and
				// the context ends then.
				e.tg.SetEdit(errors.New("handlerstest: edit refused"))
				var sends atomic.Int32
				e.tg.SetSend(nil, func() {
					if sends.Add(1) == 1 {
						return
					}
					stop()
					e.tg.SetSend(context.Canceled, nil)
				})
			}
			_, err := e.flow.Process(ctx, sub)
			if !errors.Is(err, handlers.ErrRetryLater) || !errors.Is(err, context.Canceled) {
				t.Fatalf("cut short: %v, want ErrRetryLater and context.Canceled", err)
			}
			// At most that the documents were received.
			for _, m := range e.tg.Timeline(user) {
				if m.Text != e.text("en", i18n.MsgSubmissionReceived, nil) {
					t.Errorf("the user was told %q", m.Text)
				}
			}
			if st := e.status(user); tt.at != "tell" && st.State == store.StateVerified {
				t.Error("verified before the processing ended")
			}
			if len(e.obs.Submissions()) != 0 {
				t.Errorf("observed %v for a processing cut short", e.obs.Submissions())
			}

			// The submission is processed again (by this instance after a
			// restart, or by another one).
			st.mu.Lock()
			st.at = ""
			st.mu.Unlock()
			e.tg.SetDownloads(0, nil)
			e.tg.SetSend(nil, nil)
			e.tg.SetEdit(nil)
			e.process(sub)
			if got, want := handlerstest.Texts(e.tg.Shown(user)), []string{e.text("en", i18n.MsgResultVerified, nil)}; !slices.Equal(got, want) {
				t.Errorf("the user sees %q, want %q", got, want)
			}
			if verified, _ := e.hooks(); len(verified) != tt.hooks {
				t.Errorf("OnVerified ran %d times, want %d", len(verified), tt.hooks)
			}
			if st := e.status(user); st.State != store.StateVerified {
				t.Errorf("status %q, want verified", st.State)
			}
			evs := e.auditOf(user)
			if len(evs) != 1 || evs[0].Kind != "verified" {
				t.Errorf("audit events %+v, want one verified", evs)
			}
			e.noPersonalData(p)
		})
	}
}

// TestGiveUp: a submission still not processed when the caller stops
// retrying ends with a clear message (share again), audited and
// observed.
func TestGiveUp(t *testing.T) {
	e := newEnv(t, func(s Store) Store { return &outageStore{Store: s, plan: map[string]int{"consume": 100}} })
	const user = int64(5201)
	p := goodProfile(t)
	sub := e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
	for range 2 {
		if _, err := e.flow.Process(e.ctx, sub); !errors.Is(err, handlers.ErrRetryLater) || !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrRetryLater", err)
		}
	}
	out := e.flow.GiveUp(e.ctx, sub)
	if out.Result != handlers.SubmissionFailed || out.Reason != "gave_up" {
		t.Errorf("outcome = %+v", out)
	}
	msgs := e.tg.SendsTo(user)
	if want := []string{e.text("en", i18n.MsgSubmissionDelayed, nil), e.text("en", i18n.MsgSubmissionFailed, nil)}; !slices.Equal(handlerstest.Texts(msgs), want) {
		t.Errorf("the user got %q, want %q", handlerstest.Texts(msgs), want)
	}
	if len(msgs) == 2 && msgs[1].Key != sub.ID+":"+i18n.MsgSubmissionFailed {
		t.Errorf("the failure was sent with key %q", msgs[1].Key)
	}
	if ev := e.lastAudit(); ev.Kind != "processing_failed" || ev.UserID != user || !slices.Equal(ev.Codes, []string{"gave_up"}) {
		t.Errorf("audit = %+v", ev)
	}
	if verified, _ := e.hooks(); len(verified) != 0 {
		t.Error("verified")
	}
	if !slices.Equal(e.obs.Submissions(), []string{"failed/gave_up/"}) {
		t.Errorf("observed %v", e.obs.Submissions())
	}
	e.noPersonalData(p)
}

// TestDownloads: a download that fails now and then is tried again
// before the user is asked to share again; one that keeps failing ends
// the submission (share again), audited.
func TestDownloads(t *testing.T) {
	tests := []struct {
		name      string
		failures  int   // downloads that fail, then work
		err       error // every download fails
		verified  bool
		downloads int // at least
	}{
		{name: "retried", failures: downloadAttempts - 1, verified: true, downloads: 3 + downloadAttempts - 1},
		{name: "failing", err: errors.New("rpc error code 500: INTERNAL"), downloads: downloadAttempts},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			user := int64(6001 + i)
			p := goodProfile(t)
			sub := e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
			e.tg.SetDownloads(tt.failures, tt.err)
			out, err := e.flow.Process(e.ctx, sub)
			downloads := e.tg.Downloads()
			if downloads < tt.downloads || tt.verified && downloads != tt.downloads {
				t.Errorf("%d downloads, want %d", downloads, tt.downloads)
			}
			verified, _ := e.hooks()
			if tt.verified {
				if err != nil || len(verified) != 1 || out.Result != handlers.SubmissionVerified {
					t.Fatalf("not verified after %d transient download failures: %v", tt.failures, err)
				}
				return
			}
			if err == nil || errors.Is(err, handlers.ErrRetryLater) {
				t.Fatalf("a failed download returned %v, want a final error", err)
			}
			if len(verified) != 0 {
				t.Fatal("verified without the scans")
			}
			if want := e.text("en", i18n.MsgSubmissionFailed, nil); !slices.Equal(handlerstest.Texts(e.tg.SendsTo(user)), []string{want}) {
				t.Errorf("messages = %q, want %q", handlerstest.Texts(e.tg.SendsTo(user)), want)
			}
			if ev := e.lastAudit(); ev.Kind != "processing_failed" || !slices.Equal(ev.Codes, []string{"download_failed"}) || ev.Level != level {
				t.Errorf("audit = %+v", ev)
			}
			if out.Result != handlers.SubmissionFailed || out.Reason != "download_failed" {
				t.Errorf("outcome = %+v", out)
			}
			e.noPersonalData(p)
		})
	}
}

// TestObserver: the flow tells its Observer the outcome of every
// submission processed to an end, the problem codes and the time to the
// verdict; attempts to be retried are not counted.
func TestObserver(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(Store) Store
		// run shares and processes, as the scenario wants.
		run         func(t *testing.T, e *env, user int64)
		submissions []string
		problems    [][]string
		verdicts    int
	}{
		{name: "verified", run: func(t *testing.T, e *env, user int64) {
			e.process(e.submission(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en"))
		}, submissions: []string{"verified//basic"}, verdicts: 1},
		{name: "needs fixes", run: func(t *testing.T, e *env, user int64) {
			p := goodProfile(t)
			p.Expiry = "01.01.2025"
			p.Selfie = jpegOf(t, 320, 240, 99)
			e.process(e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en"))
		}, submissions: []string{"needs_fixes//basic"}, problems: [][]string{{"expired", "image_too_small"}}, verdicts: 1},
		{name: "rejected", run: func(t *testing.T, e *env, user int64) {
			p := goodProfile(t)
			p.BirthDate = "05.06.2011"
			e.process(e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en"))
		}, submissions: []string{"rejected//basic"}, problems: [][]string{{"too_young"}}, verdicts: 1},
		{name: "nonce used", run: func(t *testing.T, e *env, user int64) {
			sh := e.share(goodProfile(t), e.issue(user, "en").Nonce, nil)
			e.process(e.submission(sh, user, "en"))
			e.process(e.submission(sh, user, "en")) // another message, the same nonce
		}, submissions: []string{"verified//basic", "refused/used/"}, verdicts: 1},
		{name: "nonce unknown", run: func(t *testing.T, e *env, user int64) {
			e.process(e.submission(e.share(goodProfile(t), "never-issued-nonce", nil), user, "en"))
		}, submissions: []string{"refused/unknown/"}},
		{name: "wrong key", run: func(t *testing.T, e *env, user int64) {
			e.process(e.submission(e.share(goodProfile(t), e.issue(user, "en").Nonce, handlerstest.OtherKey(t)), user, "en"))
		}, submissions: []string{"undecryptable/wrong_key/"}},
		{name: "download failed", run: func(t *testing.T, e *env, user int64) {
			sub := e.submission(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
			e.tg.SetDownloads(0, errors.New("rpc error code 500: INTERNAL"))
			if _, err := e.flow.Process(e.ctx, sub); err == nil {
				t.Fatal("a failed download returned nil")
			}
		}, submissions: []string{"failed/download_failed/basic"}},
		{name: "unknown level", run: func(t *testing.T, e *env, user int64) {
			req, err := e.store.Requests().Issue(e.ctx, store.RequestParams{UserID: user, ChatID: user, Level: "retired"}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			sub := e.submission(e.share(goodProfile(t), req.Nonce, nil), user, "en")
			if _, err := e.flow.Process(e.ctx, sub); err == nil || errors.Is(err, handlers.ErrRetryLater) {
				t.Fatalf("a level without a checker: %v", err)
			}
			if got, want := handlerstest.Texts(e.tg.SendsTo(user)), []string{e.text("en", i18n.MsgSubmissionFailed, nil)}; !slices.Equal(got, want) {
				t.Errorf("the user got %q, want %q", got, want)
			}
		}, submissions: []string{"failed/unknown_level/retired"}},
		{name: "retried", wrap: func(s Store) Store { return &outageStore{Store: s, plan: map[string]int{"consume": 1}} }, run: func(t *testing.T, e *env, user int64) {
			sub := e.submission(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
			if _, err := e.flow.Process(e.ctx, sub); err == nil {
				t.Fatal("the failing store did not fail")
			}
			e.process(sub)
		}, submissions: []string{"verified//basic"}, verdicts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.wrap)
			tc.run(t, e, 8001)
			o := e.obs
			if !slices.Equal(o.Submissions(), tc.submissions) {
				t.Errorf("submissions %v, want %v", o.Submissions(), tc.submissions)
			}
			if fmt.Sprint(o.ProblemCodes()) != fmt.Sprint(tc.problems) {
				t.Errorf("problems %v, want %v", o.ProblemCodes(), tc.problems)
			}
			if len(o.Verdicts()) != tc.verdicts {
				t.Errorf("%d verdicts, want %d", len(o.Verdicts()), tc.verdicts)
			}
			if len(o.Commands()) != 0 {
				t.Errorf("commands %v", o.Commands())
			}
		})
	}
}

// TestVerdictTime: the time to the verdict is measured with the flow's
// clock, from when the update arrived (Submission.Received, else when
// Process started) to the verdict sent.
func TestVerdictTime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		young    bool          // a final rejection
		received time.Duration // before the clock's time; 0 for none
		want     time.Duration
	}{
		{"from the start of Process", false, 0, 3 * time.Second},
		{"from the update's arrival", false, 2 * time.Second, 5 * time.Second},
		{"rejected", true, 0, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			const user = int64(8002)
			p := goodProfile(t)
			if tc.young {
				p.BirthDate = "05.06.2011"
			}
			sub := e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
			if tc.received > 0 {
				sub.Received = e.clock.Now().Add(-tc.received)
			}
			e.tg.SetSend(nil, func() { e.clock.Advance(3 * time.Second) })
			e.process(sub)
			// The verdict is the first message; the admin's notice comes
			// after and is not part of the verdict time.
			if n := len(e.tg.SendsTo(adminID)); n != 1 {
				t.Fatalf("%d admin notices", n)
			}
			if !slices.Equal(e.obs.Verdicts(), []time.Duration{tc.want}) {
				t.Errorf("verdicts %v, want [%v]", e.obs.Verdicts(), tc.want)
			}
		})
	}
}

// TestContextLogger: a logger carried by the context
// (handlers.ContextWithLogger) is the one every record of the submission
// goes to, with the flow's own attributes, and nothing personal.
func TestContextLogger(t *testing.T) {
	e := newEnv(t, nil)
	var out testkit.Logs
	ctx := handlers.ContextWithLogger(context.Background(), out.Logger().With("update_id", "0123abcd4567"))
	p := goodProfile(t)
	const user = int64(8201)
	if _, err := e.flow.Process(ctx, e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("too few records:\n%s", out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "update_id=0123abcd4567") || !strings.Contains(l, "user_id=8201") {
			t.Errorf("a record without the update ID or the user: %s", l)
		}
	}
	for _, v := range p.values() {
		if strings.Contains(out.String(), v) {
			t.Errorf("the logs hold %q", v)
		}
	}
	if e.logs.String() != "" {
		t.Errorf("records went to the flow's own logger:\n%s", e.logs)
	}
}

// TestNewConfig: New names everything a config lacks, refuses a nil
// checker and fills the defaults.
func TestNewConfig(t *testing.T) {
	_, err := New(Config{})
	if err == nil {
		t.Fatal("an empty config was accepted")
	}
	for _, f := range []string{"Key", "Store", "Telegram", "Catalog", "Checkers", "PageURL"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("the error does not name %s: %v", f, err)
		}
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	ok := Config{Key: handlerstest.Key(t), Store: &handlerstest.Store{}, Telegram: &handlerstest.Telegram{}, Catalog: cat,
		Checkers: map[string]*verify.Checker{level: testChecker(t, time.Now)}, PageURL: func(id string) string { return id }}
	f, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	c := f.cfg
	if c.RequestTTL != DefaultRequestTTL || c.DownloadConcurrency != DefaultDownloadConcurrency || c.TempDir == "" ||
		c.Now == nil || c.Log == nil || c.Observer == nil {
		t.Errorf("defaults not filled: %+v", c)
	}
	bad := ok
	bad.Checkers = map[string]*verify.Checker{level: nil}
	if _, err := New(bad); err == nil || !strings.Contains(err.Error(), `"basic"`) {
		t.Errorf("a nil checker: %v", err)
	}
}
