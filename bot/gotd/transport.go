package gotd

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
)

// Transport is kycbot's transport on a gotd client: what the pipeline
// asks of Telegram, over MTProto, with the client's authorization.
// Messages carry the random_id of their idempotency key
// (bot.MessageIDs): Telegram sends one message per random_id, so a
// message sent again by any instance reaches the user once. Users given
// without an access hash are looked up in the access hashes the bot has
// seen (updates.UserAccessHasher, for the bot's own user ID).
type Transport struct {
	api    *tg.Client
	dl     *downloader.Downloader
	ids    bot.MessageIDs
	hashes updates.UserAccessHasher

	mu   sync.Mutex
	self *bot.Self
}

var _ bot.Transport = (*Transport)(nil)

// NewTransport returns the transport of the bot kyc on the gotd client api
// (logged in as the bot). Its message IDs are kyc's; users without an
// access hash are looked up in kyc's store (the hashes the updates manager
// of the standalone bot, or Hook, stored).
func NewTransport(kyc *bot.Bot, api *tg.Client) *Transport {
	return &Transport{api: api, dl: downloader.NewDownloader(), ids: kyc.MessageIDs(), hashes: kyc.Store().Sessions().UserAccessHasher()}
}

// Self implements bot.Transport: users.getUsers of the bot itself, asked
// once.
func (t *Transport) Self(ctx context.Context) (bot.Self, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.self != nil {
		return *t.self, nil
	}
	users, err := t.api.UsersGetUsers(ctx, []tg.InputUserClass{&tg.InputUserSelf{}})
	if err != nil {
		return bot.Self{}, fmt.Errorf("users.getUsers: %w", err)
	}
	for _, u := range users {
		if self, ok := u.(*tg.User); ok {
			if !self.Bot {
				return bot.Self{}, errors.New("the client is logged in as a user account, not a bot: log in with a bot token from @BotFather")
			}
			t.self = &bot.Self{ID: self.ID, Username: self.Username}
			return *t.self, nil
		}
	}
	return bot.Self{}, errors.New("users.getUsers: no user in the answer")
}

// selfID returns the bot's user ID once Self ran (0 before).
func (t *Transport) selfID() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.self == nil {
		return 0
	}
	return t.self.ID
}

// Resolve implements bot.Transport: a user without an access hash gets the
// one the bot has seen, when known.
func (t *Transport) Resolve(ctx context.Context, u handlers.User) (handlers.User, error) {
	if u.AccessHash != 0 || t.hashes == nil {
		return u, nil
	}
	self := t.selfID()
	if self == 0 {
		return u, nil
	}
	hash, found, err := t.hashes.GetUserAccessHash(ctx, self, u.ID)
	if err != nil {
		return u, fmt.Errorf("access hash of user %d: %w", u.ID, err)
	}
	if found {
		u.AccessHash = hash
	}
	return u, nil
}

func (t *Transport) inputUser(ctx context.Context, u handlers.User) (*tg.InputUser, error) {
	u, err := t.Resolve(ctx, u)
	if err != nil {
		return nil, err
	}
	return &tg.InputUser{UserID: u.ID, AccessHash: u.AccessHash}, nil
}

// randomID returns the random_id of a message: from its key, or random.
func (t *Transport) randomID(key string) (int64, error) {
	if key != "" {
		return t.ids.RandomID(key), nil
	}
	var b [8]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return 0, fmt.Errorf("message random ID: %w", err)
	}
	return int64(binary.LittleEndian.Uint64(b[:])), nil
}

// Send implements handlers.Sender with messages.sendMessage. A message
// whose random_id Telegram has seen (RANDOM_ID_DUPLICATE: the same message
// is being sent by another call) counts as sent.
func (t *Transport) Send(ctx context.Context, to handlers.User, m handlers.Message) error {
	_, err := t.send(ctx, to, m)
	return err
}

