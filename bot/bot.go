package bot

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/bot/metrics"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
	"github.com/kycbot/kycbot/verify/screening"
	"github.com/kycbot/kycbot/web"
)

// Bot is kycbot's verification pipeline for one Telegram bot: the
// conversation, the Passport verification and the request page, on one
// config, one private key and one Redis. Build it with New; a transport's
// hook (package bot/gotd for gotd bots) puts kycbot's updates in the
// queue, and Run works the queue. The standalone bot (package bot/runner)
// does both for you.
type Bot struct {
	o        options
	key      *rsa.PrivateKey
	previous []*rsa.PrivateKey // the keys before a rotation
	pubPEM   string
	store    *store.Store
	ownRedis bool // the Redis client was opened by New: Close closes it
	log      *slog.Logger
	ids      MessageIDs

	outbox      *delivery.Outbox
	links       *delivery.Links // the scan links; nil without a webhook
	reg         *prometheus.Registry
	metrics     *metrics.Metrics
	metricsHTTP http.Handler
	screener    *screening.Screener // screening.lists; Reload reconfigures it

	closed  atomic.Bool
	running atomic.Bool // Run works the queue

	instMu   sync.Mutex // guards instHeld
	instHeld bool       // HoldInstance holds the instance name

	opsAddr  atomic.Pointer[string]   // where the ops server listens (SetOpsAddr), for the review links
	self     atomic.Pointer[Self]     // the bot's identity, once Run learned it
	username atomic.Pointer[string]   // the bot's username, for the hooks' classification
	commands map[string]bool          // the names users type for the public commands that are on
	mu       sync.Mutex               // serializes wire and Reload
	set      atomic.Pointer[settings] // what Reload replaces
	wired    atomic.Pointer[wiring]   // set by Run, replaced by Reload
}

// settings are the parts of a Bot a config reload replaces: the config,
// the texts and the rule checkers of the levels.
type settings struct {
	cfg      *config.Config
	cat      *i18n.Catalog
	checkers map[string]*verify.Checker
}

// newSettings builds the texts (unless WithCatalog gave them) and the rule
// checkers of cfg.
func newSettings(cfg *config.Config, o options) (*settings, error) {
	s := &settings{cfg: cfg, cat: o.catalog, checkers: map[string]*verify.Checker{}}
	if s.cat == nil {
		copts := []i18n.Option{i18n.WithDefaultLanguage(cfg.I18n.DefaultLanguage)}
		if dir := cfg.I18n.OverridesDir; dir != "" {
			copts = append(copts, i18n.WithOverrides(os.DirFS(dir)))
		}
		cat, err := i18n.New(copts...)
		if err != nil {
			return nil, fmt.Errorf("texts: %w", err)
		}
		s.cat = cat
	}
	for name, l := range cfg.Levels {
		c, err := verify.New(l.Scope, l.Policy, verify.WithClock(o.now))
		if err != nil {
			return nil, fmt.Errorf("level %q: %w", name, err)
		}
		s.checkers[name] = c
	}
	return s, nil
}

// scope returns the scope of a level.
func (s *settings) scope(level string) (passport.Scope, error) {
	l, err := s.cfg.Level(level)
	if err != nil {
		return passport.Scope{}, err
	}
	return l.Scope, nil
}

// checkLevels refuses a config without levels (one not made by
// config.Load, Parse or New).
func checkLevels(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("a config is required (config.Load, or config.New to build one in Go)")
	}
	if len(cfg.Levels) == 0 || cfg.DefaultLevel() == nil {
		return errors.New("the config has no levels; make it with config.Load, Parse or New, which check it")
	}
	return nil
}

