package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
)

// The compile-time check that *store.Store, through its views, is a CommandStore.
var _ CommandStore = StoreViews((*store.Store)(nil))

const (
	botUsername = "kyc_test_bot"
	levelFull   = "full"
	commandsTTL = 30 * time.Minute
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

// cenv is one conversation test's world: a store on the real Redis, a
// fake Telegram and the conversation.
type cenv struct {
	t       *testing.T
	ctx     context.Context
	clock   *clock
	pe      *env // for the audit trail
	store   *store.Store
	tg      *fakeTelegram
	logs    *syncBuffer
	catalog *i18n.Catalog
	c       *Commands
	msgID   int
	queryID int64
	obs     *recObserver
}

// newCommandsEnv returns a conversation with the given levels (the first
// is the default); wrap, if not nil, wraps the store, built with
// storeOpts besides its prefix and clock.
func newCommandsEnv(t *testing.T, levels []string, wrap func(CommandStore) CommandStore, storeOpts ...store.Option) *cenv {
	t.Helper()
	rdb := needRedis(t)
	e := &cenv{t: t, ctx: context.Background(), clock: &clock{now: today}, tg: newFakeTelegram(), logs: &syncBuffer{}, obs: &recObserver{}}
	prefix := testPrefix(t, rdb)
	e.store = store.New(rdb, append([]store.Option{store.WithPrefix(prefix), store.WithClock(e.clock.Now)}, storeOpts...)...)
	e.pe = &env{t: t, ctx: e.ctx, rdb: rdb, prefix: prefix}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	e.catalog = cat
	var st CommandStore = StoreViews(e.store)
	if wrap != nil {
		st = wrap(st)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.c, err = NewCommands(CommandsConfig{
		Store: st, Telegram: e.tg, Catalog: cat, Levels: levels, DefaultLevel: levels[0], Scopes: testScopes,
		PageURL: func(id string) string { return pageBase + id }, Admins: []int64{adminID},
		RequestTTL: commandsTTL, BotUsername: botUsername,
	}, WithClock(e.clock.Now), WithLogger(logger), WithObserver(e.obs))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// entities are those of an update from user, whose app language is
// langCode.
func entities(user int64, langCode string) tg.Entities {
	return tg.Entities{Users: map[int64]*tg.User{user: {ID: user, AccessHash: user * 1000, LangCode: langCode, FirstName: "x"}}}
}

// say delivers a text message from user.
func (e *cenv) say(user int64, langCode, text string) error {
	e.msgID++
	msg := &tg.Message{ID: e.msgID, PeerID: &tg.PeerUser{UserID: user}, Date: int(today.Unix()), Message: text}
	return e.c.OnNewMessage(e.ctx, entities(user, langCode), &tg.UpdateNewMessage{Message: msg, Pts: e.msgID, PtsCount: 1})
}

// must delivers a text message and fails the test on an error.
func (e *cenv) must(user int64, langCode, text string) {
	e.t.Helper()
	if err := e.say(user, langCode, text); err != nil {
		e.t.Fatalf("%q: %v", text, err)
	}
}

// tap delivers a tap on a callback button.
func (e *cenv) tap(user int64, langCode, data string) (int64, error) {
	e.queryID++
	u := &tg.UpdateBotCallbackQuery{QueryID: e.queryID, UserID: user, Peer: &tg.PeerUser{UserID: user}, MsgID: 1, Data: []byte(data)}
	return e.queryID, e.c.OnBotCallbackQuery(e.ctx, entities(user, langCode), u)
}

// messages returns the messages sent to user.
func (e *cenv) messages(user int64) []sent { return e.tg.messagesTo(user) }

// last returns the last message sent to user.
func (e *cenv) last(user int64) sent {
	e.t.Helper()
	msgs := e.messages(user)
	if len(msgs) == 0 {
		e.t.Fatalf("nothing was sent to %d", user)
	}
	return msgs[len(msgs)-1]
}

// requestOf returns the live request behind a message's share button.
func (e *cenv) requestOf(m sent) store.Request {
	e.t.Helper()
	if len(m.Buttons) != 1 || !strings.HasPrefix(m.Buttons[0].URL, pageBase) {
		e.t.Fatalf("message %q has buttons %+v, want one request button", m.Text, m.Buttons)
	}
	r, err := e.store.Requests().Get(e.ctx, strings.TrimPrefix(m.Buttons[0].URL, pageBase))
	if err != nil {
		e.t.Fatalf("the button's request: %v", err)
	}
	return r
}

// live returns the user's live request, if any.
func (e *cenv) live(user int64) (store.Request, bool) {
	e.t.Helper()
	r, ok, err := e.store.Requests().Live(e.ctx, user)
	if err != nil {
		e.t.Fatal(err)
	}
	return r, ok
}

// auditKinds lists the kinds of the audit events about user.
func (e *cenv) auditKinds(user int64) []string {
	e.t.Helper()
	var kinds []string
	for _, ev := range e.auditEvents(user) {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

// auditEvents returns the audit events about user.
func (e *cenv) auditEvents(user int64) []auditEvent {
	e.t.Helper()
	var evs []auditEvent
	for _, ev := range e.pe.auditEvents() {
		if ev.UserID == user {
			evs = append(evs, ev)
		}
	}
	return evs
}

// explain is the text sent with a request button, for level in lang.
func (e *cenv) explain(lang, level string) string {
	l := e.catalog.Language(lang)
	var docs string
	switch level {
	case "basic":
		docs = "• " + l.Capitalize(l.Element("personal_details")) +
			"\n• " + l.Capitalize(l.Element("driver_license")) + l.Text(i18n.MsgListSeparator, nil) + l.Text(i18n.MsgPageScopeSelfie, nil)
	case levelFull:
		docs = "• " + l.Capitalize(l.Element("personal_details")) +
			"\n• " + l.Capitalize(l.OrList(l.Element("passport"), l.Element("identity_card"))) +
			"\n• " + l.Capitalize(l.Element("utility_bill"))
	}
	return l.Text(i18n.MsgStartExplain, map[string]any{"Documents": docs}) + "\n\n" +
		l.Text(i18n.MsgStartPasswordNote, nil) + "\n\n" + l.Plural(i18n.MsgRequestWaiting, 30, nil)
}

func (e *cenv) text(lang, id string, data map[string]any) string {
	return e.catalog.Language(lang).Text(id, data)
}

func TestCommandsStart(t *testing.T) {
	const user = int64(11001)
	tests := []struct {
		name string
		// before runs first (it may send messages: only those after it
		// are checked).
		before   func(e *cenv)
		text     string
		wantRef  string
		wantLogs string
	}{
		{name: "no ref", text: "/start"},
		{name: "ref from a deep link", text: "/start crm-42_A", wantRef: "crm-42_A"},
		{name: "64 character ref", text: "/start " + strings.Repeat("r", 64), wantRef: strings.Repeat("r", 64)},
		{name: "ref outside the alphabet ignored", text: "/start crm.42", wantLogs: "outside the deep link alphabet ignored"},
		{name: "65 character ref ignored", text: "/start " + strings.Repeat("r", 65), wantLogs: "outside the deep link alphabet ignored"},
		{name: "addressed to us", text: "/start@" + botUsername + " crm-7", wantRef: "crm-7"},
		{name: "addressed to us in other case", text: "/START@KYC_Test_Bot"},
		{
			name:   "the ref is kept by a later /start without one",
			before: func(e *cenv) { e.must(user, "en", "/start first-ref") },
			text:   "/start", wantRef: "first-ref",
		},
		{
			name:   "a new ref replaces the old one",
			before: func(e *cenv) { e.must(user, "en", "/start first-ref") },
			text:   "/start second-ref", wantRef: "second-ref",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level}, nil)
			if tt.before != nil {
				tt.before(e)
			}
			n := len(e.messages(user))
			e.must(user, "en-GB", tt.text)
			msgs := e.messages(user)[n:]
			if len(msgs) != 2 {
				t.Fatalf("got %d messages, want the greeting and the request: %+v", len(msgs), msgs)
			}
			if want := e.text("en", i18n.MsgStartGreeting, nil); msgs[0].Text != want || len(msgs[0].Buttons) != 0 {
				t.Errorf("greeting = %+v, want %q", msgs[0], want)
			}
			if want := e.explain("en", level); msgs[1].Text != want {
				t.Errorf("request message = %q, want %q", msgs[1].Text, want)
			}
			if b := msgs[1].Buttons; len(b) != 1 || b[0].Text != e.text("en", i18n.MsgButtonShare, nil) {
				t.Errorf("buttons = %+v", b)
			}
			if msgs[1].Hash != user*1000 {
				t.Errorf("sent with access hash %d, want the entities' %d", msgs[1].Hash, user*1000)
			}
			req := e.requestOf(msgs[1])
			if req.UserID != user || req.ChatID != user || req.Level != level || req.Lang != "en" || req.Ref != tt.wantRef {
				t.Errorf("request = %+v, want ref %q", req, tt.wantRef)
			}
			if !req.ExpiresAt.Equal(today.Add(commandsTTL)) {
				t.Errorf("request expires at %v", req.ExpiresAt)
			}
			prefs, err := e.store.Prefs().Get(e.ctx, user)
			if err != nil || prefs.Ref != tt.wantRef {
				t.Errorf("stored ref = %q (%v), want %q", prefs.Ref, err, tt.wantRef)
			}
			// The ref is carried by later /verify requests too.
			e.must(user, "en", "/verify")
			if r := e.requestOf(e.last(user)); r.Ref != tt.wantRef {
				t.Errorf("/verify request ref = %q, want %q", r.Ref, tt.wantRef)
			}
			if tt.wantLogs != "" && !strings.Contains(e.logs.String(), tt.wantLogs) {
				t.Errorf("logs lack %q:\n%s", tt.wantLogs, e.logs)
			}
			if kinds := e.auditKinds(user); !slices.Contains(kinds, "request_issued") {
				t.Errorf("audit kinds = %v", kinds)
			}
		})
	}
}

func TestCommandsVerify(t *testing.T) {
	const user = int64(12001)
	tests := []struct {
		name  string
		text  string
		level string // "" when no request is expected
		want  string // the message expected instead of a request
	}{
		{name: "default level", text: "/verify", level: level},
		{name: "named level", text: "/verify full", level: levelFull},
		{name: "level in another case", text: "/verify FULL", level: levelFull},
		{name: "default level named", text: "/verify basic extra words", level: level},
		{name: "addressed to us", text: "/verify@" + botUsername + " full", level: levelFull},
		{name: "unknown level", text: "/verify gold",
			want: "en:" + i18n.MsgVerifyUnknownLevel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level, levelFull}, nil)
			e.must(user, "en", tt.text)
			msgs := e.messages(user)
			if len(msgs) != 1 {
				t.Fatalf("got %d messages: %+v", len(msgs), msgs)
			}
			if tt.level == "" {
				want := e.text("en", i18n.MsgVerifyUnknownLevel, map[string]any{"Levels": "basic, full"})
				if msgs[0].Text != want || len(msgs[0].Buttons) != 0 {
					t.Errorf("answer = %+v, want %q", msgs[0], want)
				}
				if _, ok := e.live(user); ok {
					t.Error("a request was issued for an unknown level")
				}
				return
			}
			if want := e.explain("en", tt.level); msgs[0].Text != want {
				t.Errorf("text = %q, want %q", msgs[0].Text, want)
			}
			if req := e.requestOf(msgs[0]); req.Level != tt.level {
				t.Errorf("request level = %q, want %q", req.Level, tt.level)
			}
		})
	}
}

