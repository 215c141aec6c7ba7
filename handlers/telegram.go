package handlers

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
)

// Button is an inline button under a chat message: a URL button, or a
// callback button when Data is set.
type Button struct {
	// Text is the label.
	Text string
	// URL is opened when the button is tapped (URL buttons).
	URL string
	// Data, when not empty, makes a callback button: tapping it sends
	// Data back to the bot (UpdateBotCallbackQuery) and URL is ignored. At
	// most 64 bytes.
	Data string
}

// Telegram is the part of the Telegram client API the handlers use.
// NewTelegram implements it with gotd; tests use a fake.
//
// A user whose AccessHash is 0 is looked up in the AccessHashes given to
// NewTelegram (WithAccessHashes), for messages sent outside an update
// (request page outcomes, admin alarms).
type Telegram interface {
	// SetSecureValueErrors calls users.setSecureValueErrors for user.
	SetSecureValueErrors(ctx context.Context, user *tg.InputUser, errs []tg.SecureValueErrorClass) error
	// SendText sends a plain text message to user, with the buttons in
	// one row under it.
	SendText(ctx context.Context, user *tg.InputUser, text string, buttons ...Button) error
	// Download writes the encrypted bytes of a Passport file to w. dcID
	// is the data center the file lives in (a hint: implementations may
	// follow FILE_MIGRATE instead).
	Download(ctx context.Context, loc *tg.InputSecureFileLocation, dcID int, w io.Writer) error
	// SendButtons sends a plain text message to user with rows of buttons
	// under it (no buttons when rows is empty).
	SendButtons(ctx context.Context, user *tg.InputUser, text string, rows [][]Button) error
	// AnswerCallback answers a callback query (messages.setBotCallbackAnswer)
	// with a short notice shown by the app, or none when text is empty.
	AnswerCallback(ctx context.Context, queryID int64, text string) error
	// SetBotCommands registers the bot's commands for the users whose
	// language is langCode (a two-letter ISO 639-1 code; "" for every
	// user without commands of their own), with bots.setBotCommands in
	// the default scope.
	SetBotCommands(ctx context.Context, langCode string, cmds []tg.BotCommand) error
	// SetUserBotCommands registers the bot's commands for one user's
	// private chat with the bot (bots.setBotCommands in the scope
	// BotCommandScopePeer), for the user's app language langCode ("" for
	// any). Telegram prefers them to the default scope's.
	SetUserBotCommands(ctx context.Context, user *tg.InputUser, langCode string, cmds []tg.BotCommand) error
	// ResolveUser returns user with its access hash looked up in the
	// AccessHashes when it has none, or user as given when none is known
	// (or no AccessHashes were given). Callers use it to keep a hash that
	// is about to be erased (see store.Store.DeleteUser).
	ResolveUser(ctx context.Context, user *tg.InputUser) (*tg.InputUser, error)
}

// AccessHashes looks up the access hash of a user the bot has seen (the
// bot adapts store.UserAccessHasher, bound to its own user ID, to it).
type AccessHashes interface {
	// GetUserAccessHash returns the access hash of userID, and whether
	// one is known.
	GetUserAccessHash(ctx context.Context, userID int64) (hash int64, found bool, err error)
}

// TelegramOption configures NewTelegram.
type TelegramOption func(*gotdTelegram)

// WithAccessHashes makes the Telegram look up the access hash of users
// given without one (AccessHash 0) in h before calling Telegram.
func WithAccessHashes(h AccessHashes) TelegramOption {
	return func(t *gotdTelegram) { t.hashes = h }
}

// gotdTelegram implements Telegram with a gotd client.
type gotdTelegram struct {
	api    *tg.Client
	dl     *downloader.Downloader
	rand   io.Reader
	hashes AccessHashes // nil: users are sent as given
}

// NewTelegram returns the Telegram of a gotd client. dl may be nil
// (downloader.NewDownloader() is used). Message random IDs come from
// crypto/rand.
func NewTelegram(api *tg.Client, dl *downloader.Downloader, opts ...TelegramOption) Telegram {
	if dl == nil {
		dl = downloader.NewDownloader()
	}
	t := &gotdTelegram{api: api, dl: dl, rand: rand.Reader}
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	return t
}

// resolve fills in the access hash of a user given without one, from the
// AccessHashes. A user the AccessHashes do not know is sent as given.
func (t *gotdTelegram) resolve(ctx context.Context, user *tg.InputUser) (*tg.InputUser, error) {
	if user.AccessHash != 0 || t.hashes == nil {
		return user, nil
	}
	hash, found, err := t.hashes.GetUserAccessHash(ctx, user.UserID)
	if err != nil {
		return nil, fmt.Errorf("access hash of user %d: %w", user.UserID, err)
	}
	if !found {
		return user, nil
	}
	return &tg.InputUser{UserID: user.UserID, AccessHash: hash}, nil
}

// ResolveUser implements Telegram.
func (t *gotdTelegram) ResolveUser(ctx context.Context, user *tg.InputUser) (*tg.InputUser, error) {
	return t.resolve(ctx, user)
}

