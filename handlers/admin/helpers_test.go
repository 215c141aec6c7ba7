package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/telegram/updates"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/chat"
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
	stranger    = int64(30001) // a user who is not an admin
	pageBase    = "https://kyc.example/passport/"
	botUsername = "kyc_test_bot"
	selfID      = int64(5550001) // the bot account
)

// testScopes are the scopes of the test levels.
func testScopes(name string) (passport.Scope, error) {
	switch name {
	case level:
		return passport.NewScope(passport.Require(passport.TypePersonalDetails), passport.Require(passport.TypeDriverLicense).WithSelfie()), nil
	case levelFull:
		return passport.NewScope(passport.Require(passport.TypePersonalDetails), passport.RequireOneOf(passport.TypePassport, passport.TypeIdentityCard)), nil
	}
	return passport.Scope{}, fmt.Errorf("no level %q", name)
}

// sent is one message the fake Telegram sent.
type sent struct {
	To   handlers.User
	Text string
	Rows [][]handlers.Button
	Key  string
}

func (s sent) buttons() []handlers.Button {
	var all []handlers.Button
	for _, r := range s.Rows {
		all = append(all, r...)
	}
	return all
}

// answer is one callback query answer.
type answer struct {
	QueryID int64
	Text    string
}

// menu is one command menu registered.
type menu struct {
	To       handlers.User // the chat of SetUserCommands; zero for SetCommands
	LangCode string
	Commands []handlers.BotCommand
}

// fakeTelegram is the Telegram of the conversation and of the admin
// commands. Resolve finds access hashes in hashes, then where the gotd
// updates manager keeps them in the store (for the bot account selfID).
type fakeTelegram struct {
	mu         sync.Mutex
	sends      []sent
	answers    []answer
	menus      []menu
	userMenus  []menu
	hashes     map[int64]int64
	stored     updates.UserAccessHasher
	resolveErr error
	sendErrTo  map[int64]error
	menuErrTo  map[int64]error
}

var (
	_ Telegram      = (*fakeTelegram)(nil)
	_ chat.Telegram = (*fakeTelegram)(nil)
)

func (f *fakeTelegram) Send(_ context.Context, to handlers.User, m handlers.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.sendErrTo[to.ID]; err != nil {
		return err
	}
	f.sends = append(f.sends, sent{To: to, Text: m.Text, Rows: m.Buttons, Key: m.Key})
	return nil
}

func (f *fakeTelegram) AnswerCallback(_ context.Context, queryID int64, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, answer{QueryID: queryID, Text: text})
	return nil
}

func (f *fakeTelegram) SetCommands(_ context.Context, langCode string, cmds []handlers.BotCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.menus = append(f.menus, menu{LangCode: langCode, Commands: cmds})
	return nil
}

func (f *fakeTelegram) SetUserCommands(_ context.Context, to handlers.User, langCode string, cmds []handlers.BotCommand) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.menuErrTo[to.ID]; err != nil {
		return err
	}
	f.userMenus = append(f.userMenus, menu{To: to, LangCode: langCode, Commands: cmds})
	return nil
}

func (f *fakeTelegram) Resolve(ctx context.Context, u handlers.User) (handlers.User, error) {
	f.mu.Lock()
	err, stored := f.resolveErr, f.stored
	h, known := f.hashes[u.ID]
	f.mu.Unlock()
	if err != nil {
		return u, err
	}
	if u.AccessHash != 0 {
		return u, nil
	}
	if known {
		u.AccessHash = h
		return u, nil
	}
	if stored != nil {
		h, found, err := stored.GetUserAccessHash(ctx, selfID, u.ID)
		if err != nil {
			return u, err
		}
		if found {
			u.AccessHash = h
		}
	}
	return u, nil
}

func (f *fakeTelegram) callbackAnswers() []answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.answers)
}

func (f *fakeTelegram) lastAnswer(t *testing.T) answer {
	t.Helper()
	a := f.callbackAnswers()
	if len(a) == 0 {
		t.Fatal("no callback answer")
	}
	return a[len(a)-1]
}

// sendsTo returns every message sent to user, repeats included.
func (f *fakeTelegram) sendsTo(user int64) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, s := range f.sends {
		if s.To.ID == user {
			out = append(out, s)
		}
	}
	return out
}

// shown returns the messages user sees: one per Message.Key (Telegram
// shows a random_id once), as first sent.
func (f *fakeTelegram) shown(user int64) []sent {
	seen := map[string]bool{}
	var out []sent
	for _, s := range f.sendsTo(user) {
		if s.Key != "" {
			if seen[s.Key] {
				continue
			}
			seen[s.Key] = true
		}
		out = append(out, s)
	}
	return out
}

