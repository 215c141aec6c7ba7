package demo

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
)

// DefaultSettle is how long a user of RunUsers keeps listening after its
// verdict, for messages that come late or twice.
const DefaultSettle = 2 * time.Second

// UsersOptions configure RunUsers.
type UsersOptions struct {
	// Remote is how to reach the sandbox (RemoteFor reads it from the
	// bot's config). Required.
	Remote sandbox.Remote
	// Bot is the bot's username (BotUsername when empty).
	Bot string
	// Config is the bot's configuration: its texts (i18n, to recognize
	// the verdicts) and the scope of its default level. Required.
	Config *config.Config
	// Users is how many users play at once (at least 1).
	Users int
	// Scenario is the scenario every user plays (Happy when empty), or
	// Mix.
	Scenario Scenario
	// Lang is the language of the users' Telegram app ("en" when empty).
	Lang string
	// Ramp spreads the users' starts evenly over this time (0: all at
	// once), so that they reach the bot over a while rather than in one
	// burst.
	Ramp time.Duration
	// Settle is how long each user keeps listening after its verdict
	// (DefaultSettle when zero).
	Settle time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Random picks the users' phone numbers and document numbers
	// (crypto/rand when nil).
	Random io.Reader
}

// Report is what RunUsers saw, for people and for tests (JSON).
type Report struct {
	// Bot is the bot's username.
	Bot string `json:"bot"`
	// Scenario is what the users played (a scenario, or mix).
	Scenario Scenario `json:"scenario"`
	// Lang is the language of the users' Telegram app.
	Lang string `json:"lang"`
	// Started is when the users started; Seconds how long the run took.
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	// AsExpected counts the users that ended as expected (OK).
	AsExpected int `json:"as_expected"`
	// Users are the users in order of their index.
	Users []UserReport `json:"users"`
}

// UserReport is how one user of RunUsers ended, with every message the
// bot sent them.
type UserReport struct {
	// Index is the user's position in the run, from 0.
	Index int `json:"index"`
	// UserID is the user's Telegram user ID (0 when sign-up failed).
	UserID int64 `json:"user_id"`
	// Scenario is the scenario the user played.
	Scenario Scenario `json:"scenario"`
	// Expected is the outcome the scenario must end in: verified or
	// rejected.
	Expected string `json:"expected"`
	// Outcome is how the user ended: verified, rejected, or what went
	// wrong.
	Outcome string `json:"outcome"`
	// OK is true when the user ended as expected: Outcome is Expected,
	// exactly one message told the verdict (VerdictMessages), and the
	// problems to fix were listed once in the fix scenario, never in the
	// others (FixMessages).
	OK bool `json:"ok"`
	// VerdictMessages counts the bot's messages that said verified or
	// rejected; FixMessages those that listed problems to fix.
	VerdictMessages int `json:"verdict_messages"`
	FixMessages     int `json:"fix_messages"`
	// SignUpSeconds is how long signing up took; Seconds the time from
	// /start to the verdict; VerdictSeconds the times from each sharing
	// to the bot's answer to it.
	SignUpSeconds  float64   `json:"signup_seconds"`
	Seconds        float64   `json:"seconds"`
	VerdictSeconds []float64 `json:"verdict_seconds"`
	// Messages are the messages the bot sent the user, including those
	// after the verdict, in the chat's order (by ID; an edit after the
	// message it edits).
	Messages []Message `json:"messages"`
	// Badge is the description of the verification mark on the user's
	// profile at the end (users.getFullUser), as everybody sees it; empty
	// when there is none (the bot's badge.enabled is off, the bot is not
	// an approved verifier, or the user was not verified).
	Badge string `json:"badge,omitempty"`
}

// Message is a message of the bot, as the user's app got it.
type Message struct {
	// ID is the message's ID in the user's chat: the chat's order.
	ID int `json:"id"`
	// At is when the user's app got it; AfterSeconds the time since the
	// user's /start.
	At           time.Time `json:"at"`
	AfterSeconds float64   `json:"after_seconds"`
	// Text is the message's text.
	Text string `json:"text"`
	// Buttons are the inline keyboard's buttons, by row.
	Buttons [][]Button `json:"buttons,omitempty"`
	// Edited is true for a new version of an edited message.
	Edited bool `json:"edited,omitempty"`
	// Verdict is what the message tells about a submission (Verdicts.Of):
	// verified, rejected, needs_fixes, failed, or nothing.
	Verdict string `json:"verdict,omitempty"`
}

