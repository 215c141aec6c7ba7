package chat

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// today is the date of every test clock.
var today = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

const (
	level       = "basic"
	levelFull   = "full"
	adminID     = int64(777)
	pageBase    = "https://kyc.example/passport/"
	botUsername = "kyc_test_bot"
	requestTTL  = 30 * time.Minute
)

// testScopes are the scopes of the test levels.
func testScopes(name string) (passport.Scope, error) {
	switch name {
	case level:
		return passport.NewScope(passport.Require(passport.TypePersonalDetails), passport.Require(passport.TypeDriverLicense).WithSelfie()), nil
	case levelFull:
		return passport.NewScope(
			passport.Require(passport.TypePersonalDetails),
			passport.RequireOneOf(passport.TypePassport, passport.TypeIdentityCard),
			passport.Require(passport.TypeUtilityBill),
		), nil
	}
	return passport.Scope{}, fmt.Errorf("no level %q", name)
}

// fakeAdmin is the admin commands as the conversation sees them.
type fakeAdmin struct {
	mu       sync.Mutex
	commands []string // "name arg ..."
	taps     []string
	menus    [][]handlers.BotCommand
}

var _ Admin = (*fakeAdmin)(nil)

func (a *fakeAdmin) Handles(name string) bool { return strings.HasPrefix(name, "kyc_") }

func (a *fakeAdmin) Command(_ context.Context, m handlers.TextMessage, name string, args []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.commands = append(a.commands, strings.Join(append([]string{name}, args...), " "))
	return nil
}

func (a *fakeAdmin) HandlesData(data string) bool {
	return strings.HasPrefix(data, "kyc:del:") || strings.HasPrefix(data, "kycdel:")
}

func (a *fakeAdmin) Callback(_ context.Context, q handlers.CallbackQuery) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.taps = append(a.taps, q.Data)
	return nil
}

func (a *fakeAdmin) SetCommands(_ context.Context, public []handlers.BotCommand) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.menus = append(a.menus, public)
}

// cenv is one conversation test's world: a store on the real Redis, a
// fake Telegram, fake admin commands and the conversation.
type cenv struct {
	t       *testing.T
	ctx     context.Context
	clock   *testkit.Clock
	rdb     redis.UniversalClient
	prefix  string
	store   *store.Store
	adapter *handlerstest.Store
	tg      *handlerstest.Telegram
	admin   *fakeAdmin
	logs    *testkit.Logs
	catalog *i18n.Catalog
	c       *Conversation
	obs     *handlerstest.Observer
	updates int // update IDs handed out
	msgID   int
	queryID int64
}