func TestCommandsVerifiedOrRejected(t *testing.T) {
	const user = int64(13001)
	since := today.Add(-48 * time.Hour)
	tests := []struct {
		name    string
		state   string
		reset   bool   // the admin reset the status afterwards
		text    string // the command
		level   string // the level of the status
		want    func(e *cenv) []string
		request bool // a request button is expected last
	}{
		{
			name: "verified", state: store.StateVerified, text: "/verify", level: level,
			want: func(e *cenv) []string { return []string{e.text("en", i18n.MsgVerifyAlreadyVerified, nil)} },
		},
		{
			name: "verified, /start", state: store.StateVerified, text: "/start", level: level,
			want: func(e *cenv) []string {
				return []string{e.text("en", i18n.MsgStartGreeting, nil), e.text("en", i18n.MsgVerifyAlreadyVerified, nil)}
			},
		},
		{
			name: "verified at another level", state: store.StateVerified, text: "/verify", level: levelFull,
			want:    func(e *cenv) []string { return []string{e.explain("en", level)} },
			request: true,
		},
		{
			name: "rejected for good", state: store.StateRejected, text: "/verify", level: level,
			want: func(e *cenv) []string {
				return []string{e.text("en", i18n.MsgStatusRejected, map[string]any{"Since": "12/03/2026"})}
			},
		},
		{
			name: "needs fixes gets a request", state: store.StateNeedsFixes, text: "/verify", level: level,
			want:    func(e *cenv) []string { return []string{e.explain("en", level)} },
			request: true,
		},
		{
			name: "verified then reset by the admin", state: store.StateVerified, reset: true, text: "/verify", level: level,
			want:    func(e *cenv) []string { return []string{e.explain("en", level)} },
			request: true,
		},
		{
			name: "rejected then reset by the admin", state: store.StateRejected, reset: true, text: "/verify", level: level,
			want:    func(e *cenv) []string { return []string{e.explain("en", level)} },
			request: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level, levelFull}, nil)
			e.clock.now = since
			if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: user, Level: tt.level, State: tt.state}); err != nil {
				t.Fatal(err)
			}
			e.clock.now = today
			if tt.reset {
				if err := e.store.Statuses().Reset(e.ctx, user, tt.level); err != nil {
					t.Fatal(err)
				}
			}
			e.must(user, "en", tt.text)
			var got []string
			for _, m := range e.messages(user) {
				got = append(got, m.Text)
			}
			if want := tt.want(e); !slices.Equal(got, want) {
				t.Errorf("messages = %q, want %q", got, want)
			}
			_, live := e.live(user)
			if live != tt.request {
				t.Errorf("live request: %v, want %v", live, tt.request)
			}
			if tt.request {
				e.requestOf(e.last(user))
			}
		})
	}
}

