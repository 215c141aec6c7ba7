package bot

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/i18n"
)

// Verified is what a WithOnVerified hook receives for each accepted
// submission (an alias of verification.Verified, so both names work):
//
//   - UserID: the Telegram user ID of the user verified.
//   - Level and Ref: the level of the request the user answered (a key of
//     the config's levels) and the business's reference (/start <ref>,
//     or LinkParams.Ref), "" when none.
//   - At: when the submission was accepted.
//   - NonceHash: names the submission; the same submission handled again
//     (after a crash, on another instance) has the same one: use it to
//     store the result once.
//   - Submission: the decrypted data. Submission.Element(passport.TypeX)
//     returns an element (nil when not shared), and on it
//     PersonalDetails(), IdDocument(), ResidentialAddress() the typed
//     data, PhoneNumber and Email the plain ones.
//   - Scans: one verify.ScanInfo (size in bytes, JPEG, width and height)
//     per scan, keyed by verify.ScanKey{Element, Target}; Target is
//     passport.TargetOf(passport.TargetFrontSide) (or TargetReverseSide,
//     TargetSelfie), passport.FileAt(i) or passport.TranslationAt(i).
//   - Open(key): the scan in clear, streamed; valid only while the hook
//     runs (copy what you keep, and protect it: it is personal data).
//
// The hook runs before the user is told. An error wrapping
// handlers.ErrRetryLater has it called again later (within WithRetry's
// window); any other error fails the submission (the user is asked to
// share again). It may be called twice for one submission: make it
// idempotent by NonceHash. WithScans builds a Verified for tests of a hook.
type Verified = verification.Verified

// Rejected is what a WithOnRejected hook receives for a final rejection
// (one the user cannot fix by sharing again: too young, a country not
// allowed); an alias of verification.Rejected:
//
//   - UserID, Level, Ref, At and NonceHash: as in Verified.
//   - Problems: every problem found (verify.Problem: the element, the
//     field or scan, the Code, Final), the final ones included.
//   - Codes: the distinct problem codes, such as "too_young".
//
// It holds no personal data beyond the user ID.
type Rejected = verification.Rejected

// Defaults of the options.
const (
	// DefaultConcurrency is how many updates one instance handles at once.
	DefaultConcurrency = 64
	// DefaultShutdownTimeout bounds how long Run waits for the updates
	// being handled when it is asked to stop; those it cuts short stay in
	// the queue and are handled again, in full, by any instance.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultRetryFor is how long a submission that cannot be processed
	// now (Redis or Telegram unreachable) is retried before the user is
	// asked to share again.
	DefaultRetryFor = 15 * time.Minute
	// DefaultClaimAfter is how long an update may stay with an instance
	// that stopped answering (a crash, a kill, a lost network) before
	// another instance takes it over. A working instance keeps its
	// updates, however long they take.
	DefaultClaimAfter = 30 * time.Second
)

// Option configures a Bot.
type Option func(*options)

type options struct {
	redis           redis.UniversalClient
	log             *slog.Logger
	now             func() time.Time
	onVerified      func(context.Context, Verified) error
	onRejected      func(context.Context, Rejected) error
	onReview        func(context.Context, Review) error
	reviewChecks    []verification.ReviewCheck
	key             *rsa.PrivateKey
	previousKeys    []*rsa.PrivateKey // WithPreviousPrivateKeys
	previousSet     bool              // WithPreviousPrivateKeys was given
	catalog         *i18n.Catalog
	instance        string
	concurrency     int
	shutdownTimeout time.Duration
	retryFor        time.Duration
	retryBase       time.Duration
	claimAfter      time.Duration
	tempDir         string
	everything      bool
	commands        map[string]string // WithCommand, WithoutCommand: command -> name ("" = off)
	sweepEvery      time.Duration     // WithValiditySweep
}

