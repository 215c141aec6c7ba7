package bot

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// Bot is kycbot's verification flow for one Telegram bot: the
// conversation, the passport handler and the request page, on one config,
// one private key and one Redis. Build it with New, then either Run it as
// a standalone bot or Register it on the dispatcher of your own gotd bot.
type Bot struct {
	cfg      *config.Config
	o        options
	key      *rsa.PrivateKey
	pubPEM   string
	cat      *i18n.Catalog
	store    *store.Store
	ownRedis bool // the Redis client was opened by New: Close closes it
	checkers map[string]*verify.Checker
	log      *slog.Logger

	work   *workers
	outbox *delivery.Outbox

	closed atomic.Bool

	mu    sync.Mutex
	wired *wiring // set by Register
}

// New checks the config and prepares a Bot: the private key (refused when
// others can read its file), the texts, the rule checkers of every level,
// and the Redis connection (checked with a PING unless WithRedis gave a
// client). It does not talk to Telegram.
func New(ctx context.Context, cfg *config.Config, opts ...Option) (*Bot, error) {
	if cfg == nil {
		return nil, errors.New("bot: a config is required (config.Load)")
	}
	if len(cfg.Levels) == 0 || cfg.DefaultLevel() == nil {
		return nil, errors.New("bot: the config has no levels; load it with config.Load, which checks it")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{cfg: cfg, o: o, log: o.log, checkers: map[string]*verify.Checker{}}

	b.key = o.key
	if b.key == nil {
		k, err := LoadPrivateKey(cfg.Passport.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("bot: %w", err)
		}
		b.key = k
	}
	pem, err := passport.MarshalPublicKey(&b.key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("bot: public key: %w", err)
	}
	b.pubPEM = string(pem)

	b.cat = o.catalog
	if b.cat == nil {
		copts := []i18n.Option{i18n.WithDefaultLanguage(cfg.I18n.DefaultLanguage)}
		if dir := cfg.I18n.OverridesDir; dir != "" {
			copts = append(copts, i18n.WithOverrides(os.DirFS(dir)))
		}
		if b.cat, err = i18n.New(copts...); err != nil {
			return nil, fmt.Errorf("bot: texts: %w", err)
		}
	}

	for name, l := range cfg.Levels {
		c, err := verify.New(l.Scope, l.Policy, verify.WithClock(o.now))
		if err != nil {
			return nil, fmt.Errorf("bot: level %q: %w", name, err)
		}
		b.checkers[name] = c
	}

	client := o.redis
	if client == nil {
		if client, err = OpenRedis(ctx, cfg.Redis); err != nil {
			return nil, fmt.Errorf("bot: %w", err)
		}
		b.ownRedis = true
	}
	sopts := []store.Option{store.WithClock(o.now)}
	if cfg.Delivery.WebhookURL != "" {
		sopts = append(sopts, store.WithOutboxKey(delivery.OutboxKey([]byte(cfg.Delivery.WebhookSecret.Value()))))
	}
	b.store = store.New(client, StoreOptions(cfg, sopts...)...)
	b.outbox = delivery.NewOutbox(b.store)
	b.work = newWorkers(o.concurrency, b.log)
	return b, nil
}

// Store returns the bot's store (statuses, audit trail, ...).
func (b *Bot) Store() *store.Store { return b.store }

// Catalog returns the bot's texts.
func (b *Bot) Catalog() *i18n.Catalog { return b.cat }

// PublicKeyPEM returns the public key to give @BotFather (/setpublickey).
func (b *Bot) PublicKeyPEM() string { return b.pubPEM }

// Close waits for the work in progress (at most until ctx ends) and closes
// the Redis connection New opened. Run calls it itself.
func (b *Bot) Close(ctx context.Context) error {
	err := b.work.wait(ctx)
	if b.ownRedis && b.closed.CompareAndSwap(false, true) {
		if cerr := b.store.Client().Close(); cerr != nil && err == nil {
			err = fmt.Errorf("bot: close redis: %w", cerr)
		}
	}
	return err
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
// retention), followed by extra.
func StoreOptions(cfg *config.Config, extra ...store.Option) []store.Option {
	opts := []store.Option{store.WithPrefix(cfg.Redis.Prefix)}
	if d := cfg.Retention.StatusDays; d > 0 {
		opts = append(opts, store.WithStatusRetention(time.Duration(d)*24*time.Hour))
	}
	if d := cfg.Retention.AuditDays; d > 0 {
		opts = append(opts, store.WithAuditRetention(time.Duration(d)*24*time.Hour))
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
