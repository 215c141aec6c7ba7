package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

func TestStart(t *testing.T) {
	const u = int64(11001)
	tests := []struct {
		name string
		// before runs first (it may send messages: only those after it
		// are checked).
		before   func(e *cenv)
		text     string
		wantRef  string
		wantLogs string
		// reminded: the live request of before is still open, and the
		// same button is sent again in one line.
		reminded bool
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
			before: func(e *cenv) { e.must(u, "en", "/start first-ref") },
			text:   "/start", wantRef: "first-ref", reminded: true,
		},
		{
			name:   "a new ref replaces the old one",
			before: func(e *cenv) { e.must(u, "en", "/start first-ref") },
			text:   "/start second-ref", wantRef: "second-ref",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []string{level}, nil)
			if tt.before != nil {
				tt.before(e)
			}
			n := len(e.messages(u))
			m := e.message(u, "en-GB", tt.text)
			if err := e.c.OnMessage(e.ctx, m); err != nil {
				t.Fatal(err)
			}
			msgs := e.messages(u)[n:]
			if len(msgs) != 2 {
				t.Fatalf("got %d messages, want the greeting and the request: %+v", len(msgs), msgs)
			}
			if want := e.text("en", i18n.MsgStartGreeting, nil); msgs[0].Text != want || len(msgs[0].Rows) != 0 || msgs[0].Key != m.ID+":"+i18n.MsgStartGreeting {
				t.Errorf("greeting = %+v, want %q", msgs[0], want)
			}
			want := e.explain("en", level)
			if tt.reminded {
				want = "Your request is still open: the button below works for 30 more minutes."
			}
			if msgs[1].Text != want || msgs[1].Key != m.ID+":request" {
				t.Errorf("request message = %q (key %q), want %q", msgs[1].Text, msgs[1].Key, want)
			}
			if b := msgs[1].Buttons(); len(b) != 1 || b[0].Text != e.text("en", i18n.MsgButtonShare, nil) {
				t.Errorf("buttons = %+v", b)
			}
			if msgs[1].To != m.From {
				t.Errorf("sent to %+v, want the update's user %+v", msgs[1].To, m.From)
			}
			req := e.requestOf(msgs[1])
			if req.UserID != u || req.ChatID != u || req.Level != level || req.Lang != "en" || req.Ref != tt.wantRef {
				t.Errorf("request = %+v, want ref %q", req, tt.wantRef)
			}
			if !req.ExpiresAt.Equal(today.Add(requestTTL)) {
				t.Errorf("request expires at %v", req.ExpiresAt)
			}
			if srcs := e.adapter.IssuedFor(); !tt.reminded && srcs[len(srcs)-1] != m.ID {
				t.Errorf("request issued for %q, want the update %q", srcs, m.ID)
			}
			prefs, err := e.store.Prefs().Get(e.ctx, u)
			if err != nil || prefs.Ref != tt.wantRef {
				t.Errorf("stored ref = %q (%v), want %q", prefs.Ref, err, tt.wantRef)
			}
			// The ref is carried by later /verify requests too.
			e.must(u, "en", "/verify")
			if r := e.requestOf(e.last(u)); r.Ref != tt.wantRef {
				t.Errorf("/verify request ref = %q, want %q", r.Ref, tt.wantRef)
			}
			if tt.wantLogs != "" && !strings.Contains(e.logs.String(), tt.wantLogs) {
				t.Errorf("logs lack %q:\n%s", tt.wantLogs, e.logs)
			}
			evs := e.auditEvents(u)
			if len(evs) == 0 || evs[len(evs)-1].Kind != "request_issued" || evs[len(evs)-1].Detail["nonce_hash"] == "" {
				t.Errorf("audit = %+v", evs)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	const u = int64(12001)
	tests := []struct {
		name  string
		text  string
		level string // "" when no request is expected
	}{
		{name: "default level", text: "/verify", level: level},
		{name: "named level", text: "/verify full", level: levelFull},
		{name: "level in another case", text: "/verify FULL", level: levelFull},
		{name: "default level named", text: "/verify basic extra words", level: level},
		{name: "addressed to us", text: "/verify@" + botUsername + " full", level: levelFull},
		{name: "unknown level", text: "/verify gold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []string{level, levelFull}, nil)
			e.must(u, "en", tt.text)
			msgs := e.messages(u)
			if len(msgs) != 1 {
				t.Fatalf("got %d messages: %+v", len(msgs), msgs)
			}
			if tt.level == "" {
				want := e.text("en", i18n.MsgVerifyUnknownLevel, map[string]any{"Levels": "basic (Basic check), full (Full check)"})
				if msgs[0].Text != want || len(msgs[0].Rows) != 0 {
					t.Errorf("answer = %+v, want %q", msgs[0], want)
				}
				if _, ok := e.live(u); ok {
					t.Error("a request was issued for an unknown level")
				}
				if strings.Contains(e.logs.String(), "gold") {
					t.Errorf("the user's text reached the logs:\n%s", e.logs)
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

func TestVerifiedOrRejected(t *testing.T) {
	const u = int64(13001)
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
			want: func(e *cenv) []string {
				return []string{"You are already verified: Basic check. For Full check, send /verify full."}
			},
		},
		{
			name: "verified, /start", state: store.StateVerified, text: "/start", level: level,
			want: func(e *cenv) []string {
				return []string{e.text("en", i18n.MsgStartGreeting, nil), "You are already verified: Basic check. For Full check, send /verify full."}
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
				return []string{e.text("en", i18n.MsgStatusRejected, map[string]any{"Since": "12 Mar 2026"})}
			},
		},
		{
			name: "under review", state: store.StateReview, text: "/verify", level: level,
			want: func(e *cenv) []string {
				return []string{e.text("en", i18n.MsgStatusReview, map[string]any{"Since": "12 Mar 2026"})}
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
			e := newEnv(t, []string{level, levelFull}, nil)
			e.clock.Set(since)
			if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: tt.level, State: tt.state}); err != nil {
				t.Fatal(err)
			}
			e.clock.Set(today)
			if tt.reset {
				if err := e.store.Statuses().Reset(e.ctx, u, tt.level); err != nil {
					t.Fatal(err)
				}
			}
			e.must(u, "en", tt.text)
			if got, want := handlerstest.Texts(e.messages(u)), tt.want(e); !slices.Equal(got, want) {
				t.Errorf("messages = %q, want %q", got, want)
			}
			if _, live := e.live(u); live != tt.request {
				t.Errorf("live request: %v, want %v", live, tt.request)
			}
			if tt.request {
				e.requestOf(e.last(u))
			}
		})
	}
}

func TestStatus(t *testing.T) {
	const u = int64(14001)
	set := func(lvl, state string) func(e *cenv) {
		return func(e *cenv) {
			if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: lvl, State: state}); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	issue := func(lvl string) func(e *cenv) {
		return func(e *cenv) { e.must(u, "en", "/verify "+lvl) }
	}
	date := "14 Mar 2026"
	tests := []struct {
		name   string
		levels []string
		setup  []func(e *cenv)
		want   func(en *i18n.Localizer) string
	}{
		{
			name: "none", levels: []string{level},
			want: func(en *i18n.Localizer) string { return "You have not been verified yet.\nTo begin, send /verify." },
		},
		{
			name: "live request", levels: []string{level}, setup: []func(*cenv){issue(level)},
			want: func(en *i18n.Localizer) string {
				return "You have started a verification but have not shared your documents yet.\nTo continue, send /verify."
			},
		},
		{
			name: "pending", levels: []string{level}, setup: []func(*cenv){set(level, store.StatePending)},
			want: func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusPending, map[string]any{"Since": date}) },
		},
		{
			name: "needs fixes, with the new request", levels: []string{level},
			setup: []func(*cenv){issue(level), set(level, store.StateNeedsFixes)},
			want: func(en *i18n.Localizer) string {
				return "Your documents need a few corrections (checked on 14 Mar 2026).\nTo continue, send /verify."
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
			name: "under review", levels: []string{level}, setup: []func(*cenv){set(level, store.StateReview)},
			want: func(en *i18n.Localizer) string { return en.Text(i18n.MsgStatusReview, map[string]any{"Since": date}) },
		},
		{
			name: "expired request", levels: []string{level},
			setup: []func(*cenv){issue(level), func(e *cenv) { e.clock.Advance(requestTTL) }},
			want:  func(en *i18n.Localizer) string { return "You have not been verified yet.\nTo begin, send /verify." },
		},
		{
			name: "a status of a level no longer configured", levels: []string{level},
			setup: []func(*cenv){set("retired", store.StateVerified)},
			want:  func(en *i18n.Localizer) string { return "You have not been verified yet.\nTo begin, send /verify." },
		},
		{
			name: "two levels, nothing yet", levels: []string{level, levelFull},
			want: func(en *i18n.Localizer) string {
				return "You have not been verified yet.\nFor Basic check, send /verify."
			},
		},
		{
			name: "two levels, the default one rejected", levels: []string{level, levelFull}, setup: []func(*cenv){set(level, store.StateRejected)},
			want: func(en *i18n.Localizer) string {
				return "Basic check: Your verification was declined on 14 Mar 2026. This decision is final.\nFor Full check, send /verify full."
			},
		},
		{
			name: "two levels", levels: []string{level, levelFull},
			setup: []func(*cenv){set(level, store.StateVerified), issue(levelFull)},
			want: func(en *i18n.Localizer) string {
				return "Basic check: You are verified (since 14 Mar 2026).\n" +
					"Full check: You have started a verification but have not shared your documents yet.\n" +
					"For Full check, send /verify full."
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.levels, nil)
			for _, f := range tt.setup {
				f(e)
			}
			e.must(u, "en", "/status")
			m := e.last(u)
			if want := tt.want(e.catalog.Language("en")); m.Text != want || len(m.Rows) != 0 {
				t.Errorf("/status = %q, want %q", m.Text, want)
			}
		})
	}
}

