package botapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
)

// How the keyed messages are kept from being sent twice (see Transport).
const (
	// sentKeep is how long a keyed message is remembered as sent.
	sentKeep = 7 * 24 * time.Hour
	// sendLock is how long one sender holds a key while it sends: the
	// send is cut short before it ends.
	sendLock = 2 * time.Minute
	// sendWithin bounds the sendMessage of a keyed message, within the
	// lock.
	sendWithin = sendLock - 15*time.Second
	// lockPause is how often a sender waiting for another one's lock
	// looks again.
	lockPause = 250 * time.Millisecond
)

// Transport is kycbot's transport on the Bot API: what the pipeline asks
// of Telegram, through a Client.
//
// The Bot API has no random_id, by which Telegram sends a message once
// however often it is sent (the MTProto transport relies on it). The
// Transport keeps the same promise as far as it can: a message with a
// key (handlers.Message.Key) is recorded in Redis once sent, with its
// message ID (store.SentMessages: under a keyed hash of the key, sealed,
// for a week), and a keyed message already recorded is not sent again
// (SendEditable returns the recorded ID); while one sender sends a key,
// another sender of the same key (another instance handling the same
// update) waits for its record. What remains: a crash (or Redis lost)
// between sendMessage and the record, or a sendMessage whose answer was
// lost (a cut connection, a 5xx after Telegram sent it), sends that one
// message twice when it is sent again. When Redis cannot be reached, a keyed
// message is not sent (the error wraps store.ErrUnavailable, and the
// update is handled again later).
type Transport struct {
	c    *Client
	sent store.SentMessages
	log  *slog.Logger

	mu   sync.Mutex
	self *bot.Self
}

var _ bot.Transport = (*Transport)(nil)

// NewTransport returns the transport of the bot kyc on the Bot API client
// c (with the bot's token). Sent messages are recorded in kyc's store.
func NewTransport(kyc *bot.Bot, c *Client) *Transport {
	return &Transport{c: c, sent: kyc.Store().Sent(), log: kyc.Logger()}
}

// Self implements bot.Transport: getMe, asked once.
func (t *Transport) Self(ctx context.Context) (bot.Self, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.self != nil {
		return *t.self, nil
	}
	u, err := t.c.GetMe(ctx)
	if err != nil {
		return bot.Self{}, err
	}
	if !u.IsBot || u.ID <= 0 {
		return bot.Self{}, errors.New("botapi: getMe: the token is not a bot's: use the token @BotFather gave")
	}
	t.self = &bot.Self{ID: u.ID, Username: u.Username}
	return *t.self, nil
}

// Resolve implements bot.Transport: the Bot API needs only the user's ID.
func (t *Transport) Resolve(_ context.Context, u handlers.User) (handlers.User, error) {
	return u, nil
}

// Send implements handlers.Sender with sendMessage (see Transport for
// keyed messages).
func (t *Transport) Send(ctx context.Context, to handlers.User, m handlers.Message) error {
	_, err := t.send(ctx, to, m)
	return err
}

// SendEditable implements handlers.Editor with sendMessage: the message's
// ID, or the recorded one of a keyed message sent before.
func (t *Transport) SendEditable(ctx context.Context, to handlers.User, m handlers.Message) (int, error) {
	return t.send(ctx, to, m)
}

func (t *Transport) send(ctx context.Context, to handlers.User, m handlers.Message) (int, error) {
	p := SendMessageParams{ChatID: to.ID, Text: m.Text, ReplyMarkup: inlineKeyboard(m.Buttons)}
	if m.Key == "" {
		return t.sendMessage(ctx, p)
	}
	for {
		c, err := t.sent.Claim(ctx, m.Key, sendLock)
		if err != nil {
			return 0, fmt.Errorf("botapi: sendMessage to user %d: %w", to.ID, err)
		}
		if c.Found {
			return c.MsgID, nil
		}
		if c.Held {
			return t.sendHeld(ctx, m.Key, c.Token, p)
		}
		// Another sender sends it now: wait for its record (or for the
		// lock to go, when that send failed).
		if err := wait.Sleep(ctx, lockPause); err != nil {
			return 0, fmt.Errorf("botapi: sendMessage to user %d: waiting for another sender of the same message: %w", to.ID, err)
		}
	}
}

// sendHeld sends the message of key, whose lock the caller holds, and
// records it.
func (t *Transport) sendHeld(ctx context.Context, key, token string, p SendMessageParams) (int, error) {
	sctx, cancel := context.WithTimeout(ctx, sendWithin)
	id, err := t.sendMessage(sctx, p)
	cancel()
	if err != nil {
		if rerr := t.sent.Release(context.WithoutCancel(ctx), key, token); rerr != nil {
			t.log.WarnContext(ctx, "botapi: cannot release a message's send lock; it expires by itself", slog.String("error", rerr.Error()))
		}
		return 0, err
	}
	if err := t.sent.Record(context.WithoutCancel(ctx), key, id, sentKeep); err != nil {
		// Sent: only its record is missing (sent twice if the update is
		// handled again).
		t.log.WarnContext(ctx, "botapi: message sent but not recorded", slog.Int64("user_id", p.ChatID), slog.String("error", err.Error()))
	}
	return id, nil
}

func (t *Transport) sendMessage(ctx context.Context, p SendMessageParams) (int, error) {
	msg, err := t.c.SendMessage(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("to user %d: %w", p.ChatID, err)
	}
	return msg.MessageID, nil
}

