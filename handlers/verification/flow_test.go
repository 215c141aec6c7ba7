package verification

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"image"
	"image/jpeg"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

func scanKey(t passport.ElementType, kind passport.TargetKind) verify.ScanKey {
	return verify.ScanKey{Element: t, Target: passport.TargetOf(kind)}
}

// TestVerified: an accepted submission reaches OnVerified with its data
// and scans (removed after the hook), is recorded (status and audit
// event) and told to the user, in the language of their app when the
// request has none, and to the admins.
func TestVerified(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(1001)
	p := goodProfile(t)
	req := e.issue(user, "") // no language in the request: the app's language decides
	sub := e.submission(e.share(p, req.Nonce, nil), user, "de-AT")
	out := e.process(sub)
	if out.Result != handlers.SubmissionVerified || out.Level != level || len(out.Codes) != 0 {
		t.Errorf("outcome = %+v", out)
	}

	verified, rejected := e.hooks()
	if len(verified) != 1 || len(rejected) != 0 {
		t.Fatalf("OnVerified called %d times, OnRejected %d times", len(verified), len(rejected))
	}
	v := verified[0]
	if v.UserID != user || v.Level != level || v.Ref != "crm-42" || !v.At.Equal(today) || v.NonceHash != req.NonceHash() {
		t.Errorf("Verified = %d %q %q %v %q", v.UserID, v.Level, v.Ref, v.At, v.NonceHash)
	}
	pd := v.Submission.Element(passport.TypePersonalDetails)
	dl := v.Submission.Element(passport.TypeDriverLicense)
	if pd == nil || dl == nil {
		t.Fatal("elements missing from the submission")
	}
	if pd.Fields["first_name"] != p.FirstName || pd.Fields["last_name"] != p.LastName || pd.Fields["birth_date"] != p.BirthDate {
		t.Errorf("personal details = %v", pd.Fields)
	}
	if dl.Fields["document_no"] != p.DocumentNo || dl.Fields["expiry_date"] != p.Expiry {
		t.Errorf("driver licence = %v", dl.Fields)
	}
	want := map[verify.ScanKey][]byte{
		scanKey(passport.TypeDriverLicense, passport.TargetFrontSide):   p.Front,
		scanKey(passport.TypeDriverLicense, passport.TargetReverseSide): p.Reverse,
		scanKey(passport.TypeDriverLicense, passport.TargetSelfie):      p.Selfie,
	}
	if len(e.files[0]) != len(want) {
		t.Errorf("the hook read %d files, want %d", len(e.files[0]), len(want))
	}
	for k, b := range want {
		if !bytes.Equal(e.files[0][k], b) {
			t.Errorf("file %s.%s differs from the original (%d vs %d bytes)", k.Element, k.Target, len(e.files[0][k]), len(b))
		}
		if info := v.Scans[k]; !info.JPEG || info.Size != int64(len(b)) {
			t.Errorf("scan info of %s.%s = %+v", k.Element, k.Target, info)
		}
		if r, err := v.Open(k); err == nil {
			_ = r.Close()
			t.Errorf("scan %s.%s still opens after the hook", k.Element, k.Target)
		}
	}

	if st := e.status(user); st.State != store.StateVerified || st.Ref != "crm-42" {
		t.Errorf("status = %+v", st)
	}
	ev := e.lastAudit()
	if ev.Kind != "verified" || ev.UserID != user || ev.Level != level || ev.Ref != "crm-42" || ev.Detail["nonce_hash"] != req.NonceHash() {
		t.Errorf("audit = %+v", ev)
	}
	msgs := e.tg.SendsTo(user)
	if wantText := e.text("de", i18n.MsgResultVerified, nil); len(msgs) != 1 || msgs[0].Text != wantText || len(msgs[0].Rows) != 0 {
		t.Fatalf("messages to the user = %+v, want one: %q", msgs, wantText)
	}
	// The verdict is the "received" message, edited.
	if m := msgs[0]; m.To.AccessHash != user*1000 || m.Key != sub.ID+":submission.received" || !m.Edited {
		t.Errorf("message sent to %+v with key %q (edited %v), want the update's access hash and the key %q, edited",
			m.To, m.Key, m.Edited, sub.ID+":submission.received")
	}
	if edits := e.tg.EditsTo(user); len(edits) != 1 || edits[0].MsgID != msgs[0].ID {
		t.Errorf("edits = %+v, want one of the received message", edits)
	}
	admin := e.tg.SendsTo(adminID)
	wantAdmin := e.text(e.catalog.DefaultLanguage(), i18n.MsgAdminVerified, map[string]any{"User": "1001", "Level": level, "Ref": "crm-42"})
	if len(admin) != 1 || admin[0].Text != wantAdmin || admin[0].Key != sub.ID+":verified:admin:777" {
		t.Errorf("admin messages = %+v, want %q", admin, wantAdmin)
	}
	e.noPersonalData(p)
}