// WithRedis sets the Redis client (default: connect as the config's redis
// section says). Set it up like store.Open does: short timeouts and no
// command retries.
func WithRedis(c redis.UniversalClient) Option { return func(o *options) { o.redis = c } }

// WithLogger sets the logger of the bot and of everything it runs (the
// workers, the handlers, the request page, the webhook sender). Without it
// the bot logs nothing at all: an embedded plugin never writes to the
// host's slog.Default(); pass the host's logger (or one derived from it,
// such as l.With("component", "kycbot")) to see kycbot's lines. kycbot run
// passes its own (--log-level, --log-format). Nothing personal is ever
// logged: user IDs, update and event IDs, reason codes, hashes of nonces.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock sets the clock of the store, the handlers and the web server
// (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithOnVerified sets the hook called with every accepted submission,
// before the user is told. Copy what must be kept: the scans are removed
// when it returns. An error fails the verification for now (the user is
// asked to share again). The same submission may reach it twice (an
// instance that stopped after the hook ran, before the outcome was
// recorded): deduplicate by Verified.NonceHash.
func WithOnVerified(fn func(context.Context, Verified) error) Option {
	return func(o *options) { o.onVerified = fn }
}

// WithOnRejected sets the hook called with every final rejection (the same
// rejection may reach it twice: deduplicate by Rejected.NonceHash).
func WithOnRejected(fn func(context.Context, Rejected) error) Option {
	return func(o *options) { o.onRejected = fn }
}

// WithOnReview sets the hook called when a submission goes to manual
// review (before the user is told; the same review may reach it twice:
// deduplicate by Review.ID). The admin's decision reaches WithOnVerified
// or WithOnRejected.
func WithOnReview(fn func(context.Context, Review) error) Option {
	return func(o *options) { o.onReview = fn }
}

// WithReviewCheck adds a check that may send a submission that passed the
// rules to manual review: it returns the reasons' codes (such as
// verification.ReasonScreening for a watchlist hit), none to go on. A
// hit never rejects by itself: an admin decides. Checks run in the order
// given, after the level's own triggers.
func WithReviewCheck(check verification.ReviewCheck) Option {
	return func(o *options) { o.reviewChecks = append(slices.Clone(o.reviewChecks), check) }
}

// WithPrivateKey sets the Passport private key (default: LoadPrivateKey of
// the config's passport.private_key_file).
func WithPrivateKey(k *rsa.PrivateKey) Option { return func(o *options) { o.key = k } }

// WithPreviousPrivateKeys sets the Passport private keys the bot used
// before a rotation (default: LoadPrivateKey of each of the config's
// passport.previous_private_key_files). Submissions encrypted to a
// previous key's public key still decrypt, and what was sealed in Redis
// under keys derived from a previous key (queue, sessions, outbox) still
// opens; new requests and everything sealed from now on use the current
// key.
func WithPreviousPrivateKeys(keys ...*rsa.PrivateKey) Option {
	return func(o *options) { o.previousKeys, o.previousSet = append([]*rsa.PrivateKey(nil), keys...), true }
}

// WithCatalog sets the texts (default: i18n.New with the config's i18n
// section).
func WithCatalog(c *i18n.Catalog) Option { return func(o *options) { o.catalog = c } }

// WithInstance names this process among those that run the same bot
// (default: the host name): 1 to 64 characters of A-Z a-z 0-9 _ . -. The
// name must be stable across restarts (a restarted instance resumes the
// updates it held at once, instead of after WithClaimAfter) and unique
// among the running processes: Run refuses to start while another process
// holds the name.
func WithInstance(name string) Option { return func(o *options) { o.instance = name } }

// WithConcurrency sets how many updates this instance handles at once
// (default DefaultConcurrency; at least 1). Updates beyond it wait in the
// queue, for this instance or another.
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = max(n, 1) } }

