package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/gotd/td/session"
	"github.com/redis/go-redis/v9"
)

// instanceRE is the name of a bot instance.
var instanceRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Session returns the gotd session storage of one instance of the bot
// botID (the bot's user ID, the numeric part of its token), for
// telegram.Options.SessionStorage. Each instance has a session, hence an
// MTProto authorization, of its own: Telegram revokes an auth key used
// from two places at once. instance names it among the bot's instances: 1
// to 64 characters of A-Z a-z 0-9 _ . -, the same across its restarts.
//
// The session holds the instance's auth key, which lets whoever has it
// act as the bot: it is sealed with AES-256-GCM under the WithSessionKey
// key, bound to botID and instance, and never stored in clear. Without
// that key LoadSession and StoreSession fail with ErrSessionKey. A stored
// session that does not open (another key, or a tampered value) fails
// LoadSession with ErrSessionDecrypt: log in again, the next StoreSession
// replaces it. LoadSession answers session.ErrNotFound (wrapped) when the
// instance has no session. Bad arguments fail both with ErrInvalid. Each
// method takes one round trip to Redis.
func (sv Sessions) Session(botID int64, instance string) session.Storage {
	return &sessionStorage{s: sv.s, botID: botID, instance: instance}
}

type sessionStorage struct {
	s        *Store
	botID    int64
	instance string
}

var _ session.Storage = (*sessionStorage)(nil)

// LoadSession implements session.Storage.
func (st *sessionStorage) LoadSession(ctx context.Context) (_ []byte, err error) {
	defer markUnavailable(&err)
	if err := st.check(); err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	where := fmt.Sprintf("load session of bot %d, instance %s", st.botID, st.instance)
	sealed, err := st.s.rdb.HGet(ctx, st.s.sessionsKey(st.botID), st.instance).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%s: %w", where, session.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	data, err := st.s.session.open("", sealed, sessionAAD(st.botID, st.instance))
	if err != nil {
		// The cause says nothing of the value (GCM's message is fixed).
		return nil, fmt.Errorf("%s: wrong session key or tampered session (%v); log in again: %w", where, err, ErrSessionDecrypt)
	}
	return data, nil
}

// StoreSession implements session.Storage.
func (st *sessionStorage) StoreSession(ctx context.Context, data []byte) (err error) {
	defer markUnavailable(&err)
	if err := st.check(); err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	sealed, err := st.s.seal(st.s.session.current().aead, data, sessionAAD(st.botID, st.instance))
	if err != nil {
		return fmt.Errorf("store session of bot %d, instance %s: %w", st.botID, st.instance, err)
	}
	if err := st.s.rdb.HSet(ctx, st.s.sessionsKey(st.botID), st.instance, sealed).Err(); err != nil {
		return fmt.Errorf("store session of bot %d, instance %s: %w", st.botID, st.instance, err)
	}
	return nil
}

func (st *sessionStorage) check() error {
	if err := checkInstance(st.s, st.botID, st.instance); err != nil {
		return err
	}
	if st.s.session == nil {
		return st.s.sessionErr
	}
	return nil
}

// Forget removes the session of one instance of the bot botID, for an
// instance that is retired (its auth key is then unused; Telegram lists
// it among the bot's sessions until it lapses), and reports whether there
// was one. It needs no session key.
func (sv Sessions) Forget(ctx context.Context, botID int64, instance string) (_ bool, err error) {
	defer markUnavailable(&err)
	if err := checkInstance(sv.s, botID, instance); err != nil {
		return false, fmt.Errorf("forget session: %w", err)
	}
	n, err := sv.s.rdb.HDel(ctx, sv.s.sessionsKey(botID), instance).Result()
	if err != nil {
		return false, fmt.Errorf("forget session of bot %d, instance %s: %w", botID, instance, err)
	}
	return n > 0, nil
}

// Instances returns the names of the instances of the bot botID that
// have a session, sorted. It needs no session key.
func (sv Sessions) Instances(ctx context.Context, botID int64) (_ []string, err error) {
	defer markUnavailable(&err)
	if err := checkBot(sv.s, botID); err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	names, err := sv.s.rdb.HKeys(ctx, sv.s.sessionsKey(botID)).Result()
	if err != nil {
		return nil, fmt.Errorf("list instances of bot %d: %w", botID, err)
	}
	slices.Sort(names)
	return names, nil
}

// DropLegacy deletes the session that older versions kept for the bot
// botID, shared by all its instances and in clear (P gotd:session:<botID>),
// and reports whether there was one: log it, once. It needs no session
// key.
func (sv Sessions) DropLegacy(ctx context.Context, botID int64) (_ bool, err error) {
	defer markUnavailable(&err)
	if err := checkBot(sv.s, botID); err != nil {
		return false, fmt.Errorf("drop legacy session: %w", err)
	}
	n, err := sv.s.rdb.Del(ctx, sv.s.key("gotd:session:"+strconv.FormatInt(botID, 10))).Result()
	if err != nil {
		return false, fmt.Errorf("drop legacy session of bot %d: %w", botID, err)
	}
	return n > 0, nil
}

// sessionsKey is the hash of the sealed sessions of a bot's instances.
func (s *Store) sessionsKey(botID int64) string {
	return s.key("gotd:sessions:" + strconv.FormatInt(botID, 10))
}

// sessionAAD binds a sealed session to its bot and instance.
func sessionAAD(botID int64, instance string) []byte {
	return []byte("kycbot session v1\x00" + strconv.FormatInt(botID, 10) + "\x00" + instance)
}

func checkBot(s *Store, botID int64) error {
	if s.optErr != nil {
		return s.optErr
	}
	if botID <= 0 {
		return fmt.Errorf("%w: bot ID %d is not a Telegram user ID (must be positive)", ErrInvalid, botID)
	}
	return nil
}

func checkInstance(s *Store, botID int64, instance string) error {
	if err := checkBot(s, botID); err != nil {
		return err
	}
	if !instanceRE.MatchString(instance) {
		return fmt.Errorf("%w: instance name must be 1 to 64 characters of A-Z a-z 0-9 _ . - (got %d characters)", ErrInvalid, len(instance))
	}
	return nil
}
