package handlers

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// stopStore ends the processing's context (the bot stopping) when the
// operation at is called: after ConsumeNonce succeeded ("consume"), or
// before SetStatus runs ("status").
type stopStore struct {
	Store
	at   string
	stop func()
}

func (s *stopStore) ConsumeNonce(ctx context.Context, nonce string, userID int64, opts ...store.ConsumeOption) (store.Request, error) {
	req, err := s.Store.ConsumeNonce(ctx, nonce, userID, opts...)
	if s.at == "consume" {
		s.stop()
	}
	return req, err
}

func (s *stopStore) SetStatus(ctx context.Context, st store.Status) error {
	if s.at == "status" {
		s.stop()
	}
	return s.Store.SetStatus(ctx, st)
}

// TestPassportCutShort: a processing whose context ends before the user
// was told the outcome stops without telling or recording anything more
// and asks for a retry (ErrRetryLater, with the context's error). Another
// delivery of the update, once the first one's dedupe mark is forgotten,
// finishes it: one verdict, one verified event, the nonce given back to
// the same message.
func TestPassportCutShort(t *testing.T) {
	tests := []struct {
		name  string
		at    string // where the context ends
		hooks int    // OnVerified calls in all
	}{
		{"before the mark", "start", 1},
		{"during the download", "download", 1},
		{"recording the status", "status", 2},
		{"telling the verdict", "tell", 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, stop := context.WithCancel(ContextWithUpdateID(context.Background(), "d1"))
			defer stop()
			st := &stopStore{at: tt.at, stop: stop}
			e := newEnv(t, func(s Store) Store { st.Store = s; return st })
			user := int64(5400 + i)
			p := goodProfile(t)
			ents, upd := e.update(e.share(p, e.issue(user, "en").Nonce, nil), user, "en")
			switch tt.at {
			case "start":
				stop()
			case "download":
				st.at = "consume"
				e.tg.dlErr = context.Canceled
			case "tell":
				e.tg.onSend = func() {
					stop()
					e.tg.mu.Lock()
					defer e.tg.mu.Unlock()
					e.tg.sendErr = context.Canceled
				}
			}
			err := e.h.OnNewMessage(ctx, ents, upd)
			if !errors.Is(err, ErrRetryLater) || !errors.Is(err, context.Canceled) {
				t.Fatalf("cut short: %v, want ErrRetryLater and context.Canceled", err)
			}
			if msgs := e.tg.messagesTo(user); len(msgs) != 0 {
				t.Errorf("the user was told %+v", msgs)
			}
			if st := e.status(user); tt.at != "tell" && st.State == store.StateVerified {
				t.Error("verified before the processing ended")
			}

			// The bot forgets the mark of the delivery cut short; the
			// update is delivered again.
			st.at, e.tg.dlErr, e.tg.onSend = "", nil, nil
			e.tg.mu.Lock()
			e.tg.sendErr = nil
			e.tg.mu.Unlock()
			if err := e.store.ForgetUpdate(e.ctx, user, upd.Message.GetID(), store.MarkedBy("d1")); err != nil {
				t.Fatal(err)
			}
			if err := e.h.OnNewMessage(ContextWithUpdateID(e.ctx, "d2"), ents, upd); err != nil {
				t.Fatal(err)
			}
			en := e.catalog.Language("en")
			var texts []string
			for _, m := range e.tg.messagesTo(user) {
				texts = append(texts, m.Text)
			}
			if want := []string{en.Text(i18n.MsgResultVerified, nil)}; !slices.Equal(texts, want) {
				t.Errorf("the user got %q, want %q", texts, want)
			}
			if len(e.verified) != tt.hooks {
				t.Errorf("OnVerified ran %d times, want %d", len(e.verified), tt.hooks)
			}
			if st := e.status(user); st.State != store.StateVerified {
				t.Errorf("status %q, want verified", st.State)
			}
			events := 0
			for _, ev := range e.auditEvents() {
				if ev.UserID == user {
					if ev.Kind != "verified" {
						t.Errorf("audit event %q", ev.Kind)
					}
					events++
				}
			}
			if events != 1 {
				t.Errorf("%d audit events, want 1 verified", events)
			}
			e.noPersonalData(p)
		})
	}
}
