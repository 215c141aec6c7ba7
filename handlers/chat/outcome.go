package chat

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// Outcome is what the request page learned from the Telegram app after the
// Passport form (its callback_url).
type Outcome struct {
	// ID names the update (the queue entry): the answers are idempotent
	// by it.
	ID string
	// User is the user the request was issued to.
	User handlers.User
	// RequestID is the request the outcome is about.
	RequestID string
	// Result is OutcomeSuccess, OutcomeCancel or OutcomeError.
	Result string
	// Error is Telegram's error code for OutcomeError, such as
	// "PUBLIC_KEY_INVALID", "BOT_INVALID", "PUBLIC_KEY_REQUIRED",
	// "SCOPE_EMPTY", "NONCE_EMPTY" or "UNKNOWN".
	Error string
	// Lang is the request's language tag, if any.
	Lang string
}

// Outcome results.
const (
	OutcomeSuccess = "success"
	OutcomeCancel  = "cancel"
	OutcomeError   = "error"
)

// outcomeCodes are the error codes of Outcome.Error kept as they are (any
// other is audited as UNKNOWN); alarm says whether the admins must act:
// the bot or its public key is misconfigured, so nobody can verify.
var outcomeCodes = map[string]struct{ alarm bool }{
	"BOT_INVALID":         {true},
	"PUBLIC_KEY_REQUIRED": {true},
	"PUBLIC_KEY_INVALID":  {true},
	"SCOPE_EMPTY":         {false},
	"NONCE_EMPTY":         {false},
	"UNKNOWN":             {false},
}

// OnOutcome reacts to what the request page learned from the Telegram app
// after the Passport form:
//
//   - success: nothing. The data reaches the bot as a submission, which
//     the verification flow answers; the page already told the user to go
//     back to the chat.
//   - cancel: when the outcome's request is still the user's live one, a
//     message (MsgOutcomeCancel) with a fresh request button of the same
//     level and ref. The fresh request supersedes the old one. An outcome
//     of an older request is ignored.
//   - error: a message (MsgOutcomeError); for BOT_INVALID,
//     PUBLIC_KEY_REQUIRED and PUBLIC_KEY_INVALID every admin gets
//     MsgAdminPassportError, at most once per AlertInterval and code,
//     whichever instance sees it.
//
// The same outcome reported twice (a reloaded page) reaches the bot once:
// the queue drops the repeat. Cancels and errors are audited
// (outcome_cancel, outcome_error with the code). It returns an error when
// the store or Telegram failed.
func (c *Conversation) OnOutcome(ctx context.Context, o Outcome) error {
	if o.User.ID <= 0 {
		return fmt.Errorf("chat: outcome without a user (user ID %d)", o.User.ID)
	}
	cv := c.newConv(ctx, o.ID, o.User)
	cv.Log = cv.Log.With(slog.String("command", "outcome"), slog.String("result", o.Result))
	switch o.Result {
	case OutcomeSuccess:
		cv.Log.DebugContext(ctx, "chat: passport form sent; the verification flow answers")
		return nil
	case OutcomeCancel, OutcomeError:
	default:
		return fmt.Errorf("chat: outcome of user %d: unknown result %q", o.User.ID, o.Result)
	}
	if o.Lang != "" {
		cv.SetLanguage(o.Lang)
	}
	if err := cv.load(ctx); err != nil {
		return fmt.Errorf("chat: outcome of user %d: %w", o.User.ID, err)
	}
	if o.Result == OutcomeCancel {
		return cv.outcomeCancel(ctx, o)
	}
	return cv.outcomeError(ctx, o)
}

func (cv *conv) outcomeCancel(ctx context.Context, o Outcome) error {
	live, ok, err := cv.c.cfg.Store.LiveRequest(ctx, cv.User.ID)
	if err != nil {
		return fmt.Errorf("chat: cancel outcome of user %d: %w", cv.User.ID, err)
	}
	if !ok || live.ID != o.RequestID {
		cv.Log.DebugContext(ctx, "chat: cancel outcome of a request no longer live ignored")
		return nil
	}
	cv.audit(ctx, store.Event{Kind: "outcome_cancel", Level: live.Level, Ref: live.Ref,
		Detail: map[string]string{"nonce_hash": live.NonceHash()}})
	cv.Log.InfoContext(ctx, "chat: passport form closed without sharing")
	return cv.request(ctx, live.Level, live.Ref, "outcome_cancel", cv.text(i18n.MsgOutcomeCancel, nil))
}

func (cv *conv) outcomeError(ctx context.Context, o Outcome) error {
	c := cv.c
	code := o.Error
	kind, known := outcomeCodes[code]
	if !known {
		code = "UNKNOWN"
	}
	cv.audit(ctx, store.Event{Kind: "outcome_error", Codes: []string{code}})
	cv.Log.WarnContext(ctx, "chat: Telegram Passport reported an error", slog.String("error_code", code))
	err := cv.say(ctx, i18n.MsgOutcomeError, nil)
	if kind.alarm {
		cv.Log.ErrorContext(ctx, "chat: Telegram Passport refuses the bot's configuration; alarming the admins", slog.String("error_code", code))
		c.cfg.Admins.Notify(ctx, c.alarmKey(code), i18n.MsgAdminPassportError, map[string]any{"Code": code})
	}
	return err
}