// TestStatusDateInTheUsersLanguage: /status writes the date as the
// user's language does (CLDR), in its own digits.
func TestStatusDateInTheUsersLanguage(t *testing.T) {
	e := newEnv(t, []string{level}, nil) // the clock reads 14 March 2026
	for i, tt := range []struct{ lang, date string }{
		{"en", "14 Mar 2026"},
		{"de", "14.03.2026"},
		{"ru", "14 мар. 2026 г."},
		{"pt-BR", "14 de mar. de 2026"},
		{"fa", "۱۴ مارس ۲۰۲۶"},
		{"ar", "١٤\u200f/٠٣\u200f/٢٠٢٦"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			u := int64(14100 + i)
			if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: level, State: store.StateVerified}); err != nil {
				t.Fatal(err)
			}
			e.must(u, tt.lang, "/status")
			got := e.last(u).Text
			if want := e.text(tt.lang, i18n.MsgStatusVerified, map[string]any{"Since": tt.date}); got != want {
				t.Errorf("/status = %q, want %q", got, want)
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	const u = int64(15001)
	e := newEnv(t, []string{level}, nil)
	e.must(u, "en-US", "/language")
	m := e.last(u)
	if m.Text != e.text("en", i18n.MsgLanguagePrompt, nil) {
		t.Errorf("prompt = %q", m.Text)
	}
	langs := e.catalog.Languages()
	b := m.Buttons()
	if len(b) != len(langs) {
		t.Fatalf("%d buttons for %d languages", len(b), len(langs))
	}
	for i, bt := range b {
		want := e.catalog.Language(langs[i]).Text(i18n.MsgLanguageName, nil)
		if bt.Text != want || bt.Data != "kyc:lang:"+langs[i] || bt.URL != "" || !e.c.HandlesData(bt.Data) {
			t.Errorf("button %d = %+v, want %q for %s", i, bt, want, langs[i])
		}
	}
	for i, r := range m.Rows {
		if len(r) != 2 && i != len(m.Rows)-1 {
			t.Errorf("row %d has %d buttons, want 2", i, len(r))
		}
	}

	// The choice: answered, remembered, confirmed in the new language.
	q := e.query(u, "en-US", "kyc:lang:ru")
	if err := e.c.OnCallback(e.ctx, q); err != nil {
		t.Fatal(err)
	}
	if a := e.tg.CallbackAnswers(); len(a) != 1 || a[0] != (handlerstest.Answer{QueryID: q.QueryID}) {
		t.Errorf("callback answers = %+v, want one for query %d", a, q.QueryID)
	}
	ru := e.catalog.Language("ru")
	if got := e.last(u); got.Text != ru.Text(i18n.MsgLanguageChosen, nil) || got.Key != q.ID+":"+i18n.MsgLanguageChosen {
		t.Errorf("confirmation = %+v, want %q", got, ru.Text(i18n.MsgLanguageChosen, nil))
	}
	if p, err := e.store.Prefs().Get(e.ctx, u); err != nil || p.Lang != "ru" {
		t.Errorf("stored language = %+v %v", p, err)
	}
	evs := e.auditEvents(u)
	if len(evs) != 1 || evs[0].Kind != "language_set" || !slices.Equal(evs[0].Codes, []string{"ru"}) {
		t.Errorf("audit = %+v", evs)
	}

	// Later messages are in Russian, whatever the app's language.
	e.must(u, "en-US", "/help")
	if got := e.last(u).Text; !strings.HasPrefix(got, ru.Text(i18n.MsgHelp, nil)) || !strings.Contains(got, "\n/delete_my_data – Удалить мои данные") {
		t.Errorf("/help after choosing Russian = %q", got)
	}
	e.must(u, "de", "/verify")
	if got := e.last(u); got.Text != e.explain("ru", level) || got.Buttons()[0].Text != ru.Text(i18n.MsgButtonShare, nil) {
		t.Errorf("/verify after choosing Russian = %q", got.Text)
	}
	if req := e.requestOf(e.last(u)); req.Lang != "ru" {
		t.Errorf("request language = %q, want ru", req.Lang)
	}

	// A button sent before kycbot namespaced its data still works.
	if _, err := e.tap(u, "en", "lang:uk"); err != nil {
		t.Fatal(err)
	}
	if got := e.last(u).Text; got != e.text("uk", i18n.MsgLanguageChosen, nil) {
		t.Errorf("the legacy button: %q", got)
	}

	// Data that is not a language of the catalog is answered and ignored.
	for _, data := range []string{"kyc:lang:xx", "kyc:lang:", "lang:", "kyc:other", "other", ""} {
		n := len(e.messages(u))
		if _, err := e.tap(u, "en", data); err != nil {
			t.Errorf("%q: %v", data, err)
		}
		if len(e.messages(u)) != n {
			t.Errorf("%q: a message was sent", data)
		}
	}
	if n := len(e.tg.CallbackAnswers()); n != 8 {
		t.Errorf("%d callback answers, want 8", n)
	}
	if p, _ := e.store.Prefs().Get(e.ctx, u); p.Lang != "uk" {
		t.Errorf("stored language changed to %q", p.Lang)
	}
}

func TestHelpAndHints(t *testing.T) {
	const u = int64(16001)
	tests := []struct {
		name     string
		langCode string
		text     string
		want     string // message ID; "" for no answer
		lang     string // of the answer
	}{
		{"help", "fr", "/help", i18n.MsgHelp, "fr"},
		{"help addressed to us", "fr", "/help@" + botUsername, i18n.MsgHelp, "fr"},
		{"plain text", "fr", "hello there", i18n.MsgHelpNotUnderstood, "fr"},
		{"unknown command", "fr", "/frobnicate now", i18n.MsgHelpNotUnderstood, "fr"},
		{"a lone slash", "fr", "/", i18n.MsgHelpNotUnderstood, "fr"},
		{"no text (a sticker)", "fr", "", i18n.MsgHelpNotUnderstood, "fr"},
		{"command for another bot", "fr", "/help@otherbot", "", ""},
		{"start for another bot", "fr", "/start@otherbot crm-1", "", ""},
		{"no app language", "", "/help", i18n.MsgHelp, "en"},
		{"app language with a region", "pt-pt", "/help", i18n.MsgHelp, "pt-BR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []string{level}, nil)
			e.must(u, tt.langCode, tt.text)
			msgs := e.messages(u)
			if tt.want == "" {
				if len(msgs) != 0 {
					t.Errorf("answered %+v", msgs)
				}
				if _, ok := e.live(u); ok {
					t.Error("a request was issued")
				}
				return
			}
			if want := e.text(tt.lang, tt.want, nil); len(msgs) != 1 || msgs[0].Text != want && !(tt.want == i18n.MsgHelp && strings.HasPrefix(msgs[0].Text, want+"\n\n/start – ")) {
				t.Errorf("messages = %q, want %q", handlerstest.Texts(msgs), want)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	const u, other = int64(17001), int64(17002)
	e := newEnv(t, []string{level}, nil)
	e.must(u, "en", "/cancel")
	if got, want := e.last(u).Text, e.text("en", i18n.MsgCancelNothing, nil); got != want {
		t.Errorf("/cancel with nothing live = %q, want %q", got, want)
	}

	e.must(other, "en", "/verify")
	otherReq := e.requestOf(e.last(other))
	e.must(u, "en", "/verify")
	req := e.requestOf(e.last(u))
	e.must(u, "en", "/cancel")
	if got, want := e.last(u).Text, e.text("en", i18n.MsgCancelDone, nil); got != want {
		t.Errorf("/cancel = %q, want %q", got, want)
	}
	if _, err := e.store.Requests().Consume(e.ctx, req.Nonce, u); !errors.Is(err, store.ErrNonceCancelled) {
		t.Errorf("the cancelled nonce: %v, want ErrNonceCancelled", err)
	}
	if _, err := e.store.Requests().Get(e.ctx, req.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the cancelled request's page: %v, want ErrNotFound", err)
	}
	if kinds := e.auditKinds(u); !slices.Equal(kinds, []string{"request_issued", "request_cancelled"}) {
		t.Errorf("audit = %v", kinds)
	}
	e.must(u, "en", "/cancel")
	if got, want := e.last(u).Text, e.text("en", i18n.MsgCancelNothing, nil); got != want {
		t.Errorf("second /cancel = %q, want %q", got, want)
	}
	// The other user's request is untouched.
	if _, err := e.store.Requests().Consume(e.ctx, otherReq.Nonce, other); err != nil {
		t.Errorf("the other user's nonce: %v", err)
	}
}

// TestProcessedTwice: a message or a tap handled again (same update ID:
// its worker stopped before taking it out of the queue) sends every
// message under the same key as the first time (Telegram shows it once),
// issues its request for the same src (the button shown stays the live
// request's) and appends no audit event twice.
func TestProcessedTwice(t *testing.T) {
	const u = int64(17501)
	tests := []struct {
		name   string
		before string // a message first
		text   string // the message handled twice, or
		tap    string // the tap
		shown  int    // messages the user sees
		issued bool   // a request is issued
	}{
		{name: "/start with a ref", text: "/start crm-1", shown: 2, issued: true},
		{name: "/verify", text: "/verify full", shown: 1, issued: true},
		{name: "/status", before: "/verify", text: "/status", shown: 2},
		{name: "/language", text: "/language", shown: 1},
		{name: "/help", text: "/help", shown: 1},
		{name: "/cancel", before: "/verify", text: "/cancel", shown: 2},
		{name: "text", text: "Zephyrine", shown: 1},
		{name: "language button", tap: "kyc:lang:de", shown: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []string{level, levelFull}, nil)
			if tt.before != "" {
				e.must(u, "en", tt.before)
			}
			n, nIssued, nIDs := len(e.messages(u)), len(e.adapter.IssuedFor()), len(e.adapter.AuditIDs())
			var id string
			handle := func() error { return nil }
			if tt.text != "" {
				m := e.message(u, "en", tt.text)
				id, handle = m.ID, func() error { return e.c.OnMessage(e.ctx, m) }
			} else {
				q := e.query(u, "en", tt.tap)
				id, handle = q.ID, func() error { return e.c.OnCallback(e.ctx, q) }
			}
			if err := handle(); err != nil {
				t.Fatal(err)
			}
			first := e.messages(u)[n:]
			audit, firstIDs := e.allAudit(), e.adapter.AuditIDs()[nIDs:]
			if err := handle(); err != nil {
				t.Fatal(err)
			}
			second := e.messages(u)[n+len(first):]
			if len(first) == 0 {
				t.Fatal("nothing was sent")
			}
			for i, m := range first {
				if !strings.HasPrefix(m.Key, id+":") {
					t.Errorf("message %q sent with key %q, want one of the update %s", m.Text, m.Key, id)
				}
				if i < len(second) && second[i].Key != m.Key {
					t.Errorf("message %d sent again with key %q, first with %q", i, second[i].Key, m.Key)
				}
			}
			if len(second) != len(first) {
				t.Errorf("sent %q, then %q", handlerstest.Texts(first), handlerstest.Texts(second))
			}
			if got := len(e.tg.Shown(u)); got != tt.shown {
				t.Errorf("the user sees %d messages, want %d: %q", got, tt.shown, handlerstest.Texts(e.tg.Shown(u)))
			}
			if got := e.allAudit(); len(got) != len(audit) {
				t.Errorf("handled again, it audited %+v", got[len(audit):])
			}
			for _, got := range e.adapter.AuditIDs()[nIDs+len(firstIDs):] {
				if !slices.Contains(firstIDs, got) {
					t.Errorf("AuditOnce ID %q handled again, %q the first time", got, firstIDs)
				}
			}
			srcs := e.adapter.IssuedFor()[nIssued:]
			if tt.issued {
				// Handled again, the update finds the request it issued
				// live and sends its button under the same key.
				if len(srcs) == 0 || slices.ContainsFunc(srcs, func(s string) bool { return s != id }) {
					t.Errorf("requests issued for %q, want only for the update %s", srcs, id)
				}
				// The button the user sees is to their live request.
				shown := e.tg.Shown(u)
				live, ok := e.live(u)
				if b := shown[len(shown)-1].Buttons(); !ok || len(b) != 1 || b[0].URL != pageBase+live.ID {
					t.Errorf("the button shown %+v, the live request %+v", b, live)
				}
			} else if len(srcs) != 0 {
				t.Errorf("requests issued for %q", srcs)
			}
		})
	}
}

// failingStore fails the listed calls as an unreachable Redis does.
type failingStore struct {
	Store
	fail map[string]bool
}

var errDown = errors.Join(store.ErrUnavailable, errors.New("dial tcp 127.0.0.1:6379: connection refused"))

func (s failingStore) Preferences(ctx context.Context, userID int64) (store.Prefs, error) {
	if s.fail["Preferences"] {
		return store.Prefs{}, errDown
	}
	return s.Store.Preferences(ctx, userID)
}

func (s failingStore) GetStatus(ctx context.Context, userID int64, lvl string) (store.Status, error) {
	if s.fail["GetStatus"] {
		return store.Status{}, errDown
	}
	return s.Store.GetStatus(ctx, userID, lvl)
}

func (s failingStore) IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration, src string) (store.Request, error) {
	if s.fail["IssueRequest"] {
		return store.Request{}, errDown
	}
	return s.Store.IssueRequest(ctx, p, ttl, src)
}

func (s failingStore) CancelRequest(ctx context.Context, userID int64) (bool, error) {
	if s.fail["CancelRequest"] {
		return false, errDown
	}
	return s.Store.CancelRequest(ctx, userID)
}

func (s failingStore) ListStatuses(ctx context.Context, userID int64) ([]store.Status, error) {
	if s.fail["ListStatuses"] {
		return nil, errDown
	}
	return s.Store.ListStatuses(ctx, userID)
}

func (s failingStore) LiveRequest(ctx context.Context, userID int64) (store.Request, bool, error) {
	if s.fail["LiveRequest"] {
		return store.Request{}, false, errDown
	}
	return s.Store.LiveRequest(ctx, userID)
}

func (s failingStore) SetRef(ctx context.Context, userID int64, ref string) error {
	if s.fail["SetRef"] {
		return errDown
	}
	return s.Store.SetRef(ctx, userID, ref)
}

func (s failingStore) SetLanguage(ctx context.Context, userID int64, tag string) error {
	if s.fail["SetLanguage"] {
		return errDown
	}
	return s.Store.SetLanguage(ctx, userID, tag)
}

func (s failingStore) AuditOnce(ctx context.Context, ev store.Event, id string) error {
	if s.fail["AuditOnce"] {
		return errDown
	}
	return s.Store.AuditOnce(ctx, ev, id)
}

// TestStoreDown: with Redis unreachable the user is asked to try again
// later, in their language, and the error (a store.ErrUnavailable) is
// returned; an audit that fails is logged and the answer given.
func TestStoreDown(t *testing.T) {
	const u = int64(20001)
	tests := []struct {
		method, text string
	}{
		{"Preferences", "/help"},
		{"ListStatuses", "/verify"},
		{"IssueRequest", "/start"},
		{"SetRef", "/start crm-1"},
		{"CancelRequest", "/cancel"},
		{"ListStatuses", "/status"},
		{"LiveRequest", "/status"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			e := newEnv(t, []string{level}, func(s Store) Store {
				return failingStore{Store: s, fail: map[string]bool{tt.method: true}}
			})
			err := e.say(u, "tr", tt.text)
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("err = %v, want a store.ErrUnavailable", err)
			}
			if got, want := e.last(u).Text, e.text("tr", i18n.MsgErrorTryLater, nil); got != want {
				t.Errorf("last message = %q, want %q", got, want)
			}
			if !strings.Contains(e.logs.String(), "failed") {
				t.Errorf("the failure is not logged:\n%s", e.logs)
			}
			// Handed again soon (package bot, in a failover): nothing said
			// yet, and the update is to be handled again.
			before := len(e.messages(u))
			err = e.c.OnMessage(handlers.ContextWithRetry(e.ctx), e.message(u, "tr", tt.text))
			if !errors.Is(err, handlers.ErrRetryLater) || !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("with ContextWithRetry: err = %v, want ErrRetryLater wrapping the ErrUnavailable", err)
			}
			for _, m := range e.messages(u)[before:] {
				if m.Text == e.text("tr", i18n.MsgErrorTryLater, nil) {
					t.Error("with ContextWithRetry the user was asked to try again later")
				}
			}
		})
	}
	t.Run("SetLanguage", func(t *testing.T) {
		e := newEnv(t, []string{level}, func(s Store) Store {
			return failingStore{Store: s, fail: map[string]bool{"SetLanguage": true}}
		})
		if _, err := e.tap(u, "tr", "kyc:lang:de"); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("err = %v, want a store.ErrUnavailable", err)
		}
		if a := e.tg.CallbackAnswers(); len(a) != 1 || a[0].Text != e.text("tr", i18n.MsgErrorTryLater, nil) {
			t.Errorf("callback answers = %+v", a)
		}
		if n := len(e.messages(u)); n != 0 {
			t.Errorf("%d messages, want the callback answer only", n)
		}
	})
	t.Run("AuditOnce", func(t *testing.T) {
		e := newEnv(t, []string{level}, func(s Store) Store {
			return failingStore{Store: s, fail: map[string]bool{"AuditOnce": true}}
		})
		e.must(u, "en", "/verify")
		e.requestOf(e.last(u))
		if !strings.Contains(e.logs.String(), "audit failed") {
			t.Errorf("the failed audit is not logged:\n%s", e.logs)
		}
	})
	t.Run("Telegram down", func(t *testing.T) {
		e := newEnv(t, []string{level}, nil)
		e.tg.SetSend(errors.New("rpc error code 500: INTERNAL"), nil)
		if err := e.say(u, "en", "/help"); err == nil || !strings.Contains(err.Error(), "INTERNAL") {
			t.Errorf("err = %v, want the Telegram error", err)
		}
	})
}