// newEnv returns a conversation with the given levels (the first is the
// default), answering every text (CatchAll, as the standalone bot); wrap,
// if not nil, wraps the store it is given; edit, if any, changes the
// config before New.
func newEnv(t *testing.T, levels []string, wrap func(Store) Store, edit ...func(*Config)) *cenv {
	t.Helper()
	rdb := testkit.Need(t)
	e := &cenv{t: t, ctx: context.Background(), clock: testkit.NewClock(today), rdb: rdb, tg: &handlerstest.Telegram{}, admin: &fakeAdmin{},
		logs: &testkit.Logs{}, obs: &handlerstest.Observer{}}
	e.prefix = testkit.Prefix(t, rdb, "chat")
	e.store = store.New(rdb, store.WithPrefix(e.prefix), store.WithClock(e.clock.Now), store.WithAuditKey(handlerstest.AuditKey()), store.WithDocumentKey(handlerstest.DocumentKey()))
	e.adapter = handlerstest.NewStore(e.store)
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	e.catalog = cat
	var st Store = e.adapter
	if wrap != nil {
		st = wrap(st)
	}
	logger := e.logs.Logger()
	cfg := Config{
		Store: st, Telegram: e.tg, Catalog: cat, Levels: levels, DefaultLevel: levels[0], Scopes: testScopes,
		PageURL: func(id string) string { return pageBase + id }, Admin: e.admin, CatchAll: true,
		Titles:     map[string]string{level: "Basic check", levelFull: "Full check"},
		Admins:     &handlers.Admins{IDs: []int64{adminID}, Catalog: cat, Sender: e.tg, Log: logger},
		RequestTTL: requestTTL, BotUsername: botUsername, Now: e.clock.Now, Log: logger, Observer: e.obs,
	}
	for _, f := range edit {
		f(&cfg)
	}
	e.c, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// nextID returns the ID of a new update (a queue entry's).
func (e *cenv) nextID() string {
	e.updates++
	return fmt.Sprintf("%d-%d", today.UnixMilli(), e.updates)
}

// user is user as the updates give them: with the access hash of the
// update's entities and their app's language.
func user(id int64, langCode string) handlers.User {
	return handlers.User{ID: id, AccessHash: id * 1000, LangCode: langCode}
}

// message returns a new text message of u.
func (e *cenv) message(u int64, langCode, text string) handlers.TextMessage {
	e.msgID++
	return handlers.TextMessage{ID: e.nextID(), From: user(u, langCode), MsgID: e.msgID, Text: text}
}

// say hands a text message of u to the conversation.
func (e *cenv) say(u int64, langCode, text string) error {
	return e.c.OnMessage(e.ctx, e.message(u, langCode, text))
}

// must hands a text message to the conversation and fails the test on an
// error.
func (e *cenv) must(u int64, langCode, text string) {
	e.t.Helper()
	if err := e.say(u, langCode, text); err != nil {
		e.t.Fatalf("%q: %v", text, err)
	}
}

// query returns a new tap of u on a button with data.
func (e *cenv) query(u int64, langCode, data string) handlers.CallbackQuery {
	e.queryID++
	return handlers.CallbackQuery{ID: e.nextID(), From: user(u, langCode), QueryID: e.queryID, Data: data}
}

// tap hands a tap on a callback button to the conversation.
func (e *cenv) tap(u int64, langCode, data string) (int64, error) {
	q := e.query(u, langCode, data)
	return q.QueryID, e.c.OnCallback(e.ctx, q)
}

// outcome hands an outcome of the request page to the conversation.
func (e *cenv) outcome(o Outcome) error {
	if o.ID == "" {
		o.ID = e.nextID()
	}
	return e.c.OnOutcome(e.ctx, o)
}

// messages returns the messages sent to u.
func (e *cenv) messages(u int64) []handlerstest.Sent { return e.tg.SendsTo(u) }

// last returns the last message sent to u.
func (e *cenv) last(u int64) handlerstest.Sent {
	e.t.Helper()
	msgs := e.messages(u)
	if len(msgs) == 0 {
		e.t.Fatalf("nothing was sent to %d", u)
	}
	return msgs[len(msgs)-1]
}

// requestOf returns the live request behind a message's share button.
func (e *cenv) requestOf(m handlerstest.Sent) store.Request {
	e.t.Helper()
	b := m.Buttons()
	if len(b) != 1 || !strings.HasPrefix(b[0].URL, pageBase) {
		e.t.Fatalf("message %q has buttons %+v, want one request button", m.Text, b)
	}
	r, err := e.store.Requests().Get(e.ctx, strings.TrimPrefix(b[0].URL, pageBase))
	if err != nil {
		e.t.Fatalf("the button's request: %v", err)
	}
	return r
}

// live returns the user's live request, if any.
func (e *cenv) live(u int64) (store.Request, bool) {
	e.t.Helper()
	r, ok, err := e.store.Requests().Live(e.ctx, u)
	if err != nil {
		e.t.Fatal(err)
	}
	return r, ok
}

// auditEvent is an audit event as the store records it.
type auditEvent = store.Event

// allAudit returns every audit event, in order.
func (e *cenv) allAudit() []auditEvent { return handlerstest.Audit(e.t, e.ctx, e.store) }

// auditEvents returns the audit events about u.
func (e *cenv) auditEvents(u int64) []auditEvent { return handlerstest.Audit(e.t, e.ctx, e.store, u) }

// auditKinds lists the kinds of the audit events about u.
func (e *cenv) auditKinds(u int64) []string {
	e.t.Helper()
	var kinds []string
	for _, ev := range e.auditEvents(u) {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

// explain is the text sent with a request button, for level in lang.
func (e *cenv) explain(lang, lvl string) string {
	l := e.catalog.Language(lang)
	var docs string
	switch lvl {
	case level:
		docs = "• " + l.Capitalize(l.Element("personal_details")) +
			"\n• " + l.Capitalize(l.Element("driver_license")) + l.Text(i18n.MsgListSeparator, nil) + l.Text(i18n.MsgPageScopeSelfie, nil)
	case levelFull:
		docs = "• " + l.Capitalize(l.Element("personal_details")) +
			"\n• " + l.Capitalize(l.OrList(l.Element("passport"), l.Element("identity_card"))) +
			"\n• " + l.Capitalize(l.Element("utility_bill"))
	}
	return l.Text(i18n.MsgStartExplain, map[string]any{"Documents": docs}) + "\n\n" +
		l.Text(i18n.MsgRequestPasswordNote, nil) + "\n\n" + l.Plural(i18n.MsgRequestWaiting, 30, nil)
}

func (e *cenv) text(lang, id string, data map[string]any) string {
	return e.catalog.Language(lang).Text(id, data)
}
