package botapi

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gotd/td/tg"
)

// method answers one Bot API method; its result is JSON-encoded into
// "result" (json.RawMessage as is).
type method func(ctx context.Context, b *botClient, p params) (any, error)

// methods are the methods the server implements, by lower-case name (the
// Bot API's method names are case-insensitive).
var methods = map[string]method{
	"getme":                  getMe,
	"getupdates":             getUpdates,
	"setwebhook":             setWebhook,
	"deletewebhook":          deleteWebhook,
	"getwebhookinfo":         getWebhookInfo,
	"sendmessage":            sendMessage,
	"editmessagetext":        editMessageText,
	"answercallbackquery":    answerCallbackQuery,
	"setmycommands":          setMyCommands,
	"getmycommands":          getMyCommands,
	"setpassportdataerrors":  setPassportDataErrors,
	"getfile":                getFile,
	"verifyuser":             verifyUser,
	"removeuserverification": removeUserVerification,
}

func getMe(_ context.Context, b *botClient, _ params) (any, error) {
	u := userOf(b.self)
	f := false
	u.CanJoinGroups, u.CanReadAllGroupMessages, u.SupportsInlineQueries = &f, &f, &f
	return u, nil
}

func getUpdates(ctx context.Context, b *botClient, p params) (any, error) {
	offset, _, err := p.int64("offset")
	if err != nil {
		return nil, err
	}
	limit, err := p.int("limit", 100)
	if err != nil {
		return nil, err
	}
	timeout, err := p.int("timeout", 0)
	if err != nil {
		return nil, err
	}
	// allowed_updates is accepted and ignored: the server has only
	// message and callback_query updates.
	out, err := b.getUpdates(ctx, offset, limit, timeout)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(out), nil
}

func setWebhook(_ context.Context, b *botClient, p params) (any, error) {
	maxConns, err := p.int("max_connections", 0)
	if err != nil {
		return nil, err
	}
	drop, err := p.bool("drop_pending_updates")
	if err != nil {
		return nil, err
	}
	return b.setWebhook(strings.TrimSpace(p.str("url")), p.str("secret_token"), maxConns, drop)
}

func deleteWebhook(_ context.Context, b *botClient, p params) (any, error) {
	drop, err := p.bool("drop_pending_updates")
	if err != nil {
		return nil, err
	}
	return b.deleteWebhook(drop), nil
}

func getWebhookInfo(_ context.Context, b *botClient, _ params) (any, error) {
	return b.webhookInfo(), nil
}

// messageParams reads chat_id, text and reply_markup, as sendMessage and
// editMessageText take them.
func (b *botClient) messageParams(p params) (*tg.User, string, *tg.ReplyInlineMarkup, error) {
	user, err := b.peerUser(p, "chat_id")
	if err != nil {
		return nil, "", nil, err
	}
	text := p.str("text")
	if strings.TrimSpace(text) == "" {
		return nil, "", nil, errTextEmpty
	}
	if mode := p.str("parse_mode"); mode != "" {
		return nil, "", nil, badRequest("can't parse entities: the sandbox does not support parse_mode; send plain text")
	}
	var m apiMarkup
	if _, err := p.object("reply_markup", &m); err != nil {
		return nil, "", nil, err
	}
	markup, err := m.tl()
	return user, text, markup, err
}

func sendMessage(ctx context.Context, b *botClient, p params) (any, error) {
	user, text, markup, err := b.messageParams(p)
	if err != nil {
		return nil, err
	}
	req := &tg.MessagesSendMessageRequest{Peer: inputPeer(user), Message: text, RandomID: randomID()}
	if markup != nil {
		req.SetReplyMarkup(markup)
	}
	return b.answerMessage(user)(b.rpc().MessagesSendMessage(ctx, req))
}

