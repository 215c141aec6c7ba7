package bot

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"net"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
)

// Verified is what the OnVerified hook receives: the decrypted, checked
// submission with its scans (readable while the hook runs), the level and
// the business's external reference.
type Verified = handlers.Verified

// Rejected is what the OnRejected hook receives for a final rejection.
type Rejected = handlers.Rejected

// Defaults of the options.
const (
	// DefaultConcurrency is how many updates are handled at once.
	DefaultConcurrency = 64
	// DefaultShutdownTimeout bounds how long Run waits for the submissions
	// being processed when it is asked to stop; those cut short are
	// processed after the next start (WithShutdownTimeout).
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultRetryFor is how long a submission that cannot be processed
	// now (Redis or Telegram unreachable) is retried by this process.
	DefaultRetryFor = 15 * time.Minute
	// DefaultRateLimit and DefaultRateBurst bound the Telegram calls per
	// second that act on chats and users (messages, callback answers,
	// Passport errors), below Telegram's limits for bots. File downloads
	// and update fetching are not limited.
	DefaultRateLimit = 25
	DefaultRateBurst = 30
)

// Option configures a Bot.
type Option func(*options)

type options struct {
	redis           redis.UniversalClient
	log             *slog.Logger
	now             func() time.Time
	onVerified      func(context.Context, Verified) error
	onRejected      func(context.Context, Rejected) error
	key             *rsa.PrivateKey
	catalog         *i18n.Catalog
	telegram        []func(*telegram.Options)
	listener        net.Listener
	username        string
	concurrency     int
	shutdownTimeout time.Duration
	retryFor        time.Duration
	retryBase       time.Duration
	tempDir         string
	rateLimit       float64
	rateBurst       int
	ready           func(Info)
	journalSweep    time.Duration
}

// WithRedis sets the Redis client (default: connect as the config's redis
// section says). Set it up like store.Open does: short timeouts and no
// command retries.
func WithRedis(c redis.UniversalClient) Option { return func(o *options) { o.redis = c } }

// WithLogger sets the logger (default slog.Default()). Nothing personal is
// ever logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock of the store, the handlers and the web server
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithOnVerified sets the hook called with every accepted submission,
// before the user is told. Copy what must be kept: the scans are removed
// when it returns. An error fails the verification for now (the user is
// asked to share again). When Redis cannot record the outcome after it
// ran, the submission is processed again later and the hook called again
// with the same Verified.NonceHash: deduplicate by it.
func WithOnVerified(fn func(context.Context, Verified) error) Option {
	return func(o *options) { o.onVerified = fn }
}

// WithOnRejected sets the hook called with every final rejection.
func WithOnRejected(fn func(context.Context, Rejected) error) Option {
	return func(o *options) { o.onRejected = fn }
}

// WithPrivateKey sets the Passport private key (default: LoadPrivateKey of
// the config's passport.private_key_file).
func WithPrivateKey(k *rsa.PrivateKey) Option { return func(o *options) { o.key = k } }

// WithCatalog sets the texts (default: i18n.New with the config's i18n
// section).
func WithCatalog(c *i18n.Catalog) Option { return func(o *options) { o.catalog = c } }

// WithTelegramOptions changes the gotd client options Run builds, after
// kycbot has set its own (session and state storage, middlewares, update
// handler). The sandbox uses it to point the bot at a local Telegram.
func WithTelegramOptions(f func(*telegram.Options)) Option {
	return func(o *options) { o.telegram = append(o.telegram, f) }
}

// WithListener makes Run serve the web server on l instead of listening
// on the config's web.listen address.
func WithListener(l net.Listener) Option { return func(o *options) { o.listener = l } }

// WithBotUsername sets the bot's username (without '@') for the request
// page. Run and Register otherwise ask Telegram (users.getUsers).
func WithBotUsername(u string) Option { return func(o *options) { o.username = u } }

// WithConcurrency sets how many updates are handled at once (default
// DefaultConcurrency; at least 1). Updates beyond it wait.
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = max(n, 1) } }

// WithShutdownTimeout sets how long Run waits for work in progress when
// asked to stop (default DefaultShutdownTimeout). The handlers still
// running then are cancelled. A passport submission cut short that way,
// or one that arrives too late to start, is never half done: nothing more
// is told to the user or recorded, and it is processed again, in full,
// after the next start. Once gotd's updates manager has stopped, Run
// forgets the submission's dedupe mark and rolls the updates state saved
// in Redis back to the update's position (logged at Warn), so that
// Telegram delivers it again, with what followed it: what was already
// handled is dropped as a duplicate. The nonce is consumed by message and
// the outcome (status, audit event, webhook event) recorded once, so the
// second processing finishes the first; OnVerified and OnRejected may run
// again for it, with the same NonceHash. When Redis is unreachable at
// that moment the submission cannot be left over (logged at Error). Give
// the process a stop grace period a few seconds above the timeout.
func WithShutdownTimeout(d time.Duration) Option { return func(o *options) { o.shutdownTimeout = d } }

// WithRetry sets how long a submission that cannot be processed now is
// retried (default DefaultRetryFor), and the first pause between attempts
// (default one second; it doubles up to a minute). A submission still not
// processed at the end is given up on: the user is asked to share again.
func WithRetry(total, first time.Duration) Option {
	return func(o *options) { o.retryFor, o.retryBase = total, first }
}

// WithTempDir sets the directory of the temporary (decrypted) scans;
// default os.TempDir(). Use a private, preferably memory-backed, folder.
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// WithRateLimit sets the Telegram calls per second and the burst (default
// DefaultRateLimit and DefaultRateBurst) of the calls that act on chats
// and users; 0 turns the limit off. Downloads (upload.getFile, ...) and
// update fetching (updates.getDifference, ...) are never limited: a
// FLOOD_WAIT on them is waited out.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(o *options) { o.rateLimit, o.rateBurst = perSecond, burst }
}

// WithJournalSweep sets how often Run takes over the submissions other
// instances left in the journal of submissions in progress, or whose
// lease ran out (default DefaultJournalSweep); it also sweeps once on
// start. A d of 0 or less keeps the default.
func WithJournalSweep(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.journalSweep = d
		}
	}
}

// WithReady sets a function Run calls once the bot is logged in, serves
// its web page and receives updates.
func WithReady(fn func(Info)) Option { return func(o *options) { o.ready = fn } }

// Info describes a running bot.
type Info struct {
	// ID and Username are the bot's Telegram user ID and username.
	ID       int64
	Username string
	// WebAddr is the address the web server listens on.
	WebAddr net.Addr
	// OpsAddr is the address the operations server (/healthz, /readyz
	// and /metrics) listens on when web.ops_listen is set; nil otherwise
	// (WebAddr serves them).
	OpsAddr net.Addr
}

func defaultOptions() options {
	return options{
		log: slog.Default(), now: time.Now, concurrency: DefaultConcurrency,
		shutdownTimeout: DefaultShutdownTimeout, retryFor: DefaultRetryFor, retryBase: time.Second,
		rateLimit: DefaultRateLimit, rateBurst: DefaultRateBurst, journalSweep: DefaultJournalSweep,
	}
}
