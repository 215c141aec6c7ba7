package sandbox

import (
	"bytes"
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gotd/log"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// MaxMessageLength is Telegram's limit on a text message, in characters.
const MaxMessageLength = 4096

type callbackQuery struct {
	botID, userID int64
	answer        chan *tg.MessagesBotCallbackAnswer
}

func (sb *Sandbox) registerMessages(d *tg.ServerDispatcher) {
	d.OnMessagesSendMessage(sb.sendMessage)
	d.OnMessagesEditMessage(sb.editMessage)
	d.OnMessagesSetTyping(func(ctx context.Context, req *tg.MessagesSetTypingRequest) (bool, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return false, err
		}
		if _, err := sb.resolvePeerLocked(self, req.Peer); err != nil {
			return false, err
		}
		return true, nil
	})
	d.OnBotsSetBotCommands(func(ctx context.Context, req *tg.BotsSetBotCommandsRequest) (bool, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.botSelfLocked(ctx)
		if err != nil {
			return false, err
		}
		if len(req.Commands) > 100 {
			return false, tgerr.New(400, "BOT_COMMANDS_TOO_MUCH")
		}
		for _, c := range req.Commands {
			if c.Command == "" || len(c.Command) > 32 || strings.ToLower(c.Command) != c.Command {
				return false, tgerr.New(400, "BOT_COMMAND_INVALID")
			}
			if c.Description == "" || utf8.RuneCountInString(c.Description) > 256 {
				return false, tgerr.New(400, "BOT_COMMAND_DESCRIPTION_INVALID")
			}
		}
		self.bot.commands = append([]tg.BotCommand(nil), req.Commands...)
		return true, nil
	})
	d.OnBotsGetBotCommands(func(ctx context.Context, req *tg.BotsGetBotCommandsRequest) ([]tg.BotCommand, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.botSelfLocked(ctx)
		if err != nil {
			return nil, err
		}
		return append([]tg.BotCommand{}, self.bot.commands...), nil
	})
	d.OnMessagesSetBotCallbackAnswer(func(ctx context.Context, req *tg.MessagesSetBotCallbackAnswerRequest) (bool, error) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		self, err := sb.selfLocked(ctx)
		if err != nil {
			return false, err
		}
		q, ok := sb.w.queries[req.QueryID]
		if !ok || q.botID != self.user.ID {
			return false, tgerr.New(400, "QUERY_ID_INVALID")
		}
		if utf8.RuneCountInString(req.Message) > 200 {
			return false, tgerr.New(400, "MESSAGE_TOO_LONG")
		}
		delete(sb.w.queries, req.QueryID)
		ans := &tg.MessagesBotCallbackAnswer{Alert: req.Alert, Message: req.Message, URL: req.URL, CacheTime: req.CacheTime}
		ans.HasURL = req.URL != ""
		q.answer <- ans // buffered, one answer per query
		return true, nil
	})
	d.OnMessagesGetBotCallbackAnswer(sb.getBotCallbackAnswer)
}

// BotCommands returns the commands a bot set with bots.setBotCommands.
func (sb *Sandbox) BotCommands(botID int64) []tg.BotCommand {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	acc := sb.w.accounts[botID]
	if acc == nil || acc.bot == nil {
		return nil
	}
	return append([]tg.BotCommand(nil), acc.bot.commands...)
}

// checkMarkup refuses what Telegram refuses in inline keyboards: empty
// texts, URLs that are not links, and Passport deep links (Telegram does not
// allow them in bot buttons; a bot links to a web page that opens them).
func checkMarkup(m tg.ReplyMarkupClass) error {
	kb, ok := m.(*tg.ReplyInlineMarkup)
	if !ok {
		return nil
	}
	for _, row := range kb.Rows {
		for _, b := range row.Buttons {
			if b.Text == "" {
				return tgerr.New(400, "BUTTON_TEXT_INVALID")
			}
			switch t := b.Type.(type) {
			case *tg.InlineButtonTypeURL:
				u := strings.ToLower(t.URL)
				switch {
				case strings.Contains(u, "telegrampassport") || strings.HasPrefix(u, "tg://passport") || strings.HasPrefix(u, "tg:passport"):
					return tgerr.New(400, "BUTTON_URL_INVALID")
				case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "tg://"):
				default:
					return tgerr.New(400, "BUTTON_URL_INVALID")
				}
			case *tg.InlineButtonTypeCallback:
				if len(t.Data) == 0 || len(t.Data) > 64 {
					return tgerr.New(400, "BUTTON_DATA_INVALID")
				}
			}
		}
	}
	return nil
}

func checkText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return tgerr.New(400, "MESSAGE_EMPTY")
	case utf8.RuneCountInString(text) > MaxMessageLength:
		return tgerr.New(400, "MESSAGE_TOO_LONG")
	}
	return nil
}