// TestLogNothingPersonal sends texts that could be personal data and
// checks that none of them reaches the logs or the audit trail.
func TestLogNothingPersonal(t *testing.T) {
	const u = int64(21001)
	e := newEnv(t, []string{level, levelFull}, nil)
	secrets := []string{"Zephyrine", "Quillbottom", "DL7782311XQ", "17.09.1987"}
	for _, text := range []string{
		"My name is Zephyrine Quillbottom, born 17.09.1987",
		"/zephyrine",
		"/verify Quillbottom",
		"/start Zephyrine.Quillbottom",
		"/start DL7782311XQ@",
		"/help DL7782311XQ",
		"/status Zephyrine",
		"/cancel Quillbottom",
		"/language 17.09.1987",
		"/help@Zephyrine",
	} {
		e.must(u, "en", text)
	}
	for _, data := range []string{"kyc:lang:Zephyrine", "Quillbottom"} {
		if _, err := e.tap(u, "en", data); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.outcome(Outcome{User: user(u, "en"), RequestID: "x", Result: OutcomeError, Error: "Zephyrine"}); err != nil {
		t.Fatal(err)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "user_id=21001") {
		t.Fatalf("the logs do not name the user:\n%s", logs)
	}
	audit := fmt.Sprintf("%+v", e.allAudit())
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain %q:\n%s", s, logs)
		}
		if strings.Contains(audit, s) {
			t.Errorf("the audit trail contains %q: %s", s, audit)
		}
	}
}

