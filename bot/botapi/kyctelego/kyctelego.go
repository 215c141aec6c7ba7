package kyctelego

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/mymmrac/telego"
	th "github.com/mymmrac/telego/telegohandler"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
)

// Middleware returns a telegohandler middleware that gives kycbot its
// updates (a Telegram Passport submission, a kycbot command addressed to
// the bot, a tap on a kycbot button: botapi.Take) and passes every other
// update, untouched, to the next handlers (ctx.Next). Add it first
// (BotHandler.Use), so that kycbot's updates reach no other handler.
//
// A kycbot update that Redis does not take before the handler's context
// ends is reported as the handler's error. An update that does not
// marshal back to JSON goes on to the next handlers (logged on kycbot's
// logger: its ID and the error).
func Middleware(kyc *bot.Bot) th.Handler {
	return func(ctx *th.Context, update telego.Update) error {
		raw, err := UpdateJSON(update)
		if err != nil {
			kyc.Logger().WarnContext(ctx, "kyctelego: an update does not marshal back to JSON; passed on", slog.Int("update_id", update.UpdateID), slog.String("error", err.Error()))
			return ctx.Next(update)
		}
		taken, err := botapi.Take(ctx, kyc, raw)
		if !taken {
			return ctx.Next(update)
		}
		if err != nil {
			return fmt.Errorf("kyctelego: kycbot's update %d was not queued: %w", update.UpdateID, err)
		}
		return nil
	}
}

// UpdateJSON marshals telego's update back to the Bot API's JSON, as
// Middleware hands it to kycbot.
func UpdateJSON(update telego.Update) ([]byte, error) {
	raw, err := json.Marshal(update)
	if err != nil {
		return nil, fmt.Errorf("kyctelego: marshal update %d: %w", update.UpdateID, err)
	}
	return raw, nil
}