func editMessageText(ctx context.Context, b *botClient, p params) (any, error) {
	if p.str("inline_message_id") != "" {
		return nil, badRequest("the sandbox has no inline messages: give chat_id and message_id")
	}
	id, err := p.int("message_id", 0)
	if err != nil {
		return nil, err
	}
	if id <= 0 {
		return nil, badRequest("message identifier is not specified")
	}
	user, text, markup, err := b.messageParams(p)
	if err != nil {
		return nil, err
	}
	req := &tg.MessagesEditMessageRequest{Peer: inputPeer(user), ID: id}
	req.SetMessage(text)
	if markup == nil && b.hadKeyboard(id) {
		// As on Telegram, an edit without reply_markup removes the
		// inline keyboard.
		markup = &tg.ReplyInlineMarkup{}
	}
	if markup != nil {
		req.SetReplyMarkup(markup)
	}
	return b.answerMessage(user)(b.rpc().MessagesEditMessage(ctx, req))
}

// answerMessage returns what answers the MTProto call that sent or edited
// a message in the chat with user: the Message it carries.
func (b *botClient) answerMessage(user *tg.User) func(tg.UpdatesClass, error) (any, error) {
	return func(upd tg.UpdatesClass, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		m, ok := messageOf(upd)
		if !ok {
			return nil, errInternal
		}
		return b.remember(m, user), nil
	}
}

// hadKeyboard reports whether a message the bot sent has an inline
// keyboard.
func (b *botClient) hadKeyboard(id int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.sent[id]
	return ok && m.ReplyMarkup != nil
}

// messageOf finds the message an answer of messages.sendMessage or
// messages.editMessage carries.
func messageOf(upd tg.UpdatesClass) (*tg.Message, bool) {
	var list []tg.UpdateClass
	switch u := upd.(type) {
	case *tg.Updates:
		list = u.Updates
	case *tg.UpdatesCombined:
		list = u.Updates
	case *tg.UpdateShort:
		list = []tg.UpdateClass{u.Update}
	case *tg.UpdateShortSentMessage:
		return &tg.Message{ID: u.ID, Date: u.Date, Out: true, Entities: u.Entities}, true
	}
	for _, x := range list {
		var m tg.MessageClass
		switch x := x.(type) {
		case *tg.UpdateNewMessage:
			m = x.Message
		case *tg.UpdateEditMessage:
			m = x.Message
		}
		if msg, ok := m.(*tg.Message); ok {
			return msg, true
		}
	}
	return nil, false
}

// remember records a message the bot sent or edited (a callback_query
// carries it) and returns its Bot API form.
func (b *botClient) remember(m *tg.Message, chat *tg.User) apiMessage {
	me := userOf(b.self)
	out := apiMessage{MessageID: m.ID, From: &me, Chat: chatOf(chat), Date: m.Date, EditDate: m.EditDate,
		Text: m.Message, ReplyMarkup: markupOf(m.ReplyMarkup)}
	b.mu.Lock()
	b.sent[m.ID] = out
	b.mu.Unlock()
	return out
}

func answerCallbackQuery(ctx context.Context, b *botClient, p params) (any, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(p.str("callback_query_id")), 10, 64)
	if err != nil {
		return nil, errQueryInvalid
	}
	alert, err := p.bool("show_alert")
	if err != nil {
		return nil, err
	}
	cache, err := p.int("cache_time", 0)
	if err != nil {
		return nil, err
	}
	req := &tg.MessagesSetBotCallbackAnswerRequest{QueryID: id, Alert: alert, CacheTime: cache}
	if t := p.str("text"); t != "" {
		req.SetMessage(t)
	}
	if u := p.str("url"); u != "" {
		req.SetURL(u)
	}
	if _, err := b.rpc().MessagesSetBotCallbackAnswer(ctx, req); err != nil {
		return nil, err
	}
	return true, nil
}

