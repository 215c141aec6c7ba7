package admin

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/chat"
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
	adapter *handlerstest.Store
	tg      *handlerstest.Telegram
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
	e := &env{t: t, ctx: context.Background(), clock: testkit.NewClock(today), rdb: rdb, tg: &handlerstest.Telegram{}, logs: &testkit.Logs{}}
	e.prefix = testkit.Prefix(t, rdb, "admin")
	e.store = store.New(rdb, append([]store.Option{store.WithPrefix(e.prefix), store.WithClock(e.clock.Now), store.WithAuditKey(handlerstest.AuditKey()), store.WithDocumentKey(handlerstest.DocumentKey())}, storeOpts...)...)
	e.adapter = handlerstest.NewStore(e.store)
	e.tg.SetHashStore(selfID, e.store.Sessions().UserAccessHasher())
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
		CatchAll: true, Now: e.clock.Now, Log: logger,
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

func (e *env) messages(u int64) []handlerstest.Sent { return e.tg.SendsTo(u) }

func (e *env) last(u int64) handlerstest.Sent {
	e.t.Helper()
	msgs := e.messages(u)
	if len(msgs) == 0 {
		e.t.Fatalf("nothing was sent to %d", u)
	}
	return msgs[len(msgs)-1]
}

// requestOf checks that a message has a button to a live request.
func (e *env) requestOf(m handlerstest.Sent) store.Request {
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
		if strings.Contains(k, "{audit}") || strings.HasSuffix(k, "}:audit") { // the audit trail and the users' audit keys
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
// entry values equal to the user ID, and audit events that contain it.
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
		if strings.HasSuffix(k, "{audit}:stream") {
			for _, m := range rdb.XRange(ctx, k, "-", "+").Val() {
				if e, _ := m.Values["e"].(string); strings.Contains(e, uid) {
					found = append(found, "audit event "+m.ID+" of "+k)
				}
			}
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

// auditEvent is an audit event as the store records it.
type auditEvent = store.Event

// allAudit returns every audit event, in order.
func (e *env) allAudit() []auditEvent { return handlerstest.Audit(e.t, e.ctx, e.store) }

// auditEvents returns the audit events about u.
func (e *env) auditEvents(u int64) []auditEvent { return handlerstest.Audit(e.t, e.ctx, e.store, u) }

// adminDetail is the Detail of an admin event about target: the extra
// details only (the admin and the target are its Actor and UserID, never
// in Detail).
func adminDetail(_ int64, extra ...string) map[string]string {
	d := map[string]string{}
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