func texts(msgs []sent) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

// storeAdapter gives the conversation and the admin commands the store
// calls they make, as package bot does (handlers.Store), and records the
// AuditOnce IDs.
type storeAdapter struct {
	handlers.Store

	mu     sync.Mutex
	audits []string
}

var (
	_ Store      = (*storeAdapter)(nil)
	_ chat.Store = (*storeAdapter)(nil)
)

func (a *storeAdapter) AuditOnce(ctx context.Context, ev store.Event, id string) error {
	a.mu.Lock()
	a.audits = append(a.audits, id)
	a.mu.Unlock()
	return a.Store.AuditOnce(ctx, ev, id)
}

func (a *storeAdapter) auditIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.audits)
}

// env is one admin test's world: a store on the real Redis, a fake
// Telegram, and the conversation with the admin commands behind it, as
// the bot wires them.
type env struct {
	t       *testing.T
	ctx     context.Context
	clock   *testkit.Clock
	rdb     redis.UniversalClient
	prefix  string
	store   *store.Store
	adapter *storeAdapter
	tg      *fakeTelegram
	logs    *testkit.Logs
	catalog *i18n.Catalog
	cmds    *Commands
	conv    *chat.Conversation
	updates int
	msgID   int
	queryID int64
}

// newEnv returns the conversation and the admin commands (admin: adminID)
// with the given levels, on a store built with storeOpts besides its
// prefix and clock.
func newEnv(t *testing.T, levels []string, storeOpts ...store.Option) *env {
	t.Helper()
	rdb := testkit.Need(t)
	e := &env{t: t, ctx: context.Background(), clock: testkit.NewClock(today), rdb: rdb, tg: &fakeTelegram{}, logs: &testkit.Logs{}}
	e.prefix = testkit.Prefix(t, rdb, "admin")
	e.store = store.New(rdb, append([]store.Option{store.WithPrefix(e.prefix), store.WithClock(e.clock.Now)}, storeOpts...)...)
	e.adapter = &storeAdapter{Store: handlers.NewStore(e.store)}
	e.tg.stored = e.store.Sessions().UserAccessHasher()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	e.catalog = cat
	logger := e.logs.Logger()
	e.cmds, err = New(Config{Store: e.adapter, Telegram: e.tg, Catalog: cat, Admins: []int64{adminID}, Levels: levels, Now: e.clock.Now, Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.conv, err = chat.New(chat.Config{
		Store: e.adapter, Telegram: e.tg, Catalog: cat, Levels: levels, DefaultLevel: levels[0], Scopes: testScopes,
		PageURL: func(id string) string { return pageBase + id }, Admin: e.cmds, BotUsername: botUsername,
		Now: e.clock.Now, Log: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) nextID() string {
	e.updates++
	return fmt.Sprintf("%d-%d", today.UnixMilli(), e.updates)
}

func user(id int64, langCode string) handlers.User {
	return handlers.User{ID: id, AccessHash: id * 1000, LangCode: langCode}
}

// message returns a new text message of u.
func (e *env) message(u int64, langCode, text string) handlers.TextMessage {
	e.msgID++
	return handlers.TextMessage{ID: e.nextID(), From: user(u, langCode), MsgID: e.msgID, Text: text}
}

// must hands a text message of u to the conversation and fails the test
// on an error.
func (e *env) must(u int64, langCode, text string) {
	e.t.Helper()
	if err := e.conv.OnMessage(e.ctx, e.message(u, langCode, text)); err != nil {
		e.t.Fatalf("%q: %v", text, err)
	}
}

// query returns a new tap of u on a button with data.
func (e *env) query(u int64, langCode, data string) handlers.CallbackQuery {
	e.queryID++
	return handlers.CallbackQuery{ID: e.nextID(), From: user(u, langCode), QueryID: e.queryID, Data: data}
}

// tap hands a tap on a callback button to the conversation.
func (e *env) tap(u int64, langCode, data string) (int64, error) {
	q := e.query(u, langCode, data)
	return q.QueryID, e.conv.OnCallback(e.ctx, q)
}

func (e *env) messages(u int64) []sent { return e.tg.sendsTo(u) }

func (e *env) last(u int64) sent {
	e.t.Helper()
	msgs := e.messages(u)
	if len(msgs) == 0 {
		e.t.Fatalf("nothing was sent to %d", u)
	}
	return msgs[len(msgs)-1]
}

// requestOf checks that a message has a button to a live request.
func (e *env) requestOf(m sent) store.Request {
	e.t.Helper()
	b := m.buttons()
	if len(b) != 1 || !strings.HasPrefix(b[0].URL, pageBase) {
		e.t.Fatalf("message %q has buttons %+v, want one request button", m.Text, b)
	}
	r, err := e.store.Requests().Get(e.ctx, strings.TrimPrefix(b[0].URL, pageBase))
	if err != nil {
		e.t.Fatalf("the button's request: %v", err)
	}
	return r
}

func (e *env) text(lang, id string, data map[string]any) string {
	return e.catalog.Language(lang).Text(id, data)
}

// setStatus records a status (ref crm-42), at the clock's time.
func (e *env) setStatus(u int64, lvl, state string, codes ...string) {
	e.t.Helper()
	if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: lvl, State: state, Codes: codes, Ref: "crm-42"}); err != nil {
		e.t.Fatal(err)
	}
}

// states returns the user's states by level.
func (e *env) states(u int64) map[string]string {
	e.t.Helper()
	sts, err := e.store.Statuses().List(e.ctx, u)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, st := range sts {
		out[st.Level] = st.State
	}
	return out
}

// keys returns every key under the test's prefix.
func (e *env) keys() []string {
	e.t.Helper()
	var keys []string
	if err := testkit.ScanAll(e.ctx, e.rdb, e.prefix, func(k string) { keys = append(keys, k) }); err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// snapshot returns the type and content of every key under the test's
// prefix but the audit trail's.
func (e *env) snapshot() map[string]string {
	e.t.Helper()
	rdb, ctx := e.rdb, e.ctx
	out := map[string]string{}
	for _, k := range e.keys() {
		if strings.Contains(k, "{audit}") {
			continue
		}
		typ := rdb.Type(ctx, k).Val()
		var v any
		switch typ {
		case "string":
			v = rdb.Get(ctx, k).Val()
		case "hash":
			v = rdb.HGetAll(ctx, k).Val()
		case "set":
			m := rdb.SMembers(ctx, k).Val()
			slices.Sort(m)
			v = m
		case "zset":
			v = rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "stream":
			v = rdb.XRange(ctx, k, "-", "+").Val()
		}
		out[k] = typ + " " + fmt.Sprint(v)
	}
	return out
}

// traces lists where Redis still names u: keys of the user's slot, and
// string values, hash fields and values, set and zset members and stream
// entry values equal to the user ID (the audit trail aside: DeleteUser
// keeps it, and appends its own event).
func (e *env) traces(u int64) []string {
	e.t.Helper()
	rdb, ctx := e.rdb, e.ctx
	uid := strconv.FormatInt(u, 10)
	var found []string
	for _, k := range e.keys() {
		if strings.Contains(k, "{u:"+uid+"}") {
			found = append(found, "key "+k)
			continue
		}
		if strings.Contains(k, "{audit}") {
			continue
		}
		switch rdb.Type(ctx, k).Val() {
		case "string":
			if rdb.Get(ctx, k).Val() == uid {
				found = append(found, "value of "+k)
			}
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				if f == uid || v == uid {
					found = append(found, "field "+f+" of "+k)
				}
			}
		case "set":
			if slices.Contains(rdb.SMembers(ctx, k).Val(), uid) {
				found = append(found, "member of "+k)
			}
		case "zset":
			if _, err := rdb.ZScore(ctx, k, uid).Result(); err == nil {
				found = append(found, "member of "+k)
			}
		case "stream":
			for _, m := range rdb.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					if v == uid {
						found = append(found, "entry "+m.ID+" ("+f+") of "+k)
					}
				}
			}
		}
	}
	return found
}