func TestCommandsStatus(t *testing.T) {
	const user = int64(14001)
	set := func(level, state string) func(e *cenv) {
		return func(e *cenv) {
			if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: user, Level: level, State: state}); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	issue := func(level string) func(e *cenv) {
		return func(e *cenv) { e.must(user, "en", "/verify "+level) }
	}
	date := "14/03/2026"
	tests := []struct {
		name   string
		levels []string
		setup  []func(e *cenv)
		want   func(en *i18n.Localizer) string
	}{
		{
			name: "none", levels: []string{level},
			want: func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusNone, nil) },
		},
		{
			name: "live request", levels: []string{level}, setup: []func(*cenv){issue(level)},
			want: func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusRequested, nil) },
		},
		{
			name: "pending", levels: []string{level}, setup: []func(*cenv){set(level, store.StatePending)},
			want: func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusPending, map[string]any{"Since": date}) },
		},
		{
			name: "needs fixes, with the new request", levels: []string{level},
			setup: []func(*cenv){issue(level), set(level, store.StateNeedsFixes)},
			want: func(en *i18n.Localizer) string {
				return en.Text(i18n.MsgStatusNeedsFixes, map[string]any{"Since": date})
			},
		},
		{
			name: "verified", levels: []string{level}, setup: []func(*cenv){set(level, store.StateVerified)},
			want: func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusVerified, map[string]any{"Since": date}) },
		},
		{
			name: "rejected", levels: []string{level}, setup: []func(*cenv){set(level, store.StateRejected)},
			want: func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusRejected, map[string]any{"Since": date}) },
		},
		{
			name: "expired request", levels: []string{level},
			setup: []func(*cenv){issue(level), func(e *cenv) { e.clock.Advance(commandsTTL) }},
			want:  func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusNone, nil) },
		},
		{
			name: "a status of a level no longer configured", levels: []string{level},
			setup: []func(*cenv){set("retired", store.StateVerified)},
			want:  func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusNone, nil) },
		},
		{
			name: "two levels", levels: []string{level, levelFull},
			setup: []func(*cenv){set(level, store.StateVerified), issue(levelFull)},
			want: func(en *i18n.Localizer) string {
				return en.Text(i18n.MsgStatusLevel, map[string]any{"Level": level, "Status": en.Text(i18n.MsgStatusVerified, map[string]any{"Since": date})}) +
					"\n" + en.Text(i18n.MsgStatusLevel, map[string]any{"Level": levelFull, "Status": en.Text(i18n.MsgStatusRequested, nil)})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, tt.levels, nil)
			for _, f := range tt.setup {
				f(e)
			}
			e.must(user, "en", "/status")
			m := e.last(user)
			if want := tt.want(e.catalog.Language("en")); m.Text != want || len(m.Buttons) != 0 {
				t.Errorf("/status = %q, want %q", m.Text, want)
			}
		})
	}
}

