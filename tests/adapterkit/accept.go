package adapterkit

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
)

// waitFor bounds each step of a case.
const waitFor = 2 * time.Minute

// Accept runs the acceptance cases against the host bot, each a subtest:
// the host's own handler, the scenarios, the security cases, and the
// host's handler again.
func (e *Env) Accept(t *testing.T) {
	t.Run("host answers", e.hostAnswers)
	for _, sc := range demo.Scenarios() {
		t.Run("scenario "+string(sc), func(t *testing.T) { e.play(t, sc) })
	}
	t.Run("replayed nonce", e.replayedNonce)
	t.Run("another user's nonce", e.othersNonce)
	t.Run("expired request", e.expired)
	t.Run("tampered credentials", e.tampered)
	t.Run("host still answers", e.hostAnswers)
}

// testContext is a case's context. It fails the case at once when the
// host bot has stopped.
func (e *Env) testContext(t *testing.T) context.Context {
	t.Helper()
	if err := e.hostStopped(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// hostAnswers: /ping and other text reach the host's own handler, not
// kycbot.
func (e *Env) hostAnswers(t *testing.T) {
	ctx := e.testContext(t)
	u := e.User(t, nil)
	e.request(ctx, t, u) // /start: kycbot's
	for _, tc := range []struct{ send, want string }{{"/ping", "pong"}, {"What are your opening hours?", "What are your opening hours?"}} {
		if err := u.Send(ctx, e.Account.ID, tc.send); err != nil {
			t.Fatal(err)
		}
		m, err := u.WaitMessage(ctx, nil)
		if err != nil {
			t.Fatalf("no answer to %q: %v", tc.send, err)
		}
		if m.Text != tc.want {
			t.Errorf("the bot answered %q with %q, want the host's %q", tc.send, m.Text, tc.want)
		}
	}
}

// play plays a scenario of sandbox/demo with a new user.
func (e *Env) play(t *testing.T, sc demo.Scenario) {
	ctx := e.testContext(t)
	// The seed makes the document number, which must be of a document's
	// form and differ from other users'.
	p, err := sc.Profile(fmt.Sprintf("K%011d", time.Now().UnixNano()%1e11), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u := e.User(t, p)
	res, err := demo.Play(ctx, u, sc, demo.PlayOptions{Bot: e.Account.Username, Texts: e.Bot.Catalog(),
		Scope: e.Config.Levels[e.Config.DefaultLevelName].Scope})
	if err != nil {
		t.Fatal(err)
	}
	if st := e.status(t, u.User.ID); st.State != sc.Expected() {
		t.Errorf("kycbot's record says %s, want %s", st.State, sc.Expected())
	}
	if sc == demo.Fix && len(res.Verdicts) != 2 {
		t.Errorf("%d verdicts, want the fixes asked and then verified", len(res.Verdicts))
	}
}

// replayedNonce: the same Passport link shared twice.
func (e *Env) replayedNonce(t *testing.T) {
	ctx := e.testContext(t)
	u := e.User(t, nil)
	link := e.share(ctx, t, u, e.request(ctx, t, u))
	e.expectVerified(ctx, t, u, "first submission")
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	e.expectRefusal(ctx, t, u, i18n.MsgNonceUsed, "nonce_used", 1)
}

// othersNonce: a user shares on another user's request.
func (e *Env) othersNonce(t *testing.T) {
	ctx := e.testContext(t)
	owner, thief := e.User(t, nil), e.User(t, nil)
	page := e.request(ctx, t, owner)
	e.share(ctx, t, thief, page)
	e.expectRefusal(ctx, t, thief, i18n.MsgNonceOtherUser, "nonce_other_user", 0)
	e.share(ctx, t, owner, page) // the owner's request is untouched
	e.expectVerified(ctx, t, owner, "the owner after the theft attempt")
}

// expired: a request shared after its time.
func (e *Env) expired(t *testing.T) {
	ctx := e.testContext(t)
	u := e.User(t, nil)
	link := e.open(ctx, t, u, e.request(ctx, t, u))
	e.clock.advance(e.Config.Passport.RequestTTL + time.Minute)
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	e.expectRefusal(ctx, t, u, i18n.MsgNonceExpired, "nonce_expired", 0)
	e.share(ctx, t, u, e.request(ctx, t, u))
	e.expectVerified(ctx, t, u, "a new request after the expired one")
}

// tampered: credentials changed on their way; the same request works
// untampered afterwards.
func (e *Env) tampered(t *testing.T) {
	ctx := e.testContext(t)
	tp := &tamper{}
	tp.armed.Store(true)
	u := e.User(t, nil, tp)
	link := e.share(ctx, t, u, e.request(ctx, t, u))
	e.expectRefusal(ctx, t, u, i18n.MsgSubmissionUndecryptable, "decrypt_failed", 0)
	tp.armed.Store(false)
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	e.expectVerified(ctx, t, u, "after the tampered attempt")
}

// tamper flips a byte of the encrypted credentials on their way to
// Telegram while armed.
type tamper struct{ armed atomic.Bool }

// Handle implements telegram.Middleware.
func (tp *tamper) Handle(next tg.Invoker) telegram.InvokeFunc {
	return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
		if r, ok := input.(*tg.AccountAcceptAuthorizationRequest); ok && tp.armed.Load() {
			r.Credentials.Data[len(r.Credentials.Data)/2] ^= 0x40
		}
		return next.Invoke(ctx, input, output)
	}
}

// request sends /start and returns the request page of kycbot's button,
// once both of kycbot's answers (the greeting and the button) arrived, in
// either order.
func (e *Env) request(ctx context.Context, t *testing.T, u *sandbox.SimUser) string {
	t.Helper()
	if _, err := u.Start(ctx, e.Account.Username, ""); err != nil {
		t.Fatal(err)
	}
	greeting, _, _ := strings.Cut(e.text(i18n.MsgStartGreeting), "\n")
	page, greeted := "", false
	for page == "" || !greeted {
		m, err := u.WaitMessage(ctx, nil)
		if err != nil {
			t.Fatalf("no greeting and request button after /start: %v", err)
		}
		greeted = greeted || strings.HasPrefix(m.Text, greeting)
		for _, row := range m.Buttons {
			for _, b := range row {
				if b.URL != "" {
					page = b.URL
				}
			}
		}
	}
	return page
}

// open opens the request page as u's app does and returns its Passport
// link.
func (e *Env) open(ctx context.Context, t *testing.T, u *sandbox.SimUser, page string) string {
	t.Helper()
	link, err := u.OpenURL(ctx, page)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// share opens the request page and shares u's profile; it returns the
// Passport link.
func (e *Env) share(ctx context.Context, t *testing.T, u *sandbox.SimUser, page string) string {
	t.Helper()
	link := e.open(ctx, t, u, page)
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// next waits for kycbot's next message to u other than the "received,
// checking" one (the verdict is edited into it).
func (e *Env) next(ctx context.Context, t *testing.T, u *sandbox.SimUser) sandbox.ChatMessage {
	t.Helper()
	received := e.text(i18n.MsgSubmissionReceived)
	m, err := u.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return !m.Out && (m.Edited || m.Text != received) })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *Env) expectVerified(ctx context.Context, t *testing.T, u *sandbox.SimUser, when string) {
	t.Helper()
	if m := e.next(ctx, t, u); m.Text != e.text(i18n.MsgResultVerified) {
		t.Fatalf("%s: the bot said %q, want verified", when, m.Text)
	}
}

// expectRefusal checks kycbot's next message to u, the audit event of
// the refusal, and that u was not verified by it (verifiedBefore:
// verified events before).
func (e *Env) expectRefusal(ctx context.Context, t *testing.T, u *sandbox.SimUser, msgID, kind string, verifiedBefore int) {
	t.Helper()
	if m, want := e.next(ctx, t, u), e.text(msgID); m.Text != want {
		t.Errorf("the bot said %q, want %q", m.Text, want)
	}
	events := e.events(ctx, t, u.User.ID)
	found, verified := false, 0
	for _, k := range events {
		found = found || k == kind
		if k == "verified" {
			verified++
		}
	}
	if !found {
		t.Errorf("audit events %v lack %s", events, kind)
	}
	if verified != verifiedBefore {
		t.Errorf("the refused submission verified the user (%d verified events, had %d)", verified, verifiedBefore)
	}
}

// text is a text of kycbot's in English.
func (e *Env) text(id string) string { return e.Bot.Catalog().Language("en").Text(id, nil) }

// status is the user's status at the default level.
func (e *Env) status(t *testing.T, userID int64) store.Status {
	t.Helper()
	st, err := store.New(e.rdb, store.WithPrefix(e.Config.Redis.Prefix)).Statuses().Get(context.Background(), userID, e.Config.DefaultLevelName)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// events lists the kinds of the audit events about a user, in order.
func (e *Env) events(ctx context.Context, t *testing.T, userID int64) []string {
	t.Helper()
	st := store.New(e.rdb, store.WithPrefix(e.Config.Redis.Prefix), bot.AuditKeys(e.served.Key))
	var kinds []string
	if err := st.Audit().Events(ctx, func(ev store.RecordedEvent) error {
		if ev.UserID == userID {
			kinds = append(kinds, ev.Kind)
		}
		return nil
	}, userID); err != nil {
		t.Fatal(err)
	}
	return kinds
}

// SameUpdate fails the test unless marshalled (an update as the adapter
// gave it to kycbot, after the framework decoded it) carries everything
// raw (the update as the Bot API server sent it) does for kycbot: the
// whole passport_data, field by field (elements, their data, hashes and
// files, the credentials), and what botapi.Parse reads.
func SameUpdate(t *testing.T, raw, marshalled []byte) {
	t.Helper()
	if err := sameUpdate(raw, marshalled); err != nil {
		t.Error(err)
	}
}

// sameUpdate is SameUpdate's check; its error says what differs, without
// the data.
func sameUpdate(raw, marshalled []byte) error {
	passportData := func(b []byte) (any, error) {
		var u struct {
			Message *struct {
				PassportData any `json:"passport_data"`
			} `json:"message"`
		}
		if err := json.Unmarshal(b, &u); err != nil || u.Message == nil {
			return nil, fmt.Errorf("not an update with a message (%v)", err)
		}
		return u.Message.PassportData, nil
	}
	want, err := passportData(raw)
	if err != nil || want == nil {
		return fmt.Errorf("the server's update has no passport_data: %v", err)
	}
	got, err := passportData(marshalled)
	if err != nil {
		return fmt.Errorf("the framework's update: %w", err)
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("passport_data changed on the way through the framework (%d bytes of JSON, the server's %d)", len(jsonOf(got)), len(jsonOf(want)))
	}
	pw, okw := botapi.Parse(raw)
	pg, okg := botapi.Parse(marshalled)
	if !okw || !okg || !reflect.DeepEqual(pg, pw) {
		return fmt.Errorf("kycbot reads the update differently after the framework (%v, %v)", okg, okw)
	}
	return nil
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
