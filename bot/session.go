package bot

import (
	"context"
	"crypto/hkdf"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"strings"

	"github.com/gotd/td/session"

	"github.com/kycbot/kycbot/store"
)

// sessionInfo is the HKDF info string of the session key.
const sessionInfo = "kycbot session v1"

// sessionKey derives the 32-byte key that seals the gotd sessions of the
// bot's instances in Redis (store.WithSessionKey) from the bot's Passport
// private key, as JournalKey derives the journal's: HKDF-SHA256 over the
// key's PKCS#1 DER, info "kycbot session v1".
func sessionKey(key *rsa.PrivateKey) []byte {
	k, err := hkdf.Key(sha256.New, x509.MarshalPKCS1PrivateKey(key), nil, sessionInfo, 32)
	if err != nil {
		// Only a length beyond 255 hash sizes fails.
		panic("bot: hkdf: " + err.Error())
	}
	return k
}

// instanceName names this process among the bot's instances, for its
// gotd session (store.Sessions.Session): its host name, in the alphabet
// of instance names (other characters become '-', at most 64), or
// "kycbot" without one. Instances on one host share it, hence a session.
func instanceName(host string) string {
	name := strings.Map(func(r rune) rune {
		if r == '_' || r == '.' || r == '-' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, host)
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		return "kycbot"
	}
	return name
}

// sessionStorage returns the gotd session storage of this instance of the
// bot botID. It first drops the session that older versions shared
// between instances, unsealed (logged once, when there was one).
func (b *Bot) sessionStorage(ctx context.Context, botID int64) session.Storage {
	sessions := b.store.Sessions()
	if dropped, err := sessions.DropLegacy(ctx, botID); err != nil {
		b.log.WarnContext(ctx, "bot: cannot remove the gotd session of older versions", slog.String("error", err.Error()))
	} else if dropped {
		b.log.InfoContext(ctx, "bot: removed the gotd session older versions shared between instances unsealed; this instance logs in with a sealed session of its own")
	}
	host, _ := os.Hostname()
	name := instanceName(host)
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