// SendEditable implements handlers.Editor with messages.sendMessage: the
// message's ID comes from the answer's updateMessageID (Telegram answers
// a random_id it has seen with the message it sent then). It is 0 when
// the answer does not tell it, or on RANDOM_ID_DUPLICATE (the same
// message being sent by another call).
func (t *Transport) SendEditable(ctx context.Context, to handlers.User, m handlers.Message) (int, error) {
	return t.send(ctx, to, m)
}

// send sends m and returns its message ID, when the answer tells it.
func (t *Transport) send(ctx context.Context, to handlers.User, m handlers.Message) (int, error) {
	user, err := t.inputUser(ctx, to)
	if err != nil {
		return 0, fmt.Errorf("messages.sendMessage: %w", err)
	}
	id, err := t.randomID(m.Key)
	if err != nil {
		return 0, err
	}
	req := &tg.MessagesSendMessageRequest{
		Peer:     &tg.InputPeerUser{UserID: user.UserID, AccessHash: user.AccessHash},
		Message:  m.Text,
		RandomID: id,
	}
	if markup := inlineMarkup(m.Buttons); markup != nil {
		req.SetReplyMarkup(markup)
	}
	res, err := t.api.MessagesSendMessage(ctx, req)
	if err != nil {
		if tgerr.Is(err, "RANDOM_ID_DUPLICATE") {
			return 0, nil
		}
		return 0, fmt.Errorf("messages.sendMessage to user %d: %w", user.UserID, err)
	}
	return sentMessageID(res, id), nil
}

// sentMessageID finds the ID of the message sent with randomID in the
// answer of messages.sendMessage: its updateMessageID, or the ID of an
// updateShortSentMessage; 0 when neither is there.
func sentMessageID(res tg.UpdatesClass, randomID int64) int {
	var updates []tg.UpdateClass
	switch r := res.(type) {
	case *tg.UpdateShortSentMessage:
		return r.ID
	case *tg.Updates:
		updates = r.Updates
	case *tg.UpdatesCombined:
		updates = r.Updates
	}
	for _, u := range updates {
		if u, ok := u.(*tg.UpdateMessageID); ok && u.RandomID == randomID {
			return u.ID
		}
	}
	return 0
}

// inlineMarkup returns the inline keyboard of rows of buttons, nil for
// none.
func inlineMarkup(rows [][]handlers.Button) *tg.ReplyInlineMarkup {
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
	if len(markup.Rows) == 0 {
		return nil
	}
	return &markup
}

// Edit implements handlers.Editor with messages.editMessage: the text,
// and the buttons of m when it has any. An
// edit Telegram answers MESSAGE_NOT_MODIFIED (the same edit made before,
// by this or another instance) succeeds.
func (t *Transport) Edit(ctx context.Context, to handlers.User, msgID int, m handlers.Message) error {
	user, err := t.inputUser(ctx, to)
	if err != nil {
		return fmt.Errorf("messages.editMessage: %w", err)
	}
	req := &tg.MessagesEditMessageRequest{
		Peer: &tg.InputPeerUser{UserID: user.UserID, AccessHash: user.AccessHash},
		ID:   msgID,
	}
	req.SetMessage(m.Text)
	if markup := inlineMarkup(m.Buttons); markup != nil {
		req.SetReplyMarkup(markup)
	}
	if _, err := t.api.MessagesEditMessage(ctx, req); err != nil {
		if tgerr.Is(err, "MESSAGE_NOT_MODIFIED") {
			return nil
		}
		return fmt.Errorf("messages.editMessage of message %d to user %d: %w", msgID, user.UserID, err)
	}
	return nil
}

// Download implements bot.Transport: upload.getFile of the secure file,
// streamed (FILE_MIGRATE is followed by gotd).
func (t *Transport) Download(ctx context.Context, f *passport.File, w io.Writer) error {
	if _, err := t.dl.Download(t.api, f.Location()).Stream(ctx, w); err != nil {
		return fmt.Errorf("download secure file %d: %w", f.ID, err)
	}
	return nil
}

