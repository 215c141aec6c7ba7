package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Prefs are a chat user's preferences, kept across requests.
type Prefs struct {
	// Lang is the language the user chose with /language (a language tag
	// such as "en" or "pt-BR"), or "" when they never chose one.
	Lang string
	// Ref is the business's reference for the user from the last
	// "/start <ref>" deep link, or "" for none. Later requests carry it.
	Ref string
}

// Fields of the prefs hash. "#t" is the unix ms of the last write, from
// which the retention runs (see Preferences.Get).
const (
	prefLang    = "lang"
	prefRef     = "ref"
	prefTouched = "#t"
)

// Preferences is the view of what chat users chose, kept across
// requests: their language and the business's ref
// (P{u:<uid>}:prefs). Get it from Store.Prefs.
type Preferences struct{ s *Store }

// Prefs returns the view of the users' preferences.
func (s *Store) Prefs() Preferences { return Preferences{s} }

// SetLanguage remembers the language userID chose (a language tag such as
// "en" or "pt-BR", validated as Requests.Issue validates RequestParams.Lang);
// "" forgets the choice. With WithStatusRetention the preferences are kept
// for the retention from this write, else forever (until DeleteUser).
func (pv Preferences) SetLanguage(ctx context.Context, userID int64, tag string) (err error) {
	defer markUnavailable(&err)
	if err := checkLang(tag); err != nil {
		return fmt.Errorf("set language: %w", err)
	}
	return pv.s.setPref(ctx, userID, prefLang, tag)
}

// SetRef remembers the business's reference for userID (from
// "/start <ref>": at most 64 characters of A-Z a-z 0-9 _ -, as
// RequestParams.Ref); "" forgets it. It is kept as SetLanguage keeps the
// language.
func (pv Preferences) SetRef(ctx context.Context, userID int64, ref string) (err error) {
	defer markUnavailable(&err)
	if err := checkRef(ref); err != nil {
		return fmt.Errorf("set ref: %w", err)
	}
	return pv.s.setPref(ctx, userID, prefRef, ref)
}

// setPref sets (or, for "", removes) one field of the prefs hash and
// renews its retention, in one transaction.
func (s *Store) setPref(ctx context.Context, userID int64, field, value string) error {
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkUser(userID); err != nil {
		return fmt.Errorf("set %s: %w", field, err)
	}
	key := s.userKey(userID, "prefs")
	now := s.clock()
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if value == "" {
			p.HDel(ctx, key, field)
		} else {
			p.HSet(ctx, key, field, value)
		}
		p.HSet(ctx, key, prefTouched, now.UnixMilli())
		if s.statusKeep > 0 {
			p.PExpire(ctx, key, s.statusKeep)
		} else {
			p.Persist(ctx, key)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("set %s of user %d: %w", field, userID, err)
	}
	return nil
}

// Get returns what userID chose: the zero Prefs when nothing was
// set, or when the preferences outlived the status retention (judged by
// the store's clock, as statuses are).
func (pv Preferences) Get(ctx context.Context, userID int64) (_ Prefs, err error) {
	defer markUnavailable(&err)
	s := pv.s
	if s.optErr != nil {
		return Prefs{}, s.optErr
	}
	if err := checkUser(userID); err != nil {
		return Prefs{}, fmt.Errorf("preferences: %w", err)
	}
	vals, err := s.rdb.HMGet(ctx, s.userKey(userID, "prefs"), prefLang, prefRef, prefTouched).Result()
	if err != nil {
		return Prefs{}, fmt.Errorf("preferences of user %d: %w", userID, err)
	}
	lang, _ := vals[0].(string)
	ref, _ := vals[1].(string)
	touched, _ := vals[2].(string)
	if s.statusExpired(touched, s.clock()) {
		return Prefs{}, nil
	}
	// What Redis holds was validated on the way in; check again so that a
	// corrupt record cannot reach a request.
	if checkLang(lang) != nil {
		lang = ""
	}
	if checkRef(ref) != nil {
		ref = ""
	}
	return Prefs{Lang: lang, Ref: ref}, nil
}

// checkLang validates a language tag as RequestParams.Lang ("" allowed).
func checkLang(tag string) error {
	if !langRE.MatchString(tag) || len(tag) > 35 {
		return fmt.Errorf("%w: lang must be a language tag such as en or pt-BR (got %d characters)", ErrInvalid, len(tag))
	}
	return nil
}
