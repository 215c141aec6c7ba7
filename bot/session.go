package bot

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gotd/td/session"

	"github.com/kycbot/kycbot/store"
)

// SessionStorage returns the gotd session storage of this instance
// (WithInstance) of the bot botID: sealed in Redis under a key derived
// from the Passport private key (SessionKey), its own, never another
// instance's. It first drops the session that older versions shared
// between instances, unsealed (logged once, when there was one). The
// standalone bot logs in with it; hold the instance name first
// (HoldInstance).
func (b *Bot) SessionStorage(ctx context.Context, botID int64) session.Storage {
	sessions := b.store.Sessions()
	if dropped, err := sessions.DropLegacy(ctx, botID); err != nil {
		b.log.WarnContext(ctx, "bot: cannot remove the gotd session of older versions", slog.String("error", err.Error()))
	} else if dropped {
		b.log.InfoContext(ctx, "bot: removed the gotd session older versions shared between instances unsealed; this instance logs in with a sealed session of its own")
	}
	name := b.o.instance
	return loginAgain{Storage: sessions.Session(botID, name), log: b.log.With(slog.String("instance", name))}
}

// loginAgain makes gotd log in afresh when the stored session does not
// open (sealed under another key, as after the Passport key changed, or
// tampered with): the session of the new login replaces it.
type loginAgain struct {
	session.Storage
	log *slog.Logger
}

func (s loginAgain) LoadSession(ctx context.Context) ([]byte, error) {
	data, err := s.Storage.LoadSession(ctx)
	if errors.Is(err, store.ErrSessionDecrypt) {
		s.log.WarnContext(ctx, "bot: the stored gotd session does not open; logging in again", slog.String("error", err.Error()))
		return nil, session.ErrNotFound
	}
	return data, err
}