// SetSecureValueErrors implements bot.Transport.
func (t *Transport) SetSecureValueErrors(ctx context.Context, to handlers.User, errs []tg.SecureValueErrorClass) error {
	user, err := t.inputUser(ctx, to)
	if err != nil {
		return fmt.Errorf("users.setSecureValueErrors: %w", err)
	}
	if _, err := t.api.UsersSetSecureValueErrors(ctx, &tg.UsersSetSecureValueErrorsRequest{ID: user, Errors: errs}); err != nil {
		return fmt.Errorf("users.setSecureValueErrors for user %d: %w", user.UserID, err)
	}
	return nil
}

// AnswerCallback implements bot.Transport.
func (t *Transport) AnswerCallback(ctx context.Context, queryID int64, text string) error {
	req := &tg.MessagesSetBotCallbackAnswerRequest{QueryID: queryID}
	if text != "" {
		req.SetMessage(text)
	}
	if _, err := t.api.MessagesSetBotCallbackAnswer(ctx, req); err != nil {
		return fmt.Errorf("messages.setBotCallbackAnswer: %w", err)
	}
	return nil
}

func botCommands(cmds []handlers.BotCommand) []tg.BotCommand {
	out := make([]tg.BotCommand, len(cmds))
	for i, c := range cmds {
		out[i] = tg.BotCommand{Command: c.Command, Description: c.Description}
	}
	return out
}

// SetCommands implements bot.Transport (bots.setBotCommands, default
// scope).
func (t *Transport) SetCommands(ctx context.Context, langCode string, cmds []handlers.BotCommand) error {
	req := &tg.BotsSetBotCommandsRequest{Scope: &tg.BotCommandScopeDefault{}, LangCode: langCode, Commands: botCommands(cmds)}
	if _, err := t.api.BotsSetBotCommands(ctx, req); err != nil {
		return fmt.Errorf("bots.setBotCommands (lang_code %q): %w", langCode, err)
	}
	return nil
}

// SetUserCommands implements bot.Transport (bots.setBotCommands in the
// scope of the user's chat).
func (t *Transport) SetUserCommands(ctx context.Context, to handlers.User, langCode string, cmds []handlers.BotCommand) error {
	user, err := t.inputUser(ctx, to)
	if err != nil {
		return fmt.Errorf("bots.setBotCommands: %w", err)
	}
	req := &tg.BotsSetBotCommandsRequest{
		Scope:    &tg.BotCommandScopePeer{Peer: &tg.InputPeerUser{UserID: user.UserID, AccessHash: user.AccessHash}},
		LangCode: langCode,
		Commands: botCommands(cmds),
	}
	if _, err := t.api.BotsSetBotCommands(ctx, req); err != nil {
		return fmt.Errorf("bots.setBotCommands for user %d (lang_code %q): %w", user.UserID, langCode, err)
	}
	return nil
}

// SetBadge implements handlers.Badger with bots.setCustomVerification.
// Telegram's BOT_VERIFIER_FORBIDDEN comes back wrapping
// handlers.ErrBadgeForbidden.
func (t *Transport) SetBadge(ctx context.Context, to handlers.User, description string) error {
	return t.customVerification(ctx, to, true, description)
}

// RemoveBadge implements handlers.Badger with bots.setCustomVerification.
func (t *Transport) RemoveBadge(ctx context.Context, to handlers.User) error {
	return t.customVerification(ctx, to, false, "")
}

func (t *Transport) customVerification(ctx context.Context, to handlers.User, enabled bool, description string) error {
	user, err := t.inputUser(ctx, to)
	if err != nil {
		return fmt.Errorf("bots.setCustomVerification: %w", err)
	}
	req := &tg.BotsSetCustomVerificationRequest{Enabled: enabled, Peer: &tg.InputPeerUser{UserID: user.UserID, AccessHash: user.AccessHash}}
	if description != "" {
		req.SetCustomDescription(description)
	}
	if _, err := t.api.BotsSetCustomVerification(ctx, req); err != nil {
		if tgerr.Is(err, tg.ErrBotVerifierForbidden) {
			err = fmt.Errorf("%w: %w", handlers.ErrBadgeForbidden, err)
		}
		return fmt.Errorf("bots.setCustomVerification for user %d: %w", user.UserID, err)
	}
	return nil
}
