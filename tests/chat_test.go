package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
)

// transcript records a user's chat with the bot as the user saw it: what
// they sent, and every message of the bot with its buttons.
type transcript struct {
	b    strings.Builder
	u    *sandbox.SimUser
	seen int
}

// sent records what the user sent (or tapped), after the bot's messages
// received before it.
func (tr *transcript) sent(what string) {
	tr.flush()
	fmt.Fprintf(&tr.b, "\n> %s\n", what)
}

// flush records the bot's messages received since the last call.
func (tr *transcript) flush() {
	msgs := tr.u.Messages()
	for _, m := range msgs[tr.seen:] {
		if m.Out || m.Service != "" {
			continue
		}
		prefix := "< "
		if m.Edited {
			prefix = "< (edited) "
		}
		tr.b.WriteString(prefix + strings.ReplaceAll(m.Text, "\n", "\n  ") + "\n")
		for _, row := range m.Buttons {
			var bs []string
			for _, b := range row {
				bs = append(bs, "["+b.Text+"]")
			}
			tr.b.WriteString("  " + strings.Join(bs, " ") + "\n")
		}
	}
	tr.seen = len(msgs)
}

// TestChatFlowTranscripts: a whole flow in the chat, in English, Russian
// and Arabic, through the real bot in the sandbox: /start points at its
// button; /verify while that request is open sends the same button in one
// line; a fix is asked and made; verified; /status names the level's
// title; /help lists /delete_my_data and the support contact; the user
// erases their data. With KYCBOT_TRANSCRIPTS set, each chat is written to
// transcript-<lang>.txt in that folder, for people to read.
func TestChatFlowTranscripts(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	w.restartWith(ctx, func(c *config.Config) { c.Support = "@acme_help" })
	for _, lang := range []string{"en", "ru", "ar"} {
		t.Run(lang, func(t *testing.T) {
			w := w.sub(t)
			ctx := testContext(t)
			loc := w.Bot().Catalog().Language(lang)
			p := sandbox.SampleProfile(map[string]string{"en": "fix-2051", "ru": "fix-2052", "ar": "fix-2053"}[lang])
			p[passport.TypeDriverLicense].Fields["expiry_date"] = "01.01.2020"
			u := w.user(lang, p)
			tr := &transcript{u: u}
			send := func(text string) {
				t.Helper()
				tr.sent(text)
				if err := u.Send(ctx, w.Account.ID, text); err != nil {
					t.Fatal(err)
				}
			}
			wait := func(what string, match func(sandbox.ChatMessage) bool) sandbox.ChatMessage {
				t.Helper()
				m, err := u.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return !m.Out && match(m) })
				if err != nil {
					tr.flush()
					t.Fatalf("no %s: %v\n%s", what, err, tr.b.String())
				}
				return m
			}
			textIs := func(want string) func(sandbox.ChatMessage) bool {
				return func(m sandbox.ChatMessage) bool { return m.Text == want }
			}
			defer func() {
				tr.flush()
				if dir := os.Getenv("KYCBOT_TRANSCRIPTS"); dir != "" {
					path := filepath.Join(dir, "transcript-"+lang+".txt")
					if err := os.WriteFile(path, []byte(tr.b.String()), 0o644); err != nil {
						t.Errorf("write the transcript: %v", err)
					}
				}
			}()

			// /start: the greeting, then the button it points at.
			tr.sent("/start")
			page, first := w.request(ctx, u, "")
			for _, m := range first {
				if !hasURLButton(m) && strings.Contains(m.Text, "/verify") {
					t.Errorf("the greeting sends the user to /verify, away from the button: %q", m.Text)
				}
			}
			// /verify while it is open: the same button, in one line.
			send("/verify")
			again := wait("reminder", hasURLButton)
			if b, _ := urlButton(again); b.URL != page || strings.Contains(again.Text, "\n") {
				t.Errorf("/verify with a live request: %q with %q, want one line and the same button %q", again.Text, b.URL, page)
			}

			// Shared with an expired licence: a fix is asked.
			tr.sent("(shares the documents in Telegram Passport)")
			w.share(ctx, u, page)
			fix := wait("list of fixes", func(m sandbox.ChatMessage) bool {
				return strings.HasPrefix(m.Text, loc.Plural(i18n.MsgResultFixHeader, 1, nil))
			})
			retry, ok := urlButton(fix)
			if !ok {
				t.Fatalf("the list of fixes has no button: %+v", fix)
			}
			send("/status")
			st := wait("status", func(m sandbox.ChatMessage) bool {
				before, _, _ := strings.Cut(loc.Text(i18n.MsgStatusNeedsFixes, map[string]any{"Since": "\x00"}), "\x00")
				return strings.HasPrefix(m.Text, before)
			})
			if !strings.HasSuffix(st.Text, loc.Text(i18n.MsgStatusNext, map[string]any{"Command": "/verify"})) {
				t.Errorf("/status with fixes to make = %q, want the next step", st.Text)
			}

			// Fixed and shared again: verified.
			if err := u.Fix(ctx, passport.TypeDriverLicense, func(el *sandbox.ProfileElement) { el.Fields["expiry_date"] = "01.01.2035" }); err != nil {
				t.Fatal(err)
			}
			tr.sent("(fixes the expiry date and shares again)")
			w.share(ctx, u, retry.URL)
			wait("verdict", textIs(loc.Text(i18n.MsgResultVerified, nil)))
			s := w.status(ctx, u.User.ID)
			if s.State != store.StateVerified {
				t.Fatalf("status %s, want verified", s.State)
			}
			send("/status")
			// Verified until the licence's expiry, what to do then.
			until := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
			wait("status", textIs(loc.Text(i18n.MsgStatusVerifiedUntil, map[string]any{"Since": loc.Date(s.UpdatedAt), "Until": loc.Date(until)})))
			send("/verify")
			wait("already verified", textIs(loc.Text(i18n.MsgVerifyAlreadyVerified, nil)))
			send("/help")
			help := wait("help", func(m sandbox.ChatMessage) bool { return strings.HasPrefix(m.Text, loc.Text(i18n.MsgHelp, nil)) })
			if !strings.Contains(help.Text, "/delete_my_data") || !strings.HasSuffix(help.Text, loc.Text(i18n.MsgSupportContact, map[string]any{"Support": "@acme_help"})) {
				t.Errorf("/help = %q, want /delete_my_data and the support contact", help.Text)
			}

			// The user erases their data.
			send("/delete_my_data")
			ask := wait("confirmation", textIs(loc.Text(i18n.MsgEraseConfirm, nil)))
			yes, ok := ask.Button(loc.Text(i18n.MsgButtonEraseYes, nil))
			if !ok || len(yes.Data) == 0 {
				t.Fatalf("no confirmation button: %+v", ask)
			}
			tr.sent("[" + yes.Text + "]")
			if _, err := u.Press(ctx, ask, yes); err != nil {
				t.Fatal(err)
			}
			wait("erased", textIs(loc.Text(i18n.MsgEraseDone, nil)))
			if s := w.status(ctx, u.User.ID); s.State != "" && s.State != store.StateNone {
				t.Errorf("after /delete_my_data the status is %+v", s)
			}
			send("/status")
			wait("status", textIs(loc.Text(i18n.MsgStatusNone, nil)+"\n"+loc.Text(i18n.MsgStatusNextBegin, map[string]any{"Command": "/verify"})))
			tr.flush()
		})
	}
}