// TestObserver: the conversation tells its Observer every message and
// tap by a bounded name, never the user's text.
func TestObserver(t *testing.T) {
	e := newEnv(t, []string{level, levelFull}, nil)
	const u = int64(8101)
	for _, tc := range []struct {
		text, tap string
		want      string
	}{
		{text: "/start", want: "start"},
		{text: "/verify full", want: "verify"},
		{text: "/STATUS", want: "status"},
		{text: "/help@" + botUsername, want: "help"},
		{text: "/help@another_bot", want: ""},
		{text: "/cancel", want: "cancel"},
		{text: "/language", want: "language"},
		{text: "/kyc_stats", want: "kyc_stats"},
		{text: "/Zephyrine", want: handlers.CommandUnknown},
		{text: "My name is Zephyrine", want: handlers.CommandText},
		{tap: "kyc:lang:de", want: handlers.CommandCallbackLanguage},
		{tap: "kyc:lang:Zephyrine", want: handlers.CommandCallbackUnknown},
		{tap: "kyc:del:1:2", want: handlers.CommandCallbackDelete},
		{tap: "kycdel:1:2", want: handlers.CommandCallbackDelete},
	} {
		before := len(e.obs.Commands())
		if tc.tap != "" {
			if _, err := e.tap(u, "en", tc.tap); err != nil {
				t.Fatal(err)
			}
		} else {
			e.must(u, "en", tc.text)
		}
		got := e.obs.Commands()[before:]
		if tc.want == "" && len(got) != 0 || tc.want != "" && !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%q%q: commands %v, want %q", tc.text, tc.tap, got, tc.want)
		}
	}
}

