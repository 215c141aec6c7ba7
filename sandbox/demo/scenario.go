package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
)

// Scenario names a scripted conversation.
type Scenario string

// The scenarios Play plays.
const (
	// Happy: a complete, valid submission is verified.
	Happy Scenario = "happy"
	// Fix: an expired driving licence and a blurry selfie (out of focus:
	// the bot measures its sharpness) are flagged in Telegram Passport;
	// the user fixes both, shares again and is verified.
	Fix Scenario = "fix"
	// Final: a user under the minimum age is declined for good.
	Final Scenario = "final"
)

// Mix is not a scenario of one user: given to RunUsers, user i plays
// Scenarios()[i%3] (happy, fix, final, happy, ...).
const Mix Scenario = "mix"

// Scenarios lists the scenarios in the order help shows them.
func Scenarios() []Scenario { return []Scenario{Happy, Fix, Final} }

// Expected returns the final state a scenario must end in.
func (s Scenario) Expected() string {
	if s == Final {
		return store.StateRejected
	}
	return store.StateVerified
}

// Profile returns the Telegram Passport of a user who plays s: the
// sandbox's sample profile whose scans and document number derive from
// seed, made wrong as s needs it (the age counted from now).
func (s Scenario) Profile(seed string, now time.Time) (sandbox.Profile, error) {
	p := sandbox.SampleProfile(seed)
	switch s {
	case Happy:
	case Fix:
		dl := p[passport.TypeDriverLicense]
		dl.Fields["expiry_date"] = "01.01.2020"
		dl.Selfie = &sandbox.Scan{Text: seed + "/blurry-selfie", Width: 480, Height: 480, Blur: 3}
	case Final:
		p[passport.TypePersonalDetails].Fields["birth_date"] = now.AddDate(-16, 0, 0).Format("02.01.2006")
	default:
		return nil, fmt.Errorf("demo: unknown scenario %q (one of %s)", s, scenarioList())
	}
	return p, nil
}

// Result is how a scenario ended.
type Result struct {
	// UserID is the user's Telegram user ID.
	UserID int64
	// BotID is the bot's user ID (0 when /start failed).
	BotID int64
	// State is the user's final verification state, as the bot's last
	// verdict told it (empty before any verdict).
	State string
	// Started is when the user sent /start.
	Started time.Time
	// Took is the time from the first message to the verdict.
	Took time.Duration
	// Verdicts are the times from each sharing to the bot's verdict on it.
	Verdicts []time.Duration
}

// ErrUnexpected is returned (wrapped) when a scenario does not end as
// expected.
var ErrUnexpected = errors.New("demo: the scenario did not end as expected")

// RunScenario plays scenario sc with a new simulated user whose Telegram
// app speaks lang, and prints both sides of the chat to out as it
// happens, with the time since the start (see Play). It fails with
// ErrUnexpected when the user does not end in sc.Expected().
func (e *Env) RunScenario(ctx context.Context, sc Scenario, lang string, out io.Writer) (Result, error) {
	b := e.Bot()
	if b == nil {
		return Result{}, errors.New("demo: the bot is not running (StartBot)")
	}
	// The documents (and the middle name) derive from the phone number:
	// each user of the demo is another person, as a bot that refuses
	// duplicates (rules.duplicates) needs.
	phone := fmt.Sprintf("4915%09d", time.Now().UnixNano()%1e9)
	profile, err := sc.Profile("D"+phone[len(phone)-7:], time.Now())
	if err != nil {
		return Result{}, err
	}
	u, err := e.NewUser(ctx, sandbox.UserSpec{Phone: phone, FirstName: "Ada",
		LastName: "Lovelace", LangCode: lang}, profile)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = u.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 3*waitFor)
	defer cancel()
	return Play(ctx, u, sc, PlayOptions{
		Bot: e.Account.Username, Ref: "demo-ref", Texts: b.Catalog(),
		Scope: e.Config.Levels[e.Config.DefaultLevelName].Scope, Transcript: out, Name: "Ada",
	})
}