// Button is a button of a message.
type Button struct {
	// Text is the button's label.
	Text string `json:"text"`
	// URL is where a URL button leads.
	URL string `json:"url,omitempty"`
	// Callback is true for a callback button.
	Callback bool `json:"callback,omitempty"`
}

// RemoteFor returns how to reach the servers of the bot's config
// (telegram.server), with the sandbox's login code: the config `kycbot
// sandbox serve` writes. A config without addresses of its own (Telegram's
// DCs) is refused: simulated users sign up on a sandbox only.
func RemoteFor(cfg *config.Config) (sandbox.Remote, error) {
	s := cfg.Telegram.Server
	if len(s.Addresses) == 0 {
		return sandbox.Remote{}, errors.New("demo: telegram.server lists no addresses: simulated users play on a local sandbox only (use the config 'kycbot sandbox serve' writes)")
	}
	r, err := sandbox.RemoteConfig{DC: s.DC, Addrs: s.Addresses, PublicKeys: s.PublicKeys}.Remote()
	if err != nil {
		return sandbox.Remote{}, fmt.Errorf("demo: telegram.server: %w", err)
	}
	return r, nil
}

// Texts returns the texts of the bot of cfg: the built-in catalogs with
// i18n.default_language and the overrides of i18n.overrides_dir, as the
// bot has them.
func Texts(cfg *config.Config) (*i18n.Catalog, error) {
	opts := []i18n.Option{i18n.WithDefaultLanguage(cfg.I18n.DefaultLanguage)}
	if dir := cfg.I18n.OverridesDir; dir != "" {
		opts = append(opts, i18n.WithOverrides(os.DirFS(dir)))
	}
	cat, err := i18n.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("demo: the bot's texts: %w", err)
	}
	return cat, nil
}

// ScenarioOf returns the scenario user i plays when the users play sc:
// sc itself, or with Mix Scenarios()[i%3].
func ScenarioOf(sc Scenario, i int) Scenario {
	if sc == Mix {
		all := Scenarios()
		return all[i%len(all)]
	}
	return sc
}

