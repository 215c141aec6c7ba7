package bot

import (
	"context"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/verification"
)

// Self is the bot's identity on Telegram.
type Self struct {
	// ID is the bot's user ID.
	ID int64
	// Username is the bot's username, without "@".
	Username string
}

// Transport is how the pipeline talks to Telegram: what the handlers ask
// of it, and who the bot is. Package bot/gotd implements it on a gotd
// client (MTProto); every instance uses its own.
type Transport interface {
	// Self returns the bot's identity.
	Self(ctx context.Context) (Self, error)
	// Send, Download and SetSecureValueErrors serve the verification.
	verification.Telegram
	// AnswerCallback answers a callback query with a short notice shown
	// by the app, or none when text is empty.
	AnswerCallback(ctx context.Context, queryID int64, text string) error
	// SetCommands registers the bot's command menu for the users whose
	// app language is langCode ("" for everybody else).
	SetCommands(ctx context.Context, langCode string, cmds []handlers.BotCommand) error
	// SetUserCommands registers the command menu of one user's chat.
	SetUserCommands(ctx context.Context, to handlers.User, langCode string, cmds []handlers.BotCommand) error
	// Resolve returns u with what the transport needs to reach the user
	// outside an update (the MTProto access hash), as known now.
	Resolve(ctx context.Context, u handlers.User) (handlers.User, error)
}
