package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/passport"
)

// recObserver records what the handlers tell their Observer.
type recObserver struct {
	mu          sync.Mutex
	submissions []string // "outcome/reason/level"
	problems    [][]string
	verdicts    []time.Duration
	commands    []string
}

func (o *recObserver) Submission(outcome, reason, level string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.submissions = append(o.submissions, outcome+"/"+reason+"/"+level)
}

func (o *recObserver) Problems(codes []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.problems = append(o.problems, slices.Clone(codes))
}

func (o *recObserver) Verdict(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.verdicts = append(o.verdicts, d)
}

func (o *recObserver) Command(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.commands = append(o.commands, name)
}

// mustDeliver hands an update to the handler and fails the test on an
// error.
func (e *env) mustDeliver(ents tg.Entities, u *tg.UpdateNewMessage) {
	e.t.Helper()
	if err := e.deliver(ents, u); err != nil {
		e.t.Fatal(err)
	}
}

// The passport handler tells its Observer the outcome of every
// submission processed to an end, the problem codes and the time to the
// verdict; duplicates and attempts to be retried are not counted.
func TestPassportObserver(t *testing.T) {
	otherKey, err := passport.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		wrap func(Store) Store
		// run shares and delivers, as the scenario wants.
		run         func(t *testing.T, e *env, user int64)
		submissions []string
		problems    [][]string
		verdicts    int
	}{
		{name: "verified", run: func(t *testing.T, e *env, user int64) {
			e.mustDeliver(e.update(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en"))
		}, submissions: []string{"verified//basic"}, verdicts: 1},
		{name: "needs fixes", run: func(t *testing.T, e *env, user int64) {
			p := goodProfile(t)
			p.Expiry = "01.01.2025"
			p.Selfie = jpegOf(t, 320, 240, 99)
			e.mustDeliver(e.update(e.share(p, e.issue(user, "en").Nonce, nil), user, "en"))
		}, submissions: []string{"needs_fixes//basic"}, problems: [][]string{{"expired", "image_too_small"}}, verdicts: 1},
		{name: "rejected", run: func(t *testing.T, e *env, user int64) {
			p := goodProfile(t)
			p.BirthDate = "05.06.2011"
			e.mustDeliver(e.update(e.share(p, e.issue(user, "en").Nonce, nil), user, "en"))
		}, submissions: []string{"rejected//basic"}, problems: [][]string{{"too_young"}}, verdicts: 1},
		{name: "nonce used", run: func(t *testing.T, e *env, user int64) {
			sh := e.share(goodProfile(t), e.issue(user, "en").Nonce, nil)
			e.mustDeliver(e.update(sh, user, "en"))
			e.mustDeliver(e.update(sh, user, "en")) // another message, the same nonce
		}, submissions: []string{"verified//basic", "refused/used/"}, verdicts: 1},
		{name: "nonce unknown", run: func(t *testing.T, e *env, user int64) {
			e.mustDeliver(e.update(e.share(goodProfile(t), "never-issued-nonce", nil), user, "en"))
		}, submissions: []string{"refused/unknown/"}},
		{name: "wrong key", run: func(t *testing.T, e *env, user int64) {
			e.mustDeliver(e.update(e.share(goodProfile(t), e.issue(user, "en").Nonce, &otherKey.PublicKey), user, "en"))
		}, submissions: []string{"undecryptable/wrong_key/"}},
		{name: "download failed", run: func(t *testing.T, e *env, user int64) {
			ents, upd := e.update(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
			e.tg.dlErr = errors.New("rpc error code 500: INTERNAL")
			if err := e.deliver(ents, upd); err == nil {
				t.Fatal("a failed download returned nil")
			}
		}, submissions: []string{"failed/download_failed/basic"}},
		{name: "duplicate", run: func(t *testing.T, e *env, user int64) {
			ents, upd := e.update(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
			e.mustDeliver(ents, upd)
			e.mustDeliver(ents, upd)
		}, submissions: []string{"verified//basic"}, verdicts: 1},
		{name: "retried", wrap: func(s Store) Store { return &flakyStore{Store: s, failures: 1} }, run: func(t *testing.T, e *env, user int64) {
			ents, upd := e.update(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
			if err := e.deliver(ents, upd); err == nil {
				t.Fatal("the failing store did not fail")
			}
			e.mustDeliver(ents, upd)
		}, submissions: []string{"verified//basic"}, verdicts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.wrap)
			tc.run(t, e, 8001)
			o := e.obs
			if !slices.Equal(o.submissions, tc.submissions) {
				t.Errorf("submissions %v, want %v", o.submissions, tc.submissions)
			}
			if fmt.Sprint(o.problems) != fmt.Sprint(tc.problems) {
				t.Errorf("problems %v, want %v", o.problems, tc.problems)
			}
			if len(o.verdicts) != tc.verdicts {
				t.Errorf("%d verdicts, want %d", len(o.verdicts), tc.verdicts)
			}
		})
	}
}

// The time to the verdict is measured with the handler's clock, from the
// update reaching the handler to the verdict sent.
func TestPassportVerdictTime(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(8002)
	ents, upd := e.update(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
	e.tg.onSend = func() { e.clock.Advance(3 * time.Second) }
	e.mustDeliver(ents, upd)
	// The verdict is the first message to the user; the admin's comes after.
	if !slices.Equal(e.obs.verdicts, []time.Duration{3 * time.Second}) {
		t.Errorf("verdicts %v, want [3s]", e.obs.verdicts)
	}
}

// The conversation tells its Observer every command by a bounded name.
func TestCommandsObserver(t *testing.T) {
	e := newCommandsEnv(t, []string{level, levelFull}, nil)
	const user = int64(8101)
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
		{text: "/Zephyrine", want: CommandUnknown},
		{text: "My name is Zephyrine", want: CommandText},
		{tap: "lang:de", want: CommandCallbackLanguage},
		{tap: "lang:Zephyrine", want: CommandCallbackUnknown},
		{tap: "kycdel:1:2", want: CommandCallbackDelete},
	} {
		before := len(e.obs.commands)
		if tc.tap != "" {
			if _, err := e.tap(user, "en", tc.tap); err != nil {
				t.Fatal(err)
			}
		} else {
			e.must(user, "en", tc.text)
		}
		got := e.obs.commands[before:]
		if tc.want == "" && len(got) != 0 || tc.want != "" && !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%q%q: commands %v, want %q", tc.text, tc.tap, got, tc.want)
		}
	}
}

// A logger carried by the context (ContextWithLogger) is the one every
// record of the update goes to, with the handlers' own attributes.
func TestContextLogger(t *testing.T) {
	pe := newEnv(t, nil)
	ce := newCommandsEnv(t, []string{level}, nil)
	var out syncBuffer
	ctx := ContextWithLogger(context.Background(), slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})).With("update_id", "0123abcd4567"))
	p := goodProfile(t)
	const user = int64(8201)
	ents, upd := pe.update(pe.share(p, pe.issue(user, "en").Nonce, nil), user, "en")
	if err := pe.h.OnNewMessage(ctx, ents, upd); err != nil {
		t.Fatal(err)
	}
	msg := &tg.Message{ID: 1, PeerID: &tg.PeerUser{UserID: user}, Message: "My name is " + p.FirstName + " " + p.LastName}
	if err := ce.c.OnNewMessage(ctx, entities(user, "en"), &tg.UpdateNewMessage{Message: msg}); err != nil {
		t.Fatal(err)
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
	for _, v := range p.values() {
		if strings.Contains(out.String(), v) {
			t.Errorf("the logs hold %q", v)
		}
	}
	if pe.logs.String() != "" || ce.logs.String() != "" {
		t.Errorf("records went to the handlers' own logger:\n%s%s", pe.logs, ce.logs)
	}
	if got := LoggerFromContext(context.Background(), nil); got != nil {
		t.Errorf("LoggerFromContext without a logger = %v", got)
	}
	if ContextWithLogger(ctx, nil) != ctx {
		t.Error("ContextWithLogger(nil) changed the context")
	}
}