// SetSecureValueErrors implements Telegram.
func (t *gotdTelegram) SetSecureValueErrors(ctx context.Context, user *tg.InputUser, errs []tg.SecureValueErrorClass) error {
	user, err := t.resolve(ctx, user)
	if err != nil {
		return fmt.Errorf("users.setSecureValueErrors: %w", err)
	}
	if _, err := t.api.UsersSetSecureValueErrors(ctx, &tg.UsersSetSecureValueErrorsRequest{ID: user, Errors: errs}); err != nil {
		return fmt.Errorf("users.setSecureValueErrors for user %d: %w", user.UserID, err)
	}
	return nil
}

// SendText implements Telegram.
func (t *gotdTelegram) SendText(ctx context.Context, user *tg.InputUser, text string, buttons ...Button) error {
	var rows [][]Button
	if len(buttons) > 0 {
		rows = [][]Button{buttons}
	}
	return t.SendButtons(ctx, user, text, rows)
}

// SendButtons implements Telegram.
func (t *gotdTelegram) SendButtons(ctx context.Context, user *tg.InputUser, text string, rows [][]Button) error {
	user, err := t.resolve(ctx, user)
	if err != nil {
		return fmt.Errorf("messages.sendMessage: %w", err)
	}
	var b [8]byte
	if _, err := io.ReadFull(t.rand, b[:]); err != nil {
		return fmt.Errorf("message random ID: %w", err)
	}
	req := &tg.MessagesSendMessageRequest{
		Peer:     &tg.InputPeerUser{UserID: user.UserID, AccessHash: user.AccessHash},
		Message:  text,
		RandomID: int64(binary.LittleEndian.Uint64(b[:])),
	}
	var markup tg.ReplyInlineMarkup
	for _, r := range rows {
		if len(r) == 0 {
			continue
		}
		row := tg.KeyboardInlineButtonRow{Buttons: make([]tg.KeyboardInlineButton, 0, len(r))}
		for _, bt := range r {
			var typ tg.InlineButtonTypeClass = &tg.InlineButtonTypeURL{URL: bt.URL}
			if bt.Data != "" {
				typ = &tg.InlineButtonTypeCallback{Data: []byte(bt.Data)}
			}
			row.Buttons = append(row.Buttons, tg.KeyboardInlineButton{Text: bt.Text, Type: typ})
		}
		markup.Rows = append(markup.Rows, row)
	}
	if len(markup.Rows) > 0 {
		req.SetReplyMarkup(&markup)
	}
	if _, err := t.api.MessagesSendMessage(ctx, req); err != nil {
		return fmt.Errorf("messages.sendMessage to user %d: %w", user.UserID, err)
	}
	return nil
}

// Download implements Telegram. FILE_MIGRATE is followed by gotd, so dcID
// is not used.
func (t *gotdTelegram) Download(ctx context.Context, loc *tg.InputSecureFileLocation, _ int, w io.Writer) error {
	if _, err := t.dl.Download(t.api, loc).Stream(ctx, w); err != nil {
		return fmt.Errorf("download secure file %d: %w", loc.ID, err)
	}
	return nil
}

// AnswerCallback implements Telegram.
func (t *gotdTelegram) AnswerCallback(ctx context.Context, queryID int64, text string) error {
	req := &tg.MessagesSetBotCallbackAnswerRequest{QueryID: queryID}
	if text != "" {
		req.SetMessage(text)
	}
	if _, err := t.api.MessagesSetBotCallbackAnswer(ctx, req); err != nil {
		return fmt.Errorf("messages.setBotCallbackAnswer: %w", err)
	}
	return nil
}

// SetBotCommands implements Telegram.
func (t *gotdTelegram) SetBotCommands(ctx context.Context, langCode string, cmds []tg.BotCommand) error {
	req := &tg.BotsSetBotCommandsRequest{Scope: &tg.BotCommandScopeDefault{}, LangCode: langCode, Commands: cmds}
	if _, err := t.api.BotsSetBotCommands(ctx, req); err != nil {
		return fmt.Errorf("bots.setBotCommands (lang_code %q): %w", langCode, err)
	}
	return nil
}

// SetUserBotCommands implements Telegram.
func (t *gotdTelegram) SetUserBotCommands(ctx context.Context, user *tg.InputUser, langCode string, cmds []tg.BotCommand) error {
	user, err := t.resolve(ctx, user)
	if err != nil {
		return fmt.Errorf("bots.setBotCommands: %w", err)
	}
	req := &tg.BotsSetBotCommandsRequest{
		Scope:    &tg.BotCommandScopePeer{Peer: &tg.InputPeerUser{UserID: user.UserID, AccessHash: user.AccessHash}},
		LangCode: langCode,
		Commands: cmds,
	}
	if _, err := t.api.BotsSetBotCommands(ctx, req); err != nil {
		return fmt.Errorf("bots.setBotCommands for user %d (lang_code %q): %w", user.UserID, langCode, err)
	}
	return nil
}