// TestNeedsFixes: problems the user can fix are shown in their Telegram
// Passport form, pinned to the exact field and file, and in the chat, in
// the request's language, with a button to a fresh request; the fixed
// submission is then verified.
func TestNeedsFixes(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(1002)
	p := goodProfile(t)
	p.Expiry = "01.01.2025"            // expired on 14.03.2026
	p.Selfie = jpegOf(t, 320, 240, 99) // below 600×400
	req := e.issue(user, "ru")
	sh := e.share(p, req.Nonce, nil)
	sub := e.submission(sh, user, "en") // the request's language wins
	out := e.process(sub)
	if want := []string{"expired", "image_too_small"}; out.Result != handlers.SubmissionNeedsFixes || !slices.Equal(out.Codes, want) {
		t.Errorf("outcome = %+v, want needs fixes %v", out, want)
	}
	if verified, rejected := e.hooks(); len(verified)+len(rejected) != 0 {
		t.Fatal("a hook was called for a submission with problems to fix")
	}
	ru := e.catalog.Language("ru")
	creds := sh.Credentials.SecureData[passport.TypeDriverLicense]
	expiredText := ru.Problem("expired", "driver_license", "data.expiry_date", map[string]string{"date": "01.01.2025"})
	smallText := ru.Problem("image_too_small", "driver_license", "selfie",
		map[string]string{"min_width": "600", "min_height": "400", "width": "320", "height": "240"})
	if !strings.ContainsAny(expiredText, "абвгдеёжзийклмнопрстуфхцчшщыьэюя") {
		t.Errorf("the expiry text is not Russian: %q", expiredText)
	}

	calls := e.tg.SecureValueErrors()
	if len(calls) != 1 {
		t.Fatalf("setSecureValueErrors called %d times", len(calls))
	}
	if u := calls[0].To; u.ID != user || u.AccessHash != user*1000 {
		t.Errorf("setSecureValueErrors user = %+v", u)
	}
	errs := calls[0].Errs
	if len(errs) != 2 {
		t.Fatalf("got %d secure value errors: %+v", len(errs), errs)
	}
	data, ok := errs[0].(*tg.SecureValueErrorData)
	if !ok || data.Field != "expiry_date" || !bytes.Equal(data.DataHash, creds.Data.DataHash) || data.Text != expiredText {
		t.Errorf("first error = %#v, want the expiry date of the licence: %q", errs[0], expiredText)
	}
	if ok {
		if _, isDL := data.Type.(*tg.SecureValueTypeDriverLicense); !isDL {
			t.Errorf("data error type = %T", data.Type)
		}
	}
	selfie, ok := errs[1].(*tg.SecureValueErrorSelfie)
	if !ok || !bytes.Equal(selfie.FileHash, creds.Selfie.FileHash) || selfie.Text != smallText {
		t.Errorf("second error = %#v, want the selfie: %q", errs[1], smallText)
	}

	msgs := e.tg.SendsTo(user)
	if len(msgs) != 1 {
		t.Fatalf("messages to the user = %+v", msgs)
	}
	m := msgs[0]
	wantText := ru.Plural(i18n.MsgResultFixHeader, 2, nil) + "\n• " + expiredText + "\n• " + smallText
	if m.Text != wantText || m.Key != sub.ID+":submission.received" || !m.Edited {
		t.Errorf("chat message = %q (key %q, edited %v), want %q edited into the received message", m.Text, m.Key, m.Edited, wantText)
	}
	b := m.Buttons()
	if len(b) != 1 || b[0].Text != ru.Text(i18n.MsgButtonTryAgain, nil) || !strings.HasPrefix(b[0].URL, pageBase) {
		t.Fatalf("buttons = %+v", b)
	}
	next, err := e.store.Requests().Get(e.ctx, strings.TrimPrefix(b[0].URL, pageBase))
	if err != nil {
		t.Fatalf("the button's request: %v", err)
	}
	if next.UserID != user || next.ChatID != user || next.Level != level || next.Ref != "crm-42" || next.Lang != "ru" || next.Nonce == req.Nonce {
		t.Errorf("new request = %+v", next)
	}
	if !next.ExpiresAt.Equal(today.Add(DefaultRequestTTL)) {
		t.Errorf("the new request expires at %v, want in %v", next.ExpiresAt, DefaultRequestTTL)
	}
	if srcs := e.adapter.IssuedFor(); !slices.Equal(srcs, []string{sub.ID}) {
		t.Errorf("requests issued for %q, want one for the update %q", srcs, sub.ID)
	}
	if st := e.status(user); st.State != store.StateNeedsFixes || !slices.Equal(st.Codes, []string{"expired", "image_too_small"}) {
		t.Errorf("status = %+v", st)
	}
	if ev := e.lastAudit(); ev.Kind != "needs_fixes" || !slices.Equal(ev.Codes, []string{"expired", "image_too_small"}) || ev.Detail["nonce_hash"] != req.NonceHash() {
		t.Errorf("audit = %+v", ev)
	}
	if len(e.tg.SendsTo(adminID)) != 0 {
		t.Error("admins were notified of fixable problems")
	}

	// The fixed submission answers the new request and is verified.
	e.process(e.submission(e.share(goodProfile(t), next.Nonce, nil), user, "en"))
	if verified, _ := e.hooks(); len(verified) != 1 {
		t.Fatal("the fixed submission was not verified")
	}
	if got := e.tg.SendsTo(user); len(got) != 2 || got[1].Text != ru.Text(i18n.MsgResultVerified, nil) {
		t.Errorf("after the fix the user got %q, want the Russian verdict", handlerstest.Texts(got))
	}
	e.noPersonalData(p)
}