// sentKey is a random_id an account used with a peer.
type sentKey struct {
	peer     int64
	randomID int64
}

// sentRecord is what a random_id produced: nothing yet while the call that
// used it runs (done false), then the message in the sender's box and the
// update of the call's answer.
type sentRecord struct {
	done   bool
	msgID  int
	update tg.UpdateClass // never leaves the lock: answers get a copy
}

// errRandomIDDuplicate answers a call repeating the random_id of a call
// still running, as Telegram does.
var errRandomIDDuplicate = tgerr.New(500, "RANDOM_ID_DUPLICATE")

// sendMessage sends a message once per random_id, as Telegram does: a call
// with a random_id the account already used with that peer, from any
// session and at any time before, sends nothing and answers the message of
// the earlier call (updateMessageID and the same updateNewMessage, pts
// included); while the earlier call runs (SetLatency), it answers 500
// RANDOM_ID_DUPLICATE. A call that fails frees its random_id.
func (sb *Sandbox) sendMessage(ctx context.Context, req *tg.MessagesSendMessageRequest) (tg.UpdatesClass, error) {
	if err := checkText(req.Message); err != nil {
		return nil, err
	}
	sb.mu.Lock()
	self, key, repeat, err := sb.claimRandomIDLocked(ctx, req.Peer, req.RandomID)
	sb.mu.Unlock()
	if err != nil || repeat != nil {
		return repeat, err
	}
	// The server's processing time (SetLatency) passes with the random_id
	// claimed.
	err = sb.faults.delay(ctx, tg.MessagesSendMessageRequestTypeID)
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var res *tg.Updates
	if err == nil {
		res, err = sb.sendMessageLocked(ctx, req)
	}
	if err != nil {
		delete(self.sent, key)
		return nil, err
	}
	rec := self.sent[key]
	rec.done = true
	rec.msgID = res.Updates[0].(*tg.UpdateMessageID).ID
	if rec.update, err = cloneUpdate(res.Updates[1]); err != nil {
		// The message is sent: a repeat will find no record and send again,
		// which beats failing a send that happened.
		delete(self.sent, key)
		sb.log.Error(ctx, "Clone update", log.Error(err))
	}
	return res, nil
}

// claimRandomIDLocked claims a random_id of the caller with a peer. It
// returns the answer of the earlier call when the random_id produced a
// message already, 500 RANDOM_ID_DUPLICATE while that call runs.
func (sb *Sandbox) claimRandomIDLocked(ctx context.Context, in tg.InputPeerClass, randomID int64) (*account, sentKey, tg.UpdatesClass, error) {
	self, err := sb.selfLocked(ctx)
	if err != nil {
		return nil, sentKey{}, nil, err
	}
	peerID, err := sb.resolvePeerLocked(self, in)
	if err != nil {
		return nil, sentKey{}, nil, err
	}
	key := sentKey{peer: peerID, randomID: randomID}
	rec, ok := self.sent[key]
	switch {
	case !ok:
		self.sent[key] = &sentRecord{}
		return self, key, nil, nil
	case !rec.done:
		return nil, sentKey{}, nil, errRandomIDDuplicate
	}
	upd, err := cloneUpdate(rec.update)
	if err != nil {
		return nil, sentKey{}, nil, errInternal
	}
	sb.log.Debug(ctx, "Message not sent again (random_id used)", log.Int64("from", self.user.ID), log.Int64("to", peerID))
	return nil, sentKey{}, &tg.Updates{
		Updates: []tg.UpdateClass{&tg.UpdateMessageID{ID: rec.msgID, RandomID: randomID}, upd},
		Users:   sb.usersLocked(self.user.ID, self.user.ID, peerID),
		Chats:   []tg.ChatClass{},
		Date:    sb.unix(),
	}, nil
}