// TestAdminRouting: admin commands addressed to this bot and taps on
// admin buttons go to Config.Admin, with the command's name and
// arguments; the conversation itself answers nothing.
func TestAdminRouting(t *testing.T) {
	e := newEnv(t, []string{level}, nil)
	e.must(adminID, "en", "/kyc_status 42 extra")
	e.must(adminID, "en", "/KYC_STATS@"+botUsername)
	e.must(adminID, "en", "/kyc_stats@otherbot")
	if _, err := e.tap(adminID, "en", "kyc:del:42:1"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"kyc_status 42 extra", "kyc_stats"}; !slices.Equal(e.admin.commands, want) {
		t.Errorf("admin commands %q, want %q", e.admin.commands, want)
	}
	if want := []string{"kyc:del:42:1"}; !slices.Equal(e.admin.taps, want) {
		t.Errorf("admin taps %q, want %q", e.admin.taps, want)
	}
	if n := len(e.messages(adminID)) + len(e.tg.CallbackAnswers()); n != 0 {
		t.Errorf("the conversation answered %d times", n)
	}

	// Without admin commands, /kyc_* is an unknown command.
	e.c.cfg.Admin = nil
	e.must(adminID, "en", "/kyc_stats")
	if got := e.last(adminID).Text; got != e.text("en", i18n.MsgHelpNotUnderstood, nil) {
		t.Errorf("/kyc_stats without admin commands = %q", got)
	}
}