// TestNeedsFixesWithoutNewRequest: when no new request can be issued,
// the user is still told what to fix (without a button: /verify gives a
// new one) and the error is returned.
func TestNeedsFixesWithoutNewRequest(t *testing.T) {
	e := newEnv(t, func(s Store) Store { return &outageStore{Store: s, plan: map[string]int{"issue": 1}} })
	const user = int64(1004)
	p := goodProfile(t)
	p.Expiry = "01.01.2025"
	sub := e.submission(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
	_, err := e.flow.Process(e.ctx, sub)
	if err == nil || errors.Is(err, handlers.ErrRetryLater) {
		t.Fatalf("err = %v, want a final error", err)
	}
	msgs := e.tg.SendsTo(user)
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Text, e.catalog.Language("en").Plural(i18n.MsgResultFixHeader, 1, nil)) || len(msgs[0].Rows) != 0 {
		t.Errorf("messages = %+v, want the problems without a button", msgs)
	}
	if st := e.status(user); st.State != store.StateNeedsFixes {
		t.Errorf("status = %+v", st)
	}
}

// TestRejected: a final rejection reaches OnRejected, is recorded and
// told with its reason; nothing is set in the Passport form; the admins
// are told.
func TestRejected(t *testing.T) {
	e := newEnv(t, nil)
	e.flow.cfg.Support = "@acme_help" // config support: named in the final rejection
	const user = int64(1003)
	p := goodProfile(t)
	p.BirthDate = "05.06.2011" // 14 on 14.03.2026
	req := e.issue(user, "en")
	sub := e.submission(e.share(p, req.Nonce, nil), user, "en")
	if out := e.process(sub); out.Result != handlers.SubmissionRejected || !slices.Equal(out.Codes, []string{"too_young"}) {
		t.Errorf("outcome = %+v", out)
	}
	verified, rejected := e.hooks()
	if len(verified) != 0 {
		t.Fatal("OnVerified was called for a final rejection")
	}
	if len(rejected) != 1 || !slices.Equal(rejected[0].Codes, []string{"too_young"}) || rejected[0].Level != level ||
		rejected[0].UserID != user || rejected[0].Ref != "crm-42" || rejected[0].NonceHash != req.NonceHash() || len(rejected[0].Problems) != 1 {
		t.Fatalf("OnRejected got %+v", rejected)
	}
	en := e.catalog.Language("en")
	reason := en.Problem("too_young", "personal_details", "data.birth_date", map[string]string{"min_age": "18", "age": "14"})
	want := en.Text(i18n.MsgResultRejected, map[string]any{"Reason": reason, "Support": "@acme_help"})
	if !strings.HasSuffix(want, "\nQuestions? Contact @acme_help") {
		t.Errorf("the final rejection %q does not end with the support contact", want)
	}
	if msgs := e.tg.SendsTo(user); len(msgs) != 1 || msgs[0].Text != want || len(msgs[0].Rows) != 0 || msgs[0].Key != sub.ID+":submission.received" || !msgs[0].Edited {
		t.Errorf("messages = %+v, want %q", msgs, want)
	}
	if len(e.tg.SecureValueErrors()) != 0 {
		t.Error("setSecureValueErrors was called for a final rejection")
	}
	if st := e.status(user); st.State != store.StateRejected || !slices.Equal(st.Codes, []string{"too_young"}) {
		t.Errorf("status = %+v", st)
	}
	if ev := e.lastAudit(); ev.Kind != "rejected" || !slices.Equal(ev.Codes, []string{"too_young"}) {
		t.Errorf("audit = %+v", ev)
	}
	wantAdmin := e.text(e.catalog.DefaultLanguage(), i18n.MsgAdminRejected, map[string]any{"User": "1003", "Codes": "too_young", "Ref": "crm-42"})
	if admin := e.tg.SendsTo(adminID); len(admin) != 1 || admin[0].Text != wantAdmin || admin[0].Key != sub.ID+":rejected:admin:777" {
		t.Errorf("admin messages = %+v, want %q", admin, wantAdmin)
	}
	e.noPersonalData(p)
}