// sendMessageLocked sends a message. Its answer holds updateMessageID
// first, then the sender's updateNewMessage.
func (sb *Sandbox) sendMessageLocked(ctx context.Context, req *tg.MessagesSendMessageRequest) (*tg.Updates, error) {
	self, err := sb.selfLocked(ctx)
	if err != nil {
		return nil, err
	}
	peerID, err := sb.resolvePeerLocked(self, req.Peer)
	if err != nil {
		return nil, err
	}
	var markup tg.ReplyMarkupClass
	if m, ok := req.GetReplyMarkup(); ok && self.bot != nil {
		if err := checkMarkup(m); err != nil {
			return nil, err
		}
		markup = m
	}
	peer := sb.w.accounts[peerID]
	switch {
	case peerID == self.user.ID:
		return nil, tgerr.New(400, "PEER_ID_INVALID") // saved messages are out of scope
	case self.bot != nil && peer.bot != nil:
		return nil, tgerr.New(400, "USER_IS_BOT")
	case self.bot != nil && !hasDialog(peer, self.user.ID):
		// A bot cannot start a conversation.
		return nil, tgerr.New(400, "PEER_ID_INVALID")
	}
	date := sb.unix()
	build := func(box *account, out bool, other int64) (*tg.Message, error) {
		m := &tg.Message{
			ID:      box.nextMsgID,
			Out:     out,
			FromID:  &tg.PeerUser{UserID: self.user.ID},
			PeerID:  &tg.PeerUser{UserID: other},
			Date:    date,
			Message: req.Message,
		}
		box.nextMsgID++
		var err error
		if m.Entities, err = cloneEntities(req.Entities); err != nil {
			return nil, err
		}
		if m.ReplyMarkup, err = cloneMarkup(markup); err != nil {
			return nil, err
		}
		if r, ok := req.GetReplyTo(); ok {
			if rm, ok := r.(*tg.InputReplyToMessage); ok {
				if ref, ok := self.msgs[rm.ReplyToMsgID]; ok {
					id := rm.ReplyToMsgID
					if box != self {
						id = ref.peerMsgID
					}
					m.ReplyTo = &tg.MessageReplyHeader{ReplyToMsgID: id}
				}
			}
		}
		return m, nil
	}
	outMsg, err := build(self, true, peerID)
	if err != nil {
		return nil, errInternal
	}
	inMsg, err := build(peer, false, self.user.ID)
	if err != nil {
		return nil, errInternal
	}
	self.msgs[outMsg.ID] = &storedMessage{msg: outMsg, peer: peerID, peerMsgID: inMsg.ID}
	peer.msgs[inMsg.ID] = &storedMessage{msg: inMsg, peer: self.user.ID, peerMsgID: outMsg.ID}

	users := []int64{self.user.ID, peerID}
	outUpd := sb.addPtsLocked(self, func(pts int) tg.UpdateClass {
		return &tg.UpdateNewMessage{Message: outMsg, Pts: pts, PtsCount: 1}
	}, users...)
	inUpd := sb.addPtsLocked(peer, func(pts int) tg.UpdateClass {
		return &tg.UpdateNewMessage{Message: inMsg, Pts: pts, PtsCount: 1}
	}, users...)
	if err := sb.pushLocked(ctx, peer, []tg.UpdateClass{inUpd}, users...); err != nil {
		return nil, err
	}
	if err := sb.pushLocked(ctx, self, []tg.UpdateClass{outUpd}, users...); err != nil {
		return nil, err
	}
	res, err := cloneUpdate(outUpd)
	if err != nil {
		return nil, errInternal
	}
	sb.log.Debug(ctx, "Message sent", log.Int64("from", self.user.ID), log.Int64("to", peerID))
	return &tg.Updates{
		Updates: []tg.UpdateClass{&tg.UpdateMessageID{ID: outMsg.ID, RandomID: req.RandomID}, res},
		Users:   sb.usersLocked(self.user.ID, users...),
		Chats:   []tg.ChatClass{},
		Date:    date,
	}, nil
}

// hasDialog reports whether acc has exchanged messages with peer.
func hasDialog(acc *account, peer int64) bool {
	for _, m := range acc.msgs {
		if m.peer == peer {
			return true
		}
	}
	return false
}