// TestParse: which texts are commands addressed to this bot, and which
// updates the conversation handles.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text string
		bot  string
		want Parsed
	}{
		{"/start", "", Parsed{Command: true, Name: "start", Args: []string{}}},
		{"/Start crm-1 x", botUsername, Parsed{Command: true, Name: "start", Args: []string{"crm-1", "x"}}},
		{"/help@" + botUsername, botUsername, Parsed{Command: true, Name: "help", Args: []string{}}},
		{"/help@KYC_TEST_BOT", "@" + botUsername, Parsed{Command: true, Name: "help", Args: []string{}}},
		{"/help@otherbot", botUsername, Parsed{Other: true}},
		{"/help@otherbot", "", Parsed{Command: true, Name: "help", Args: []string{}}},
		{"  /status  ", "", Parsed{Command: true, Name: "status", Args: []string{}}},
		{"/", "", Parsed{}},
		{"hello /start", "", Parsed{}},
		{"", "", Parsed{}},
	} {
		got := Parse(tc.text, tc.bot)
		if got.Command != tc.want.Command || got.Other != tc.want.Other || got.Name != tc.want.Name || !slices.Equal(got.Args, tc.want.Args) {
			t.Errorf("Parse(%q, %q) = %+v, want %+v", tc.text, tc.bot, got, tc.want)
		}
	}
	e := newEnv(t, []string{level}, nil)
	e.c.cfg.CatchAll = false // as when embedded
	for text, want := range map[string]bool{
		"/start": true, "/verify full": true, "/cancel@" + botUsername: true, "/kyc_stats": true,
		"/start@otherbot": false, "/order": false, "hello": false, "": false,
	} {
		if got := e.c.Handles(text); got != want {
			t.Errorf("Handles(%q) = %v, want %v", text, got, want)
		}
	}
	for data, want := range map[string]bool{"kyc:lang:de": true, "kyc:del:1:2": true, "lang:de": false, "host:buy": false} {
		if got := e.c.HandlesData(data); got != want {
			t.Errorf("HandlesData(%q) = %v, want %v", data, got, want)
		}
	}
	if got, want := Commands(), []string{"start", "verify", "status", "language", "help", "cancel", "delete_my_data"}; !slices.Equal(got, want) {
		t.Errorf("Commands() = %q, want %q", got, want)
	}
}