// TestSecurity: a submission whose nonce is replayed, foreign, unknown,
// expired, superseded or cancelled, or whose data does not decrypt,
// reaches no hook; the user it came from is told why, the attempt is
// audited, a wrong Passport key alarms the admins, and the rightful user
// can still verify.
func TestSecurity(t *testing.T) {
	const victim, attacker = int64(2001), int64(2002)
	tests := []struct {
		name string
		// attack processes a bad submission and returns who should be
		// told.
		attack func(e *env, req store.Request, p profile) int64
		msg    string
		reason string // the outcome's reason
		kind   string
		codes  []string
		// result is the outcome's result (default refused).
		result     string
		adminAlarm bool
		// burned: the rightful user needs a fresh request afterwards.
		burned bool
		// legit is how many legitimate verifications the attack includes.
		legit int
	}{
		{
			name: "replayed nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				e.process(e.submission(e.share(p, req.Nonce, nil), victim, "en"))
				if verified, _ := e.hooks(); len(verified) != 1 {
					e.t.Fatal("the original submission was not verified")
				}
				e.process(e.submission(e.share(p, req.Nonce, nil), victim, "en")) // another message
				return victim
			},
			msg: i18n.MsgNonceUsed, reason: handlers.ReasonUsed, kind: "nonce_used", burned: true, legit: 1,
		},
		{
			name: "another user's nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				e.process(e.submission(e.share(p, req.Nonce, nil), attacker, "en"))
				return attacker
			},
			msg: i18n.MsgNonceOtherUser, reason: handlers.ReasonOtherUser, kind: "nonce_other_user",
		},
		{
			name: "unknown nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				e.process(e.submission(e.share(p, strings.Repeat("A", 43), nil), victim, "en"))
				return victim
			},
			msg: i18n.MsgNonceNotFound, reason: handlers.ReasonUnknown, kind: "nonce_unknown",
		},
		{
			name: "expired nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				e.clock.Advance(31 * time.Minute)
				e.process(e.submission(e.share(p, req.Nonce, nil), victim, "en"))
				return victim
			},
			msg: i18n.MsgNonceExpired, reason: handlers.ReasonExpired, kind: "nonce_expired", burned: true,
		},
		{
			name: "superseded nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				e.issue(victim, "en") // a newer request supersedes req
				e.process(e.submission(e.share(p, req.Nonce, nil), victim, "en"))
				return victim
			},
			msg: i18n.MsgNonceSuperseded, reason: handlers.ReasonSuperseded, kind: "nonce_superseded", burned: true,
		},
		{
			name: "cancelled nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				if ok, err := e.store.Requests().Cancel(e.ctx, victim); err != nil || !ok {
					e.t.Fatalf("cancel: %v %v", ok, err)
				}
				e.process(e.submission(e.share(p, req.Nonce, nil), victim, "en"))
				return victim
			},
			msg: i18n.MsgNonceCancelled, reason: handlers.ReasonCancelled, kind: "nonce_cancelled", burned: true,
		},
		{
			name: "tampered credentials",
			attack: func(e *env, req store.Request, p profile) int64 {
				sh := e.share(p, req.Nonce, nil)
				sh.Submission.Credentials.Data[len(sh.Submission.Credentials.Data)/2] ^= 0x40
				e.process(e.submission(sh, victim, "en"))
				return victim
			},
			msg: i18n.MsgSubmissionUndecryptable, result: handlers.SubmissionUndecryptable, reason: "hash_mismatch",
			kind: "decrypt_failed", codes: []string{"hash_mismatch"},
		},
		{
			name: "wrong key",
			attack: func(e *env, req store.Request, p profile) int64 {
				e.process(e.submission(e.share(p, req.Nonce, handlerstest.OtherKey(t)), victim, "en"))
				return victim
			},
			msg: i18n.MsgSubmissionUndecryptable, result: handlers.SubmissionUndecryptable, reason: "wrong_key",
			kind: "decrypt_failed", codes: []string{"wrong_key"}, adminAlarm: true,
		},
		{
			name: "malformed submission",
			attack: func(e *env, req store.Request, p profile) int64 {
				sub := e.submission(e.share(p, req.Nonce, nil), victim, "en")
				sub.Encrypted = &passport.EncryptedSubmission{} // what the hook queues for an update it cannot read
				e.process(sub)
				return victim
			},
			msg: i18n.MsgSubmissionUndecryptable, result: handlers.SubmissionUndecryptable, reason: "malformed",
			kind: "decrypt_failed", codes: []string{"malformed"},
		},
		{
			name: "tampered value",
			attack: func(e *env, req store.Request, p profile) int64 {
				sh := e.share(p, req.Nonce, nil)
				sh.Submission.Elements[0].Data[0] ^= 1
				e.process(e.submission(sh, victim, "en"))
				return victim
			},
			msg: i18n.MsgSubmissionUndecryptable, result: handlers.SubmissionUndecryptable, reason: "hash_mismatch",
			kind: "decrypt_failed", codes: []string{"hash_mismatch"}, burned: true,
		},
		{
			name: "tampered file",
			attack: func(e *env, req store.Request, p profile) int64 {
				sh := e.share(p, req.Nonce, nil)
				ref := sh.Submission.Elements[1].Selfie
				b := e.tg.File(ref.ID)
				b[len(b)-1] ^= 1
				e.tg.SetFile(ref.ID, b)
				e.process(e.submission(sh, victim, "en"))
				return victim
			},
			msg: i18n.MsgSubmissionUndecryptable, result: handlers.SubmissionUndecryptable, reason: "hash_mismatch",
			kind: "decrypt_failed", codes: []string{"hash_mismatch"}, burned: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			p := goodProfile(t)
			req := e.issue(victim, "en")
			told := tt.attack(e, req, p)
			verified, rejected := e.hooks()
			if len(verified) != tt.legit || len(rejected) != 0 {
				t.Fatalf("the attack reached a hook: %d verified, %d rejected", len(verified)-tt.legit, len(rejected))
			}
			msgs := e.tg.SendsTo(told)
			if want := e.text("en", tt.msg, nil); len(msgs) == 0 || msgs[len(msgs)-1].Text != want {
				t.Errorf("messages to %d = %q, want last %q", told, handlerstest.Texts(msgs), want)
			}
			ev := e.lastAudit()
			if ev.Kind != tt.kind || ev.UserID != told || !slices.Equal(ev.Codes, tt.codes) {
				t.Errorf("audit = %+v, want kind %s codes %v for user %d", ev, tt.kind, tt.codes, told)
			}
			if tt.codes == nil && ev.Detail["nonce_hash"] == "" {
				t.Errorf("the refusal's audit event does not name the nonce's hash: %+v", ev)
			}
			result := tt.result
			if result == "" {
				result = handlers.SubmissionRefused
			}
			subs := e.obs.Submissions()
			if got, want := subs[len(subs)-1], result+"/"+tt.reason+"/"; !strings.HasPrefix(got, want) {
				t.Errorf("observed %q, want %q...", got, want)
			}
			alarms := 0
			wrongKey := e.text(e.catalog.DefaultLanguage(), i18n.MsgAdminWrongKey, nil)
			for _, m := range e.tg.SendsTo(adminID) {
				if m.Text == wrongKey {
					alarms++
				}
			}
			if tt.adminAlarm != (alarms == 1) {
				t.Errorf("%d wrong key alarms, want alarm: %v", alarms, tt.adminAlarm)
			}

			// The rightful user can still verify.
			nonce := req.Nonce
			if tt.burned {
				nonce = e.issue(victim, "en").Nonce
			}
			e.process(e.submission(e.share(p, nonce, nil), victim, "en"))
			if verified, _ := e.hooks(); len(verified) != tt.legit+1 || verified[len(verified)-1].UserID != victim {
				t.Fatalf("the rightful user was not verified afterwards")
			}
			e.noPersonalData(p)
		})
	}
}