func (sb *Sandbox) editMessage(ctx context.Context, req *tg.MessagesEditMessageRequest) (tg.UpdatesClass, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	self, err := sb.selfLocked(ctx)
	if err != nil {
		return nil, err
	}
	peerID, err := sb.resolvePeerLocked(self, req.Peer)
	if err != nil {
		return nil, err
	}
	ref, ok := self.msgs[req.ID]
	if !ok || ref.peer != peerID {
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	old, ok := ref.msg.(*tg.Message)
	if !ok || !old.Out {
		return nil, tgerr.New(403, "MESSAGE_AUTHOR_REQUIRED")
	}
	text := old.Message
	if t, ok := req.GetMessage(); ok {
		if err := checkText(t); err != nil {
			return nil, err
		}
		text = t
	}
	markup := old.ReplyMarkup
	if m, ok := req.GetReplyMarkup(); ok && self.bot != nil {
		if err := checkMarkup(m); err != nil {
			return nil, err
		}
		markup = m
	}
	entities := old.Entities
	if es, ok := req.GetEntities(); ok {
		entities = es
	}
	if text == old.Message && sameMarkup(markup, old.ReplyMarkup) && sameEntities(entities, old.Entities) {
		return nil, tgerr.New(400, "MESSAGE_NOT_MODIFIED")
	}
	date := sb.unix()
	peer := sb.w.accounts[peerID]
	users := []int64{self.user.ID, peerID}
	var res tg.UpdateClass
	for _, side := range []struct {
		box *account
		id  int
	}{{self, req.ID}, {peer, ref.peerMsgID}} {
		cur, ok := side.box.msgs[side.id]
		if !ok {
			continue
		}
		prev, ok := cur.msg.(*tg.Message)
		if !ok {
			continue
		}
		// Stored objects are never modified: a new copy replaces them.
		c, err := cloneMessage(prev)
		if err != nil {
			return nil, errInternal
		}
		m := c.(*tg.Message)
		m.Message = text
		m.EditDate = date
		if m.Entities, err = cloneEntities(entities); err != nil {
			return nil, errInternal
		}
		if m.ReplyMarkup, err = cloneMarkup(markup); err != nil {
			return nil, errInternal
		}
		side.box.msgs[side.id] = &storedMessage{msg: m, peer: cur.peer, peerMsgID: cur.peerMsgID}
		u := sb.addPtsLocked(side.box, func(pts int) tg.UpdateClass {
			return &tg.UpdateEditMessage{Message: m, Pts: pts, PtsCount: 1}
		}, users...)
		if err := sb.pushLocked(ctx, side.box, []tg.UpdateClass{u}, users...); err != nil {
			return nil, err
		}
		if side.box == self {
			if res, err = cloneUpdate(u); err != nil {
				return nil, errInternal
			}
		}
	}
	return &tg.Updates{Updates: []tg.UpdateClass{res}, Users: sb.usersLocked(self.user.ID, users...), Chats: []tg.ChatClass{}, Date: date}, nil
}

func sameMarkup(a, b tg.ReplyMarkupClass) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ea, err1 := encodeObj(a)
	eb, err2 := encodeObj(b)
	return err1 == nil && err2 == nil && bytes.Equal(ea.Buf, eb.Buf)
}

func sameEntities(a, b []tg.MessageEntityClass) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ea, err1 := encodeObj(a[i])
		eb, err2 := encodeObj(b[i])
		if err1 != nil || err2 != nil || !bytes.Equal(ea.Buf, eb.Buf) {
			return false
		}
	}
	return true
}

func (sb *Sandbox) getBotCallbackAnswer(ctx context.Context, req *tg.MessagesGetBotCallbackAnswerRequest) (*tg.MessagesBotCallbackAnswer, error) {
	sb.mu.Lock()
	self, err := sb.selfLocked(ctx)
	if err != nil {
		sb.mu.Unlock()
		return nil, err
	}
	botID, err := sb.resolvePeerLocked(self, req.Peer)
	if err != nil {
		sb.mu.Unlock()
		return nil, err
	}
	bot := sb.w.accounts[botID]
	ref, ok := self.msgs[req.MsgID]
	if bot.bot == nil || !ok || ref.peer != botID {
		sb.mu.Unlock()
		return nil, tgerr.New(400, "MESSAGE_ID_INVALID")
	}
	if !hasCallback(ref.msg, req.Data) {
		sb.mu.Unlock()
		return nil, tgerr.New(400, "DATA_INVALID")
	}
	q := &callbackQuery{botID: botID, userID: self.user.ID, answer: make(chan *tg.MessagesBotCallbackAnswer, 1)}
	qid := sb.randInt64()
	sb.w.queries[qid] = q
	upd := &tg.UpdateBotCallbackQuery{
		QueryID:      qid,
		UserID:       self.user.ID,
		Peer:         &tg.PeerUser{UserID: self.user.ID},
		MsgID:        ref.peerMsgID,
		ChatInstance: self.user.ID ^ botID,
		Data:         append([]byte(nil), req.Data...),
	}
	err = sb.pushLocked(context.Background(), bot, []tg.UpdateClass{upd}, self.user.ID, botID)
	sb.mu.Unlock()
	if err != nil {
		return nil, err
	}

	timer := time.NewTimer(sb.opts.CallbackTimeout)
	defer timer.Stop()
	select {
	case ans := <-q.answer:
		return ans, nil
	case <-timer.C:
	case <-ctx.Done():
	}
	sb.mu.Lock()
	delete(sb.w.queries, qid)
	sb.mu.Unlock()
	return nil, tgerr.New(400, "BOT_RESPONSE_TIMEOUT")
}

func hasCallback(m tg.MessageClass, data []byte) bool {
	msg, ok := m.(*tg.Message)
	if !ok {
		return false
	}
	kb, ok := msg.ReplyMarkup.(*tg.ReplyInlineMarkup)
	if !ok {
		return false
	}
	for _, row := range kb.Rows {
		for _, b := range row.Buttons {
			if cb, ok := b.Type.(*tg.InlineButtonTypeCallback); ok && bytes.Equal(cb.Data, data) {
				return true
			}
		}
	}
	return false
}
