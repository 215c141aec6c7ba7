package delivery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
)

// The default and bounds of LinkOptions.TTL: those of config
// delivery.file_link_ttl.
const (
	DefaultLinkTTL = config.DefaultFileLinkTTL
	MinLinkTTL     = config.MinFileLinkTTL
	MaxLinkTTL     = config.MaxFileLinkTTL
)

// ErrLinkNotFound: a scan link is unknown, expired or already used.
var ErrLinkNotFound = errors.New("delivery: scan link unknown, expired or used")

// Scan is what a scan link leads to: the scan as the event describes it
// and where it is (its location at Telegram and its file credentials,
// which decrypt it). It is the record a link keeps in Redis, sealed.
type Scan struct {
	Element passport.ElementType `json:"element"`
	Target  string               `json:"target"`
	MIME    string               `json:"mime"`
	Size    int64                `json:"size"`
	SHA256  string               `json:"sha256"`
	File    passport.File        `json:"file"`
	// Expires is when the link stops working (not stored: the record's
	// TTL says it).
	Expires time.Time `json:"-"`
}

// LinkOptions configure Links.
type LinkOptions struct {
	// URL returns the link of a token: web.ScanURL(cfg.Web.PublicURL,
	// token). Required.
	URL func(token string) string
	// TTL is how long a link works (default DefaultLinkTTL; between
	// MinLinkTTL and MaxLinkTTL; config delivery.file_link_ttl).
	TTL time.Duration
}

// Links mints and consumes the one-time links to scans: the Sender mints
// one per scan at every delivery attempt, the web server consumes it when
// the business fetches the scan. A link's record is in Redis, sealed
// (store.WithScanLinkKey), under a hash of its token, for TTL; the token
// itself is only in the link.
type Links struct {
	st  *store.Store
	url func(string) string
	ttl time.Duration
}

// NewLinks returns the Links of st, which needs the scan link key
// (store.WithScanLinkKey; package bot derives it from the Passport
// private key: bot.ScanLinkKey).
func NewLinks(st *store.Store, o LinkOptions) (*Links, error) {
	if st == nil {
		return nil, errors.New("delivery: NewLinks: nil store")
	}
	if o.URL == nil {
		return nil, errors.New("delivery: NewLinks: a URL function is required (web.ScanURL on web.public_url)")
	}
	if o.TTL == 0 {
		o.TTL = DefaultLinkTTL
	}
	if o.TTL < MinLinkTTL || o.TTL > MaxLinkTTL {
		return nil, fmt.Errorf("delivery: NewLinks: the link TTL %v must be between %v and %v", o.TTL, MinLinkTTL, MaxLinkTTL)
	}
	return &Links{st: st, url: o.URL, ttl: o.TTL}, nil
}

// TTL returns how long a link works.
func (l *Links) TTL() time.Duration { return l.ttl }

// Mint records sc under a new random token (32 bytes, base64url) and
// returns its link and when it expires. Errors never hold the scan's
// location or credentials; one wrapping store.ErrUnavailable means Redis
// could not be reached.
func (l *Links) Mint(ctx context.Context, sc Scan) (url string, expires time.Time, err error) {
	rec, err := json.Marshal(sc)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("delivery: scan link of %s.%s: %w", sc.Element, sc.Target, err)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	exp, err := l.st.ScanLinks().Put(ctx, token, rec, l.ttl)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("delivery: scan link of %s.%s: %w", sc.Element, sc.Target, err)
	}
	return l.url(token), exp, nil
}

// Take consumes the link of token and returns its scan: the first Take
// of a link succeeds, any later one, or one after it expired, fails with
// ErrLinkNotFound (as does a token that was never minted). Other errors
// mean Redis failed (store.ErrUnavailable: try again). Errors never hold
// the token.
func (l *Links) Take(ctx context.Context, token string) (Scan, error) {
	rec, exp, err := l.st.ScanLinks().Take(ctx, token)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return Scan{}, fmt.Errorf("%w: %w", ErrLinkNotFound, err)
	}
	if err != nil {
		return Scan{}, fmt.Errorf("delivery: %w", err)
	}
	var sc Scan
	if err := json.Unmarshal(rec, &sc); err != nil {
		return Scan{}, fmt.Errorf("%w: malformed record", ErrLinkNotFound)
	}
	sc.Expires = exp
	return sc, nil
}

// Restore puts back the link of token, which Take used up for sc, when
// serving it failed before anything was sent: it works again, once,
// until it would have expired. A link already past its expiry fails with
// ErrLinkNotFound.
func (l *Links) Restore(ctx context.Context, token string, sc Scan) error {
	rec, err := json.Marshal(sc)
	if err != nil {
		return fmt.Errorf("delivery: scan link of %s.%s: %w", sc.Element, sc.Target, err)
	}
	err = l.st.ScanLinks().Restore(ctx, token, rec, sc.Expires)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrLinkNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	return nil
}