// TestNoData: a submission without data is an error (nothing to tell).
func TestNoData(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.flow.Process(e.ctx, Submission{ID: "1-1", User: handlers.User{ID: 2501}, MsgID: 1}); err == nil || errors.Is(err, handlers.ErrRetryLater) {
		t.Fatalf("err = %v, want a final error", err)
	}
	if n := len(e.tg.SendsTo(2501)); n != 0 {
		t.Errorf("%d messages", n)
	}
}

// TestProcessedTwice: the same submission (same update ID) processed
// again, after it ended or while it runs (another instance took it over),
// tells the user and the admins nothing twice: every message carries the
// same key (Telegram shows a random_id once), the request for a new
// attempt is issued for the same src, and every audit event is appended
// once (the same AuditOnce IDs).
func TestProcessedTwice(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(t *testing.T, p *profile)
		key    *rsa.PublicKey // instead of the bot's
		nonce  string         // instead of the request's
		dlErr  error
		result string
		// atOnce processes it twice at the same time.
		atOnce bool
	}{
		{name: "verified", result: handlers.SubmissionVerified},
		{name: "verified, twice at once", result: handlers.SubmissionVerified, atOnce: true},
		{name: "needs fixes", edit: func(t *testing.T, p *profile) { p.Expiry = "01.01.2025" }, result: handlers.SubmissionNeedsFixes},
		{name: "needs fixes, twice at once", edit: func(t *testing.T, p *profile) { p.Expiry = "01.01.2025" }, result: handlers.SubmissionNeedsFixes, atOnce: true},
		{name: "rejected", edit: func(t *testing.T, p *profile) { p.BirthDate = "05.06.2011" }, result: handlers.SubmissionRejected},
		{name: "refused", nonce: strings.Repeat("B", 43), result: handlers.SubmissionRefused},
		{name: "wrong key", key: handlerstest.OtherKey(t), result: handlers.SubmissionUndecryptable},
		{name: "download failed", dlErr: errors.New("rpc error code 400: FILE_ID_INVALID"), result: handlers.SubmissionFailed},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			user := int64(3001 + i)
			p := goodProfile(t)
			if tt.edit != nil {
				tt.edit(t, &p)
			}
			req := e.issue(user, "en")
			nonce := req.Nonce
			if tt.nonce != "" {
				nonce = tt.nonce
			}
			sub := e.submission(e.share(p, nonce, tt.key), user, "en")
			e.tg.SetDownloads(0, tt.dlErr)

			type result struct {
				out Outcome
				err error
			}
			var first, second result
			var firstUser, firstAdmin []handlerstest.Sent
			var firstAudit []auditEvent
			if tt.atOnce {
				done := make(chan result, 2)
				for range 2 {
					go func() {
						out, err := e.flow.Process(e.ctx, sub)
						done <- result{out, err}
					}()
				}
				first, second = <-done, <-done
			} else {
				first.out, first.err = e.flow.Process(e.ctx, sub)
				firstUser, firstAdmin = e.tg.SendsTo(user), e.tg.SendsTo(adminID)
				firstAudit = e.auditEvents()
				second.out, second.err = e.flow.Process(e.ctx, sub)
			}
			for _, r := range []result{first, second} {
				if r.out.Result != tt.result || errors.Is(r.err, handlers.ErrRetryLater) {
					t.Errorf("outcome %+v (%v), want %s", r.out, r.err, tt.result)
				}
			}

			all := append(e.tg.SendsTo(user), e.tg.SendsTo(adminID)...)
			for _, m := range all {
				if !strings.HasPrefix(m.Key, sub.ID+":") {
					t.Errorf("message %q sent with key %q, want one of the update %s", m.Text, m.Key, sub.ID)
				}
			}
			if !tt.atOnce {
				// The second processing sent the same messages, under the
				// same keys: the user sees nothing more.
				for _, to := range []struct {
					first []handlerstest.Sent
					all   []handlerstest.Sent
				}{{firstUser, e.tg.SendsTo(user)}, {firstAdmin, e.tg.SendsTo(adminID)}} {
					if got, want := handlerstest.Keys(to.all[len(to.first):]), handlerstest.Keys(to.first); !slices.Equal(got, want) {
						t.Errorf("keys of the second processing %q, want those of the first %q", got, want)
					}
				}
				if got := e.auditEvents(); len(got) != len(firstAudit) {
					t.Errorf("the second processing audited %+v", got[len(firstAudit):])
				}
			}
			shown := e.tg.Shown(user)
			if len(shown) != 1 {
				t.Errorf("the user sees %q, want one message", handlerstest.Texts(shown))
			}
			if n := len(e.tg.Shown(adminID)); n > 1 {
				t.Errorf("the admins see %d notices", n)
			}
			seen := map[string]int{}
			for _, ev := range e.auditEvents() {
				seen[ev.Kind]++
			}
			for kind, n := range seen {
				if n != 1 {
					t.Errorf("%d %s events, want 1", n, kind)
				}
			}
			if ids := e.adapter.AuditIDs(); len(ids) != 2*len(seen) || len(slices.Compact(sortedCopy(ids))) != len(seen) {
				t.Errorf("AuditOnce IDs %q, want the same %d twice", ids, len(seen))
			}
			if tt.result == handlers.SubmissionNeedsFixes {
				if srcs := e.adapter.IssuedFor(); !slices.Equal(srcs, []string{sub.ID, sub.ID}) {
					t.Errorf("requests issued for %q, want twice the update %s", srcs, sub.ID)
				}
				// The button the user sees is to their live request.
				b := shown[0].Buttons()
				live, ok, err := e.store.Requests().Live(e.ctx, user)
				if err != nil || !ok || len(b) != 1 || b[0].URL != pageBase+live.ID {
					t.Errorf("the button the user sees %+v, the live request %+v (%v %v)", b, live, ok, err)
				}
			}
			verified, _ := e.hooks()
			for _, v := range verified {
				if v.NonceHash != req.NonceHash() {
					t.Errorf("OnVerified got nonce hash %q, want %q: hooks cannot deduplicate", v.NonceHash, req.NonceHash())
				}
			}
			e.noPersonalData(p)
		})
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// flatJPEG is a photo with no detail at all: what a badly out-of-focus
// camera gives, sharpness 0.
func flatJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 140
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBlurrySelfie: a selfie of the right size measured blurry is flagged
// image_blurry, pinned to the selfie in the user's Passport form and
// explained in the chat (not called too small); the sharp scans pass.
func TestBlurrySelfie(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(1010)
	p := goodProfile(t)
	p.Selfie = flatJPEG(t, 640, 480)
	req := e.issue(user, "fr")
	sh := e.share(p, req.Nonce, nil)
	out := e.process(e.submission(sh, user, "fr"))
	if want := []string{"image_blurry"}; out.Result != handlers.SubmissionNeedsFixes || !slices.Equal(out.Codes, want) {
		t.Fatalf("outcome = %+v, want needs fixes %v", out, want)
	}
	text := e.catalog.Language("fr").Problem("image_blurry", "driver_license", "selfie", nil)
	calls := e.tg.SecureValueErrors()
	if len(calls) != 1 || len(calls[0].Errs) != 1 {
		t.Fatalf("setSecureValueErrors calls = %+v, want one with one error", calls)
	}
	selfie, ok := calls[0].Errs[0].(*tg.SecureValueErrorSelfie)
	creds := sh.Credentials.SecureData[passport.TypeDriverLicense]
	if !ok || !bytes.Equal(selfie.FileHash, creds.Selfie.FileHash) || selfie.Text != text {
		t.Errorf("error = %#v, want the selfie's hash and %q", calls[0].Errs[0], text)
	}
	if shown := e.tg.Shown(user); len(shown) != 1 || !strings.Contains(shown[0].Text, text) {
		t.Errorf("the user sees %q, want the list with %q", handlerstest.Texts(shown), text)
	}
}

// TestVerdictWhenEditFails: when the "received" message cannot be edited
// (the user deleted it, or it is too old), the verdict comes as a new
// message; processed again, nothing more is sent.
func TestVerdictWhenEditFails(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(1011)
	e.tg.SetEdit(errors.New("rpc error code 400: MESSAGE_ID_INVALID"))
	sub := e.submission(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
	e.process(sub)
	e.process(sub)
	want := []string{e.text("en", i18n.MsgSubmissionReceived, nil), e.text("en", i18n.MsgResultVerified, nil)}
	if got := handlerstest.Texts(e.tg.Shown(user)); !slices.Equal(got, want) {
		t.Errorf("the user sees %q, want %q", got, want)
	}
	if got := handlerstest.Keys(e.tg.Shown(user)); !slices.Equal(got, []string{sub.ID + ":submission.received", sub.ID + ":verdict"}) {
		t.Errorf("keys %q", got)
	}
}