func TestFormatDate(t *testing.T) {
	d := time.Date(2026, 3, 4, 23, 30, 0, 0, time.FixedZone("X", -2*3600)) // 5 March in UTC
	for lang, want := range map[string]string{
		"en": "05/03/2026", "ru": "05.03.2026", "de": "05.03.2026", "pt-BR": "05/03/2026", "fa": "2026/03/05", "xx": "2026-03-05",
	} {
		if got := formatDate(lang, d); got != want {
			t.Errorf("formatDate(%s) = %q, want %q", lang, got, want)
		}
	}
}

func TestCommandsLanguage(t *testing.T) {
	const user = int64(15001)
	e := newCommandsEnv(t, []string{level}, nil)
	e.must(user, "en-US", "/language")
	m := e.last(user)
	if m.Text != e.text("en", i18n.MsgLanguagePrompt, nil) {
		t.Errorf("prompt = %q", m.Text)
	}
	langs := e.catalog.Languages()
	if len(m.Buttons) != len(langs) {
		t.Fatalf("%d buttons for %d languages", len(m.Buttons), len(langs))
	}
	for i, b := range m.Buttons {
		want := e.catalog.Language(langs[i]).Text(i18n.MsgLanguageName, nil)
		if b.Text != want || b.Data != "lang:"+langs[i] || b.URL != "" {
			t.Errorf("button %d = %+v, want %q for %s", i, b, want, langs[i])
		}
	}
	for i, r := range m.Rows {
		if len(r) != 2 && i != len(m.Rows)-1 {
			t.Errorf("row %d has %d buttons, want 2", i, len(r))
		}
	}

	// The choice: answered, remembered, confirmed in the new language.
	qid, err := e.tap(user, "en-US", "lang:ru")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.tg.answers) != 1 || e.tg.answers[0].QueryID != qid {
		t.Errorf("callback answers = %+v, want one for query %d", e.tg.answers, qid)
	}
	ru := e.catalog.Language("ru")
	if got := e.last(user); got.Text != ru.Text(i18n.MsgLanguageChosen, nil) {
		t.Errorf("confirmation = %q, want %q", got.Text, ru.Text(i18n.MsgLanguageChosen, nil))
	}
	if p, err := e.store.Prefs().Get(e.ctx, user); err != nil || p.Lang != "ru" {
		t.Errorf("stored language = %+v %v", p, err)
	}
	evs := e.auditEvents(user)
	if len(evs) != 1 || evs[0].Kind != "language_set" || !slices.Equal(evs[0].Codes, []string{"ru"}) {
		t.Errorf("audit = %+v", evs)
	}

	// Later messages are in Russian, whatever the app's language.
	e.must(user, "en-US", "/help")
	if got := e.last(user).Text; got != ru.Text(i18n.MsgHelp, nil) {
		t.Errorf("/help after choosing Russian = %q", got)
	}
	e.must(user, "de", "/verify")
	if got := e.last(user); got.Text != e.explain("ru", level) || got.Buttons[0].Text != ru.Text(i18n.MsgButtonShare, nil) {
		t.Errorf("/verify after choosing Russian = %q", got.Text)
	}
	if req := e.requestOf(e.last(user)); req.Lang != "ru" {
		t.Errorf("request language = %q, want ru", req.Lang)
	}

	// Data that is not a language of the catalog is answered and ignored.
	for _, data := range []string{"lang:xx", "lang:", "other", ""} {
		n := len(e.messages(user))
		if _, err := e.tap(user, "en", data); err != nil {
			t.Errorf("%q: %v", data, err)
		}
		if len(e.messages(user)) != n {
			t.Errorf("%q: a message was sent", data)
		}
	}
	if len(e.tg.answers) != 5 {
		t.Errorf("%d callback answers, want 5", len(e.tg.answers))
	}
	if p, _ := e.store.Prefs().Get(e.ctx, user); p.Lang != "ru" {
		t.Errorf("stored language changed to %q", p.Lang)
	}
}

func TestCommandsHelpAndHints(t *testing.T) {
	const user = int64(16001)
	tests := []struct {
		name string
		text string
		want string // message ID; "" for no answer
	}{
		{"help", "/help", i18n.MsgHelp},
		{"help addressed to us", "/help@" + botUsername, i18n.MsgHelp},
		{"plain text", "hello there", i18n.MsgHelpNotUnderstood},
		{"unknown command", "/frobnicate now", i18n.MsgHelpNotUnderstood},
		{"a lone slash", "/", i18n.MsgHelpNotUnderstood},
		{"no text (a sticker)", "", i18n.MsgHelpNotUnderstood},
		{"command for another bot", "/help@otherbot", ""},
		{"start for another bot", "/start@otherbot crm-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level}, nil)
			e.must(user, "fr", tt.text)
			msgs := e.messages(user)
			if tt.want == "" {
				if len(msgs) != 0 {
					t.Errorf("answered %+v", msgs)
				}
				if _, ok := e.live(user); ok {
					t.Error("a request was issued")
				}
				return
			}
			if want := e.text("fr", tt.want, nil); len(msgs) != 1 || msgs[0].Text != want {
				t.Errorf("messages = %+v, want %q", msgs, want)
			}
		})
	}
}