// New checks the config and prepares a Bot: the private key (refused when
// others can read its file), the texts, the rule checkers of every level,
// and the Redis connection (checked with a PING unless WithRedis gave a
// client). It does not talk to Telegram.
func New(ctx context.Context, cfg *config.Config, opts ...Option) (*Bot, error) {
	if err := checkLevels(cfg); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.instance == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("bot: no instance name given (WithInstance) and no host name: %w", err)
		}
		o.instance = sanitizeInstance(host)
	}
	if !instanceRE.MatchString(o.instance) {
		return nil, fmt.Errorf("bot: instance name %q: use 1 to 64 characters of A-Z a-z 0-9 _ . -", o.instance)
	}
	if len(o.reviewChecks) > 0 && (len(cfg.Admins) == 0 || !cfg.Web.SeparateOps()) {
		return nil, errors.New("bot: WithReviewCheck sends submissions to manual review, which needs admins (admins) and a private web.ops_listen for the review page")
	}
	names, err := commandNames(o.commands)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b := &Bot{o: o, log: o.log, commands: names}

	b.key = o.key
	if b.key == nil {
		k, err := LoadPrivateKey(cfg.Passport.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("bot: %w", err)
		}
		b.key = k
	}
	b.previous = o.previousKeys
	if !o.previousSet {
		for _, path := range cfg.Passport.PreviousPrivateKeyFiles {
			k, err := LoadPrivateKey(path)
			if err != nil {
				return nil, fmt.Errorf("bot: passport.previous_private_key_files: %w", err)
			}
			b.previous = append(b.previous, k)
		}
	}
	pem, err := passport.MarshalPublicKey(&b.key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("bot: public key: %w", err)
	}
	b.pubPEM = string(pem)
	b.ids = NewMessageIDs(b.key)

	set, err := newSettings(cfg, o)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.set.Store(set)
	if len(cfg.Screening.Lists) > 0 && (len(cfg.Admins) == 0 || !cfg.Web.SeparateOps()) {
		return nil, errors.New("bot: screening.lists sends the users on a list to manual review, which needs admins (admins) and a private web.ops_listen for the review page")
	}
	if b.screener, err = newScreener(ctx, cfg.Screening, b.log); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}

	client := o.redis
	if client == nil {
		if client, err = OpenRedis(ctx, cfg.Redis); err != nil {
			return nil, fmt.Errorf("bot: %w", err)
		}
		b.ownRedis = true
	}
	queueKey, queuePrev := derived(QueueKey, b.key, b.previous)
	sessionKey, sessionPrev := derived(SessionKey, b.key, b.previous)
	linkKey, linkPrev := derived(ScanLinkKey, b.key, b.previous)
	docKey, docPrev := derived(DocumentKey, b.key, b.previous)
	reviewKey, reviewPrev := derived(ReviewKey, b.key, b.previous)
	sopts := []store.Option{store.WithClock(o.now),
		store.WithQueueKey(queueKey, queuePrev...), store.WithSessionKey(sessionKey, sessionPrev...),
		store.WithScanLinkKey(linkKey, linkPrev...), AuditKeys(b.key, b.previous...), store.WithDocumentKey(docKey, docPrev...),
		store.WithReviewKey(reviewKey, reviewPrev...)}
	if cfg.Delivery.WebhookURL != "" {
		key, prev := derived(OutboxKey, b.key, b.previous)
		// Entries queued before the outbox key came from the Passport key
		// were sealed under a key derived from the webhook secret (and,
		// during a webhook secret rotation, from the previous one).
		prev = append(prev, delivery.OutboxKey([]byte(cfg.Delivery.WebhookSecret.Value())))
		if ps := cfg.Delivery.PreviousWebhookSecret; ps.IsSet() {
			prev = append(prev, delivery.OutboxKey([]byte(ps.Value())))
		}
		sopts = append(sopts, store.WithOutboxKey(key, prev...))
	}
	b.store = store.New(client, StoreOptions(cfg, sopts...)...)
	b.outbox = delivery.NewOutbox(b.store)
	if cfg.Delivery.WebhookURL != "" {
		pub := cfg.Web.PublicURL
		if b.links, err = delivery.NewLinks(b.store, delivery.LinkOptions{
			URL: func(token string) string { return web.ScanURL(pub, token) }, TTL: cfg.Delivery.FileLinkTTL,
		}); err != nil {
			if b.ownRedis {
				_ = client.Close()
			}
			return nil, fmt.Errorf("bot: %w", err)
		}
	}

	b.reg = prometheus.NewRegistry()
	mopts := []metrics.Option{metrics.WithQueueDepth(func(ctx context.Context) (int64, int64, error) {
		n, handled, err := b.store.Queue().Depth(ctx)
		return n - handled, handled, err
	})}
	if cfg.Delivery.WebhookURL != "" {
		mopts = append(mopts, metrics.WithOutboxDepth(b.store.Outbox().Depth))
	}
	if b.metrics, err = metrics.New(b.reg, mopts...); err != nil {
		if b.ownRedis {
			_ = client.Close()
		}
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.metricsHTTP = metrics.Handler(b.reg, b.log)
	return b, nil
}

