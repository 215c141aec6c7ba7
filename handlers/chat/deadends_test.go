package chat

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// TestLiveRequestReminded: /verify (or /start) while the request at that
// level is open does not void the button the user has: one line, the same
// button; a new request comes with the full message.
func TestLiveRequestReminded(t *testing.T) {
	const u = int64(31001)
	e := newEnv(t, []string{level, levelFull}, nil)
	e.must(u, "en", "/start")
	first := e.last(u)
	req := e.requestOf(first)
	if strings.Contains(e.messages(u)[0].Text, "/verify") {
		t.Errorf("the greeting points at /verify instead of the button that follows: %q", e.messages(u)[0].Text)
	}
	if words := len(strings.Fields(first.Text)); words > 60 {
		t.Errorf("the request message has %d words, want a short one: %q", words, first.Text)
	}

	e.clock.Advance(10 * time.Minute)
	for _, text := range []string{"/verify", "/start", "/verify basic"} {
		n := len(e.messages(u))
		e.must(u, "en", text)
		m := e.last(u)
		if want := "Your request is still open: the button below works for 20 more minutes."; m.Text != want {
			t.Errorf("%s with a live request: %q, want %q", text, m.Text, want)
		}
		if got := e.requestOf(m); got.ID != req.ID {
			t.Errorf("%s: button to request %s, want the live one %s", text, got.ID, req.ID)
		}
		if text == "/start" && len(e.messages(u))-n != 2 {
			t.Errorf("/start sent %d messages, want the greeting and the reminder", len(e.messages(u))-n)
		}
	}
	if live, ok := e.live(u); !ok || live.ID != req.ID {
		t.Errorf("live request = %+v, want the first one still", live)
	}

	// Another level: a new request, explained in full.
	e.must(u, "en", "/verify full")
	if m := e.last(u); m.Text != e.explain("en", levelFull) || e.requestOf(m).ID == req.ID {
		t.Errorf("/verify full = %q, want a new request", m.Text)
	}
	// An expired request: a new one.
	e.clock.Advance(requestTTL)
	e.must(u, "en", "/verify full")
	if m := e.last(u); m.Text != e.explain("en", levelFull) {
		t.Errorf("/verify after the expiry = %q, want a new request", m.Text)
	}
}

// TestNextStepWithTwoLevels: a user verified at the default level is told
// how to get the other one, and that command works.
func TestNextStepWithTwoLevels(t *testing.T) {
	const u = int64(32001)
	e := newEnv(t, []string{level, levelFull}, nil)
	if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: level, State: store.StateVerified}); err != nil {
		t.Fatal(err)
	}
	e.must(u, "ru", "/verify")
	if got, want := e.last(u).Text, "Ваша личность уже подтверждена (уровень «Basic check»). Для уровня «Full check» отправьте /verify full."; got != want {
		t.Errorf("/verify = %q, want %q", got, want)
	}
	e.must(u, "ru", "/status")
	status := e.last(u).Text
	if !strings.HasSuffix(status, "\nДля уровня «Full check» отправьте /verify full.") || strings.Contains(status, "basic") {
		t.Errorf("/status = %q, want the level titles and the next step", status)
	}
	e.must(u, "ru", "/verify full")
	if req := e.requestOf(e.last(u)); req.Level != levelFull {
		t.Errorf("the suggested command asked for %q", req.Level)
	}
	// Verified at both: nothing left to suggest.
	if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: levelFull, State: store.StateVerified}); err != nil {
		t.Fatal(err)
	}
	e.must(u, "en", "/verify full")
	if got, want := e.last(u).Text, e.text("en", i18n.MsgVerifyAlreadyVerified, nil); got != want {
		t.Errorf("/verify full = %q, want %q", got, want)
	}
}

// TestSupportContact: the support contact is in /help, and after a final
// rejection in /status and /verify; not elsewhere.
func TestSupportContact(t *testing.T) {
	const u = int64(33001)
	e := newEnv(t, []string{level}, nil, func(c *Config) { c.Support = "@acme_help" })
	contact := "Questions? Contact @acme_help"
	e.must(u, "en", "/help")
	if got := e.last(u).Text; !strings.HasSuffix(got, "\n\n"+contact) {
		t.Errorf("/help = %q, want the contact last", got)
	}
	e.must(u, "en", "/status")
	if got := e.last(u).Text; strings.Contains(got, "@acme_help") {
		t.Errorf("/status before any rejection = %q", got)
	}
	if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: level, State: store.StateRejected}); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"/status", "/verify"} {
		e.must(u, "en", cmd)
		if got, want := e.last(u).Text, "Your verification was declined on 14 Mar 2026. This decision is final.\n"+contact; got != want {
			t.Errorf("%s after a rejection = %q, want %q", cmd, got, want)
		}
	}
}

