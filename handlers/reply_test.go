package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kycbot/kycbot/i18n"
)

// recSender records the messages it is given; fail makes it fail for
// some users.
type recSender struct {
	mu   sync.Mutex
	to   []User
	msgs []Message
	fail map[int64]error
}

func (s *recSender) Send(_ context.Context, to User, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[to.ID]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	s.msgs = append(s.msgs, m)
	return nil
}

func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestReply: every message of an answer is keyed by the update and its
// purpose, so that the same update answered again sends nothing twice;
// without an update ID messages are not idempotent.
func TestReply(t *testing.T) {
	cat := catalog(t)
	de := cat.Language("de")
	user := User{ID: 42, AccessHash: 4242, LangCode: "de"}
	button := Button{Text: "Go", URL: "https://kyc.example/p"}
	tests := []struct {
		name string
		key  string
		send func(ctx context.Context, r *Reply) error
		want Message
	}{
		{"text", "1700000000000-0", func(ctx context.Context, r *Reply) error { return r.Send(ctx, "greeting", "hello") },
			Message{Text: "hello", Key: "1700000000000-0:greeting"}},
		{"rows", "1700000000000-0", func(ctx context.Context, r *Reply) error {
			return r.Send(ctx, "choice", "choose", []Button{button, {Text: "B", Data: "kyc:b"}}, []Button{button})
		}, Message{Text: "choose", Buttons: [][]Button{{button, {Text: "B", Data: "kyc:b"}}, {button}}, Key: "1700000000000-0:choice"}},
		{"catalog text", "7-1", func(ctx context.Context, r *Reply) error { return r.Text(ctx, i18n.MsgHelp, nil) },
			Message{Text: de.Text(i18n.MsgHelp, nil), Key: "7-1:" + i18n.MsgHelp}},
		{"catalog text with a button", "7-1", func(ctx context.Context, r *Reply) error {
			return r.Text(ctx, i18n.MsgOutcomeCancel, nil, button)
		}, Message{Text: de.Text(i18n.MsgOutcomeCancel, nil), Buttons: [][]Button{{button}}, Key: "7-1:" + i18n.MsgOutcomeCancel}},
		{"no update ID", "", func(ctx context.Context, r *Reply) error { return r.Send(ctx, "greeting", "hello") },
			Message{Text: "hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &recSender{}
			r := &Reply{To: user, Loc: de, Sender: s, Key: tt.key}
			for range 2 { // the same update answered twice
				if err := tt.send(context.Background(), r); err != nil {
					t.Fatal(err)
				}
			}
			if len(s.msgs) != 2 || s.to[0] != user || s.to[1] != user {
				t.Fatalf("sent %+v to %+v", s.msgs, s.to)
			}
			for _, m := range s.msgs {
				if m.Text != tt.want.Text || m.Key != tt.want.Key || !slices.EqualFunc(m.Buttons, tt.want.Buttons, slices.Equal) {
					t.Errorf("sent %+v, want %+v", m, tt.want)
				}
			}
		})
	}
	t.Run("failure", func(t *testing.T) {
		down := errors.New("rpc error code 500: INTERNAL")
		r := &Reply{To: user, Loc: de, Sender: &recSender{fail: map[int64]error{42: down}}, Key: "1-1"}
		if err := r.Send(context.Background(), "x", "y"); !errors.Is(err, down) || !strings.Contains(err.Error(), "42") {
			t.Errorf("err = %v, want the sender's, naming the user", err)
		}
	})
}

