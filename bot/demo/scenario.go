package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// The scenarios RunScenario plays.
const (
	// Happy: a complete, valid submission is verified.
	Happy Scenario = "happy"
	// Fix: an expired driving licence and a too small selfie are flagged
	// in Telegram Passport; the user fixes both, shares again and is
	// verified.
	Fix Scenario = "fix"
	// Final: a user under the minimum age is declined for good.
	Final Scenario = "final"
)

// Scenarios lists the scenarios in the order help shows them.
func Scenarios() []Scenario { return []Scenario{Happy, Fix, Final} }

// Expected returns the final state a scenario must end in.
func (s Scenario) Expected() string {
	if s == Final {
		return store.StateRejected
	}
	return store.StateVerified
}

// Result is how a scenario ended.
type Result struct {
	UserID int64
	// State is the user's final verification state.
	State string
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
// happens, with the time since the start. It fails with ErrUnexpected
// when the user does not end in sc.Expected().
func (e *Env) RunScenario(ctx context.Context, sc Scenario, lang string, out io.Writer) (Result, error) {
	profile, err := scenarioProfile(sc, time.Now())
	if err != nil {
		return Result{}, err
	}
	u, err := e.NewUser(ctx, sandbox.UserSpec{Phone: fmt.Sprintf("4915%09d", time.Now().UnixNano()%1e9), FirstName: "Ada",
		LastName: "Lovelace", LangCode: lang}, profile)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = u.Close() }()
	res := Result{UserID: u.User.ID}
	en := e.Bot().Catalog().Language("en")
	t := &transcript{w: out, start: time.Now(), user: "Ada"}
	ctx, cancel := context.WithTimeout(ctx, 3*waitFor)
	defer cancel()

	t.userSays("/start demo-ref")
	if _, err := u.Start(ctx, e.Account.Username, "demo-ref"); err != nil {
		return res, err
	}
	button, err := t.untilButton(ctx, u)
	if err != nil {
		return res, err
	}
	level := e.Config.DefaultLevelName
	for round := 1; ; round++ {
		t.note("taps %q: the request page opens Telegram Passport", button.Text)
		link, err := u.OpenURL(ctx, button.URL)
		if err != nil {
			return res, err
		}
		t.note("enters the cloud password and shares: %s", describe(en, u.Profile(), e.Config.Levels[level].Scope))
		shared := time.Now()
		if err := u.FillForm(ctx, link); err != nil {
			return res, err
		}
		st, msg, err := t.untilVerdict(ctx, u, e, level, shared)
		if err != nil {
			return res, err
		}
		res.Verdicts = append(res.Verdicts, time.Since(shared))
		res.State, res.Took = st.State, time.Since(t.start)
		if st.State != store.StateNeedsFixes {
			break
		}
		if sc != Fix || round > 1 {
			return res, fmt.Errorf("%w: %s asked for fixes in round %d (problems %s)", ErrUnexpected, sc, round, strings.Join(st.Codes, ", "))
		}
		errs, err := u.Errors(ctx, link)
		if err != nil {
			return res, err
		}
		for _, ve := range errs {
			t.note("sees in Telegram Passport, on the %s (%s): %s", en.Element(string(ve.Type)), ve.Target, ve.Text)
		}
		if err := fixProfile(ctx, u); err != nil {
			return res, err
		}
		t.note("renews the driving licence and takes a sharper selfie")
		b, ok := firstURLButton(msg)
		if !ok {
			return res, fmt.Errorf("%w: the list of problems has no button to try again", ErrUnexpected)
		}
		button = b
	}
	if res.State != sc.Expected() {
		return res, fmt.Errorf("%w: %s ended %s, want %s", ErrUnexpected, sc, res.State, sc.Expected())
	}
	return res, nil
}

// scenarioProfile is the simulated user's Telegram Passport.
func scenarioProfile(sc Scenario, now time.Time) (sandbox.Profile, error) {
	p := sandbox.SampleProfile("D4710358")
	switch sc {
	case Happy:
	case Fix:
		dl := p[passport.TypeDriverLicense]
		dl.Fields["expiry_date"] = "01.01.2020"
		dl.Selfie = &sandbox.Scan{Text: "demo/selfie", Width: 200, Height: 200}
	case Final:
		p[passport.TypePersonalDetails].Fields["birth_date"] = now.AddDate(-16, 0, 0).Format("02.01.2006")
	default:
		return nil, fmt.Errorf("demo: unknown scenario %q (one of %s)", sc, scenarioList())
	}
	return p, nil
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

// transcript prints the conversation.
type transcript struct {
	w     io.Writer
	start time.Time
	user  string
}

func (t *transcript) line(who, text string) {
	stamp := fmt.Sprintf("%7.2fs  %-11s", time.Since(t.start).Seconds(), who)
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
	t.line("bot → "+t.user, text)
}

// untilButton prints the bot's messages until one has a URL button.
func (t *transcript) untilButton(ctx context.Context, u *sandbox.SimUser) (sandbox.Button, error) {
	for {
		m, err := u.WaitMessage(ctx, nil)
		if err != nil {
			return sandbox.Button{}, fmt.Errorf("%w: no request button from the bot: %w", ErrUnexpected, err)
		}
		t.botSays(m)
		if b, ok := firstURLButton(m); ok {
			return b, nil
		}
	}
}

// untilVerdict prints the bot's messages until the user's status at level
// changed after since to a verdict; for needs_fixes, until the message
// with the button to try again.
func (t *transcript) untilVerdict(ctx context.Context, u *sandbox.SimUser, e *Env, level string, since time.Time) (store.Status, sandbox.ChatMessage, error) {
	for {
		m, err := u.WaitMessage(ctx, nil)
		if err != nil {
			return store.Status{}, m, fmt.Errorf("%w: no verdict from the bot: %w", ErrUnexpected, err)
		}
		t.botSays(m)
		b := e.Bot()
		if b == nil {
			continue
		}
		st, err := b.Store().Statuses().Get(ctx, u.User.ID, level)
		if err != nil {
			return st, m, err
		}
		if st.UpdatedAt.Before(since.Add(-time.Millisecond)) {
			continue
		}
		switch st.State {
		case store.StateVerified, store.StateRejected:
			return st, m, nil
		case store.StateNeedsFixes:
			if _, ok := firstURLButton(m); ok {
				return st, m, nil
			}
		}
	}
}