// instanceRE is the alphabet of instance names.
var instanceRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// sanitizeInstance turns a host name into an instance name: other
// characters than A-Z a-z 0-9 _ . - become '-', at most 64 of them;
// "kycbot" for none.
func sanitizeInstance(host string) string {
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

// current returns the settings in force (those of the last Reload).
func (b *Bot) current() *settings { return b.set.Load() }

// Config returns the config in force: the one given to New, or to the
// last successful Reload. Do not change it.
func (b *Bot) Config() *config.Config { return b.current().cfg }

// SetOpsAddr tells the bot where its operations server (web.ops_listen)
// listens, for the links of manual review when web.ops_url is not set:
// with a port 0 in the config, only the listener knows the port. The
// runner calls it; a host that serves OpsHandler itself may.
func (b *Bot) SetOpsAddr(addr net.Addr) {
	if addr != nil {
		a := addr.String()
		b.opsAddr.Store(&a)
	}
}

// opsBaseURL is the base of the review links: web.ops_url, else the
// address SetOpsAddr gave, else web.ops_listen.
func (b *Bot) opsBaseURL() string {
	w := b.current().cfg.Web
	if a := b.opsAddr.Load(); w.OpsURL == "" && a != nil {
		return "http://" + *a
	}
	return w.OpsBaseURL()
}

// Instance returns this process's name among the instances of the bot
// (WithInstance).
func (b *Bot) Instance() string { return b.o.instance }

// Registry returns the bot's Prometheus registry (every kycbot_* series;
// the runner adds the go_* and process_* ones). It is the bot's own, never
// prometheus.DefaultRegisterer: to export it beside your own metrics,
// gather both (prometheus.Gatherers{yours, kyc.Registry()}).
func (b *Bot) Registry() *prometheus.Registry { return b.reg }

// Metrics returns the bot's metrics (for the transports' middlewares).
func (b *Bot) Metrics() *metrics.Metrics { return b.metrics }

// MetricsHandler returns the handler of the bot's metrics in the
// Prometheus text format; Handler serves it as /metrics.
func (b *Bot) MetricsHandler() http.Handler { return b.metricsHTTP }

// Store returns the bot's store (statuses, audit trail, ...).
func (b *Bot) Store() *store.Store { return b.store }

// Catalog returns the bot's texts (those of the last Reload).
func (b *Bot) Catalog() *i18n.Catalog { return b.current().cat }

// PublicKeyPEM returns the public key to give @BotFather (/setpublickey).
func (b *Bot) PublicKeyPEM() string { return b.pubPEM }

// PrivateKey returns the bot's Passport private key.
func (b *Bot) PrivateKey() *rsa.PrivateKey { return b.key }

// MessageIDs returns the random_id source of the bot's messages, for the
// transports.
func (b *Bot) MessageIDs() MessageIDs { return b.ids }

// Logger returns the bot's logger.
func (b *Bot) Logger() *slog.Logger { return b.log }

// Close closes the Redis connection New opened (after Run has returned).
func (b *Bot) Close() error {
	if b.ownRedis && b.closed.CompareAndSwap(false, true) {
		if err := b.store.Client().Close(); err != nil {
			return fmt.Errorf("bot: close redis: %w", err)
		}
	}
	return nil
}

// OpenRedis connects to the Redis of the config's redis section (see
// store.Open).
func OpenRedis(ctx context.Context, r config.Redis) (redis.UniversalClient, error) {
	rc, err := redisConfig(r)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, rc)
}

// StoreOptions returns the store options the config implies (key prefix,
// retention of statuses, audit events and webhook events), followed by
// extra.
func StoreOptions(cfg *config.Config, extra ...store.Option) []store.Option {
	opts := []store.Option{store.WithPrefix(cfg.Redis.Prefix)}
	if n := cfg.Redis.WaitReplicas; n > 0 {
		opts = append(opts, store.WithReplicas(n))
	}
	if d := cfg.Retention.StatusDays; d > 0 {
		opts = append(opts, store.WithStatusRetention(time.Duration(d)*24*time.Hour))
	}
	if d := cfg.Retention.AuditDays; d > 0 {
		opts = append(opts, store.WithAuditRetention(time.Duration(d)*24*time.Hour))
	}
	if d := cfg.Delivery.KeepEvents; d > 0 {
		opts = append(opts, store.WithEventRetention(d))
	}
	return append(opts, extra...)
}

// redisConfig turns the config's redis section into a store.Config.
func redisConfig(r config.Redis) (store.Config, error) {
	c := store.Config{Mode: r.Mode, Addrs: r.Addrs, MasterName: r.MasterName, Username: r.Username,
		Password: r.Password.Value(), DB: r.DB}
	if !r.TLS.Enabled {
		return c, nil
	}
	t := &tls.Config{ServerName: r.TLS.ServerName, InsecureSkipVerify: r.TLS.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // only when the admin asks, for tests
	if r.TLS.CAFile != "" {
		pem, err := os.ReadFile(r.TLS.CAFile)
		if err != nil {
			return c, fmt.Errorf("redis.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return c, fmt.Errorf("redis.tls.ca_file %s holds no PEM certificate", r.TLS.CAFile)
		}
		t.RootCAs = pool
	}
	c.TLS = t
	return c, nil
}