func TestSetCommands(t *testing.T) {
	e := newEnv(t, []string{level}, nil)
	if err := e.c.SetCommands(e.ctx); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range e.tg.Menus() {
		codes = append(codes, c.LangCode)
	}
	if want := []string{"en", "ru", "uk", "es", "pt", "de", "fr", "tr", "fa", "ar", ""}; !slices.Equal(codes, want) {
		t.Fatalf("lang codes = %q, want %q", codes, want)
	}
	menuOf := func(tag string) []handlers.BotCommand {
		l := e.catalog.Language(tag)
		return []handlers.BotCommand{
			{Command: "start", Description: l.Text(i18n.MsgCommandStart, nil)},
			{Command: "verify", Description: l.Text(i18n.MsgCommandVerify, nil)},
			{Command: "status", Description: l.Text(i18n.MsgCommandStatus, nil)},
			{Command: "language", Description: l.Text(i18n.MsgCommandLanguage, nil)},
			{Command: "help", Description: l.Text(i18n.MsgCommandHelp, nil)},
			{Command: "cancel", Description: l.Text(i18n.MsgCommandCancel, nil)},
			{Command: "delete_my_data", Description: l.Text(i18n.MsgCommandDeleteMyData, nil)},
		}
	}
	for i, c := range e.tg.Menus() {
		tag := e.catalog.DefaultLanguage()
		if c.LangCode != "" {
			tag = e.catalog.Languages()[i]
		}
		if want := menuOf(tag); !slices.Equal(c.Commands, want) {
			t.Errorf("%q: commands %+v, want %+v", c.LangCode, c.Commands, want)
		}
	}
	if got := e.tg.Menus()[4].Commands[0].Description; got != e.text("pt-BR", i18n.MsgCommandStart, nil) {
		t.Errorf("pt commands are not Brazilian Portuguese: %q", got)
	}
	// The admin commands get the public menu, in the default language.
	if len(e.admin.menus) != 1 || !slices.Equal(e.admin.menus[0], menuOf(e.catalog.DefaultLanguage())) {
		t.Errorf("admin menus = %+v", e.admin.menus)
	}

	// A language Telegram refuses: the others are still registered, and
	// the error names it.
	e.tg.ClearMenus()
	e.admin.menus = nil
	e.tg.FailCommands("ru", errors.New("rpc error code 400: LANG_CODE_INVALID"))
	err := e.c.SetCommands(e.ctx)
	if err == nil || !strings.Contains(err.Error(), "LANG_CODE_INVALID") {
		t.Errorf("err = %v, want the refusal", err)
	}
	if len(e.tg.Menus()) != 10 || len(e.admin.menus) != 1 {
		t.Errorf("%d menus registered, %d admin menus, want 10 and 1", len(e.tg.Menus()), len(e.admin.menus))
	}
}