// auditEvent is an audit event as the store writes it.
type auditEvent struct {
	Kind   string            `json:"kind"`
	UserID int64             `json:"uid"`
	Level  string            `json:"level"`
	Codes  []string          `json:"codes"`
	Detail map[string]string `json:"detail"`
}

// allAudit returns every audit event, in order.
func (e *env) allAudit() []auditEvent {
	e.t.Helper()
	msgs, err := e.rdb.XRange(e.ctx, e.prefix+"{audit}:stream", "-", "+").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []auditEvent
	for _, m := range msgs {
		var ev auditEvent
		if err := json.Unmarshal([]byte(m.Values["e"].(string)), &ev); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// auditEvents returns the audit events about u.
func (e *env) auditEvents(u int64) []auditEvent {
	e.t.Helper()
	var evs []auditEvent
	for _, ev := range e.allAudit() {
		if ev.UserID == u {
			evs = append(evs, ev)
		}
	}
	return evs
}

// adminDetail is the Detail of an admin event about target.
func adminDetail(target int64, extra ...string) map[string]string {
	d := map[string]string{"admin": strconv.FormatInt(adminID, 10)}
	if target != 0 {
		d["target_user"] = strconv.FormatInt(target, 10)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i]] = extra[i+1]
	}
	return d
}

func sameDetail(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
