package botapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
)

// Enqueue retry pauses while Redis is unreachable.
const (
	enqueueFirstPause = 200 * time.Millisecond
	enqueueMaxPause   = 5 * time.Second
)

// Take gives kycbot its update: raw is one Bot API update (its JSON, as
// Telegram sent it, or as a framework marshals it back). It reports
// whether the update was kycbot's (bot.Bot.Wants: a Telegram Passport
// submission, a kycbot command addressed to this bot, a tap on a kycbot
// button), and then it is in kycbot's queue: give the others (false) to
// your own handlers, untouched. When Redis cannot take the update, Take
// waits and tries again until ctx ends, then fails (true and the error:
// have Telegram deliver it again). An update queued before (delivered
// again) is dropped by the queue.
//
// An update that is not a Bot API update (malformed JSON) is not
// kycbot's.
func Take(ctx context.Context, kyc *bot.Bot, raw []byte) (bool, error) {
	u, ok := Parse(raw)
	if !ok || !kyc.Wants(u) {
		return false, nil
	}
	return true, enqueue(ctx, kyc, u)
}

// enqueue puts a kycbot update in the queue, trying again while Redis
// cannot take it, until ctx ends.
func enqueue(ctx context.Context, kyc *bot.Bot, u bot.Update) error {
	log := kyc.Logger()
	pause := enqueueFirstPause
	for logged := false; ; logged = true {
		err := kyc.Enqueue(ctx, u)
		if err == nil {
			if logged {
				log.InfoContext(ctx, "botapi: update queued after a wait", slog.String("kind", u.Kind))
			}
			return nil
		}
		if !logged {
			log.WarnContext(ctx, "botapi: cannot queue kycbot's update; trying again", slog.String("kind", u.Kind), slog.String("error", err.Error()))
		}
		if werr := wait.Sleep(ctx, pause); werr != nil {
			return errors.Join(err, werr)
		}
		pause = min(pause*2, enqueueMaxPause)
	}
}

// Parse turns a raw Bot API update into a kycbot update, when it is of
// one of the kinds kycbot handles: a message in a user's private chat
// with the bot carrying Telegram Passport data (a submission; malformed
// data gives a submission without data, which the user is told does not
// decrypt) or text, or a tap on a callback button whose query ID is a
// number (ParseQueryID), from a user (not a bot). Whether kycbot wants it
// is bot.Bot.Wants's call (Take asks both). It never panics, whatever raw
// holds.
func Parse(raw []byte) (bot.Update, bool) {
	var u Update
	if err := json.Unmarshal(raw, &u); err != nil {
		return bot.Update{}, false
	}
	switch {
	case u.Message != nil:
		m := u.Message
		if m.From == nil || m.From.IsBot || m.From.ID <= 0 || m.Chat.Type != "private" || m.Chat.ID != m.From.ID || m.MessageID <= 0 {
			return bot.Update{}, false
		}
		from := handlers.User{ID: m.From.ID, LangCode: m.From.LanguageCode}
		if len(m.PassportData) > 0 && string(m.PassportData) != "null" {
			es, err := passport.ParseBotAPI(m.PassportData)
			if err != nil {
				// Malformed: queued without data, so that the user is
				// told it does not decrypt.
				es = &passport.EncryptedSubmission{}
			}
			return bot.Update{Kind: bot.KindSubmission, From: from, MsgID: m.MessageID, Submission: es}, true
		}
		if m.Text == "" {
			return bot.Update{}, false
		}
		return bot.Update{Kind: bot.KindMessage, From: from, MsgID: m.MessageID, Text: m.Text}, true
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		if q.From.IsBot || q.From.ID <= 0 {
			return bot.Update{}, false
		}
		id, ok := ParseQueryID(q.ID)
		if !ok {
			return bot.Update{}, false
		}
		return bot.Update{Kind: bot.KindCallback, From: handlers.User{ID: q.From.ID, LangCode: q.From.LanguageCode}, QueryID: id, Data: q.Data}, true
	}
	return bot.Update{}, false
}

// ParseQueryID reads a Bot API callback query ID (a string) as the 64-bit
// number kycbot's updates carry: the decimal form of a signed or an
// unsigned 64-bit number (Telegram's IDs are such numbers). It is false
// for anything else, and for 0 (no ID).
func ParseQueryID(s string) (int64, bool) {
	if s == "" || len(s) > 20 || strings.HasPrefix(s, "+") {
		return 0, false
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		return id, id != 0
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return int64(u), u != 0
	}
	return 0, false
}