// TestAdmins: every admin gets each notice once per key, in the
// catalog's default language; an admin who cannot be reached is logged
// (without the text) and does not keep the others from the notice.
func TestAdmins(t *testing.T) {
	cat := catalog(t)
	want := cat.Language(cat.DefaultLanguage()).Text(i18n.MsgAdminPassportError, map[string]any{"Code": "BOT_INVALID"})
	var logs bytes.Buffer
	s := &recSender{fail: map[int64]error{2: errors.New("rpc error code 400: USER_IS_BLOCKED")}}
	a := &Admins{IDs: []int64{1, 2, 3}, Catalog: cat, Sender: s, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	a.Notify(context.Background(), "alarm:BOT_INVALID:7", i18n.MsgAdminPassportError, map[string]any{"Code": "BOT_INVALID"})
	a.Notify(context.Background(), "", i18n.MsgAdminPassportError, map[string]any{"Code": "BOT_INVALID"})
	var got []string
	for i, m := range s.msgs {
		if m.Text != want || s.to[i].AccessHash != 0 {
			t.Errorf("notice %+v to %+v, want %q", m, s.to[i], want)
		}
		got = append(got, m.Key)
	}
	if wantKeys := []string{"alarm:BOT_INVALID:7:admin:1", "alarm:BOT_INVALID:7:admin:3", "", ""}; !slices.Equal(got, wantKeys) {
		t.Errorf("keys %q, want %q", got, wantKeys)
	}
	if l := logs.String(); strings.Count(l, "cannot notify an admin") != 2 || !strings.Contains(l, "admin_id=2") || strings.Contains(l, want) {
		t.Errorf("logs:\n%s", l)
	}

	// Nobody to tell: nothing happens.
	var none *Admins
	none.Notify(context.Background(), "k", i18n.MsgAdminWrongKey, nil)
	(&Admins{Catalog: cat, Sender: s}).Notify(context.Background(), "k", i18n.MsgAdminWrongKey, nil)
	if len(s.msgs) != 4 {
		t.Errorf("%d notices, want no more", len(s.msgs))
	}
}

// ctxSender records whether each message was sent in an admin notice's
// context.
type ctxSender struct{ notice []bool }

func (c *ctxSender) Send(ctx context.Context, _ User, _ Message) error {
	c.notice = append(c.notice, IsNotice(ctx))
	return nil
}

// TestAdminNoticeKinds: a kind that is off (config admin_notices) is not
// sent, the others are, in a context marked as a notice's (a pacing
// transport sends users' answers first); a Reply is not marked.
func TestAdminNoticeKinds(t *testing.T) {
	cat := catalog(t)
	notices := []struct{ id, kind string }{
		{i18n.MsgAdminVerified, NoticeVerified},
		{i18n.MsgAdminRejected, NoticeRejected},
		{i18n.MsgAdminWrongKey, NoticeAlarm},
		{i18n.MsgAdminPassportError, NoticeAlarm},
		{i18n.MsgAdminDeliveriesParked, NoticeAlarm},
	}
	for _, tt := range []struct {
		name string
		off  map[string]bool
		want int // notices sent, of the five
	}{
		{name: "every kind", want: 5},
		{name: "verified off", off: map[string]bool{NoticeVerified: true}, want: 4},
		{name: "rejected off", off: map[string]bool{NoticeRejected: true}, want: 4},
		{name: "alarms off", off: map[string]bool{NoticeAlarm: true}, want: 2},
		{name: "all off", off: map[string]bool{NoticeVerified: true, NoticeRejected: true, NoticeAlarm: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &ctxSender{}
			a := &Admins{IDs: []int64{1}, Catalog: cat, Sender: s, Off: tt.off}
			sent := 0
			for _, n := range notices {
				if got := NoticeKind(n.id); got != n.kind {
					t.Errorf("NoticeKind(%s) = %q, want %q", n.id, got, n.kind)
				}
				before := len(s.notice)
				a.Notify(context.Background(), "", n.id, map[string]any{"Count": 1})
				switch got := len(s.notice) - before; {
				case got == 1:
					sent++
					if tt.off[n.kind] {
						t.Errorf("%s sent, though %s is off", n.id, n.kind)
					}
				case got != 0:
					t.Errorf("%s sent %d times", n.id, got)
				}
			}
			if sent != tt.want {
				t.Errorf("%d notices sent, want %d", sent, tt.want)
			}
			for i, marked := range s.notice {
				if !marked {
					t.Errorf("notice %d sent without the notice context", i)
				}
			}
			r := &Reply{To: User{ID: 9}, Loc: cat.Language("en"), Sender: s}
			if err := r.Send(context.Background(), "x", "y"); err != nil || s.notice[len(s.notice)-1] {
				t.Errorf("a user's answer was sent as a notice (err %v)", err)
			}
		})
	}
}

// TestContextWithLogger: the logger a context carries wins over the
// fallback; a nil logger leaves the context as it is.
func TestContextWithLogger(t *testing.T) {
	fallback := slog.New(slog.DiscardHandler)
	l := slog.New(slog.DiscardHandler).With("update_id", "x")
	ctx := ContextWithLogger(context.Background(), l)
	if got := LoggerFromContext(ctx, fallback); got != l {
		t.Error("the context's logger was not returned")
	}
	if got := LoggerFromContext(context.Background(), fallback); got != fallback {
		t.Error("the fallback was not returned")
	}
	if got := LoggerFromContext(context.Background(), nil); got != nil {
		t.Errorf("LoggerFromContext without a logger = %v", got)
	}
	if ContextWithLogger(ctx, nil) != ctx {
		t.Error("ContextWithLogger(nil) changed the context")
	}
}