// PlayOptions say how Play drives a simulated user.
type PlayOptions struct {
	// Bot is the bot's username (BotUsername when empty).
	Bot string
	// Ref is the payload of /start (none when empty).
	Ref string
	// Texts are the bot's texts (its i18n catalog, with the config's
	// overrides): Play recognizes the bot's verdicts by them, in any
	// language. Required.
	Texts *i18n.Catalog
	// Scope is what the bot asks for; the transcript says what the user
	// shares of it.
	Scope passport.Scope
	// Transcript, when set, receives both sides of the chat as it
	// happens, with the time since /start.
	Transcript io.Writer
	// Name is the user's name in the transcript ("Ada" when empty).
	Name string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Play plays scenario sc with the simulated user u against a bot it
// reaches as any user does: /start, the message with the request button,
// the request page (OpenURL) and its Telegram Passport link, the form
// (FillForm: share), then the bot's verdict; in Fix, the problems the bot
// set in Telegram Passport, the fixes, and sharing again through the
// button under the list of problems. u must have the scenario's profile
// (Scenario.Profile). The in-process demo (RunScenario) and the users of
// RunUsers, against a bot in other processes, both play through it.
//
// It recognizes the bot's answers by its texts (Verdicts) and fails with
// ErrUnexpected when the bot gives up on the submission, when an answer
// does not come before ctx ends, or when the user does not end in
// sc.Expected(); the Result holds what happened until then.
func Play(ctx context.Context, u *sandbox.SimUser, sc Scenario, o PlayOptions) (Result, error) {
	res := Result{UserID: u.User.ID}
	if o.Texts == nil {
		return res, errors.New("demo: Play: PlayOptions.Texts is required (the bot's texts, to recognize its verdicts)")
	}
	if _, err := ParseScenario(string(sc)); err != nil {
		return res, fmt.Errorf("demo: Play: %w", err)
	}
	if o.Bot == "" {
		o.Bot = BotUsername
	}
	if o.Name == "" {
		o.Name = "Ada"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	verdicts := NewVerdicts(o.Texts)
	en := o.Texts.Language("en")
	res.Started = o.Now()
	t := &transcript{w: o.Transcript, start: res.Started, now: o.Now, user: o.Name}

	start := "/start"
	if o.Ref != "" {
		start += " " + o.Ref
	}
	t.userSays(start)
	botID, err := u.Start(ctx, o.Bot, o.Ref)
	if err != nil {
		return res, fmt.Errorf("%w: send /start to @%s: %w", ErrUnexpected, o.Bot, err)
	}
	res.BotID = botID
	fromBot := func(m sandbox.ChatMessage) bool { return !m.Out && m.Peer == botID }
	button, err := t.untilButton(ctx, u, fromBot)
	if err != nil {
		return res, fmt.Errorf("%w: no request button from @%s after /start (is the bot running?): %w", ErrUnexpected, o.Bot, err)
	}
	// askAgain sends the first message again and waits for the button, as
	// a person does when the page says their request expired.
	askAgain := func(ctx context.Context) (sandbox.Button, error) {
		t.note("the page says the request expired: asks the bot again")
		t.userSays(start)
		if err := u.Send(ctx, botID, start); err != nil {
			return sandbox.Button{}, fmt.Errorf("send %s to @%s again: %w", start, o.Bot, err)
		}
		return t.untilButton(ctx, u, fromBot)
	}
	for round := 1; ; round++ {
		t.note("taps %q: the request page opens Telegram Passport", button.Text)
		link, err := requestPage(ctx, u.OpenURL, askAgain, button, time.Second)
		if err != nil {
			return res, fmt.Errorf("%w: open the request page: %w", ErrUnexpected, err)
		}
		t.note("enters the cloud password and shares: %s", describe(en, u.Profile(), o.Scope))
		shared := o.Now()
		if err := u.FillForm(ctx, link); err != nil {
			return res, fmt.Errorf("%w: share in Telegram Passport: %w", ErrUnexpected, err)
		}
		state, msg, err := t.untilVerdict(ctx, u, fromBot, verdicts)
		if err != nil {
			return res, fmt.Errorf("%w: after sharing (round %d): %w", ErrUnexpected, round, err)
		}
		res.Verdicts = append(res.Verdicts, o.Now().Sub(shared))
		res.State, res.Took = state, o.Now().Sub(res.Started)
		if state != store.StateNeedsFixes {
			break
		}
		if sc != Fix || round > 1 {
			return res, fmt.Errorf("%w: %s asked for fixes in round %d", ErrUnexpected, sc, round)
		}
		errs, err := u.Errors(ctx, link)
		if err != nil {
			return res, fmt.Errorf("%w: read the problems in Telegram Passport: %w", ErrUnexpected, err)
		}
		for _, ve := range errs {
			t.note("sees in Telegram Passport, on the %s (%s): %s", en.Element(string(ve.Type)), ve.Target, ve.Text)
		}
		if err := fixProfile(ctx, u); err != nil {
			return res, fmt.Errorf("%w: fix the documents: %w", ErrUnexpected, err)
		}
		t.note("renews the driving licence and takes a sharper selfie")
		button, _ = firstURLButton(msg)
	}
	if res.State != sc.Expected() {
		return res, fmt.Errorf("%w: %s ended %s, want %s", ErrUnexpected, sc, res.State, sc.Expected())
	}
	return res, nil
}

// fixProfile corrects what the Fix scenario got wrong.
func fixProfile(ctx context.Context, u *sandbox.SimUser) error {
	return u.Fix(ctx, passport.TypeDriverLicense, func(el *sandbox.ProfileElement) {
		el.Fields["expiry_date"] = "01.01.2035"
		el.Selfie = &sandbox.Scan{Text: "demo/selfie-2", Width: 480, Height: 480}
	})
}

func scenarioList() string {
	var names []string
	for _, s := range Scenarios() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// ParseScenario checks a scenario name.
func ParseScenario(s string) (Scenario, error) {
	for _, sc := range Scenarios() {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("unknown scenario %q: use one of %s", s, scenarioList())
}

// Failed is what Verdicts.Of says of a message in which the bot gives up
// on a submission and asks the user to share again (it could not decrypt
// it, or could not finish the check).
const Failed = "failed"

// Verdicts recognizes the bot's answers to a submission by its texts, in
// every language of its catalog.
type Verdicts struct {
	exact    map[string]string // whole texts: verified, failed
	rejected []affix           // the final rejection around its reason
	fixes    []string          // the headers of the lists of problems
}

type affix struct{ prefix, suffix string }

// maxProblems bounds the number of problems of a list Verdicts knows the
// header of.
const maxProblems = 64

// NewVerdicts returns the recognizer of the answers in texts.
func NewVerdicts(texts *i18n.Catalog) *Verdicts {
	v := &Verdicts{exact: map[string]string{}}
	const reason = "\x00reason\x00"
	seen := map[string]bool{}
	for _, lang := range texts.Languages() {
		loc := texts.Language(lang)
		v.exact[loc.Text(i18n.MsgResultVerified, nil)] = store.StateVerified
		v.exact[loc.Text(i18n.MsgSubmissionFailed, nil)] = Failed
		v.exact[loc.Text(i18n.MsgSubmissionUndecryptable, nil)] = Failed
		before, after, _ := strings.Cut(loc.Text(i18n.MsgResultRejected, map[string]any{"Reason": reason}), reason)
		v.rejected = append(v.rejected, affix{before, after})
		for n := 1; n <= maxProblems; n++ {
			h := loc.Plural(i18n.MsgResultFixHeader, n, nil)
			if !seen[h] {
				seen[h] = true
				v.fixes = append(v.fixes, h)
			}
		}
	}
	return v
}

// Of says what a message of the bot tells about a submission:
// store.StateVerified, store.StateRejected, store.StateNeedsFixes (the
// list of problems to fix), Failed, or "" for any other message.
func (v *Verdicts) Of(m sandbox.ChatMessage) string {
	if s, ok := v.exact[m.Text]; ok {
		return s
	}
	for _, h := range v.fixes {
		if rest, ok := strings.CutPrefix(m.Text, h); ok && (rest == "" || rest[0] == '\n') {
			return store.StateNeedsFixes
		}
	}
	for _, a := range v.rejected {
		if len(m.Text) >= len(a.prefix)+len(a.suffix) && strings.HasPrefix(m.Text, a.prefix) && strings.HasSuffix(m.Text, a.suffix) {
			return store.StateRejected
		}
	}
	return ""
}

// describe lists what the user shares for a scope.
func describe(en *i18n.Localizer, p sandbox.Profile, scope passport.Scope) string {
	var parts []string
	for _, se := range scope.Elements {
		for _, t := range se.Types {
			el, ok := p[t]
			if !ok {
				continue
			}
			s := en.Element(string(t))
			var scans []string
			if el.FrontSide != nil {
				scans = append(scans, "front")
			}
			if el.ReverseSide != nil {
				scans = append(scans, "back")
			}
			if el.Selfie != nil && se.Selfie {
				scans = append(scans, "selfie")
			}
			if len(scans) > 0 {
				s += " (" + strings.Join(scans, ", ") + ")"
			}
			parts = append(parts, s)
			break
		}
	}
	return strings.Join(parts, ", ")
}

func firstURLButton(m sandbox.ChatMessage) (sandbox.Button, bool) {
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.URL != "" {
				return b, true
			}
		}
	}
	return sandbox.Button{}, false
}

// transcript prints the conversation (nothing when w is nil).
type transcript struct {
	w     io.Writer
	start time.Time
	now   func() time.Time
	user  string
}

func (t *transcript) line(who, text string) {
	if t.w == nil {
		return
	}
	stamp := fmt.Sprintf("%7.2fs  %-11s", t.now().Sub(t.start).Seconds(), who)
	pad := strings.Repeat(" ", utf8.RuneCountInString(stamp)+2)
	lines := strings.Split(text, "\n")
	fmt.Fprintf(t.w, "%s  %s\n", stamp, lines[0])
	for _, l := range lines[1:] {
		if l == "" {
			fmt.Fprintln(t.w)
			continue
		}
		fmt.Fprintf(t.w, "%s%s\n", pad, l)
	}
}

func (t *transcript) userSays(text string) { t.line(t.user+" → bot", text) }

func (t *transcript) note(format string, args ...any) { t.line(t.user, fmt.Sprintf(format, args...)) }

func (t *transcript) botSays(m sandbox.ChatMessage) {
	text := m.Text
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.URL != "" {
				text += fmt.Sprintf("\n[%s] → %s", b.Text, b.URL)
			} else {
				text += fmt.Sprintf("\n[%s]", b.Text)
			}
		}
	}
	if m.Edited {
		// The bot edited a message it sent (the "received" message
		// into the verdict).
		text = "(edits its message) " + text
	}
	t.line("bot → "+t.user, text)
}

