package chat

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

func TestOutcome(t *testing.T) {
	const u, u2 = int64(19001), int64(19002)
	// The user of an outcome: the request page knows the ID only.
	pageUser := func(id int64) handlers.User { return handlers.User{ID: id} }
	// start issues a request for id in lang and returns it.
	start := func(e *cenv, id int64, lang string) store.Request {
		e.must(id, lang, "/verify")
		return e.requestOf(e.last(id))
	}

	t.Run("success says nothing", func(t *testing.T) {
		e := newEnv(t, []string{level}, nil)
		r := start(e, u, "en")
		if err := e.outcome(Outcome{User: pageUser(u), RequestID: r.ID, Result: OutcomeSuccess, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
		if n := len(e.messages(u)); n != 1 {
			t.Errorf("%d messages, want only the request", n)
		}
		if kinds := e.auditKinds(u); !slices.Equal(kinds, []string{"request_issued"}) {
			t.Errorf("audit = %v", kinds)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		e := newEnv(t, []string{level, levelFull}, nil)
		e.must(u, "de", "/start crm-9")
		e.must(u, "de", "/verify full")
		r := e.requestOf(e.last(u))
		o := Outcome{ID: e.nextID(), User: pageUser(u), RequestID: r.ID, Result: OutcomeCancel, Lang: "de"}
		if err := e.outcome(o); err != nil {
			t.Fatal(err)
		}
		m := e.last(u)
		de := e.catalog.Language("de")
		if want := de.Text(i18n.MsgOutcomeCancel, nil) + "\n\n" + de.Plural(i18n.MsgRequestWaiting, 30, nil); m.Text != want {
			t.Errorf("cancel message = %q, want %q", m.Text, want)
		}
		if m.To != pageUser(u) || m.Key != o.ID+":request" {
			t.Errorf("sent to %+v with key %q: the transport looks the access hash up", m.To, m.Key)
		}
		next := e.requestOf(m)
		if next.ID == r.ID || next.Level != levelFull || next.Ref != "crm-9" || next.Lang != "de" {
			t.Errorf("fresh request = %+v", next)
		}
		if _, err := e.store.Requests().Consume(e.ctx, r.Nonce, u); !errors.Is(err, store.ErrNonceSuperseded) {
			t.Errorf("the old nonce: %v, want superseded", err)
		}
		evs := e.auditEvents(u)
		var kinds []string
		for _, ev := range evs {
			kinds = append(kinds, ev.Kind)
		}
		if want := []string{"request_issued", "request_issued", "outcome_cancel", "request_issued"}; !slices.Equal(kinds, want) {
			t.Fatalf("audit = %v, want %v", kinds, want)
		}
		if last := evs[3]; last.Detail["after"] != "outcome_cancel" || last.Level != levelFull || last.Ref != "crm-9" || evs[2].Detail["nonce_hash"] != r.NonceHash() {
			t.Errorf("audit events = %+v", evs[2:])
		}
		// The same outcome handled again, or reported again later (a
		// reloaded page), is about a request no longer live: nothing more.
		n := len(e.tg.Shown(u))
		for _, again := range []Outcome{o, {User: pageUser(u), RequestID: r.ID, Result: OutcomeCancel, Lang: "de"}} {
			if err := e.outcome(again); err != nil {
				t.Fatal(err)
			}
		}
		if len(e.tg.Shown(u)) != n || len(e.auditEvents(u)) != len(evs) {
			t.Error("a stale cancel was answered")
		}
		if live, _ := e.live(u); live.ID != next.ID {
			t.Error("a stale cancel replaced the fresh request")
		}
	})

	t.Run("cancel in the chosen language", func(t *testing.T) {
		e := newEnv(t, []string{level}, nil)
		r := start(e, u, "en")
		if _, err := e.tap(u, "en", "kyc:lang:uk"); err != nil {
			t.Fatal(err)
		}
		if err := e.outcome(Outcome{User: pageUser(u), RequestID: r.ID, Result: OutcomeCancel, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
		uk := e.catalog.Language("uk")
		if m := e.last(u); !strings.HasPrefix(m.Text, uk.Text(i18n.MsgOutcomeCancel, nil)) {
			t.Errorf("cancel message = %q, want Ukrainian", m.Text)
		}
		if next := e.requestOf(e.last(u)); next.Lang != "uk" {
			t.Errorf("the fresh request's language = %q", next.Lang)
		}
	})

	t.Run("errors", func(t *testing.T) {
		e := newEnv(t, []string{level}, nil)
		alarms := func(code string) int {
			want := e.text(e.catalog.DefaultLanguage(), i18n.MsgAdminPassportError, map[string]any{"Code": code})
			n := 0
			for _, m := range e.tg.Shown(adminID) {
				if m.Text == want {
					n++
				}
			}
			return n
		}
		type step struct {
			user   int64
			code   string
			newReq bool // a new request before the outcome
			again  bool // the previous outcome handled again (same update)
			told   bool // the user sees a message
			alarms map[string]int
			audit  string // the code audited
			wait   time.Duration
		}
		steps := []step{
			{user: u, code: "SCOPE_EMPTY", newReq: true, told: true, audit: "SCOPE_EMPTY", alarms: map[string]int{}},
			// The same outcome handled again: nothing shown or audited twice.
			{user: u, code: "SCOPE_EMPTY", again: true, alarms: map[string]int{}},
			{user: u, code: "PUBLIC_KEY_INVALID", newReq: true, told: true, audit: "PUBLIC_KEY_INVALID", alarms: map[string]int{"PUBLIC_KEY_INVALID": 1}},
			{user: u, code: "PUBLIC_KEY_INVALID", again: true, alarms: map[string]int{"PUBLIC_KEY_INVALID": 1}},
			// Another user within the interval: told, admins not alarmed again.
			{user: u2, code: "PUBLIC_KEY_INVALID", newReq: true, told: true, audit: "PUBLIC_KEY_INVALID", alarms: map[string]int{"PUBLIC_KEY_INVALID": 1}},
			// Another code alarms on its own.
			{user: u2, code: "BOT_INVALID", newReq: true, told: true, audit: "BOT_INVALID", alarms: map[string]int{"PUBLIC_KEY_INVALID": 1, "BOT_INVALID": 1}},
			{user: u2, code: "PUBLIC_KEY_REQUIRED", newReq: true, told: true, audit: "PUBLIC_KEY_REQUIRED",
				alarms: map[string]int{"PUBLIC_KEY_INVALID": 1, "BOT_INVALID": 1, "PUBLIC_KEY_REQUIRED": 1}},
			// After the interval the alarm is repeated.
			{user: u, code: "PUBLIC_KEY_INVALID", newReq: true, told: true, audit: "PUBLIC_KEY_INVALID", wait: DefaultAlertInterval,
				alarms: map[string]int{"PUBLIC_KEY_INVALID": 2, "BOT_INVALID": 1}},
			// A code Telegram does not document is audited as UNKNOWN.
			{user: u, code: "<b>WHAT</b>", newReq: true, told: true, audit: "UNKNOWN", alarms: map[string]int{"PUBLIC_KEY_INVALID": 2}},
		}
		var o Outcome
		for i, s := range steps {
			e.clock.Advance(s.wait)
			if !s.again {
				o = Outcome{ID: e.nextID(), User: pageUser(s.user), Result: OutcomeError, Error: s.code, Lang: "es"}
			}
			if s.newReq {
				o.RequestID = start(e, s.user, "es").ID
			}
			n, evs := len(e.tg.Shown(s.user)), len(e.auditEvents(s.user))
			if err := e.outcome(o); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			msgs := e.tg.Shown(s.user)[n:]
			if s.told {
				if want := e.text("es", i18n.MsgOutcomeError, nil); len(msgs) != 1 || msgs[0].Text != want || len(msgs[0].Rows) != 0 {
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
				if got := alarms(code); got != want {
					t.Errorf("step %d: %d alarms for %s, want %d", i, got, code, want)
				}
			}
		}
		if strings.Contains(e.logs.String(), "<b>WHAT</b>") {
			t.Error("an undocumented error code reached the logs")
		}
	})

	t.Run("store down", func(t *testing.T) {
		for _, method := range []string{"Preferences", "LiveRequest", "IssueRequest"} {
			t.Run(method, func(t *testing.T) {
				e := newEnv(t, []string{level}, nil)
				r := start(e, u, "en")
				e.c.cfg.Store = failingStore{Store: e.adapter, fail: map[string]bool{method: true}}
				err := e.outcome(Outcome{User: pageUser(u), RequestID: r.ID, Result: OutcomeCancel, Lang: "en"})
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("err = %v, want a store.ErrUnavailable", err)
				}
			})
		}
	})

	t.Run("bad outcomes", func(t *testing.T) {
		e := newEnv(t, []string{level}, nil)
		for _, o := range []Outcome{{User: pageUser(0), Result: OutcomeCancel}, {User: pageUser(-5), Result: OutcomeError}, {User: pageUser(u), Result: "maybe"}} {
			if err := e.outcome(o); err == nil {
				t.Errorf("%+v was accepted", o)
			}
		}
		if n := len(e.messages(u)); n != 0 {
			t.Errorf("%d messages", n)
		}
	})
}
