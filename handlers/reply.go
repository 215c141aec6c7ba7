package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/kycbot/kycbot/i18n"
)

// Reply answers one user in their language. Each message it sends is named
// by a purpose ("greeting", "request", an i18n message ID, ...): with a
// Key, the message's idempotency key is "<Key>:<purpose>", so that the
// same update handled again (same Key) sends nothing twice, while the
// different messages of one answer, or of a later attempt that goes
// another way, are all sent.
type Reply struct {
	// To is the user answered.
	To User
	// Loc is the user's language.
	Loc *i18n.Localizer
	// Sender sends the messages.
	Sender Sender
	// Key is the ID of the update being answered; "" for messages that
	// are not idempotent.
	Key string
}

// Send sends text with rows of buttons under it.
func (r *Reply) Send(ctx context.Context, purpose, text string, rows ...[]Button) error {
	m := Message{Text: text, Buttons: rows}
	if r.Key != "" {
		m.Key = r.Key + ":" + purpose
	}
	if err := r.Sender.Send(ctx, r.To, m); err != nil {
		return fmt.Errorf("handlers: message to user %d: %w", r.To.ID, err)
	}
	return nil
}

// Text sends the catalog's message id, rendered with data, with buttons in
// one row under it; the message ID is its purpose.
func (r *Reply) Text(ctx context.Context, id string, data map[string]any, buttons ...Button) error {
	var rows [][]Button
	if len(buttons) > 0 {
		rows = [][]Button{buttons}
	}
	return r.Send(ctx, id, r.Loc.Text(id, data), rows...)
}

// Admins tells the bot's admins what needs their attention: verifications,
// rejections, alarms. Every admin gets each notice once, in the catalog's
// default language, whichever instance sends it and however often: the
// notice's key names it.
type Admins struct {
	// IDs are the admins' Telegram user IDs (config admins).
	IDs []int64
	// Catalog holds the texts.
	Catalog *i18n.Catalog
	// Sender sends the notices.
	Sender Sender
	// Log receives the failures (nothing personal: admin IDs and errors).
	Log *slog.Logger
	// Off are the kinds of notices not sent (config admin_notices): see
	// NoticeKind. Default: every kind is sent.
	Off map[string]bool
}

// Kinds of admin notices (config admin_notices).
const (
	// NoticeVerified: a user was verified (i18n.MsgAdminVerified).
	NoticeVerified = "verified"
	// NoticeRejected: a submission was rejected for good
	// (i18n.MsgAdminRejected, i18n.MsgAdminDuplicate).
	NoticeRejected = "rejected"
	// NoticeAlarm: something needs fixing on the bot's side (any other
	// notice: a wrong Passport key, Passport errors, parked deliveries).
	NoticeAlarm = "alarm"
	// NoticeReview: a submission waits for an admin's decision
	// (i18n.MsgAdminReview); config cannot turn it off.
	NoticeReview = "review"
)

// NoticeKind returns the kind of the admin notice of the catalog's message
// id: NoticeVerified, NoticeRejected, NoticeReview or NoticeAlarm.
func NoticeKind(id string) string {
	switch id {
	case i18n.MsgAdminVerified:
		return NoticeVerified
	case i18n.MsgAdminRejected, i18n.MsgAdminDuplicate:
		return NoticeRejected
	case i18n.MsgAdminReview:
		return NoticeReview
	}
	return NoticeAlarm
}

// noticeKey marks the context of an admin notice's calls.
type noticeKey struct{}

// ContextWithNotice marks ctx as the context of an admin notice: a
// transport that paces its calls sends users' answers first (see
// IsNotice).
func ContextWithNotice(ctx context.Context) context.Context {
	return context.WithValue(ctx, noticeKey{}, true)
}

// IsNotice reports whether ctx is that of an admin notice
// (ContextWithNotice): its calls may wait behind every other.
func IsNotice(ctx context.Context) bool {
	v, _ := ctx.Value(noticeKey{}).(bool)
	return v
}

// Notify sends the catalog's message id, rendered with data, to every
// admin (see NotifyText).
func (a *Admins) Notify(ctx context.Context, key, id string, data map[string]any) {
	a.NotifyText(ctx, key, id, func(loc *i18n.Localizer) string { return loc.Text(id, data) })
}

// NotifyText sends text, rendered in the catalog's default language, to
// every admin; what, the catalog's message ID, names the notice in the
// logs and gives its kind (NoticeKind): a kind that is Off is not sent.
// key names the notice ("<update ID>:verified", "alarm:<code>:<hour>",
// ...): a notice sent again with the same key is not shown twice; "" sends
// it anew every time. The messages are sent with a context marked by
// ContextWithNotice, so that a pacing transport sends users' answers
// first. Failures are logged, not returned: an admin who cannot be reached
// must not hold up the user's answer.
func (a *Admins) NotifyText(ctx context.Context, key, what string, text func(*i18n.Localizer) string) {
	a.NotifyEach(ctx, key, what, func(loc *i18n.Localizer, _ int64) string { return text(loc) })
}

// NotifyEach is NotifyText with a text of each admin's own (such as a
// link only that admin may use): text gets the admin's user ID.
func (a *Admins) NotifyEach(ctx context.Context, key, what string, text func(loc *i18n.Localizer, admin int64) string) {
	if a == nil || len(a.IDs) == 0 || a.Off[NoticeKind(what)] {
		return
	}
	ctx = ContextWithNotice(ctx)
	loc := a.Catalog.Language(a.Catalog.DefaultLanguage())
	for _, admin := range a.IDs {
		m := Message{Text: text(loc, admin)}
		if key != "" {
			m.Key = key + ":admin:" + strconv.FormatInt(admin, 10)
		}
		if err := a.Sender.Send(ctx, User{ID: admin}, m); err != nil && a.Log != nil {
			a.Log.ErrorContext(ctx, "handlers: cannot notify an admin", slog.Int64("admin_id", admin),
				slog.String("notice", what), slog.String("error", err.Error()))
		}
	}
}
