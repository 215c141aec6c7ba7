package handlers

import (
	"context"
	"fmt"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// Recipient is a user the bot writes to outside a conversation with them
// (a reminder, an expiry, a revocation, an erasure notice): the language
// to write in and how the transport reaches them.
type Recipient struct {
	// Loc is the user's language (/language), or the catalog's default.
	Loc *i18n.Localizer
	// To is the user, with what the transport needs to reach them when
	// it could tell, the bare ID otherwise (a send may still reach them).
	To User
}

// FindRecipient reads the language of userID with prefs and asks tg how
// to reach them. When the preferences cannot be read, it returns the error
// with a Recipient in the default language: the caller decides between
// writing in that language and not writing (the bot's steps differ: a
// reminder goes out anyway, a revocation notice is not sent, an erasure
// waits to be tried again, since it erases the preferences).
func FindRecipient(ctx context.Context, prefs func(context.Context, int64) (store.Prefs, error),
	tg interface {
		Resolve(ctx context.Context, u User) (User, error)
	}, cat *i18n.Catalog, userID int64,
) (Recipient, error) {
	lang := cat.DefaultLanguage()
	p, err := prefs(ctx, userID)
	if err != nil {
		err = fmt.Errorf("read the user's language: %w", err)
	} else if p.Lang != "" {
		lang = p.Lang
	}
	to, rerr := tg.Resolve(ctx, User{ID: userID})
	if rerr != nil {
		to = User{ID: userID}
	}
	return Recipient{Loc: cat.Language(lang), To: to}, err
}