// untilButton prints the bot's messages until one has a URL button.
func (t *transcript) untilButton(ctx context.Context, u *sandbox.SimUser, fromBot func(sandbox.ChatMessage) bool) (sandbox.Button, error) {
	for {
		m, err := u.WaitMessage(ctx, fromBot)
		if err != nil {
			return sandbox.Button{}, err
		}
		t.botSays(m)
		if b, ok := firstURLButton(m); ok {
			return b, nil
		}
	}
}

// untilVerdict prints the bot's messages until its verdict on a
// submission: verified, rejected, or the list of problems to fix with its
// button to try again.
func (t *transcript) untilVerdict(ctx context.Context, u *sandbox.SimUser, fromBot func(sandbox.ChatMessage) bool, v *Verdicts) (string, sandbox.ChatMessage, error) {
	for {
		m, err := u.WaitMessage(ctx, fromBot)
		if err != nil {
			return "", m, fmt.Errorf("no verdict from the bot: %w", err)
		}
		t.botSays(m)
		switch s := v.Of(m); s {
		case store.StateVerified, store.StateRejected:
			return s, m, nil
		case store.StateNeedsFixes:
			if _, ok := firstURLButton(m); !ok {
				return s, m, errors.New("the list of problems has no button to try again")
			}
			return s, m, nil
		case Failed:
			return "", m, errors.New("the bot gave up on the submission and asks to share again")
		}
	}
}

