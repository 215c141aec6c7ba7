package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// noPersonalData fails when a value of p appears in the captured logs.
func (e *env) noPersonalData(p profile) {
	e.t.Helper()
	logs := e.logs.String()
	if logs == "" {
		e.t.Fatal("nothing was logged")
	}
	for _, v := range p.values() {
		if strings.Contains(logs, v) {
			e.t.Errorf("the logs contain personal data %q:\n%s", v, logs)
		}
	}
}

func scanKey(t passport.ElementType, kind passport.TargetKind) verify.ScanKey {
	return verify.ScanKey{Element: t, Target: passport.TargetOf(kind)}
}

func TestPassportVerified(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(1001)
	p := goodProfile(t)
	req := e.issue(user, "") // no language in the request: the app's language decides
	sh := e.share(p, req.Nonce, nil)
	ents, upd := e.update(sh, user, "de-AT")
	if err := e.deliver(ents, upd); err != nil {
		t.Fatal(err)
	}

	if len(e.verified) != 1 || len(e.rejected) != 0 {
		t.Fatalf("OnVerified called %d times, OnRejected %d times", len(e.verified), len(e.rejected))
	}
	v := e.verified[0]
	if v.UserID != user || v.Level != level || v.Ref != "crm-42" || !v.At.Equal(today) {
		t.Errorf("Verified = %d %q %q %v", v.UserID, v.Level, v.Ref, v.At)
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
		t.Errorf("hook got %d files, want %d", len(e.files[0]), len(want))
	}
	for k, b := range want {
		if !bytes.Equal(e.files[0][k], b) {
			t.Errorf("file %s.%s differs from the original (%d vs %d bytes)", k.Element, k.Target, len(e.files[0][k]), len(b))
		}
		if info := v.Scans[k]; !info.JPEG || info.Size != int64(len(b)) {
			t.Errorf("scan info of %s.%s = %+v", k.Element, k.Target, info)
		}
		if _, err := os.Stat(v.Files[k]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporary file %s.%s still exists after the hook: %v", k.Element, k.Target, err)
		}
	}

	if st := e.status(user); st.State != store.StateVerified || st.Ref != "crm-42" {
		t.Errorf("status = %+v", st)
	}
	ev := e.lastAudit()
	if ev.Kind != "verified" || ev.UserID != user || ev.Level != level || ev.Detail["nonce_hash"] != req.NonceHash() {
		t.Errorf("audit = %+v", ev)
	}
	msgs := e.tg.messagesTo(user)
	if wantText := e.catalog.Language("de").Text(i18n.MsgResultVerified, nil); len(msgs) != 1 || msgs[0].Text != wantText {
		t.Errorf("messages to the user = %+v, want one: %q", msgs, wantText)
	} else if msgs[0].Hash != user*1000 {
		t.Errorf("message sent with access hash %d, want %d from the entities", msgs[0].Hash, user*1000)
	}
	admin := e.tg.messagesTo(adminID)
	wantAdmin := e.catalog.Language(e.catalog.DefaultLanguage()).Text(i18n.MsgAdminVerified,
		map[string]any{"User": "1001", "Level": level, "Ref": "crm-42"})
	if len(admin) != 1 || admin[0].Text != wantAdmin {
		t.Errorf("admin messages = %+v, want %q", admin, wantAdmin)
	}
	e.noPersonalData(p)
}