// TestContextLogger: a logger carried by the context
// (handlers.ContextWithLogger) is the one every record of the update goes
// to, with the conversation's attributes and not the user's text.
func TestContextLogger(t *testing.T) {
	e := newEnv(t, []string{level}, nil)
	var out testkit.Logs
	ctx := handlers.ContextWithLogger(context.Background(), out.Logger().With("update_id", "0123abcd4567"))
	const u = int64(8201)
	for _, text := range []string{"My name is Zephyrine Quillbottom", "/verify", "/start Zephyrine.Q"} {
		if err := e.c.OnMessage(ctx, e.message(u, "en", text)); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("too few records:\n%s", out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "update_id=0123abcd4567") || !strings.Contains(l, "user_id=8201") {
			t.Errorf("a record without the update ID or the user: %s", l)
		}
	}
	if strings.Contains(out.String(), "Zephyrine") {
		t.Errorf("the logs hold the user's text:\n%s", out.String())
	}
	if e.logs.String() != "" {
		t.Errorf("records went to the conversation's own logger:\n%s", e.logs)
	}
}

func TestNewConfig(t *testing.T) {
	_, err := New(Config{})
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
	ok := Config{
		Store: failingStore{}, Telegram: &handlerstest.Telegram{}, Catalog: cat, Levels: []string{level, levelFull},
		DefaultLevel: level, Scopes: testScopes, PageURL: func(id string) string { return id },
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for success
	}{
		{"valid", func(*Config) {}, ""},
		{"default level not configured", func(c *Config) { c.DefaultLevel = "gold" }, `DefaultLevel "gold"`},
		{"no default level with two levels", func(c *Config) { c.DefaultLevel = "" }, `DefaultLevel ""`},
		{"the only level is the default", func(c *Config) { c.Levels, c.DefaultLevel = []string{levelFull}, "" }, ""},
		{"a level without a scope", func(c *Config) { c.Levels = []string{level, "gold"} }, `scope of level "gold"`},
		{"a level twice", func(c *Config) { c.Levels = []string{level, level} }, "listed twice"},
		{"an empty scope", func(c *Config) {
			c.Scopes = func(string) (passport.Scope, error) { return passport.Scope{}, nil }
		}, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			c, err := New(cfg)
			if tt.want == "" {
				if err != nil || c == nil {
					t.Fatalf("New: %v", err)
				}
				if c.cfg.RequestTTL != DefaultRequestTTL || c.cfg.AlertInterval != DefaultAlertInterval || c.cfg.Now == nil || c.cfg.Log == nil || c.cfg.Observer == nil {
					t.Errorf("defaults not filled: %+v", c.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}