func TestCommandsCancel(t *testing.T) {
	const user, other = int64(17001), int64(17002)
	e := newCommandsEnv(t, []string{level}, nil)
	e.must(user, "en", "/cancel")
	if got, want := e.last(user).Text, e.text("en", i18n.MsgCancelNothing, nil); got != want {
		t.Errorf("/cancel with nothing live = %q, want %q", got, want)
	}

	e.must(other, "en", "/verify")
	otherReq := e.requestOf(e.last(other))
	e.must(user, "en", "/verify")
	req := e.requestOf(e.last(user))
	e.must(user, "en", "/cancel")
	if got, want := e.last(user).Text, e.text("en", i18n.MsgCancelDone, nil); got != want {
		t.Errorf("/cancel = %q, want %q", got, want)
	}
	if _, err := e.store.Requests().Consume(e.ctx, req.Nonce, user); !errors.Is(err, store.ErrNonceCancelled) {
		t.Errorf("the cancelled nonce: %v, want ErrNonceCancelled", err)
	}
	if _, err := e.store.Requests().Get(e.ctx, req.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the cancelled request's page: %v, want ErrNotFound", err)
	}
	if kinds := e.auditKinds(user); !slices.Equal(kinds, []string{"request_issued", "request_cancelled"}) {
		t.Errorf("audit = %v", kinds)
	}
	e.must(user, "en", "/cancel")
	if got, want := e.last(user).Text, e.text("en", i18n.MsgCancelNothing, nil); got != want {
		t.Errorf("second /cancel = %q, want %q", got, want)
	}
	// The other user's request is untouched.
	if _, err := e.store.Requests().Consume(e.ctx, otherReq.Nonce, other); err != nil {
		t.Errorf("the other user's nonce: %v", err)
	}
}