func TestPassportNeedsFixes(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(1002)
	p := goodProfile(t)
	p.Expiry = "01.01.2025"            // expired on 14.03.2026
	p.Selfie = jpegOf(t, 320, 240, 99) // below 600×400
	req := e.issue(user, "ru")
	sh := e.share(p, req.Nonce, nil)
	ents, upd := e.update(sh, user, "en") // the request's language wins
	if err := e.deliver(ents, upd); err != nil {
		t.Fatal(err)
	}
	if len(e.verified)+len(e.rejected) != 0 {
		t.Fatal("a hook was called for a submission with problems to fix")
	}
	ru := e.catalog.Language("ru")
	creds := sh.Credentials.SecureData[passport.TypeDriverLicense]
	expiredText := ru.Problem("expired", "driver_license", "data.expiry_date", map[string]string{"date": "01.01.2025"})
	smallText := ru.Problem("image_too_small", "driver_license", "selfie",
		map[string]string{"min_width": "600", "min_height": "400", "width": "320", "height": "240"})

	if len(e.tg.errs) != 1 {
		t.Fatalf("setSecureValueErrors called %d times", len(e.tg.errs))
	}
	if u := e.tg.errUser[0]; u.UserID != user || u.AccessHash != user*1000 {
		t.Errorf("setSecureValueErrors user = %+v", u)
	}
	errs := e.tg.errs[0]
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
	if !strings.ContainsAny(expiredText, "абвгдеёжзийклмнопрстуфхцчшщыьэюя") {
		t.Errorf("the expiry text is not Russian: %q", expiredText)
	}

	msgs := e.tg.messagesTo(user)
	if len(msgs) != 1 {
		t.Fatalf("messages to the user = %+v", msgs)
	}
	m := msgs[0]
	wantText := ru.Plural(i18n.MsgResultFixHeader, 2, nil) + "\n• " + expiredText + "\n• " + smallText
	if m.Text != wantText {
		t.Errorf("chat message = %q, want %q", m.Text, wantText)
	}
	if len(m.Buttons) != 1 || m.Buttons[0].Text != ru.Text(i18n.MsgButtonTryAgain, nil) || !strings.HasPrefix(m.Buttons[0].URL, pageBase) {
		t.Fatalf("buttons = %+v", m.Buttons)
	}
	next, err := e.store.Requests().Get(e.ctx, strings.TrimPrefix(m.Buttons[0].URL, pageBase))
	if err != nil {
		t.Fatalf("the button's request: %v", err)
	}
	if next.UserID != user || next.Level != level || next.Ref != "crm-42" || next.Lang != "ru" || next.Nonce == req.Nonce {
		t.Errorf("new request = %+v", next)
	}
	if st := e.status(user); st.State != store.StateNeedsFixes || !slices.Equal(st.Codes, []string{"expired", "image_too_small"}) {
		t.Errorf("status = %+v", st)
	}
	if ev := e.lastAudit(); ev.Kind != "needs_fixes" || !slices.Equal(ev.Codes, []string{"expired", "image_too_small"}) {
		t.Errorf("audit = %+v", ev)
	}
	if len(e.tg.messagesTo(adminID)) != 0 {
		t.Error("admins were notified of fixable problems")
	}

	// The fixed submission answers the new request and is verified.
	ok2 := goodProfile(t)
	ents, upd = e.update(e.share(ok2, next.Nonce, nil), user, "en")
	if err := e.deliver(ents, upd); err != nil {
		t.Fatal(err)
	}
	if len(e.verified) != 1 {
		t.Fatal("the fixed submission was not verified")
	}
	e.noPersonalData(p)
}

func TestPassportTooYoung(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(1003)
	p := goodProfile(t)
	p.BirthDate = "05.06.2011" // 14 on 14.03.2026
	req := e.issue(user, "en")
	ents, upd := e.update(e.share(p, req.Nonce, nil), user, "en")
	if err := e.deliver(ents, upd); err != nil {
		t.Fatal(err)
	}
	if len(e.verified) != 0 {
		t.Fatal("OnVerified was called for a final rejection")
	}
	if len(e.rejected) != 1 || !slices.Equal(e.rejected[0].Codes, []string{"too_young"}) || e.rejected[0].Level != level {
		t.Fatalf("OnRejected got %+v", e.rejected)
	}
	en := e.catalog.Language("en")
	reason := en.Problem("too_young", "personal_details", "data.birth_date", map[string]string{"min_age": "18", "age": "14"})
	want := en.Text(i18n.MsgResultRejected, map[string]any{"Reason": reason})
	if msgs := e.tg.messagesTo(user); len(msgs) != 1 || msgs[0].Text != want || len(msgs[0].Buttons) != 0 {
		t.Errorf("messages = %+v, want %q", msgs, want)
	}
	if len(e.tg.errs) != 0 {
		t.Error("setSecureValueErrors was called for a final rejection")
	}
	if st := e.status(user); st.State != store.StateRejected || !slices.Equal(st.Codes, []string{"too_young"}) {
		t.Errorf("status = %+v", st)
	}
	if ev := e.lastAudit(); ev.Kind != "rejected" || !slices.Equal(ev.Codes, []string{"too_young"}) {
		t.Errorf("audit = %+v", ev)
	}
	if len(e.tg.messagesTo(adminID)) != 1 {
		t.Error("admins were not notified of the rejection")
	}
	e.noPersonalData(p)
}