// askAttempts is how many times a user asks the bot again for a request
// when the request page says it does not know theirs.
const askAttempts = 5

// requestPage opens the request page of button (openPage) and returns its
// Telegram Passport link. When the page answers 404 (the request is
// unknown or expired: it says to ask the bot again), the user asks again
// after twice pause (ask returns the new button) and opens the new page,
// askAttempts times at most: a Redis failover can lose a request issued a moment before.
func requestPage(ctx context.Context, open func(context.Context, string) (string, error),
	ask func(context.Context) (sandbox.Button, error), button sandbox.Button, pause time.Duration) (string, error) {
	for asked := 0; ; asked++ {
		link, err := openPage(ctx, open, button.URL, pause)
		var status *sandbox.HTTPStatusError
		if !errors.As(err, &status) || status.Status != http.StatusNotFound || asked == askAttempts {
			return link, err
		}
		// A person reads the page, goes back to the chat and asks: a few
		// seconds, in which the clients learn of a Redis failover.
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(2 * pause):
		}
		if button, err = ask(ctx); err != nil {
			return "", fmt.Errorf("the page said the request expired; asking the bot again: %w", err)
		}
	}
}

// pageAttempts is how many times a user opens the request page when the
// connection fails: a phone's browser shows an error, and the user
// reloads (a web server stopped or restarted behind the business's proxy
// cuts the pages it was serving).
const pageAttempts = 3

// openPage opens the request page with open (SimUser.OpenURL) as a user
// does, reloading it after pause when the connection failed (not when the
// page answered).
func openPage(ctx context.Context, open func(context.Context, string) (string, error), pageURL string, pause time.Duration) (string, error) {
	for attempt := 1; ; attempt++ {
		link, err := open(ctx, pageURL)
		var uerr *url.Error
		if err == nil || attempt == pageAttempts || !errors.As(err, &uerr) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return link, err
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(pause):
		}
	}
}