// RunUsers plays o.Users simulated users at once against a bot that runs
// elsewhere (other processes: `kycbot run`): each signs up with a fresh
// phone number (sandbox.Connect), plays its scenario with Play, keeps
// listening for o.Settle after its verdict, and logs out. ctx bounds the
// whole run: a user still waiting when it ends is reported so. It returns
// an error only for options it cannot run with; how every user ended is
// in the Report.
func RunUsers(ctx context.Context, o UsersOptions) (*Report, error) {
	switch {
	case o.Config == nil:
		return nil, errors.New("demo: RunUsers: UsersOptions.Config is required (the bot's config)")
	case o.Users < 1:
		return nil, fmt.Errorf("demo: RunUsers: %d users: play at least 1", o.Users)
	case o.Ramp < 0:
		return nil, fmt.Errorf("demo: RunUsers: a negative ramp (%v)", o.Ramp)
	}
	if o.Scenario == "" {
		o.Scenario = Happy
	}
	if o.Scenario != Mix {
		if _, err := ParseScenario(string(o.Scenario)); err != nil {
			return nil, fmt.Errorf("demo: RunUsers: %w or mix", err)
		}
	}
	if o.Bot == "" {
		o.Bot = BotUsername
	}
	if o.Lang == "" {
		o.Lang = "en"
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Random == nil {
		o.Random = rand.Reader
	}
	texts, err := Texts(o.Config)
	if err != nil {
		return nil, err
	}
	level := o.Config.DefaultLevel()
	if level == nil {
		return nil, errors.New("demo: RunUsers: the config has no default level")
	}
	// Fresh numbers and documents: a random base, one step per user.
	var b [12]byte
	if _, err := io.ReadFull(o.Random, b[:]); err != nil {
		return nil, fmt.Errorf("demo: RunUsers: random source: %w", err)
	}
	phoneBase := binary.LittleEndian.Uint64(b[:8]) % (1e9 - uint64(o.Users))
	docBase := binary.LittleEndian.Uint32(b[8:])

	rep := &Report{Bot: o.Bot, Scenario: o.Scenario, Lang: o.Lang, Started: o.Now(), Users: make([]UserReport, o.Users)}
	play := PlayOptions{Bot: o.Bot, Texts: texts, Scope: level.Scope, Now: o.Now}
	verdicts := NewVerdicts(texts)
	var wg sync.WaitGroup
	for i := range o.Users {
		wg.Go(func() {
			if o.Ramp > 0 && o.Users > 1 {
				delay := o.Ramp * time.Duration(i) / time.Duration(o.Users-1)
				select {
				case <-ctx.Done():
				case <-time.After(delay):
				}
			}
			p := userPlay{o: o, play: play, verdicts: verdicts, index: i,
				phone: fmt.Sprintf("4915%09d", phoneBase+uint64(i)), seed: fmt.Sprintf("R%08X%04d", docBase, i)}
			rep.Users[i] = p.run(ctx)
		})
	}
	wg.Wait()
	rep.Seconds = o.Now().Sub(rep.Started).Seconds()
	for _, u := range rep.Users {
		if u.OK {
			rep.AsExpected++
		}
	}
	return rep, nil
}

// userPlay is one user of RunUsers.
type userPlay struct {
	o           UsersOptions
	play        PlayOptions
	verdicts    *Verdicts
	index       int
	phone, seed string
}

func (p userPlay) run(ctx context.Context) UserReport {
	sc := ScenarioOf(p.o.Scenario, p.index)
	r := UserReport{Index: p.index, Scenario: sc, Expected: sc.Expected(), VerdictSeconds: []float64{}, Messages: []Message{}}
	profile, err := sc.Profile(p.seed, p.o.Now())
	if err != nil {
		r.Outcome = err.Error()
		return r
	}
	began := p.o.Now()
	u, err := sandbox.Connect(ctx, p.o.Remote, sandbox.UserSpec{Phone: p.phone, FirstName: "Ada", LastName: "Lovelace",
		LangCode: p.o.Lang, CloudPassword: "demo cloud password"}, sandbox.SimUserOptions{Profile: profile, Now: p.o.Now})
	if err != nil {
		r.Outcome = "sign-up failed: " + strings.TrimPrefix(err.Error(), "sandbox: ")
		if ctx.Err() != nil {
			r.Outcome = "timed out signing up: " + strings.TrimPrefix(err.Error(), "sandbox: ")
		}
		return r
	}
	defer func() { _ = u.Close() }()
	r.UserID = u.User.ID
	r.SignUpSeconds = p.o.Now().Sub(began).Seconds()

	res, playErr := Play(ctx, u, sc, p.play)
	if playErr == nil || res.State != "" {
		// Listen a while for what comes late or twice.
		select {
		case <-time.After(p.o.Settle):
		case <-ctx.Done():
		}
	}
	for _, d := range res.Verdicts {
		r.VerdictSeconds = append(r.VerdictSeconds, d.Seconds())
	}
	if full, err := u.API().UsersGetFullUser(ctx, &tg.InputUserSelf{}); err == nil {
		if v, ok := full.FullUser.GetBotVerification(); ok {
			r.Badge = v.Description
		}
	}
	r.Seconds = res.Took.Seconds()
	// In the chat's order: by message ID (pushes may arrive out of it), an
	// edit after the message it edits.
	chat := u.Messages()
	sort.SliceStable(chat, func(i, j int) bool { return chat[i].ID < chat[j].ID })
	for _, m := range chat {
		if m.Out || res.BotID == 0 || m.Peer != res.BotID {
			continue
		}
		msg := Message{ID: m.ID, At: m.Received, AfterSeconds: m.Received.Sub(res.Started).Seconds(), Text: m.Text,
			Edited: m.Edited, Verdict: p.verdicts.Of(m)}
		for _, row := range m.Buttons {
			var out []Button
			for _, b := range row {
				out = append(out, Button{Text: b.Text, URL: b.URL, Callback: b.URL == "" && b.Data != nil})
			}
			msg.Buttons = append(msg.Buttons, out)
		}
		switch msg.Verdict {
		case store.StateVerified, store.StateRejected:
			r.VerdictMessages++
		case store.StateNeedsFixes:
			r.FixMessages++
		}
		r.Messages = append(r.Messages, msg)
	}

	wantFixes := 0
	if sc == Fix {
		wantFixes = 1
	}
	switch {
	case playErr != nil:
		r.Outcome = strings.TrimPrefix(playErr.Error(), ErrUnexpected.Error()+": ")
		if ctx.Err() != nil {
			r.Outcome = "timed out: " + r.Outcome
		}
	case r.VerdictMessages != 1:
		r.Outcome = fmt.Sprintf("%s, but %d messages told the verdict (want exactly 1)", res.State, r.VerdictMessages)
	case r.FixMessages != wantFixes:
		r.Outcome = fmt.Sprintf("%s, but %d messages listed problems to fix (want %d)", res.State, r.FixMessages, wantFixes)
	default:
		r.Outcome = res.State
		r.OK = res.State == r.Expected
	}
	return r
}