func TestPassportSecurity(t *testing.T) {
	const victim, attacker = int64(2001), int64(2002)
	otherKey, err := passport.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// attack delivers a bad submission and returns who should be told.
		attack     func(e *env, req store.Request, p profile) int64
		msg        string
		kind       string
		codes      []string
		adminAlarm bool
		// burned: the rightful user needs a fresh request afterwards.
		burned bool
		// legit is how many legitimate verifications the attack includes.
		legit int
	}{
		{
			name: "replayed nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				ents, upd := e.update(e.share(p, req.Nonce, nil), victim, "en")
				if err := e.deliver(ents, upd); err != nil || len(e.verified) != 1 {
					e.t.Fatalf("the original submission: %v, %d verified", err, len(e.verified))
				}
				ents, upd = e.update(e.share(p, req.Nonce, nil), victim, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return victim
			},
			msg: i18n.MsgNonceUsed, kind: "nonce_used", burned: true, legit: 1,
		},
		{
			name: "another user's nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				ents, upd := e.update(e.share(p, req.Nonce, nil), attacker, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return attacker
			},
			msg: i18n.MsgNonceOtherUser, kind: "nonce_other_user",
		},
		{
			name: "unknown nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				ents, upd := e.update(e.share(p, strings.Repeat("A", 43), nil), victim, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return victim
			},
			msg: i18n.MsgNonceNotFound, kind: "nonce_unknown",
		},
		{
			name: "expired nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				e.clock.Advance(31 * time.Minute)
				ents, upd := e.update(e.share(p, req.Nonce, nil), victim, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return victim
			},
			msg: i18n.MsgNonceExpired, kind: "nonce_expired", burned: true,
		},
		{
			name: "superseded nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				e.issue(victim, "en") // a newer request supersedes req
				ents, upd := e.update(e.share(p, req.Nonce, nil), victim, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return victim
			},
			msg: i18n.MsgNonceSuperseded, kind: "nonce_superseded", burned: true,
		},
		{
			name: "cancelled nonce",
			attack: func(e *env, req store.Request, p profile) int64 {
				if ok, err := e.store.Requests().Cancel(e.ctx, victim); err != nil || !ok {
					e.t.Fatalf("cancel: %v %v", ok, err)
				}
				ents, upd := e.update(e.share(p, req.Nonce, nil), victim, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return victim
			},
			msg: i18n.MsgNonceCancelled, kind: "nonce_cancelled", burned: true,
		},
		{
			name: "tampered credentials",
			attack: func(e *env, req store.Request, p profile) int64 {
				sh := e.share(p, req.Nonce, nil)
				sh.Submission.Credentials.Data[len(sh.Submission.Credentials.Data)/2] ^= 0x40
				ents, upd := e.update(sh, victim, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return victim
			},
			msg: i18n.MsgSubmissionUndecryptable, kind: "decrypt_failed", codes: []string{"hash_mismatch"},
		},
		{
			name: "wrong key",
			attack: func(e *env, req store.Request, p profile) int64 {
				ents, upd := e.update(e.share(p, req.Nonce, &otherKey.PublicKey), victim, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return victim
			},
			msg: i18n.MsgSubmissionUndecryptable, kind: "decrypt_failed", codes: []string{"wrong_key"}, adminAlarm: true,
		},
		{
			name: "tampered file",
			attack: func(e *env, req store.Request, p profile) int64 {
				sh := e.share(p, req.Nonce, nil)
				ref := sh.Submission.Elements[1].Selfie
				e.tg.mu.Lock()
				b := bytes.Clone(e.tg.files[ref.ID])
				b[len(b)-1] ^= 1
				e.tg.files[ref.ID] = b
				e.tg.mu.Unlock()
				ents, upd := e.update(sh, victim, "en")
				if err := e.deliver(ents, upd); err != nil {
					e.t.Fatal(err)
				}
				return victim
			},
			msg: i18n.MsgSubmissionUndecryptable, kind: "decrypt_failed", codes: []string{"hash_mismatch"}, burned: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			p := goodProfile(t)
			req := e.issue(victim, "en")
			told := tt.attack(e, req, p)
			before := tt.legit
			if len(e.verified) != before || len(e.rejected) != 0 {
				t.Fatalf("the attack reached a hook: %d verified, %d rejected", len(e.verified)-before, len(e.rejected))
			}
			msgs := e.tg.messagesTo(told)
			want := e.catalog.Language("en").Text(tt.msg, nil)
			if len(msgs) == 0 || msgs[len(msgs)-1].Text != want {
				t.Errorf("messages to %d = %+v, want last %q", told, msgs, want)
			}
			ev := e.lastAudit()
			if ev.Kind != tt.kind || ev.UserID != told || !slices.Equal(ev.Codes, tt.codes) {
				t.Errorf("audit = %+v, want kind %s codes %v for user %d", ev, tt.kind, tt.codes, told)
			}
			alarms := 0
			wrongKey := e.catalog.Language(e.catalog.DefaultLanguage()).Text(i18n.MsgAdminWrongKey, nil)
			for _, m := range e.tg.messagesTo(adminID) {
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
			ents, upd := e.update(e.share(p, nonce, nil), victim, "en")
			if err := e.deliver(ents, upd); err != nil {
				t.Fatal(err)
			}
			if len(e.verified) != before+1 || e.verified[len(e.verified)-1].UserID != victim {
				t.Fatalf("the rightful user was not verified afterwards")
			}
			e.noPersonalData(p)
		})
	}
}

func TestPassportDuplicateUpdate(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(3001)
	p := goodProfile(t)
	req := e.issue(user, "en")
	ents, upd := e.update(e.share(p, req.Nonce, nil), user, "en")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs { // the same update delivered to several instances at once
		wg.Go(func() { errs[i] = e.deliver(ents, upd) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := e.deliver(ents, upd); err != nil { // and once more later
		t.Fatal(err)
	}
	if len(e.verified) != 1 {
		t.Errorf("verified %d times, want once", len(e.verified))
	}
	if msgs := e.tg.messagesTo(user); len(msgs) != 1 {
		t.Errorf("user got %d messages, want 1: %+v", len(msgs), msgs)
	}
	if !strings.Contains(e.logs.String(), "duplicate submission dropped") {
		t.Error("the dropped duplicate was not logged")
	}
	for _, ev := range e.auditEvents() {
		if ev.Kind == "nonce_used" {
			t.Error("a duplicate reached ConsumeNonce")
		}
	}
}

func TestPassportIgnoresOtherUpdates(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(4001)
	req := e.issue(user, "en")
	sh := e.share(goodProfile(t), req.Nonce, nil)
	action, err := sh.Submission.MTProto()
	if err != nil {
		t.Fatal(err)
	}
	ents := tg.Entities{Users: map[int64]*tg.User{user: {ID: user}}}
	tests := []struct {
		name string
		msg  tg.MessageClass
	}{
		{"text message", &tg.Message{ID: 1, PeerID: &tg.PeerUser{UserID: user}, Message: "/start"}},
		{"other service action", &tg.MessageService{ID: 2, PeerID: &tg.PeerUser{UserID: user}, Action: &tg.MessageActionScreenshotTaken{}}},
		{"from a channel", &tg.MessageService{ID: 3, PeerID: &tg.PeerChannel{ChannelID: 5}, Action: action}},
		{"from a group", &tg.MessageService{ID: 4, PeerID: &tg.PeerChat{ChatID: 6}, Action: action}},
		{"outgoing", &tg.MessageService{ID: 5, Out: true, PeerID: &tg.PeerUser{UserID: user}, Action: action}},
		{"empty", &tg.MessageEmpty{ID: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var next int
			h := e.h.Chain(func(context.Context, tg.Entities, *tg.UpdateNewMessage) error { next++; return nil })
			u := &tg.UpdateNewMessage{Message: tt.msg}
			if err := e.h.OnNewMessage(e.ctx, ents, u); err != nil {
				t.Fatal(err)
			}
			if err := h(e.ctx, ents, u); err != nil {
				t.Fatal(err)
			}
			if next != 1 {
				t.Errorf("Chain passed the message to next %d times, want 1", next)
			}
		})
	}
	if n := len(e.tg.messagesTo(user)) + len(e.auditEvents()) + len(e.verified); n != 0 {
		t.Errorf("ignored updates caused %d effects", n)
	}
	// Chain gives submissions to the handler, not to next.
	called := false
	h := e.h.Chain(func(context.Context, tg.Entities, *tg.UpdateNewMessage) error { called = true; return nil })
	ents, upd := e.update(sh, user, "en")
	if err := h(e.ctx, ents, upd); err != nil || called || len(e.verified) != 1 {
		t.Errorf("Chain: err %v, next called %v, %d verified", err, called, len(e.verified))
	}
	// Register installs it on a dispatcher.
	d := tg.NewUpdateDispatcher()
	e.h.Register(&d)
	ents, upd = e.update(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
	err = d.Handle(e.ctx, &tg.Updates{Updates: []tg.UpdateClass{upd}, Users: []tg.UserClass{ents.Users[user]}})
	if err != nil || len(e.verified) != 2 {
		t.Errorf("through the dispatcher: err %v, %d verified", err, len(e.verified))
	}
}

// flakyStore fails ConsumeNonce while failures remain, and counts
// ForgetUpdate calls.
type flakyStore struct {
	Store
	mu       sync.Mutex
	failures int
	// lostReplies consumes for real, then reports a failure, as when
	// Redis ran the script but the reply never came back.
	lostReplies int
	forgets     int
}

func (s *flakyStore) ConsumeNonce(ctx context.Context, nonce string, userID int64, opts ...store.ConsumeOption) (store.Request, error) {
	s.mu.Lock()
	fail, lost := s.failures > 0, s.failures == 0 && s.lostReplies > 0
	if fail {
		s.failures--
	} else if lost {
		s.lostReplies--
	}
	s.mu.Unlock()
	if fail {
		return store.Request{}, errors.Join(store.ErrUnavailable, errors.New("dial tcp 127.0.0.1:6379: connection refused"))
	}
	req, err := s.Store.ConsumeNonce(ctx, nonce, userID, opts...)
	if lost && err == nil {
		return store.Request{}, errors.Join(store.ErrUnavailable, errors.New("read tcp 127.0.0.1:6379: i/o timeout"))
	}
	return req, err
}

func (s *flakyStore) ForgetUpdate(ctx context.Context, userID int64, msgID int, opts ...store.MarkOption) error {
	s.mu.Lock()
	s.forgets++
	s.mu.Unlock()
	return s.Store.ForgetUpdate(ctx, userID, msgID, opts...)
}

func TestPassportRetryAfterStoreFailure(t *testing.T) {
	flaky := &flakyStore{failures: 2}
	e := newEnv(t, func(s Store) Store { flaky.Store = s; return flaky })
	const user = int64(5001)
	p := goodProfile(t)
	req := e.issue(user, "en")
	ents, upd := e.update(e.share(p, req.Nonce, nil), user, "en")
	for i := range 2 {
		err := e.deliver(ents, upd)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("attempt %d: err = %v, want a store.ErrUnavailable to retry", i+1, err)
		}
		if flaky.forgets != i+1 {
			t.Fatalf("attempt %d: ForgetUpdate called %d times", i+1, flaky.forgets)
		}
	}
	delayed := e.catalog.Language("en").Text(i18n.MsgSubmissionDelayed, nil)
	if msgs := e.tg.messagesTo(user); len(msgs) != 1 || msgs[0].Text != delayed {
		t.Fatalf("messages after the failures = %+v, want one %q", msgs, delayed)
	}
	if err := e.deliver(ents, upd); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if len(e.verified) != 1 {
		t.Fatal("the retry was not processed")
	}
	if st := e.status(user); st.State != store.StateVerified {
		t.Errorf("status = %+v", st)
	}
	e.noPersonalData(p)
}

// A consume whose reply was lost burnt the nonce; the retry of the same
// update must still be processed, not refused as a replay.
func TestPassportRetryAfterLostConsumeReply(t *testing.T) {
	flaky := &flakyStore{lostReplies: 1}
	e := newEnv(t, func(s Store) Store { flaky.Store = s; return flaky })
	const user = int64(5002)
	p := goodProfile(t)
	req := e.issue(user, "en")
	ents, upd := e.update(e.share(p, req.Nonce, nil), user, "en")
	if err := e.deliver(ents, upd); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("first delivery: err = %v, want a store.ErrUnavailable to retry", err)
	}
	if err := e.deliver(ents, upd); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if len(e.verified) != 1 {
		t.Fatal("the retry was not processed")
	}
	if st := e.status(user); st.State != store.StateVerified {
		t.Errorf("status = %+v", st)
	}
}

// outageStore fails the operations of plan (mark, forget, consume,
// status, audit) as many times as planned, as when Redis cannot be
// reached: those in lost run first and then fail, as when Redis ran the
// command but its answer never came back.
type outageStore struct {
	Store
	mu   sync.Mutex
	plan map[string]int
	lost map[string]bool
}

var errOutage = errors.Join(store.ErrUnavailable, errors.New("read tcp 127.0.0.1:6379: i/o timeout"))

// do runs f, the real operation op, or fails it as planned.
func (s *outageStore) do(op string, f func() error) error {
	s.mu.Lock()
	fail := s.plan[op] > 0
	if fail {
		s.plan[op]--
	}
	lost := s.lost[op]
	s.mu.Unlock()
	if fail && !lost {
		return errOutage
	}
	if err := f(); err != nil || !fail {
		return err
	}
	return errOutage
}

func (s *outageStore) MarkUpdate(ctx context.Context, userID int64, msgID int, ttl time.Duration, opts ...store.MarkOption) (bool, error) {
	var first bool
	err := s.do("mark", func() (err error) { first, err = s.Store.MarkUpdate(ctx, userID, msgID, ttl, opts...); return err })
	return first && err == nil, err
}

func (s *outageStore) ForgetUpdate(ctx context.Context, userID int64, msgID int, opts ...store.MarkOption) error {
	return s.do("forget", func() error { return s.Store.ForgetUpdate(ctx, userID, msgID, opts...) })
}

func (s *outageStore) ConsumeNonce(ctx context.Context, nonce string, userID int64, opts ...store.ConsumeOption) (store.Request, error) {
	var req store.Request
	err := s.do("consume", func() (err error) { req, err = s.Store.ConsumeNonce(ctx, nonce, userID, opts...); return err })
	if err != nil {
		return store.Request{}, err
	}
	return req, nil
}

func (s *outageStore) SetStatus(ctx context.Context, st store.Status) error {
	return s.do("status", func() error { return s.Store.SetStatus(ctx, st) })
}

func (s *outageStore) AuditOnce(ctx context.Context, ev store.Event, id string) error {
	return s.do("audit", func() error { return s.Store.AuditOnce(ctx, ev, id) })
}

// TestPassportRetriedDelivery: Redis fails at some step of a submission;
// the same delivery (update ID) retried gets through, and the user is
// told "delayed" once and "verified" once, with the status and one
// verified event recorded. Another delivery of the update is a
// duplicate.
func TestPassportRetriedDelivery(t *testing.T) {
	tests := []struct {
		name  string
		plan  map[string]int
		lost  []string
		hooks int // OnVerified calls
	}{
		// The mark ran, its answer was lost, and it could not be
		// forgotten: the retry must not take it for another delivery's.
		{"mark answer lost, forget refused", map[string]int{"mark": 1, "forget": 1}, []string{"mark"}, 1},
		{"mark refused twice", map[string]int{"mark": 2}, nil, 1},
		{"mark and forget answers lost", map[string]int{"mark": 1, "forget": 1}, []string{"mark", "forget"}, 1},
		{"consume answer lost, forget refused", map[string]int{"consume": 1, "forget": 1}, []string{"consume"}, 1},
		// After the hook: told verified only once recorded.
		{"status refused", map[string]int{"status": 1}, nil, 2},
		{"status answer lost", map[string]int{"status": 1}, []string{"status"}, 2},
		{"audit answer lost", map[string]int{"audit": 1}, []string{"audit"}, 2},
		{"audit refused twice", map[string]int{"audit": 2}, nil, 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outage := &outageStore{plan: tt.plan, lost: map[string]bool{}}
			for _, op := range tt.lost {
				outage.lost[op] = true
			}
			e := newEnv(t, func(s Store) Store { outage.Store = s; return outage })
			user := int64(5100 + i)
			p := goodProfile(t)
			ents, upd := e.update(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
			ctx := ContextWithUpdateID(e.ctx, "d1")
			var err error
			for attempt := 1; attempt <= 5; attempt++ {
				if err = e.h.OnNewMessage(ctx, ents, upd); err == nil {
					break
				}
				if !errors.Is(err, ErrRetryLater) || !errors.Is(err, store.ErrUnavailable) {
					t.Fatalf("attempt %d: %v, want an ErrRetryLater wrapping store.ErrUnavailable", attempt, err)
				}
			}
			if err != nil {
				t.Fatalf("still failing after 5 attempts: %v", err)
			}
			en := e.catalog.Language("en")
			var texts []string
			for _, m := range e.tg.messagesTo(user) {
				texts = append(texts, m.Text)
			}
			if want := []string{en.Text(i18n.MsgSubmissionDelayed, nil), en.Text(i18n.MsgResultVerified, nil)}; !slices.Equal(texts, want) {
				t.Errorf("the user got %q, want %q", texts, want)
			}
			if len(e.verified) != tt.hooks {
				t.Errorf("OnVerified ran %d times, want %d", len(e.verified), tt.hooks)
			}
			if st := e.status(user); st.State != store.StateVerified {
				t.Errorf("status %q, want verified", st.State)
			}
			var events int
			for _, ev := range e.auditEvents() {
				if ev.Kind == "verified" && ev.UserID == user {
					events++
				}
			}
			if events != 1 {
				t.Errorf("%d verified events, want 1", events)
			}
			// Another delivery of the update is a duplicate.
			if err := e.h.OnNewMessage(ContextWithUpdateID(e.ctx, "d2"), ents, upd); err != nil {
				t.Fatal(err)
			}
			if n := len(e.tg.messagesTo(user)); n != 2 || len(e.verified) != tt.hooks {
				t.Errorf("another delivery was processed: %d messages, %d hook calls", n, len(e.verified))
			}
			e.noPersonalData(p)
		})
	}
}

// TestPassportGiveUp: a submission still not processed when the caller
// stops retrying ends with a clear message, audited.
func TestPassportGiveUp(t *testing.T) {
	e := newEnv(t, func(s Store) Store { return &outageStore{Store: s, plan: map[string]int{"consume": 100}} })
	const user = int64(5201)
	ents, upd := e.update(e.share(goodProfile(t), e.issue(user, "en").Nonce, nil), user, "en")
	ctx := ContextWithUpdateID(e.ctx, "d1")
	for range 2 {
		if err := e.h.OnNewMessage(ctx, ents, upd); !errors.Is(err, ErrRetryLater) {
			t.Fatalf("err = %v, want ErrRetryLater", err)
		}
	}
	e.h.GiveUp(ctx, ents, upd)
	e.h.GiveUp(ctx, ents, &tg.UpdateNewMessage{Message: &tg.Message{ID: 1, PeerID: &tg.PeerUser{UserID: user}, Message: "hi"}}) // not a submission
	en := e.catalog.Language("en")
	var texts []string
	for _, m := range e.tg.messagesTo(user) {
		texts = append(texts, m.Text)
	}
	if want := []string{en.Text(i18n.MsgSubmissionDelayed, nil), en.Text(i18n.MsgSubmissionFailed, nil)}; !slices.Equal(texts, want) {
		t.Errorf("the user got %q, want %q", texts, want)
	}
	if ev := e.lastAudit(); ev.Kind != "processing_failed" || ev.UserID != user || !slices.Equal(ev.Codes, []string{"gave_up"}) {
		t.Errorf("audit = %+v", ev)
	}
	if len(e.verified) != 0 {
		t.Error("verified")
	}
}

func TestPassportDownloadFailure(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(6001)
	p := goodProfile(t)
	req := e.issue(user, "en")
	ents, upd := e.update(e.share(p, req.Nonce, nil), user, "en")
	e.tg.dlErr = errors.New("rpc error code 500: INTERNAL")
	if err := e.deliver(ents, upd); err == nil {
		t.Fatal("a failed download returned nil")
	}
	if len(e.verified) != 0 {
		t.Fatal("verified without the scans")
	}
	want := e.catalog.Language("en").Text(i18n.MsgSubmissionFailed, nil)
	if msgs := e.tg.messagesTo(user); len(msgs) != 1 || msgs[0].Text != want {
		t.Errorf("messages = %+v, want %q", msgs, want)
	}
	if ev := e.lastAudit(); ev.Kind != "processing_failed" || !slices.Equal(ev.Codes, []string{"download_failed"}) {
		t.Errorf("audit = %+v", ev)
	}
}

// A download that fails now and then is tried again before the user is
// asked to share again.
func TestPassportDownloadRetried(t *testing.T) {
	e := newEnv(t, nil)
	const user = int64(6002)
	req := e.issue(user, "en")
	ents, upd := e.update(e.share(goodProfile(t), req.Nonce, nil), user, "en")
	e.tg.mu.Lock()
	e.tg.dlFailures = downloadAttempts - 1
	e.tg.mu.Unlock()
	if err := e.deliver(ents, upd); err != nil {
		t.Fatal(err)
	}
	if len(e.verified) != 1 {
		t.Fatalf("not verified after %d transient download failures", downloadAttempts-1)
	}
}

func TestNewPassportConfig(t *testing.T) {
	_, err := NewPassport(PassportConfig{})
	if err == nil {
		t.Fatal("an empty config was accepted")
	}
	for _, f := range []string{"Key", "Store", "Telegram", "Catalog", "Checkers", "PageURL"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("the error does not name %s: %v", f, err)
		}
	}
}

// TestPassportHookUnavailable: a hook that cannot take the outcome now
// (its store unreachable, as the webhook outbox with Redis down) has the
// submission processed again later, and the outcome is told and recorded
// once; a hook that fails otherwise ends the submission.
func TestPassportHookUnavailable(t *testing.T) {
	unavailable := fmt.Errorf("webhook event: delivery: %w", store.ErrUnavailable)
	tests := []struct {
		name      string
		young     bool
		fail      []error
		attempts  int    // OnNewMessage calls until it returns nil
		want      string // the outcome's text id
		event     string // the outcome's audit event
		hookCalls int    // successful hook calls
	}{
		{"verified, store down once", false, []error{unavailable}, 2, i18n.MsgResultVerified, "verified", 1},
		{"verified, retry later twice", false, []error{ErrRetryLater, unavailable}, 3, i18n.MsgResultVerified, "verified", 1},
		{"rejected, store down once", true, []error{unavailable}, 2, i18n.MsgResultRejected, "rejected", 1},
		{"verified, hook broken", false, []error{errors.New("crm says no")}, 1, i18n.MsgSubmissionFailed, "processing_failed", 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.hookFail = tt.fail
			user := int64(5300 + i)
			p := goodProfile(t)
			if tt.young {
				p.BirthDate = "05.06.2011"
			}
			ents, upd := e.update(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
			ctx := ContextWithUpdateID(e.ctx, "d1")
			attempts := 0
			for attempts < 5 {
				attempts++
				err := e.h.OnNewMessage(ctx, ents, upd)
				if !errors.Is(err, ErrRetryLater) {
					break
				}
			}
			if attempts != tt.attempts {
				t.Errorf("%d calls until the processing ended, want %d", attempts, tt.attempts)
			}
			en := e.catalog.Language("en")
			msgs := e.tg.messagesTo(user)
			want := en.Text(tt.want, nil)
			if tt.young {
				reason := en.Problem("too_young", "personal_details", "data.birth_date", map[string]string{"min_age": "18", "age": "14"})
				want = en.Text(tt.want, map[string]any{"Reason": reason})
			}
			if len(msgs) == 0 || msgs[len(msgs)-1].Text != want {
				t.Errorf("the user's last message %+v, want %s", msgs, tt.want)
			}
			if tt.attempts > 1 && (len(msgs) != 2 || msgs[0].Text != en.Text(i18n.MsgSubmissionDelayed, nil)) {
				t.Errorf("the user got %d messages, want the delay notice then the outcome", len(msgs))
			}
			if got := len(e.verified) + len(e.rejected); got != tt.hookCalls {
				t.Errorf("%d successful hook calls, want %d", got, tt.hookCalls)
			}
			events := 0
			for _, ev := range e.auditEvents() {
				if ev.Kind == tt.event && ev.UserID == user {
					events++
				}
			}
			if events != 1 {
				t.Errorf("%d %s events, want 1", events, tt.event)
			}
			e.noPersonalData(p)
		})
	}
}

// TestPassportContextMarked: a caller that has just made the dedupe mark
// under the update ID (ContextMarked) saves the handler its own mark; the
// handler still marks without an update ID, or without ContextMarked.
func TestPassportContextMarked(t *testing.T) {
	tests := []struct {
		name     string
		ctx      func(context.Context) context.Context
		verified bool // else the handler tried to mark (which fails here)
	}{
		{"marked by the caller", func(ctx context.Context) context.Context {
			return ContextMarked(ContextWithUpdateID(ctx, "d1"))
		}, true},
		{"not marked", func(ctx context.Context) context.Context { return ContextWithUpdateID(ctx, "d1") }, false},
		{"marked, no update ID", ContextMarked, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every mark fails: only a handler that does not mark gets
			// through.
			e := newEnv(t, func(s Store) Store { return &outageStore{Store: s, plan: map[string]int{"mark": 100}} })
			user := int64(5400 + i)
			p := goodProfile(t)
			ents, upd := e.update(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
			err := e.h.OnNewMessage(tt.ctx(e.ctx), ents, upd)
			if tt.verified {
				if err != nil || len(e.verified) != 1 {
					t.Fatalf("OnNewMessage: %v, %d verified; want the submission processed without a mark", err, len(e.verified))
				}
				return
			}
			if !errors.Is(err, ErrRetryLater) || len(e.verified) != 0 {
				t.Fatalf("OnNewMessage: %v, %d verified; want the handler's own mark tried (and failing)", err, len(e.verified))
			}
		})
	}
}