// commandScope reads the scope parameter of setMyCommands and
// getMyCommands.
func (b *botClient) commandScope(p params) (tg.BotCommandScopeClass, error) {
	var s apiScope
	if _, err := p.object("scope", &s); err != nil {
		return nil, err
	}
	switch s.Type {
	case "", "default":
		return &tg.BotCommandScopeDefault{}, nil
	case "all_private_chats":
		return &tg.BotCommandScopeUsers{}, nil
	case "chat":
		var chat string
		if err := json.Unmarshal(s.ChatID, &chat); err != nil {
			chat = string(s.ChatID)
		}
		u, err := b.peerUser(params{"chat_id": chat}, "chat_id")
		if err != nil {
			return nil, err
		}
		return &tg.BotCommandScopePeer{Peer: inputPeer(u)}, nil
	}
	return nil, badRequest("unsupported bot command scope type " + strconv.Quote(s.Type) + " (the sandbox has default, all_private_chats and chat)")
}

func setMyCommands(ctx context.Context, b *botClient, p params) (any, error) {
	var cmds []apiCommand
	if _, err := p.object("commands", &cmds); err != nil {
		return nil, err
	}
	scope, err := b.commandScope(p)
	if err != nil {
		return nil, err
	}
	req := &tg.BotsSetBotCommandsRequest{Scope: scope, LangCode: p.str("language_code"), Commands: make([]tg.BotCommand, 0, len(cmds))}
	for _, c := range cmds {
		req.Commands = append(req.Commands, tg.BotCommand{Command: c.Command, Description: c.Description})
	}
	if _, err := b.rpc().BotsSetBotCommands(ctx, req); err != nil {
		return nil, err
	}
	return true, nil
}

func getMyCommands(ctx context.Context, b *botClient, p params) (any, error) {
	scope, err := b.commandScope(p)
	if err != nil {
		return nil, err
	}
	cmds, err := b.rpc().BotsGetBotCommands(ctx, &tg.BotsGetBotCommandsRequest{Scope: scope, LangCode: p.str("language_code")})
	if err != nil {
		return nil, err
	}
	out := make([]apiCommand, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, apiCommand{Command: c.Command, Description: c.Description})
	}
	return out, nil
}

func setPassportDataErrors(ctx context.Context, b *botClient, p params) (any, error) {
	user, err := b.userParam(p)
	if err != nil {
		return nil, err
	}
	var list []apiPassportError
	if ok, err := p.object("errors", &list); err != nil {
		return nil, err
	} else if !ok {
		return nil, badRequest("errors is empty")
	}
	req := &tg.UsersSetSecureValueErrorsRequest{ID: &tg.InputUser{UserID: user.ID, AccessHash: user.AccessHash},
		Errors: make([]tg.SecureValueErrorClass, 0, len(list))}
	for i, e := range list {
		ve, err := e.secureValueError(i)
		if err != nil {
			return nil, err
		}
		req.Errors = append(req.Errors, ve)
	}
	if _, err := b.rpc().UsersSetSecureValueErrors(ctx, req); err != nil {
		return nil, err
	}
	return true, nil
}

// verifyUser marks a user the bot has seen as verified by it, with
// custom_description (bots.setCustomVerification).
func verifyUser(ctx context.Context, b *botClient, p params) (any, error) {
	return setCustomVerification(ctx, b, p, true)
}

// removeUserVerification takes the bot's mark off a user the bot has
// seen (bots.setCustomVerification).
func removeUserVerification(ctx context.Context, b *botClient, p params) (any, error) {
	return setCustomVerification(ctx, b, p, false)
}

func setCustomVerification(ctx context.Context, b *botClient, p params, enabled bool) (any, error) {
	user, err := b.userParam(p)
	if err != nil {
		return nil, err
	}
	req := &tg.BotsSetCustomVerificationRequest{Enabled: enabled, Peer: inputPeer(user)}
	if d := p.str("custom_description"); enabled && d != "" {
		req.SetCustomDescription(d)
	}
	if _, err := b.rpc().BotsSetCustomVerification(ctx, req); err != nil {
		return nil, err
	}
	return true, nil
}

// userParam returns the user user_id names, one the bot has seen.
func (b *botClient) userParam(p params) (*tg.User, error) {
	id, ok, err := p.int64("user_id")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest("user_id is empty")
	}
	user, known := b.user(id)
	if !known {
		return nil, errUserNotFound
	}
	return user, nil
}