// WithShutdownTimeout sets how long Run waits for the updates being
// handled when asked to stop (default DefaultShutdownTimeout). Those still
// running then are cancelled before the user is told anything more and
// stay in the queue: any instance handles them again, in full, once.
func WithShutdownTimeout(d time.Duration) Option { return func(o *options) { o.shutdownTimeout = d } }

// WithRetry sets how long a submission that cannot be processed now is
// retried (default DefaultRetryFor, counted from when it arrived), and the
// first pause between attempts (default one second; it doubles up to a
// minute). A submission still not processed at the end is given up on:
// the user is asked to share again.
func WithRetry(total, first time.Duration) Option {
	return func(o *options) { o.retryFor, o.retryBase = total, first }
}

// WithClaimAfter sets how long an update may stay with an instance that
// stopped answering before another instance takes it over (default
// DefaultClaimAfter; at least a second). Instances renew what they hold
// three times per period.
func WithClaimAfter(d time.Duration) Option {
	return func(o *options) { o.claimAfter = max(d, time.Second) }
}

// WithValiditySweep sets how often each instance looks for verifications
// that end soon, to remind their users and expire them (default one
// minute; at least 10 ms). Reminders and expiries are claimed in Redis,
// so that every instance may sweep: each is sent once. The same sweep
// finishes the erasures cut short (begun over a minute before and not
// finished: the process stopped half way), with their erased events.
func WithValiditySweep(every time.Duration) Option {
	return func(o *options) { o.sweepEvery = max(every, 10*time.Millisecond) }
}

// WithTempDir sets where scans are staged while a submission is
// processed when they are not kept in memory (larger than 1 MiB, or
// beyond passport.scan_memory_mb: verification.Config.TempDir); default
// os.TempDir(). They rest there encrypted, as Telegram sent them, for the
// submission's time only; the leftovers of a killed process are removed
// when the bot next starts. Use a private, local folder.
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// WithEverything makes kycbot the whole bot, with a catch-all reply:
// every text message and every button tap in a private chat is its update
// (text that is not one of its commands gets a hint to /help), not only
// its commands, buttons and Passport submissions. The standalone bot
// (package bot/runner, kycbot run) sets it; a host bot that embeds kycbot
// keeps the default: kycbot answers nothing but its own commands and
// buttons, and the host's handler gets every other update untouched.
func WithEverything() Option { return func(o *options) { o.everything = true } }

// WithCommand renames the public command cmd (one of chat.Commands:
// "start", "verify", "status", "language", "help", "cancel",
// "delete_my_data") to name (1 to 32 of a-z 0-9 _, with or without the
// "/"): users type /name, the menu of SetCommands shows it, and the chat's
// texts that mention /cmd say /name. An embedding host renames the
// commands its own bot already has. New fails on an unknown command, a
// bad name, or a name another command has.
func WithCommand(cmd, name string) Option {
	return func(o *options) { o.commands = withCommand(o.commands, cmd, strings.TrimPrefix(name, "/")) }
}

// WithoutCommand turns the public command cmd (one of chat.Commands) off:
// kycbot neither answers it nor lists it, and the host's bot gets it.
// The texts that mention it are the catalog's: override them
// (i18n.WithOverrides) where they would point users to a command that is
// off, such as /verify.
func WithoutCommand(cmd string) Option {
	return func(o *options) { o.commands = withCommand(o.commands, cmd, "") }
}

// withCommand returns a copy of m with cmd named name: options given to
// several bots never share a map.
func withCommand(m map[string]string, cmd, name string) map[string]string {
	m = maps.Clone(m)
	if m == nil {
		m = map[string]string{}
	}
	m[cmd] = name
	return m
}

func defaultOptions() options {
	return options{
		now: time.Now, concurrency: DefaultConcurrency, shutdownTimeout: DefaultShutdownTimeout,
		retryFor: DefaultRetryFor, retryBase: time.Second, claimAfter: DefaultClaimAfter, sweepEvery: time.Minute,
	}
}