// TestDeleteMyData: /delete_my_data asks first; the tap erases what
// /kyc_delete erases, audits without linking the user, and confirms; the
// tap handled twice tells once; "keep" and an old button erase nothing.
func TestDeleteMyData(t *testing.T) {
	const u = int64(34001)
	e := newEnv(t, []string{level}, nil)
	e.must(u, "en", "/start crm-9")
	if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: level, State: store.StateNeedsFixes}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tap(u, "en", languageData+"ru"); err != nil {
		t.Fatal(err)
	}

	e.must(u, "en", "/delete_my_data")
	ask := e.last(u)
	b := ask.Buttons()
	if ask.Text != e.text("ru", i18n.MsgEraseConfirm, nil) || len(b) != 2 || !strings.HasPrefix(b[0].Data, DataPrefix) || !strings.HasPrefix(b[1].Data, DataPrefix) {
		t.Fatalf("confirmation = %+v", ask)
	}
	if _, ok := e.live(u); !ok {
		t.Fatal("the request went before the confirmation")
	}

	// Keep: nothing erased.
	if _, err := e.tap(u, "en", b[1].Data); err != nil {
		t.Fatal(err)
	}
	if got := e.last(u).Text; got != e.text("ru", i18n.MsgEraseKept, nil) {
		t.Errorf("keep = %q", got)
	}
	// An old button: answered, nothing erased.
	e.clock.Advance(DeleteConfirmTTL)
	n := len(e.messages(u))
	if _, err := e.tap(u, "en", b[0].Data); err != nil {
		t.Fatal(err)
	}
	answers := e.tg.CallbackAnswers()
	if len(e.messages(u)) != n || answers[len(answers)-1].Text != e.text("ru", i18n.MsgEraseExpired, nil) {
		t.Errorf("an old tap: messages %q, answer %+v", handlerstest.Texts(e.messages(u)[n:]), answers[len(answers)-1])
	}
	if _, ok := e.live(u); !ok {
		t.Fatal("an old button erased the request")
	}

	// Erase, handled twice.
	e.must(u, "en", "/delete_my_data")
	q := e.query(u, "en", e.last(u).Buttons()[0].Data)
	for range 2 {
		if err := e.c.OnCallback(e.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.messages(u)
	done, again := msgs[len(msgs)-2], msgs[len(msgs)-1]
	if done.Text != e.text("ru", i18n.MsgEraseDone, nil) || done.Key != q.ID+":"+CommandDeleteMyData {
		t.Errorf("erased: %+v", done)
	}
	if again.Key != done.Key {
		t.Errorf("handled again, it told %q under key %q (first %q): Telegram would show it", again.Text, again.Key, done.Key)
	}
	if _, ok := e.live(u); ok {
		t.Error("the live request survived")
	}
	if sts, _ := e.store.Statuses().List(e.ctx, u); len(sts) != 0 {
		t.Errorf("statuses survived: %+v", sts)
	}
	if p, _ := e.store.Prefs().Get(e.ctx, u); p != (store.Prefs{}) {
		t.Errorf("preferences survived: %+v", p)
	}
	var kinds []string
	for _, ev := range e.allAudit() {
		if ev.Kind == "self_delete" {
			kinds = append(kinds, ev.Kind)
			if ev.UserID != 0 || ev.Ref != "" || ev.Detail["records"] == "" || ev.Detail["records"] == "0" {
				t.Errorf("self_delete event = %+v, want about nobody, with the records", ev)
			}
		}
	}
	if len(kinds) != 1 {
		t.Errorf("self_delete audited %d times, want once", len(kinds))
	}
	if evs := e.auditEvents(u); len(evs) != 0 {
		t.Errorf("events still linked to the user: %+v", evs)
	}
	if strings.Contains(e.logs.String(), "crm-9") {
		t.Errorf("the ref reached the logs:\n%s", e.logs)
	}
}

// TestCommandsRenamed: renamed and turned-off commands, as an embedding
// host sets them, with no catch-all reply.
func TestCommandsRenamed(t *testing.T) {
	const u = int64(35001)
	e := newEnv(t, []string{level}, nil, func(c *Config) {
		c.CatchAll = false
		c.Commands = map[string]string{CommandStatus: "my_status", CommandVerify: "/check_me", CommandHelp: "", CommandLanguage: ""}
	})
	for text, want := range map[string]bool{
		"/my_status": true, "/check_me": true, "/start": true, "/delete_my_data": true,
		"/status": false, "/verify": false, "/help": false, "/language": false, "hello": false, "/order 2": false,
	} {
		if got := e.c.Handles(text); got != want {
			t.Errorf("Handles(%q) = %v, want %v", text, got, want)
		}
	}
	// What is not kycbot's gets no answer: the host's bot answers it.
	for _, text := range []string{"/status", "/help", "hello", "/order 2"} {
		e.must(u, "en", text)
	}
	if msgs := e.messages(u); len(msgs) != 0 {
		t.Fatalf("answered the host's messages: %q", handlerstest.Texts(msgs))
	}
	e.must(u, "en", "/my_status")
	if got, want := e.last(u).Text, "You have not been verified yet.\nTo begin, send /check_me."; got != want {
		t.Errorf("/my_status = %q, want %q", got, want)
	}
	e.must(u, "en", "/check_me")
	e.requestOf(e.last(u))
	e.must(u, "en", "/cancel")
	if got, want := e.last(u).Text, "Cancelled. Tap /check_me whenever you want to start again."; got != want {
		t.Errorf("/cancel = %q, want %q", got, want)
	}
	if err := e.c.SetCommands(e.ctx); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range e.tg.Menus()[0].Commands {
		names = append(names, c.Command)
	}
	if want := []string{"start", "check_me", "my_status", "cancel", "delete_my_data"}; !slices.Equal(names, want) {
		t.Errorf("menu = %q, want %q", names, want)
	}

	for name, renames := range map[string]map[string]string{
		"unknown command":       {"order": "x"},
		"bad name":              {CommandStatus: "Status!"},
		"too long":              {CommandStatus: strings.Repeat("s", 33)},
		"two under one name":    {CommandStatus: "help"},
		"onto an admin command": {CommandStatus: "kyc_stats"},
	} {
		if _, err := New(Config{Store: e.adapter, Telegram: e.tg, Catalog: e.catalog, Levels: []string{level}, Scopes: testScopes,
			PageURL: func(string) string { return pageBase }, Admin: e.admin, Commands: renames}); err == nil {
			t.Errorf("%s: New accepted %v", name, renames)
		}
	}
}

func TestRenamerRewrite(t *testing.T) {
	r := newRenamer(map[string]string{CommandVerify: "check_me", CommandHelp: "help", CommandStatus: "me"})
	for in, want := range map[string]string{
		"Tap /verify to begin.":                   "Tap /check_me to begin.",
		"/verify, /status or /help":               "/check_me, /me or /help",
		"send /verify full":                       "send /check_me full",
		"/verifyme and /verify_x stay":            "/verifyme and /verify_x stay",
		"https://example.com/verify stays":        "https://example.com/verify stays",
		"a/verify stays, /verify@other_bot stays": "a/verify stays, /verify@other_bot stays",
		"\u200f/verify":                           "\u200f/check_me",
	} {
		if got := r.rewrite(in); got != want {
			t.Errorf("rewrite(%q) = %q, want %q", in, got, want)
		}
	}
	if got := newRenamer(map[string]string{CommandVerify: CommandVerify}).rewrite("/verify"); got != "/verify" {
		t.Errorf("no rename: %q", got)
	}
}

// In Arabic and Persian every command and username the chat writes reads
// left to right, those that come from the conversation too: the next
// step's command, the generated /help lines, the support contact.
func TestCommandsReadLeftToRightInArabic(t *testing.T) {
	e := newEnv(t, []string{level}, nil, func(c *Config) { c.Support = "@acme_help" })
	for i, lang := range []string{"ar", "fa"} {
		u := int64(33101 + i)
		if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: u, Level: level, State: store.StateNeedsFixes}); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"/status", "/help"} {
			e.must(u, lang, cmd)
			got := e.last(u).Text
			if !strings.Contains(got, "/verify") {
				t.Fatalf("%s %s = %q, want it to name /verify", lang, cmd, got)
			}
			for _, line := range strings.Split(got, "\n") {
				rs := []rune(line)
				for i, r := range rs {
					if r != '/' && r != '@' || i+1 == len(rs) || !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz_", rs[i+1]) ||
						i > 0 && !strings.ContainsRune(" (\u200f", rs[i-1]) {
						continue
					}
					before := strings.TrimRight(string(rs[:i]), " (")
					if !strings.HasSuffix(before, "\u200e") {
						t.Errorf("%s %s: %q would show its slash or at sign on the wrong side: %q", lang, cmd, string(rs[i:]), line)
					}
				}
			}
		}
	}
}
