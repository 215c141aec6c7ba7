package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// User is a Telegram user as the handlers know them: whoever sent the
// update being handled, or someone the bot writes to.
type User struct {
	// ID is the Telegram user ID.
	ID int64
	// AccessHash is the MTProto access hash the bot has for the user, from
	// the update's entities; 0 when not known (an MTProto transport looks
	// it up; the Bot API needs none).
	AccessHash int64
	// LangCode is the language of the user's Telegram app (an IETF tag
	// such as "en" or "pt-br"), if known.
	LangCode string
}

// Button is an inline button under a message: a URL button, or a callback
// button when Data is set.
type Button struct {
	// Text is the label.
	Text string
	// URL is opened when the button is tapped (URL buttons).
	URL string
	// Data, when not empty, makes a callback button: tapping it sends Data
	// back to the bot (a callback query) and URL is ignored. At most 64
	// bytes.
	Data string
}

// Message is a message the bot sends to a user.
type Message struct {
	// Text is the plain text.
	Text string
	// Buttons are rows of inline buttons under it; none when empty.
	Buttons [][]Button
	// Key makes the send idempotent: messages sent with the same Key reach
	// the user once, however often (and by whichever instance) they are
	// sent, because the transport derives Telegram's random_id from it and
	// Telegram answers a repeated random_id with the message it already
	// sent. Give the ID of the update being handled and the message's
	// place in the answer ("<update ID>:verdict"), so that an update
	// handled again (its worker died after telling the user) tells the
	// user nothing twice. Empty: every send is a new message.
	Key string
}

// Sender sends messages to users. The transports (package bot/gotd for
// MTProto) implement it.
type Sender interface {
	// Send sends m to the user to.
	Send(ctx context.Context, to User, m Message) error
}

// Editor sends messages that are edited later, and edits them
// (messages.editMessage): the verification's "received, checking" message
// becomes its verdict. The transports (package bot/gotd) implement it.
type Editor interface {
	// SendEditable sends m like Sender.Send and returns the message's ID
	// in the chat with to. A message whose Key was sent before is not sent
	// again, and its ID comes back; 0 when the transport cannot tell it
	// (then edit nothing: send the next message instead).
	SendEditable(ctx context.Context, to User, m Message) (msgID int, err error)
	// Edit replaces the text and buttons of the bot's message msgID in the
	// chat with to (m.Key is not used: an edit is idempotent by itself).
	// An edit that changes nothing, such as the same edit made again,
	// succeeds. It fails when the message cannot be edited (deleted by the
	// user, too old): send a new message then.
	Edit(ctx context.Context, to User, msgID int, m Message) error
}

// BotCommand is a command of the bot's menu, with its description in one
// language.
type BotCommand struct {
	Command     string
	Description string
}

// ErrRetryLater is wrapped by the error of a handler that could not handle
// an update now (Redis unreachable, or the context ended before the user
// was told the outcome) and that may safely be given the same update
// again: the user was told at most that it takes longer. Package bot keeps
// the update in the queue and hands it again later; anything else is
// final (the user was told what to do).
var ErrRetryLater = errors.New("handlers: cannot handle the update now, retry later")

// retryKey is the context key of ContextWithRetry.
type retryKey struct{}

// ContextWithRetry returns a copy of ctx that says the caller hands the
// update again when a step fails with ErrRetryLater, soon enough for the
// user to wait: a step whose storage is unreachable then says nothing and
// fails with ErrRetryLater (Exchange.Failed) instead of asking the user to
// try again later. Package bot sets it for an update's first minute, the
// time a Redis failover takes.
func ContextWithRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, retryKey{}, true)
}

// willRetry reports whether ctx comes from ContextWithRetry.
func willRetry(ctx context.Context) bool {
	v, _ := ctx.Value(retryKey{}).(bool)
	return v
}

// TextMessage is a text message a user sent the bot in their private
// chat with it, as the handlers get it.
type TextMessage struct {
	// ID names the update (the queue entry): the answers are idempotent
	// by it.
	ID string
	// From is the user.
	From User
	// MsgID is the Telegram message ID.
	MsgID int
	// Text is the message's text.
	Text string
}

// CallbackQuery is a tap on one of the bot's callback buttons.
type CallbackQuery struct {
	// ID names the update (the queue entry).
	ID string
	// From is the user who tapped.
	From User
	// QueryID is Telegram's callback query ID, to answer it.
	QueryID int64
	// Data is the button's data.
	Data string
}

// Title is how a level is shown to people: its title in titles (the
// config's levels.<name>.title), else its name.
func Title(titles map[string]string, level string) string {
	if t := titles[level]; t != "" {
		return t
	}
	return level
}

// Setting is a required setting of a step's config, and whether it is
// set (see Require).
type Setting struct {
	Name string
	Set  bool
}

// Require fails, naming every setting that is not set, for the config of
// step (such as "verification").
func Require(step string, settings ...Setting) error {
	var missing []string
	for _, s := range settings {
		if !s.Set {
			missing = append(missing, s.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: the config lacks %s", step, strings.Join(missing, ", "))
	}
	return nil
}

// Defaults fills in the settings the steps' configs share when they are
// not set: the clock (time.Now), the logger (one that drops everything)
// and, when obs is not nil, the observer (NopObserver).
func Defaults(now *func() time.Time, log **slog.Logger, obs *Observer) {
	if *now == nil {
		*now = time.Now
	}
	if *log == nil {
		*log = slog.New(slog.DiscardHandler)
	}
	if obs != nil && *obs == nil {
		*obs = NopObserver{}
	}
}