func TestCommandsIgnoredUpdates(t *testing.T) {
	const user = int64(18001)
	e := newCommandsEnv(t, []string{level}, nil)
	botEnts := tg.Entities{Users: map[int64]*tg.User{user: {ID: user, Bot: true}}}
	tests := []struct {
		name string
		ents tg.Entities
		msg  tg.MessageClass
	}{
		{"outgoing", entities(user, "en"), &tg.Message{ID: 1, Out: true, PeerID: &tg.PeerUser{UserID: user}, Message: "/help"}},
		{"service message", entities(user, "en"), &tg.MessageService{ID: 2, PeerID: &tg.PeerUser{UserID: user}, Action: &tg.MessageActionScreenshotTaken{}}},
		{"group", entities(user, "en"), &tg.Message{ID: 3, PeerID: &tg.PeerChat{ChatID: 5}, FromID: &tg.PeerUser{UserID: user}, Message: "/help"}},
		{"channel", entities(user, "en"), &tg.Message{ID: 4, PeerID: &tg.PeerChannel{ChannelID: 6}, Message: "/help"}},
		{"from a bot", botEnts, &tg.Message{ID: 5, PeerID: &tg.PeerUser{UserID: user}, Message: "/help"}},
		{"from someone else", entities(user, "en"), &tg.Message{ID: 6, PeerID: &tg.PeerUser{UserID: user}, FromID: &tg.PeerUser{UserID: 9}, Message: "/help"}},
		{"empty", entities(user, "en"), &tg.MessageEmpty{ID: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.c.OnNewMessage(e.ctx, tt.ents, &tg.UpdateNewMessage{Message: tt.msg}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if err := e.c.OnNewMessage(e.ctx, tg.Entities{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.c.OnBotCallbackQuery(e.ctx, tg.Entities{}, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(e.tg.messagesTo(user)) + len(e.tg.messagesTo(5)) + len(e.tg.messagesTo(9)); n != 0 {
		t.Errorf("ignored updates were answered %d times", n)
	}

	// A user missing from the entities is answered without an access hash
	// (the Telegram looks it up) in the default language.
	msg := &tg.Message{ID: 8, PeerID: &tg.PeerUser{UserID: user}, Message: "/help"}
	if err := e.c.OnNewMessage(e.ctx, tg.Entities{}, &tg.UpdateNewMessage{Message: msg}); err != nil {
		t.Fatal(err)
	}
	if m := e.last(user); m.Hash != 0 || m.Text != e.text("en", i18n.MsgHelp, nil) {
		t.Errorf("answer = %+v", m)
	}

	// Through a dispatcher, with the passport handler chained in front.
	d := tg.NewUpdateDispatcher()
	e.c.Register(&d)
	if err := d.Handle(e.ctx, &tg.Updates{
		Updates: []tg.UpdateClass{&tg.UpdateNewMessage{Message: &tg.Message{ID: 9, PeerID: &tg.PeerUser{UserID: user}, Message: "/status"}}},
		Users:   []tg.UserClass{entities(user, "uk").Users[user]},
	}); err != nil {
		t.Fatal(err)
	}
	if m := e.last(user); m.Text != e.text("uk", i18n.MsgStatusNone, nil) || m.Hash != user*1000 {
		t.Errorf("through the dispatcher: %+v", m)
	}
}

func TestCommandsOutcome(t *testing.T) {
	const user, user2 = int64(19001), int64(19002)
	defaultLang := func(e *cenv) *i18n.Localizer { return e.catalog.Language(e.catalog.DefaultLanguage()) }
	alarms := func(e *cenv, code string) int {
		want := defaultLang(e).Text(i18n.MsgAdminPassportError, map[string]any{"Code": code})
		n := 0
		for _, m := range e.tg.messagesTo(adminID) {
			if m.Text == want {
				n++
			}
		}
		return n
	}
	// start issues a request for u in lang and returns it.
	start := func(e *cenv, u int64, lang string) store.Request {
		e.must(u, lang, "/verify")
		return e.requestOf(e.last(u))
	}

	t.Run("success says nothing", func(t *testing.T) {
		e := newCommandsEnv(t, []string{level}, nil)
		r := start(e, user, "en")
		if err := e.c.OnOutcome(e.ctx, Outcome{UserID: user, RequestID: r.ID, Result: OutcomeSuccess, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
		if n := len(e.messages(user)); n != 1 {
			t.Errorf("%d messages, want only the request", n)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		e := newCommandsEnv(t, []string{level, levelFull}, nil)
		e.must(user, "de", "/start crm-9")
		e.must(user, "de", "/verify full")
		r := e.requestOf(e.last(user))
		o := Outcome{UserID: user, RequestID: r.ID, Result: OutcomeCancel, Lang: "de"}
		if err := e.c.OnOutcome(e.ctx, o); err != nil {
			t.Fatal(err)
		}
		m := e.last(user)
		de := e.catalog.Language("de")
		if want := de.Text(i18n.MsgOutcomeCancel, nil) + "\n\n" + de.Plural(i18n.MsgRequestWaiting, 30, nil); m.Text != want {
			t.Errorf("cancel message = %q, want %q", m.Text, want)
		}
		if m.Hash != 0 {
			t.Errorf("sent with access hash %d: outside an update the Telegram looks it up", m.Hash)
		}
		next := e.requestOf(m)
		if next.ID == r.ID || next.Level != levelFull || next.Ref != "crm-9" || next.Lang != "de" {
			t.Errorf("fresh request = %+v", next)
		}
		if _, err := e.store.Requests().Consume(e.ctx, r.Nonce, user); !errors.Is(err, store.ErrNonceSuperseded) {
			t.Errorf("the old nonce: %v, want superseded", err)
		}
		kinds := e.auditKinds(user)
		if want := []string{"request_issued", "request_issued", "outcome_cancel", "request_issued"}; !slices.Equal(kinds, want) {
			t.Errorf("audit = %v, want %v", kinds, want)
		}
		// The same outcome again (a reloaded page) is about a request no
		// longer live: nothing more.
		n := len(e.messages(user))
		if err := e.c.OnOutcome(e.ctx, o); err != nil {
			t.Fatal(err)
		}
		if len(e.messages(user)) != n {
			t.Error("a stale cancel was answered")
		}
	})

	t.Run("cancel in the chosen language", func(t *testing.T) {
		e := newCommandsEnv(t, []string{level}, nil)
		r := start(e, user, "en")
		if _, err := e.tap(user, "en", "lang:uk"); err != nil {
			t.Fatal(err)
		}
		if err := e.c.OnOutcome(e.ctx, Outcome{UserID: user, RequestID: r.ID, Result: OutcomeCancel, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
		uk := e.catalog.Language("uk")
		if m := e.last(user); !strings.HasPrefix(m.Text, uk.Text(i18n.MsgOutcomeCancel, nil)) {
			t.Errorf("cancel message = %q, want Ukrainian", m.Text)
		}
	})

	t.Run("errors", func(t *testing.T) {
		e := newCommandsEnv(t, []string{level}, nil)
		type step struct {
			user   int64
			code   string
			newReq bool // a new request before the outcome
			told   bool // the user is told
			alarms map[string]int
			audit  string // the code audited
			wait   time.Duration
		}
		steps := []step{
			{user: user, code: "SCOPE_EMPTY", newReq: true, told: true, audit: "SCOPE_EMPTY", alarms: map[string]int{}},
			// The same request again (a reloaded page): not told twice.
			{user: user, code: "SCOPE_EMPTY", alarms: map[string]int{}},
			{user: user, code: "PUBLIC_KEY_INVALID", newReq: true, told: true, audit: "PUBLIC_KEY_INVALID", alarms: map[string]int{"PUBLIC_KEY_INVALID": 1}},
			// Another user within the interval: told, admins not alarmed again.
			{user: user2, code: "PUBLIC_KEY_INVALID", newReq: true, told: true, audit: "PUBLIC_KEY_INVALID", alarms: map[string]int{"PUBLIC_KEY_INVALID": 1}},
			// Another code alarms on its own.
			{user: user2, code: "BOT_INVALID", newReq: true, told: true, audit: "BOT_INVALID", alarms: map[string]int{"PUBLIC_KEY_INVALID": 1, "BOT_INVALID": 1}},
			{user: user2, code: "PUBLIC_KEY_REQUIRED", newReq: true, told: true, audit: "PUBLIC_KEY_REQUIRED",
				alarms: map[string]int{"PUBLIC_KEY_INVALID": 1, "BOT_INVALID": 1, "PUBLIC_KEY_REQUIRED": 1}},
			// After the interval the alarm is repeated.
			{user: user, code: "PUBLIC_KEY_INVALID", newReq: true, told: true, audit: "PUBLIC_KEY_INVALID", wait: DefaultAlertInterval,
				alarms: map[string]int{"PUBLIC_KEY_INVALID": 2, "BOT_INVALID": 1}},
			// A code Telegram does not document is audited as UNKNOWN.
			{user: user, code: "<b>WHAT</b>", newReq: true, told: true, audit: "UNKNOWN", alarms: map[string]int{"PUBLIC_KEY_INVALID": 2}},
		}
		var r store.Request
		for i, s := range steps {
			e.clock.Advance(s.wait)
			if s.newReq {
				r = start(e, s.user, "es")
			}
			n, evs := len(e.messages(s.user)), len(e.auditEvents(s.user))
			if err := e.c.OnOutcome(e.ctx, Outcome{UserID: s.user, RequestID: r.ID, Result: OutcomeError, Error: s.code, Lang: "es"}); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			msgs := e.messages(s.user)[n:]
			if s.told {
				if want := e.text("es", i18n.MsgOutcomeError, nil); len(msgs) != 1 || msgs[0].Text != want || len(msgs[0].Buttons) != 0 {
					t.Errorf("step %d: messages %+v, want %q", i, msgs, want)
				}
			} else if len(msgs) != 0 {
				t.Errorf("step %d: told again: %+v", i, msgs)
			}
			newEvs := e.auditEvents(s.user)[evs:]
			if s.audit == "" {
				if len(newEvs) != 0 {
					t.Errorf("step %d: audited %+v", i, newEvs)
				}
			} else if len(newEvs) != 1 || newEvs[0].Kind != "outcome_error" || !slices.Equal(newEvs[0].Codes, []string{s.audit}) {
				t.Errorf("step %d: audit %+v, want outcome_error %s", i, newEvs, s.audit)
			}
			for code, want := range s.alarms {
				if got := alarms(e, code); got != want {
					t.Errorf("step %d: %d alarms for %s, want %d", i, got, code, want)
				}
			}
		}
		if strings.Contains(e.logs.String(), "<b>WHAT</b>") {
			t.Error("an undocumented error code reached the logs")
		}
	})

	t.Run("bad outcomes", func(t *testing.T) {
		e := newCommandsEnv(t, []string{level}, nil)
		for _, o := range []Outcome{{UserID: 0, Result: OutcomeCancel}, {UserID: user, Result: "maybe"}} {
			if err := e.c.OnOutcome(e.ctx, o); err == nil {
				t.Errorf("%+v was accepted", o)
			}
		}
	})
}

func TestSetBotCommands(t *testing.T) {
	e := newCommandsEnv(t, []string{level}, nil)
	if err := e.c.SetBotCommands(e.ctx); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range e.tg.commands {
		codes = append(codes, c.LangCode)
	}
	if want := []string{"en", "ru", "uk", "es", "pt", "de", "fr", "tr", "fa", "ar", ""}; !slices.Equal(codes, want) {
		t.Fatalf("lang codes = %q, want %q", codes, want)
	}
	for i, c := range e.tg.commands {
		tag := e.catalog.DefaultLanguage()
		if c.LangCode != "" {
			tag = e.catalog.Languages()[i]
		}
		l := e.catalog.Language(tag)
		want := []tg.BotCommand{
			{Command: "start", Description: l.Text(i18n.MsgCommandStart, nil)},
			{Command: "verify", Description: l.Text(i18n.MsgCommandVerify, nil)},
			{Command: "status", Description: l.Text(i18n.MsgCommandStatus, nil)},
			{Command: "language", Description: l.Text(i18n.MsgCommandLanguage, nil)},
			{Command: "help", Description: l.Text(i18n.MsgCommandHelp, nil)},
			{Command: "cancel", Description: l.Text(i18n.MsgCommandCancel, nil)},
		}
		if !slices.Equal(c.Commands, want) {
			t.Errorf("%q: commands %+v, want %+v", c.LangCode, c.Commands, want)
		}
	}
	if got := e.tg.commands[4].Commands[0].Description; got != e.text("pt-BR", i18n.MsgCommandStart, nil) {
		t.Errorf("pt commands are not Brazilian Portuguese: %q", got)
	}
}

// failingStore fails the listed methods with an unreachable Redis.
type failingStore struct {
	CommandStore
	fail map[string]bool
}

var errDown = errors.Join(store.ErrUnavailable, errors.New("dial tcp 127.0.0.1:6379: connection refused"))

func (s failingStore) Preferences(ctx context.Context, userID int64) (store.Prefs, error) {
	if s.fail["Preferences"] {
		return store.Prefs{}, errDown
	}
	return s.CommandStore.Preferences(ctx, userID)
}

func (s failingStore) GetStatus(ctx context.Context, userID int64, level string) (store.Status, error) {
	if s.fail["GetStatus"] {
		return store.Status{}, errDown
	}
	return s.CommandStore.GetStatus(ctx, userID, level)
}

func (s failingStore) IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration) (store.Request, error) {
	if s.fail["IssueRequest"] {
		return store.Request{}, errDown
	}
	return s.CommandStore.IssueRequest(ctx, p, ttl)
}

func (s failingStore) CancelRequest(ctx context.Context, userID int64) (bool, error) {
	if s.fail["CancelRequest"] {
		return false, errDown
	}
	return s.CommandStore.CancelRequest(ctx, userID)
}

func (s failingStore) ListStatuses(ctx context.Context, userID int64) ([]store.Status, error) {
	if s.fail["ListStatuses"] {
		return nil, errDown
	}
	return s.CommandStore.ListStatuses(ctx, userID)
}

func (s failingStore) SetRef(ctx context.Context, userID int64, ref string) error {
	if s.fail["SetRef"] {
		return errDown
	}
	return s.CommandStore.SetRef(ctx, userID, ref)
}

func (s failingStore) SetLanguage(ctx context.Context, userID int64, tag string) error {
	if s.fail["SetLanguage"] {
		return errDown
	}
	return s.CommandStore.SetLanguage(ctx, userID, tag)
}

func TestCommandsStoreDown(t *testing.T) {
	const user = int64(20001)
	tests := []struct {
		method, text string
	}{
		{"Preferences", "/help"},
		{"GetStatus", "/verify"},
		{"IssueRequest", "/start"},
		{"SetRef", "/start crm-1"},
		{"CancelRequest", "/cancel"},
		{"ListStatuses", "/status"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level}, func(s CommandStore) CommandStore {
				return failingStore{CommandStore: s, fail: map[string]bool{tt.method: true}}
			})
			err := e.say(user, "tr", tt.text)
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("err = %v, want a store.ErrUnavailable", err)
			}
			if got, want := e.last(user).Text, e.text("tr", i18n.MsgErrorTryLater, nil); got != want {
				t.Errorf("last message = %q, want %q", got, want)
			}
		})
	}
	t.Run("SetLanguage", func(t *testing.T) {
		e := newCommandsEnv(t, []string{level}, func(s CommandStore) CommandStore {
			return failingStore{CommandStore: s, fail: map[string]bool{"SetLanguage": true}}
		})
		if _, err := e.tap(user, "tr", "lang:de"); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("err = %v, want a store.ErrUnavailable", err)
		}
		if len(e.tg.answers) != 1 || e.tg.answers[0].Text != e.text("tr", i18n.MsgErrorTryLater, nil) {
			t.Errorf("callback answers = %+v", e.tg.answers)
		}
	})
	t.Run("Telegram down", func(t *testing.T) {
		e := newCommandsEnv(t, []string{level}, nil)
		e.tg.sendErr = errors.New("rpc error code 500: INTERNAL")
		if err := e.say(user, "en", "/help"); err == nil || !strings.Contains(err.Error(), "INTERNAL") {
			t.Errorf("err = %v, want the Telegram error", err)
		}
	})
}

// TestCommandsLogNothingPersonal sends texts that could be personal data
// and checks that none of them reaches the logs.
func TestCommandsLogNothingPersonal(t *testing.T) {
	const user = int64(21001)
	e := newCommandsEnv(t, []string{level, levelFull}, nil)
	secrets := []string{"Zephyrine", "Quillbottom", "DL7782311XQ", "17.09.1987"}
	texts := []string{
		"My name is Zephyrine Quillbottom, born 17.09.1987",
		"/zephyrine",
		"/verify Quillbottom",
		"/start Zephyrine.Quillbottom",
		"/start DL7782311XQ@",
		"/help DL7782311XQ",
		"/status Zephyrine",
		"/cancel Quillbottom",
		"/language 17.09.1987",
	}
	for _, text := range texts {
		e.must(user, "en", text)
	}
	if _, err := e.tap(user, "en", "lang:Zephyrine"); err != nil {
		t.Fatal(err)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "user_id=21001") {
		t.Fatalf("the logs do not name the user:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain %q:\n%s", s, logs)
		}
	}
	for _, ev := range e.auditEvents(user) {
		for _, s := range secrets {
			if strings.Contains(fmt.Sprintf("%+v", ev), s) {
				t.Errorf("audit event %+v contains %q", ev, s)
			}
		}
	}
}

func TestNewCommandsConfig(t *testing.T) {
	_, err := NewCommands(CommandsConfig{})
	if err == nil {
		t.Fatal("an empty config was accepted")
	}
	for _, f := range []string{"Store", "Telegram", "Catalog", "Levels", "Scopes", "PageURL"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("the error does not name %s: %v", f, err)
		}
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	ok := CommandsConfig{
		Store: failingStore{}, Telegram: newFakeTelegram(), Catalog: cat, Levels: []string{level, levelFull},
		DefaultLevel: level, Scopes: testScopes, PageURL: func(id string) string { return id },
	}
	tests := []struct {
		name string
		edit func(*CommandsConfig)
		want string // "" for success
	}{
		{"valid", func(*CommandsConfig) {}, ""},
		{"default level not configured", func(c *CommandsConfig) { c.DefaultLevel = "gold" }, `DefaultLevel "gold"`},
		{"no default level with two levels", func(c *CommandsConfig) { c.DefaultLevel = "" }, `DefaultLevel ""`},
		{"the only level is the default", func(c *CommandsConfig) { c.Levels, c.DefaultLevel = []string{levelFull}, "" }, ""},
		{"a level without a scope", func(c *CommandsConfig) { c.Levels = []string{level, "gold"} }, `scope of level "gold"`},
		{"a level twice", func(c *CommandsConfig) { c.Levels = []string{level, level} }, "listed twice"},
		{"an empty scope", func(c *CommandsConfig) {
			c.Scopes = func(string) (passport.Scope, error) { return passport.Scope{}, nil }
		}, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			c, err := NewCommands(cfg)
			if tt.want == "" {
				if err != nil || c == nil {
					t.Fatalf("NewCommands: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}
