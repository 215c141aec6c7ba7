package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/admin"
	"github.com/kycbot/kycbot/handlers/chat"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
)

// Kinds of Update.
const (
	// KindSubmission is a Telegram Passport submission.
	KindSubmission = "submission"
	// KindMessage is a text message in the user's private chat with the
	// bot.
	KindMessage = "message"
	// KindCallback is a tap on one of the bot's callback buttons.
	KindCallback = "callback"
	// KindOutcome is what the request page learned from the Telegram app
	// after the Passport form.
	KindOutcome = "outcome"
	// KindReview is an admin's decision on a manual review, from the
	// review page.
	KindReview = "review"
)

// Update is one kycbot update, in the form every transport gives it
// (Enqueue): the queue holds it, sealed, until a worker of any instance
// has handled it.
type Update struct {
	// Kind is one of the Kind* constants.
	Kind string `json:"kind"`
	// From is the user the update comes from.
	From handlers.User `json:"from"`
	// MsgID is the Telegram message ID (submissions and messages).
	MsgID int `json:"msg_id,omitempty"`
	// Text is the message's text (messages).
	Text string `json:"text,omitempty"`
	// QueryID is the callback query's ID (callbacks).
	QueryID int64 `json:"query_id,omitempty"`
	// Data is the button's data (callbacks).
	Data string `json:"data,omitempty"`
	// Submission is the encrypted Passport data (submissions).
	Submission *passport.EncryptedSubmission `json:"submission,omitempty"`
	// Outcome is the request page's report (outcomes).
	Outcome *PageOutcome `json:"outcome,omitempty"`
	// Review is an admin's decision (reviews); From is the reviewed user.
	Review *ReviewDecision `json:"review,omitempty"`
}

// ReviewDecision is an admin's decision on a manual review
// (verification.Decision without its update ID).
type ReviewDecision struct {
	ReviewID string   `json:"review_id"`
	Admin    int64    `json:"admin"`
	Action   string   `json:"action"`
	Reason   string   `json:"reason,omitempty"`
	Fix      []string `json:"fix,omitempty"`
}

// PageOutcome is what the request page learned from the Telegram app.
type PageOutcome struct {
	// RequestID is the request the outcome is about.
	RequestID string `json:"request_id"`
	// Result is "success", "cancel" or "error".
	Result string `json:"result"`
	// Error is Telegram's error code of an "error" result.
	Error string `json:"error,omitempty"`
	// Lang is the request's language.
	Lang string `json:"lang,omitempty"`
}

// How long the queue remembers an update, to drop its repeats: a
// submission delivered again after a restart of the receiver (however
// long it was down, within a week), a message or a tap within a day.
const (
	submissionKeep = 7 * 24 * time.Hour
	updateKeep     = 24 * time.Hour
)

// key names u for deduplication (the Telegram message, callback query or
// request outcome it is) and says how long it is kept.
func (u Update) key() (string, time.Duration, error) {
	uid := strconv.FormatInt(u.From.ID, 10)
	switch u.Kind {
	case KindSubmission:
		if u.Submission == nil || u.MsgID <= 0 {
			return "", 0, errors.New("a submission needs its message ID and data")
		}
		return "m:" + uid + ":" + strconv.Itoa(u.MsgID), submissionKeep, nil
	case KindMessage:
		if u.MsgID <= 0 {
			return "", 0, errors.New("a message needs its message ID")
		}
		return "m:" + uid + ":" + strconv.Itoa(u.MsgID), updateKeep, nil
	case KindCallback:
		if u.QueryID == 0 {
			return "", 0, errors.New("a callback needs its query ID")
		}
		return "c:" + strconv.FormatInt(u.QueryID, 10), updateKeep, nil
	case KindOutcome:
		if u.Outcome == nil || u.Outcome.RequestID == "" {
			return "", 0, errors.New("an outcome needs its request ID")
		}
		o := u.Outcome
		return "o:" + o.RequestID + ":" + o.Result + ":" + o.Error, updateKeep, nil
	case KindReview:
		if u.Review == nil || u.Review.ReviewID == "" {
			return "", 0, errors.New("a review decision needs its review ID")
		}
		// One decision per review: a second one is dropped.
		return "r:" + uid + ":" + u.Review.ReviewID, submissionKeep, nil
	}
	return "", 0, fmt.Errorf("unknown kind %q", u.Kind)
}

// Enqueue puts kycbot updates in the queue, in one Redis round trip: an
// update already queued (the same Telegram message, callback query or
// request outcome, received again after a restart or by a second
// receiver) is dropped. Any instance's Run handles them. When it fails
// (Redis unreachable: the error wraps store.ErrUnavailable) nothing is
// lost by calling it again with the same updates. Transports call it
// from their hooks for the updates Wants accepts.
func (b *Bot) Enqueue(ctx context.Context, updates ...Update) error {
	items := make([]store.QueueItem, 0, len(updates))
	for _, u := range updates {
		if u.From.ID <= 0 {
			return fmt.Errorf("bot: enqueue: an update from user %d", u.From.ID)
		}
		k, keep, err := u.key()
		if err != nil {
			return fmt.Errorf("bot: enqueue a %s update: %w", u.Kind, err)
		}
		payload, err := json.Marshal(u)
		if err != nil {
			return fmt.Errorf("bot: enqueue a %s update: %w", u.Kind, err)
		}
		items = append(items, store.QueueItem{Key: k, UserID: u.From.ID, Payload: payload, Keep: keep})
	}
	got, err := b.store.Queue().Append(ctx, items...)
	if err != nil {
		return fmt.Errorf("bot: enqueue: %w", err)
	}
	for i, a := range got {
		if !a.New {
			b.log.DebugContext(ctx, "bot: update already queued; dropped", slog.String("kind", updates[i].Kind), slog.String("update_id", a.ID))
		}
	}
	return nil
}

// Wants reports whether u is kycbot's: a Passport submission, a request
// page outcome, a kycbot command (addressed to this bot, under the name
// WithCommand gives it, unless WithoutCommand turned it off) or a tap on
// a kycbot button; with WithEverything, every text message and tap. A
// transport's hook enqueues the updates kycbot wants and gives the others
// to the host bot.
func (b *Bot) Wants(u Update) bool {
	switch u.Kind {
	case KindSubmission, KindOutcome:
		return true
	case KindMessage:
		if b.o.everything {
			return true
		}
		username := ""
		if p := b.username.Load(); p != nil {
			username = *p
		}
		p := chat.Parse(u.Text, username)
		return p.Command && (b.commands[p.Name] || slices.Contains(admin.Names(), p.Name))
	case KindCallback:
		return b.o.everything || strings.HasPrefix(u.Data, chat.DataPrefix)
	}
	return false
}

// decodeUpdate reads a queued update.
func decodeUpdate(payload []byte) (Update, error) {
	var u Update
	if err := json.Unmarshal(payload, &u); err != nil {
		return Update{}, fmt.Errorf("decode a queued update: %w", err)
	}
	if _, _, err := u.key(); err != nil {
		return Update{}, fmt.Errorf("decode a queued update: %w", err)
	}
	return u, nil
}

// commandNames returns the set of names users type for the public
// commands that are on, as renamed; a rename onto an admin command's name
// is refused.
func commandNames(renames map[string]string) (map[string]bool, error) {
	names, err := chat.CommandNames(renames)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(names))
	for cmd, name := range names {
		if slices.Contains(admin.Names(), name) {
			return nil, fmt.Errorf("command %q renamed to %q, an admin command", cmd, name)
		}
		set[name] = true
	}
	return set, nil
}