// inlineKeyboard returns the inline keyboard of rows of buttons, nil for
// none: a callback button when Data is set, else a URL button.
func inlineKeyboard(rows [][]handlers.Button) *InlineKeyboardMarkup {
	var kb InlineKeyboardMarkup
	for _, r := range rows {
		if len(r) == 0 {
			continue
		}
		row := make([]InlineKeyboardButton, 0, len(r))
		for _, b := range r {
			if b.Data != "" {
				row = append(row, InlineKeyboardButton{Text: b.Text, CallbackData: b.Data})
			} else {
				row = append(row, InlineKeyboardButton{Text: b.Text, URL: b.URL})
			}
		}
		kb.InlineKeyboard = append(kb.InlineKeyboard, row)
	}
	if len(kb.InlineKeyboard) == 0 {
		return nil
	}
	return &kb
}

// Edit implements handlers.Editor with editMessageText: the text, and the
// buttons of m when it has any. An edit Telegram answers "message is not
// modified" (the same edit made before, by this or another instance)
// succeeds.
func (t *Transport) Edit(ctx context.Context, to handlers.User, msgID int, m handlers.Message) error {
	err := t.c.EditMessageText(ctx, EditMessageTextParams{ChatID: to.ID, MessageID: msgID, Text: m.Text, ReplyMarkup: inlineKeyboard(m.Buttons)})
	if e, ok := AsError(err); ok && e.Code == 400 && strings.Contains(e.Description, "message is not modified") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("message %d to user %d: %w", msgID, to.ID, err)
	}
	return nil
}

// Download implements bot.Transport: getFile of the Passport file, then
// the file streamed into w.
func (t *Transport) Download(ctx context.Context, f *passport.File, w io.Writer) error {
	if f.FileID == "" {
		return errors.New("botapi: download a Passport file: it has no Bot API file_id (a submission received over MTProto?)")
	}
	info, err := t.c.GetFile(ctx, f.FileID)
	if err != nil {
		return err
	}
	_, err = t.c.DownloadFile(ctx, info.FilePath, w)
	return err
}

// SetSecureValueErrors implements bot.Transport with
// setPassportDataErrors (PassportElementErrors converts the errors).
func (t *Transport) SetSecureValueErrors(ctx context.Context, to handlers.User, errs []tg.SecureValueErrorClass) error {
	pe, err := PassportElementErrors(errs)
	if err != nil {
		return fmt.Errorf("botapi: setPassportDataErrors for user %d: %w", to.ID, err)
	}
	if err := t.c.SetPassportDataErrors(ctx, to.ID, pe); err != nil {
		return fmt.Errorf("for user %d: %w", to.ID, err)
	}
	return nil
}

// AnswerCallback implements bot.Transport with answerCallbackQuery. The
// query ID goes back in the decimal form Telegram gave (see Take): signed,
// or, for a negative ID refused so, unsigned.
func (t *Transport) AnswerCallback(ctx context.Context, queryID int64, text string) error {
	err := t.c.AnswerCallbackQuery(ctx, AnswerCallbackQueryParams{CallbackQueryID: strconv.FormatInt(queryID, 10), Text: text})
	if e, ok := AsError(err); ok && e.Code == 400 && queryID < 0 {
		err = t.c.AnswerCallbackQuery(ctx, AnswerCallbackQueryParams{CallbackQueryID: strconv.FormatUint(uint64(queryID), 10), Text: text})
	}
	return err
}

func botCommands(cmds []handlers.BotCommand) []BotCommand {
	out := make([]BotCommand, len(cmds))
	for i, c := range cmds {
		out[i] = BotCommand{Command: c.Command, Description: c.Description}
	}
	return out
}

// SetCommands implements bot.Transport with setMyCommands (default scope).
func (t *Transport) SetCommands(ctx context.Context, langCode string, cmds []handlers.BotCommand) error {
	p := SetMyCommandsParams{Commands: botCommands(cmds), Scope: &BotCommandScope{Type: "default"}, LanguageCode: langCode}
	if err := t.c.SetMyCommands(ctx, p); err != nil {
		return fmt.Errorf("language_code %q: %w", langCode, err)
	}
	return nil
}

// SetUserCommands implements bot.Transport with setMyCommands in the
// scope of the user's chat.
func (t *Transport) SetUserCommands(ctx context.Context, to handlers.User, langCode string, cmds []handlers.BotCommand) error {
	p := SetMyCommandsParams{Commands: botCommands(cmds), Scope: &BotCommandScope{Type: "chat", ChatID: to.ID}, LanguageCode: langCode}
	if err := t.c.SetMyCommands(ctx, p); err != nil {
		return fmt.Errorf("user %d, language_code %q: %w", to.ID, langCode, err)
	}
	return nil
}

// SetBadge implements handlers.Badger with verifyUser. Telegram's
// BOT_VERIFIER_FORBIDDEN comes back wrapping handlers.ErrBadgeForbidden.
func (t *Transport) SetBadge(ctx context.Context, to handlers.User, description string) error {
	return badgeError(t.c.VerifyUser(ctx, to.ID, description), to.ID)
}

// RemoveBadge implements handlers.Badger with removeUserVerification.
func (t *Transport) RemoveBadge(ctx context.Context, to handlers.User) error {
	return badgeError(t.c.RemoveUserVerification(ctx, to.ID), to.ID)
}

func badgeError(err error, userID int64) error {
	if err == nil {
		return nil
	}
	if e, ok := AsError(err); ok && strings.Contains(e.Description, "BOT_VERIFIER_FORBIDDEN") {
		err = fmt.Errorf("%w: %w", handlers.ErrBadgeForbidden, err)
	}
	return fmt.Errorf("for user %d: %w", userID, err)
}
