package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/web"
)

// LinkParams describe a request issued outside the chat (IssueLink).
type LinkParams struct {
	// UserID is the Telegram user the request is for. Required.
	UserID int64
	// Level is the verification level (default: the config's default
	// level).
	Level string
	// Ref is the business's reference for the user (optional).
	Ref string
	// Lang is the user's language tag (optional).
	Lang string
}

// Link is an issued request with its two ways in.
type Link struct {
	Request store.Request
	// PageURL is the bot's request page: send it to the user, who opens
	// it on the device with Telegram.
	PageURL string
	// DeepLink is the Telegram Passport link itself
	// (tg://resolve?domain=telegrampassport&...).
	DeepLink string
}

// IssueLink issues a verification request for a user, as /verify does,
// without a chat message: for support staff and tests. The user's
// submission is then handled like any other.
func (b *Bot) IssueLink(ctx context.Context, p LinkParams) (Link, error) {
	if p.UserID <= 0 {
		return Link{}, errors.New("bot: a positive Telegram user ID is required")
	}
	set := b.current()
	cfg := set.cfg
	if p.Level == "" {
		p.Level = cfg.DefaultLevelName
	}
	level, err := cfg.Level(p.Level)
	if err != nil {
		return Link{}, fmt.Errorf("bot: %w", err)
	}
	if p.Lang != "" {
		p.Lang = set.cat.Match(p.Lang)
	}
	if cfg.Telegram.BotToken.Value() == "" {
		return Link{}, fmt.Errorf("bot: telegram.bot_token is not set: a link names the bot by the ID its token starts with; set it in the config or in %s", config.EnvBotToken)
	}
	botID, err := passport.BotIDFromToken(cfg.Telegram.BotToken.Value())
	if err != nil {
		return Link{}, fmt.Errorf("bot: telegram.bot_token: %w", err)
	}
	r, err := b.store.Requests().Issue(ctx, store.RequestParams{UserID: p.UserID, ChatID: p.UserID, Level: level.Name,
		Lang: p.Lang, Ref: p.Ref}, cfg.Passport.RequestTTL)
	if err != nil {
		return Link{}, fmt.Errorf("bot: issue a request: %w", err)
	}
	deep, err := passport.Link{BotID: botID, Scope: level.Scope, PublicKey: b.pubPEM, Nonce: r.Nonce,
		CallbackURL: web.CallbackURL(cfg.Web.PublicURL, r.ID)}.URL()
	if err != nil {
		return Link{}, fmt.Errorf("bot: deep link: %w", err)
	}
	return Link{Request: r, PageURL: web.PageURL(cfg.Web.PublicURL, r.ID), DeepLink: deep}, nil
}
