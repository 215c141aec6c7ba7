package verification

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/verification/lockeddir"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// Store is what the flow keeps in Redis: exactly the calls it makes.
// Package bot implements it on the store's views.
type Store interface {
	// ConsumeNonce burns nonce for userID, repeatably for the message
	// msgID: the same message consuming it again gets the same request
	// back (store.ByMessage). Refusals wrap the store's ErrNonce* errors.
	ConsumeNonce(ctx context.Context, nonce string, userID int64, msgID int) (store.Request, error)
	// IssueRequest issues a request for a new attempt, idempotently by
	// src: the user's live request issued for the same src is returned
	// instead of a new one.
	IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration, src string) (store.Request, error)
	// SetStatus records the user's status at a level.
	SetStatus(ctx context.Context, st store.Status) error
	// AuditOnce appends ev to the audit trail once per id.
	AuditOnce(ctx context.Context, ev store.Event, id string) error
	// ClaimDocuments claims the identity documents and the person of a
	// submission for userID, all or none (store.Documents.ClaimAll): an
	// error wrapping store.ErrDocumentTaken names the other owner.
	ClaimDocuments(ctx context.Context, userID int64, fps []store.Fingerprint) (owner int64, err error)
	// ReleaseDocuments releases the claims userID holds of fps
	// (store.Documents.ReleaseAll): an admin rejected the submission.
	ReleaseDocuments(ctx context.Context, userID int64, fps []store.Fingerprint) error
	// PutReview, GetReview and DeleteReview keep a submission for manual
	// review, sealed, until the decision (store.Reviews); PutReview of one
	// decided already fails with store.ErrReviewDecided.
	PutReview(ctx context.Context, userID int64, id string, value []byte, ttl time.Duration) error
	GetReview(ctx context.Context, userID int64, id string) ([]byte, error)
	DeleteReview(ctx context.Context, userID int64, id string) error
}

// Telegram is what the flow asks of Telegram. The transports implement
// it (package bot/gotd for MTProto).
type Telegram interface {
	handlers.Sender
	// The "received, checking" message is edited into the verdict.
	handlers.Editor
	// Download writes the encrypted bytes of a Passport file to w (it
	// may live on another data center).
	Download(ctx context.Context, f *passport.File, w io.Writer) error
	// SetSecureValueErrors shows errs to the user in their Telegram
	// Passport form (users.setSecureValueErrors).
	SetSecureValueErrors(ctx context.Context, to handlers.User, errs []tg.SecureValueErrorClass) error
}

// Where verified results went (Config.ResultsTo), as the admins' notice
// says.
const (
	// ResultsToWebhook: into the webhook outbox, as an event.
	ResultsToWebhook = "webhook"
	// ResultsToHook: to the OnVerified hook (the host bot's code).
	ResultsToHook = "hook"
	// ResultsNowhere: nowhere, on purpose (delivery.none).
	ResultsNowhere = "nowhere"
)

// Defaults of Config.
const (
	// DefaultRequestTTL is the life of the request issued for a new
	// attempt after fixable problems.
	DefaultRequestTTL = 30 * time.Minute
	// DefaultDownloadConcurrency is how many files of one submission are
	// downloaded at once.
	DefaultDownloadConcurrency = 2
	// DefaultReviewTTL is how long a submission waits for an admin's
	// decision.
	DefaultReviewTTL = 7 * 24 * time.Hour
	// DefaultScanMemory is how many bytes of scans a Flow keeps in memory,
	// all submissions together, before it stages them on disk.
	DefaultScanMemory = 16 << 20
)

// MaxMemoryScan is the largest scan kept in memory (see
// Config.ScanMemory): a larger one is staged on disk.
const MaxMemoryScan = 1 << 20

// Config is what New needs. Fields without a default are required.
type Config struct {
	// Key is the bot's Passport private key.
	Key *rsa.PrivateKey
	// PreviousKeys are the keys the bot used before a rotation: a
	// submission that Key does not decrypt (answered to a request issued
	// under an older key) is tried with each. Optional.
	PreviousKeys []*rsa.PrivateKey
	// Store keeps nonces, statuses and the audit trail.
	Store Store
	// Telegram downloads scans, sends messages and sets Passport errors.
	Telegram Telegram
	// Catalog holds the texts.
	Catalog *i18n.Catalog
	// Checkers check submissions, by verification level (the request's
	// Level); at least one.
	Checkers map[string]*verify.Checker
	// PageURL returns the URL of the request page of a request ID.
	PageURL func(requestID string) string
	// Admins are told about verifications, final rejections and a wrong
	// Passport key. Default: nobody.
	Admins *handlers.Admins
	// Support is whom users may contact, named in the final rejection
	// (a @username, an https URL or an e-mail address; default: none).
	Support string
	// RequestTTL is the life of the request issued for a new attempt
	// (default DefaultRequestTTL).
	RequestTTL time.Duration
	// OnVerified is called with every accepted submission, before the
	// user is told (see Verified). An error wrapping handlers.ErrRetryLater
	// or store.ErrUnavailable has the submission processed again later;
	// any other fails it (the user is asked to share again). It may be
	// called again for the same submission (same NonceHash): make it
	// idempotent by that hash. Default: none.
	OnVerified func(context.Context, Verified) error
	// ResultsTo says where the results of the verified submission named by
	// nonceHash went, for the admins' notice: ResultsToWebhook with the
	// webhook event's ID, ResultsToHook or ResultsNowhere. Default: the
	// notice says they went to OnVerified.
	ResultsTo func(nonceHash string, userID int64) (to, eventID string)
	// OnRejected is called with every final rejection, after the status is
	// recorded and before the user is told; errors as for OnVerified,
	// except that a final error is only logged. Default: none.
	OnRejected func(context.Context, Rejected) error
	// OnNeedsFixes is called when a submission is sent back to be fixed,
	// after the status is recorded and before the user is told; errors as
	// for OnRejected. Default: none.
	OnNeedsFixes func(context.Context, NeedsFixes) error
	// OnReview is called when a submission goes to manual review, after
	// the status is recorded and before the user is told; errors as for
	// OnRejected. Default: none.
	OnReview func(context.Context, Review) error
	// ReviewChecks may each send a submission that passed the rules to
	// manual review (a watchlist hit: ReasonScreening), besides the
	// level's rules (rules.duplicates, review, review_sample). Optional.
	ReviewChecks []ReviewCheck
	// ReviewLink returns the link to the review page that admin may open
	// once for the review id of userID (the bot signs it). Required when a
	// level's rules send submissions to review.
	ReviewLink func(reviewID string, userID, admin int64) string
	// ReviewTTL is how long a submission waits, sealed, for the decision
	// (default DefaultReviewTTL); past it, it is erased undecided.
	ReviewTTL time.Duration
	// Sample returns the number in [0, 1) that rules.review_sample is
	// compared with, for the submission whose nonce hash is nonceHash
	// (default SampleOf: the same submission processed again is drawn
	// again the same way).
	Sample func(nonceHash string) float64
	// DownloadConcurrency is how many files of one submission are
	// downloaded at once (default DefaultDownloadConcurrency).
	DownloadConcurrency int
	// ScanMemory is how many bytes of scans the flow keeps in memory while
	// their submissions are processed, all submissions together (default
	// DefaultScanMemory; negative: none, every scan is staged in TempDir).
	// A scan of at most MaxMemoryScan bytes is kept there, encrypted as
	// Telegram sent it, while there is room; the others are staged in
	// TempDir. A verification with a few small scans then creates no file
	// (creating a directory, a lock and a file per scan costs more CPU
	// than the rest of the staging). The bytes are given back when the
	// submission ends.
	ScanMemory int64
	// TempDir is where scans are staged while a submission is processed
	// when they are not kept in memory (see ScanMemory; default
	// os.TempDir()); it should be local and private to the bot.
	// A submission stages such scans in a directory of its own,
	// kycbot-scans-<random>, locked by the process (flock) and removed
	// when the submission ends, however it ends. The scans rest there
	// encrypted, exactly as Telegram sent them: the keys to decrypt them
	// live only in the process's memory. New removes the kycbot-scans-*
	// directories that no process holds: those of a process that was
	// killed (SIGKILL, out of memory) mid-submission. On systems without
	// flock (other than Linux, macOS and the BSDs) nothing is locked and
	// such leftovers stay until removed by hand.
	TempDir string
	// ValueErrorsPauses are the pauses between the attempts of
	// users.setSecureValueErrors, one attempt more than pauses (default
	// DefaultValueErrorsPauses; empty but not nil: one attempt). When every
	// attempt fails, the chat message says so and lists the problems.
	ValueErrorsPauses []time.Duration
	// ReverifyAfter is how long a verification stays valid, by level
	// (config levels.<name>.reverify_after); a level without one ends
	// only with its identity document. The verified status's ValidUntil
	// is the earliest of the two. Optional.
	ReverifyAfter map[string]time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives the flow's logs (default: none); a logger in the
	// context (handlers.ContextWithLogger) wins. Nothing personal is
	// logged.
	Log *slog.Logger
	// Observer is told outcomes, problem codes and verdict times (default
	// handlers.NopObserver).
	Observer handlers.Observer
}

// Submission is a Telegram Passport submission to process.
type Submission struct {
	// ID names the update (the queue entry): every message the flow sends
	// for it is idempotent by it, and the request it issues too, so that
	// processing it again tells the user nothing twice.
	ID string
	// User is who shared the data.
	User handlers.User
	// MsgID is the ID of the Telegram message that carried it.
	MsgID int
	// Encrypted is the submission as it arrived.
	Encrypted *passport.EncryptedSubmission
	// Received is when the update arrived, for the verdict time (default:
	// when Process starts).
	Received time.Time
}

// Outcome says how a submission ended.
type Outcome struct {
	// Result is one of the handlers.Submission* constants.
	Result string
	// Reason says why for SubmissionRefused, SubmissionUndecryptable and
	// SubmissionFailed (see handlers.Observer.Submission).
	Reason string
	// Level is the request's level, when known.
	Level string
	// Codes are the distinct problem codes of a submission that needs
	// fixes or is rejected.
	Codes []string
}

// Verified is what Config.OnVerified receives for an accepted submission.
type Verified struct {
	UserID int64
	// Level and Ref are those of the request the submission answered.
	Level string
	Ref   string
	// At is when the submission was accepted (the flow's clock).
	At time.Time
	// NonceHash is the hex SHA-256 of the request's nonce: it names the
	// submission (the same submission processed again has the same one),
	// for idempotent deliveries.
	NonceHash string
	// ValidUntil is the last day the verification holds, when known: the
	// earliest expiry date of the identity documents shared (ValidUntil
	// of the function of that name); zero when none has one.
	ValidUntil time.Time
	// Submission is the decrypted data.
	Submission *passport.Submission
	// Scans describe the scans (size, pixel size), one per scan Open
	// reads.
	Scans map[verify.ScanKey]verify.ScanInfo

	open func(verify.ScanKey) (io.ReadCloser, error)
}

// Open opens the scan key of an accepted submission for reading, in
// clear. It is valid while the OnVerified hook runs: the flow removes the
// staged scans when the hook returns, so copy what must be kept (and keep
// it protected: it is personal data).
//
// The scan is staged encrypted, as Telegram sent it (in memory or on
// disk: see Config.ScanMemory), and decrypted while it is read, with
// constant memory whatever its size. For a scan staged on disk, Open
// checks the whole file against Telegram's file hash before it returns: a
// file changed or damaged on disk fails here, with an error wrapping
// passport.ErrHashMismatch (or another passport error), never with wrong
// bytes. A scan in memory was checked as it downloaded. The reader checks
// the hash again at its end.
func (v Verified) Open(key verify.ScanKey) (io.ReadCloser, error) {
	if v.open == nil {
		return nil, fmt.Errorf("verification: no scan %s.%s: this Verified has no scans to open (only the flow's, or those of WithScans)",
			key.Element, key.Target)
	}
	return v.open(key)
}

// WithScans returns v whose Scans describe scans and whose Open reads them
// from memory: for tests of an OnVerified hook, outside the flow.
func (v Verified) WithScans(scans map[verify.ScanKey][]byte) Verified {
	held := maps.Clone(scans)
	v.Scans = make(map[verify.ScanKey]verify.ScanInfo, len(held))
	for k, b := range held {
		v.Scans[k] = verify.Inspect(b)
	}
	v.open = func(key verify.ScanKey) (io.ReadCloser, error) {
		b, ok := held[key]
		if !ok {
			return nil, fmt.Errorf("verification: no scan %s.%s in this submission", key.Element, key.Target)
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return v
}

// Rejected is what Config.OnRejected receives for a final rejection.
type Rejected struct {
	UserID int64
	Level  string
	Ref    string
	At     time.Time
	// NonceHash names the submission, as in Verified.
	NonceHash string
	// Problems are every problem found, Final ones included.
	Problems []verify.Problem
	// Codes are the distinct problem codes.
	Codes []string
}

// NeedsFixes is what Config.OnNeedsFixes receives when a submission is
// sent back to be fixed (by the rules, or by an admin's review).
type NeedsFixes struct {
	UserID int64
	Level  string
	Ref    string
	At     time.Time
	// NonceHash names the submission, as in Verified.
	NonceHash string
	// Problems are what to fix (codes and where, never values).
	Problems []verify.Problem
}

// Flow processes Telegram Passport submissions: steps 5 to 8 of the
// design. It is safe for concurrent use.
type Flow struct {
	cfg Config
	// keys are Key then PreviousKeys, each handed to the RSA backend once
	// (passport.NewKey); OpenSSL's copies are freed with the Flow.
	keys []crypto.Decrypter
	// mem is what is left of ScanMemory.
	mem *memBudget

	mu      sync.Mutex
	delayed map[string]bool // submissions whose user was told about a delay
}

// maxDelayed bounds the memory of delay notices.
const maxDelayed = 10000

// New returns a Flow; it fails when cfg lacks something required.
func New(cfg Config) (*Flow, error) {
	if err := handlers.Require("verification",
		handlers.Setting{Name: "Key", Set: cfg.Key != nil}, handlers.Setting{Name: "Store", Set: cfg.Store != nil},
		handlers.Setting{Name: "Telegram", Set: cfg.Telegram != nil}, handlers.Setting{Name: "Catalog", Set: cfg.Catalog != nil},
		handlers.Setting{Name: "Checkers", Set: len(cfg.Checkers) > 0}, handlers.Setting{Name: "PageURL", Set: cfg.PageURL != nil},
	); err != nil {
		return nil, err
	}
	for level, c := range cfg.Checkers {
		if c == nil {
			return nil, fmt.Errorf("verification: the checker of level %q is nil", level)
		}
	}
	if cfg.RequestTTL <= 0 {
		cfg.RequestTTL = DefaultRequestTTL
	}
	if cfg.DownloadConcurrency <= 0 {
		cfg.DownloadConcurrency = DefaultDownloadConcurrency
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.ScanMemory == 0 {
		cfg.ScanMemory = DefaultScanMemory
	}
	if cfg.ReviewTTL <= 0 {
		cfg.ReviewTTL = DefaultReviewTTL
	}
	if cfg.Sample == nil {
		cfg.Sample = SampleOf
	}
	if cfg.ValueErrorsPauses == nil {
		cfg.ValueErrorsPauses = DefaultValueErrorsPauses
	}
	handlers.Defaults(&cfg.Now, &cfg.Log, &cfg.Observer)
	f := &Flow{cfg: cfg, delayed: map[string]bool{}, mem: &memBudget{free: max(cfg.ScanMemory, 0)}}
	f.keys = decryptionKeys(cfg.Key, cfg.PreviousKeys)
	f.sweep()
	return f, nil
}

// stagePrefix names the directories scans are staged in, in TempDir.
const stagePrefix = "kycbot-scans-"

// sweep removes the staging directories of processes that died while
// processing a submission; a failure is logged.
func (f *Flow) sweep() {
	n, err := lockeddir.Sweep(f.cfg.TempDir, stagePrefix)
	if n > 0 {
		f.cfg.Log.Info("verification: removed the staged scans of a process that stopped mid-submission",
			slog.Int("directories", n), slog.String("temp_dir", f.cfg.TempDir))
	}
	if err != nil {
		f.cfg.Log.Warn("verification: cannot remove the staged scans of a process that stopped mid-submission",
			slog.String("error", err.Error()))
	}
}

// Process takes a submission through the whole verification: the
// credentials are decrypted with the bot's key, the nonce is consumed
// (once, for this user, not expired), the values are decrypted and the
// scans downloaded and decrypted, the level's rules check them, and the
// documents are claimed against duplicates, and the outcome is recorded
// (status, audit event, hooks) before the user is told: verified,
// rejected for good, under review (an admin decides: Decide), or what to
// fix (in the chat and in their Telegram Passport form, with a fresh
// request to try again).
//
// It returns the outcome and nil when the submission was handled, whatever
// it was for the user. It returns an error wrapping handlers.ErrRetryLater
// when it could not be handled now (Redis unreachable before the outcome
// was recorded, or ctx ended before the user was told): the user was told
// at most that it takes longer, and processing the same submission again
// (same ID) is safe, by this or another instance: the nonce is consumed by
// message, the records are idempotent and the messages too. Any other
// error is final: the user was told what to do.
func (f *Flow) Process(ctx context.Context, sub Submission) (_ Outcome, err error) {
	p := f.newRun(ctx, sub)
	defer func() {
		if !errors.Is(err, handlers.ErrRetryLater) {
			f.clearDelayed(sub.ID) // done: a later delay is another one
		}
	}()
	if sub.Encrypted == nil {
		return Outcome{}, fmt.Errorf("verification: submission %s has no data", sub.ID)
	}

	// Credentials.
	creds, err := f.decryptCredentials(sub.Encrypted.Credentials)
	if err != nil {
		name := sentinelName(err)
		p.log.WarnContext(ctx, "verification: credentials do not decrypt", slog.String("reason", name), slog.String("error", err.Error()))
		p.audit(ctx, store.Event{Kind: "decrypt_failed", Codes: []string{name}}, "")
		p.send(ctx, i18n.MsgSubmissionUndecryptable)
		if errors.Is(err, passport.ErrWrongKey) {
			f.cfg.Admins.Notify(ctx, sub.ID+":wrong_key", i18n.MsgAdminWrongKey, nil)
		}
		return p.ended(Outcome{Result: handlers.SubmissionUndecryptable, Reason: name}), nil
	}
	nh := store.Request{Nonce: creds.Nonce}.NonceHash()
	p.log = p.log.With(slog.String("nonce_hash", nh))

	// Nonce: consumed by message, so that this submission processed again
	// gets its request back instead of a replay refusal.
	req, err := f.cfg.Store.ConsumeNonce(ctx, creds.Nonce, sub.User.ID, sub.MsgID)
	if err != nil {
		for _, o := range nonceOutcomes {
			if errors.Is(err, o.err) {
				p.log.WarnContext(ctx, "verification: nonce refused", slog.String("reason", o.kind))
				p.audit(ctx, store.Event{Kind: o.kind, Detail: map[string]string{"nonce_hash": nh}}, "")
				p.send(ctx, o.msg)
				return p.ended(Outcome{Result: handlers.SubmissionRefused, Reason: o.reason}), nil
			}
		}
		return Outcome{}, p.retryLater(ctx, "consume the nonce", err)
	}
	if req.Lang != "" {
		p.loc = f.cfg.Catalog.Language(req.Lang)
	}
	p.log = p.log.With(slog.String("level", req.Level))
	p.req = req
	p.sendReceived(ctx)

	// From here the nonce is burned: only this message gets its request
	// back. Failures are told to the user (share again), except that an
	// outcome that cannot be recorded now is retried before the user is
	// told.
	out, err := p.verify(ctx, sub.Encrypted, creds)
	if err != nil {
		if errors.Is(err, handlers.ErrRetryLater) {
			return Outcome{}, err
		}
		p.log.ErrorContext(ctx, "verification: submission processing failed", slog.String("error", err.Error()))
		return out, fmt.Errorf("verification: submission %d of user %d: %w", sub.MsgID, sub.User.ID, err)
	}
	return out, nil
}

// GiveUp ends a submission that Process kept failing with
// handlers.ErrRetryLater until the caller stopped trying: the user, told
// that it takes longer, is asked to share again (MsgSubmissionFailed), and
// the failure is audited (processing_failed, code gave_up) if Redis lets
// it.
func (f *Flow) GiveUp(ctx context.Context, sub Submission) Outcome {
	p := f.newRun(ctx, sub)
	defer f.clearDelayed(sub.ID)
	p.log.ErrorContext(ctx, "verification: submission given up on; the user is asked to share again")
	p.audit(ctx, store.Event{Kind: "processing_failed", Codes: []string{"gave_up"}}, "")
	p.send(ctx, i18n.MsgSubmissionFailed)
	return p.ended(Outcome{Result: handlers.SubmissionFailed, Reason: "gave_up"})
}

// run is the processing of one submission.
type run struct {
	f     *Flow
	sub   Submission
	log   *slog.Logger
	loc   *i18n.Localizer
	reply *handlers.Reply
	req   store.Request // once the nonce is consumed
	// received is the ID of the "received, checking" message, which the
	// verdict replaces (0: none to edit).
	received int
}

func (f *Flow) newRun(ctx context.Context, sub Submission) *run {
	p := &run{f: f, sub: sub}
	if p.sub.Received.IsZero() {
		p.sub.Received = f.cfg.Now()
	}
	p.log = handlers.LoggerFromContext(ctx, f.cfg.Log).With(slog.Int64("user_id", sub.User.ID), slog.Int("msg_id", sub.MsgID))
	p.loc = f.cfg.Catalog.Language(f.cfg.Catalog.Match(sub.User.LangCode))
	p.reply = &handlers.Reply{To: sub.User, Sender: f.cfg.Telegram, Key: sub.ID}
	return p
}

// ended tells the observer how the submission ended, and returns o with
// the request's level.
func (p *run) ended(o Outcome) Outcome {
	if o.Level == "" {
		o.Level = p.req.Level
	}
	p.f.cfg.Observer.Submission(o.Result, o.Reason, o.Level)
	return o
}

// verdict tells the observer that the verdict was sent.
func (p *run) verdict(o Outcome) Outcome {
	if len(o.Codes) > 0 {
		p.f.cfg.Observer.Problems(o.Codes)
	}
	o = p.ended(o)
	p.f.cfg.Observer.Verdict(p.f.cfg.Now().Sub(p.sub.Received))
	return o
}

// retryLater fails the processing of a submission that can be processed
// again: the user is told (once) that it takes longer, and the error wraps
// handlers.ErrRetryLater. When ctx has ended (the bot is stopping) nothing
// more is sent: the processing is cut short.
func (p *run) retryLater(ctx context.Context, stage string, err error) error {
	if ctx.Err() != nil {
		p.log.WarnContext(ctx, "verification: processing cut short before the outcome was told; the submission will be processed again",
			slog.String("stage", stage))
		return fmt.Errorf("%w: submission %d of user %d: %s: cut short (%w): %w", handlers.ErrRetryLater, p.sub.MsgID, p.sub.User.ID, stage, ctx.Err(), err)
	}
	p.log.ErrorContext(ctx, "verification: cannot process the submission now; it will be retried",
		slog.String("stage", stage), slog.String("error", err.Error()))
	if p.f.markDelayed(p.sub.ID) {
		// Into the "received" message when there is one, so that the
		// verdict, edited in later, does not land above the notice.
		p.concludeWith(ctx, i18n.MsgSubmissionDelayed)
	}
	return fmt.Errorf("%w: submission %d of user %d: %s: %w", handlers.ErrRetryLater, p.sub.MsgID, p.sub.User.ID, stage, err)
}

func (f *Flow) markDelayed(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.delayed[id] {
		return false
	}
	if len(f.delayed) >= maxDelayed {
		clear(f.delayed)
	}
	f.delayed[id] = true
	return true
}

func (f *Flow) clearDelayed(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.delayed, id)
}

// concludeWith concludes with the catalog's message id (its purpose); a
// failure is logged.
func (p *run) concludeWith(ctx context.Context, id string) {
	if err := p.conclude(ctx, id, p.loc.Text(id, nil)); err != nil {
		p.log.ErrorContext(ctx, "verification: cannot send a message to the user", slog.String("error", err.Error()))
	}
}

// send tells the user the catalog's message id; a failure is logged.
func (p *run) send(ctx context.Context, id string) {
	p.reply.Loc = p.loc
	if err := p.reply.Text(ctx, id, nil); err != nil {
		p.log.ErrorContext(ctx, "verification: cannot send a message to the user", slog.String("error", err.Error()))
	}
}

// sendReceived tells the user that their documents arrived and are being
// checked, in a message the verdict is edited into (keyed by the
// submission: handled again, it is not sent again and its ID comes back).
// A failure is logged: the verdict is then sent as a message of its own.
func (p *run) sendReceived(ctx context.Context) {
	m := handlers.Message{Text: p.loc.Text(i18n.MsgSubmissionReceived, nil), Key: p.sub.ID + ":" + i18n.MsgSubmissionReceived}
	id, err := p.f.cfg.Telegram.SendEditable(ctx, p.sub.User, m)
	if err != nil {
		p.log.ErrorContext(ctx, "verification: cannot tell the user the documents were received", slog.String("error", err.Error()))
		return
	}
	p.received = id
}

// conclude tells the user how the submission ended: the "received"
// message is edited into text (an edit made before changes nothing, so
// processing the submission again tells nothing twice); when there is none,
// or it cannot be edited (deleted by the user, too old), a new message
// with the key of purpose is sent.
func (p *run) conclude(ctx context.Context, purpose, text string, rows ...[]handlers.Button) error {
	if p.received != 0 {
		err := p.f.cfg.Telegram.Edit(ctx, p.sub.User, p.received, handlers.Message{Text: text, Buttons: rows})
		if err == nil || ctx.Err() != nil {
			return err
		}
		p.log.WarnContext(ctx, "verification: cannot edit the received message; the outcome is sent as a new one", slog.String("error", err.Error()))
	}
	p.reply.Loc = p.loc
	return p.reply.Send(ctx, purpose, text, rows...)
}

// tell tells the user the verdict (conclude). When ctx has ended, the
// processing is cut short (retryLater), so that it runs again and the user
// is told then; another failure is logged.
func (p *run) tell(ctx context.Context, text string, buttons ...handlers.Button) error {
	var rows [][]handlers.Button
	if len(buttons) > 0 {
		rows = [][]handlers.Button{buttons}
	}
	err := p.conclude(ctx, "verdict", text, rows...)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return p.retryLater(ctx, "tell the outcome", err)
	}
	p.log.ErrorContext(ctx, "verification: cannot send a message to the user", slog.String("error", err.Error()))
	return nil
}

// audit appends an event once per submission (its kind and the
// submission's ID name it, or the given id); a failure is logged.
func (p *run) audit(ctx context.Context, ev store.Event, id string) {
	ev.UserID = p.sub.User.ID
	if id == "" {
		id = ev.Kind + ":" + p.sub.ID
	}
	if err := p.f.cfg.Store.AuditOnce(ctx, ev, id); err != nil {
		p.log.ErrorContext(ctx, "verification: audit failed", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
	}
}

// record records the outcome before the user is told: the status, then
// the audit event. When Redis is unreachable, or ctx ends, the processing
// is retried later.
func (p *run) record(ctx context.Context, st store.Status, ev store.Event) error {
	if err := p.setStatus(ctx, st); err != nil {
		return err
	}
	return p.auditOutcome(ctx, ev)
}

// setStatus records the status the submission ends with (retried later
// when Redis is unreachable or ctx ended; another failure is logged).
func (p *run) setStatus(ctx context.Context, st store.Status) error {
	st.UserID = p.sub.User.ID
	if err := p.f.cfg.Store.SetStatus(ctx, st); err != nil {
		if ctx.Err() != nil || errors.Is(err, store.ErrUnavailable) {
			return p.retryLater(ctx, "record the "+st.State+" status", err)
		}
		p.log.ErrorContext(ctx, "verification: cannot record the "+st.State+" status", slog.String("error", err.Error()))
	}
	return nil
}

// auditOutcome appends the outcome's audit event once per submission (its
// kind and nonce hash name it; retried later when Redis is unreachable or
// ctx ended; another failure is logged).
func (p *run) auditOutcome(ctx context.Context, ev store.Event) error {
	ev.UserID = p.sub.User.ID
	if err := p.f.cfg.Store.AuditOnce(ctx, ev, ev.Kind+":"+p.req.NonceHash()); err != nil {
		if ctx.Err() != nil || errors.Is(err, store.ErrUnavailable) {
			return p.retryLater(ctx, "audit "+ev.Kind, err)
		}
		p.log.ErrorContext(ctx, "verification: audit failed", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
	}
	return nil
}

// failed reports a failure after the nonce was consumed: audited, and the
// user is asked to share again.
func (p *run) failed(ctx context.Context, stage, code string) Outcome {
	p.audit(ctx, store.Event{Kind: "processing_failed", Level: p.req.Level, Ref: p.req.Ref, Codes: []string{code},
		Detail: map[string]string{"stage": stage, "nonce_hash": p.req.NonceHash()}}, "")
	p.concludeWith(ctx, i18n.MsgSubmissionFailed)
	return p.ended(Outcome{Result: handlers.SubmissionFailed, Reason: code})
}

func (p *run) verify(ctx context.Context, es *passport.EncryptedSubmission, creds *passport.Credentials) (Outcome, error) {
	f, req := p.f, p.req
	checker, ok := f.cfg.Checkers[req.Level]
	if !ok {
		return p.failed(ctx, "check", "unknown_level"), fmt.Errorf("no checker for level %q", req.Level)
	}
	sub, err := creds.Open(es.Elements)
	if err != nil {
		name := sentinelName(err)
		p.log.WarnContext(ctx, "verification: values do not decrypt", slog.String("reason", name), slog.String("error", err.Error()))
		p.audit(ctx, store.Event{Kind: "decrypt_failed", Level: req.Level, Ref: req.Ref, Codes: []string{name},
			Detail: map[string]string{"nonce_hash": req.NonceHash()}}, "")
		p.concludeWith(ctx, i18n.MsgSubmissionUndecryptable)
		return p.ended(Outcome{Result: handlers.SubmissionUndecryptable, Reason: name}), nil
	}
	types := make([]string, len(sub.Elements))
	for i, el := range sub.Elements {
		types[i] = string(el.Type)
	}
	p.log.InfoContext(ctx, "verification: submission received", slog.String("elements", strings.Join(types, ",")))

	st, remove := p.stage(ctx)
	defer remove()
	files, err := fetchAll(ctx, f.cfg.Telegram, sub, st, f.cfg.DownloadConcurrency, checker.MeasuresSharpness())
	if err != nil && ctx.Err() != nil {
		return Outcome{}, p.retryLater(ctx, "download the scans", err)
	}
	if err != nil {
		var fe *fileError
		if errors.As(err, &fe) && sentinelName(err) != "unknown" {
			// The file itself is bad (tampered, malformed, too large).
			name := sentinelName(err)
			p.log.WarnContext(ctx, "verification: a scan does not decrypt", slog.String("element", string(fe.key.Element)),
				slog.String("target", fe.key.Target.String()), slog.String("reason", name))
			p.audit(ctx, store.Event{Kind: "decrypt_failed", Level: req.Level, Ref: req.Ref, Codes: []string{name},
				Detail: map[string]string{"nonce_hash": req.NonceHash(), "element": string(fe.key.Element)}}, "")
			p.concludeWith(ctx, i18n.MsgSubmissionUndecryptable)
			return p.ended(Outcome{Result: handlers.SubmissionUndecryptable, Reason: name}), nil
		}
		if se := (*stageError)(nil); errors.As(err, &se) {
			return p.failed(ctx, "files", "temp_dir"), fmt.Errorf("scans: %w", err)
		}
		return p.failed(ctx, "files", "download_failed"), fmt.Errorf("scans: %w", err)
	}

	res := checker.Check(ctx, sub, files.infos)
	codes := make([]string, 0, len(res.Problems))
	for _, c := range res.Codes() {
		codes = append(codes, string(c))
	}
	switch {
	case res.OK():
		policy := checker.Policy()
		owner, out, done, err := p.duplicates(ctx, policy.Duplicates, sub)
		if done {
			return out, err
		}
		reasons, err := p.reviewReasons(ctx, policy, sub, owner)
		if err != nil {
			return Outcome{}, err
		}
		if len(reasons) > 0 {
			return p.toReview(ctx, es, reasons, owner)
		}
		return p.verified(ctx, sub, files)
	case res.Final():
		return p.rejected(ctx, res, codes)
	default:
		return p.needsFixes(ctx, sub, res, codes)
	}
}

func (p *run) verified(ctx context.Context, sub *passport.Submission, files *fetched) (Outcome, error) {
	f, req := p.f, p.req
	until := ValidUntil(sub, f.cfg.Now(), f.cfg.ReverifyAfter[req.Level])
	if f.cfg.OnVerified != nil {
		v := Verified{UserID: p.sub.User.ID, Level: req.Level, Ref: req.Ref, At: f.cfg.Now(), NonceHash: req.NonceHash(),
			ValidUntil: until, Submission: sub, Scans: files.infos, open: files.staged.open}
		if err := f.cfg.OnVerified(ctx, v); err != nil {
			if hookRetryable(err) || ctx.Err() != nil {
				return Outcome{}, p.retryLater(ctx, "OnVerified", err)
			}
			return p.failed(ctx, "on_verified", "hook_failed"), fmt.Errorf("OnVerified: %w", err)
		}
	}
	// The user is told only once the outcome is recorded: when Redis
	// cannot record it now, the whole processing runs again later (and the
	// hook with it: deliveries are idempotent by NonceHash).
	if err := p.record(ctx, store.Status{Level: req.Level, State: store.StateVerified, Ref: req.Ref, ValidUntil: until},
		store.Event{Kind: "verified", Level: req.Level, Ref: req.Ref, Detail: map[string]string{"nonce_hash": req.NonceHash()}}); err != nil {
		return Outcome{}, err
	}
	if err := p.tell(ctx, p.loc.Text(i18n.MsgResultVerified, nil)); err != nil {
		return Outcome{}, err
	}
	p.log.InfoContext(ctx, "verification: verified")
	// The verdict time ends when the user is told, not once the admins
	// are.
	out := p.verdict(Outcome{Result: handlers.SubmissionVerified})
	data := map[string]any{"User": strconv.FormatInt(p.sub.User.ID, 10), "Level": req.Level, "Ref": req.Ref}
	if f.cfg.ResultsTo != nil {
		switch to, event := f.cfg.ResultsTo(req.NonceHash(), p.sub.User.ID); to {
		case ResultsToWebhook:
			data["Event"] = event
		case ResultsNowhere:
			data["Nowhere"] = "yes"
		}
	}
	f.cfg.Admins.Notify(ctx, p.sub.ID+":verified", i18n.MsgAdminVerified, data)
	return out, nil
}

// identityDocuments are the element types whose expiry date bounds a
// verification's validity.
// hookRetryable reports whether a hook's error asks for the whole
// processing to run again later: it wraps handlers.ErrRetryLater, or
// store.ErrUnavailable (the webhook outbox with Redis down).
func hookRetryable(err error) bool {
	return errors.Is(err, handlers.ErrRetryLater) || errors.Is(err, store.ErrUnavailable)
}

func (p *run) problemText(pr verify.Problem) string {
	return p.loc.Problem(string(pr.Code), string(pr.Element), pr.Target.String(), pr.Params)
}

func (p *run) rejected(ctx context.Context, res verify.Result, codes []string) (Outcome, error) {
	var reason string
	for _, pr := range res.Problems {
		if pr.Final {
			reason = p.problemText(pr)
			break
		}
	}
	text := p.loc.Text(i18n.MsgResultRejected, map[string]any{"Reason": reason, "Support": p.f.cfg.Support})
	out, err := p.reject(ctx, res.Problems, codes, text)
	if err != nil {
		return out, err
	}
	p.f.cfg.Admins.Notify(ctx, p.sub.ID+":rejected", i18n.MsgAdminRejected,
		map[string]any{"User": strconv.FormatInt(p.sub.User.ID, 10), "Codes": strings.Join(codes, ", "), "Ref": p.req.Ref})
	return out, nil
}

// reject ends a submission with a final rejection: the status, the
// OnRejected hook, the audit event, then the user is told text.
func (p *run) reject(ctx context.Context, problems []verify.Problem, codes []string, text string) (Outcome, error) {
	f, req := p.f, p.req
	if err := p.setStatus(ctx, store.Status{Level: req.Level, State: store.StateRejected, Ref: req.Ref, Codes: codes}); err != nil {
		return Outcome{}, err
	}
	if f.cfg.OnRejected != nil {
		rj := Rejected{UserID: p.sub.User.ID, Level: req.Level, Ref: req.Ref, At: f.cfg.Now(), NonceHash: req.NonceHash(),
			Problems: problems, Codes: codes}
		if err := f.cfg.OnRejected(ctx, rj); err != nil {
			if hookRetryable(err) || ctx.Err() != nil {
				return Outcome{}, p.retryLater(ctx, "OnRejected", err)
			}
			p.log.ErrorContext(ctx, "verification: OnRejected failed", slog.String("error", err.Error()))
		}
	}
	if err := p.auditOutcome(ctx, store.Event{Kind: "rejected", Level: req.Level, Ref: req.Ref, Codes: codes,
		Detail: map[string]string{"nonce_hash": req.NonceHash()}}); err != nil {
		return Outcome{}, err
	}
	if err := p.tell(ctx, text); err != nil {
		return Outcome{}, err
	}
	p.log.InfoContext(ctx, "verification: rejected", slog.String("codes", strings.Join(codes, ",")))
	return p.verdict(Outcome{Result: handlers.SubmissionRejected, Codes: codes}), nil
}

func (p *run) needsFixes(ctx context.Context, sub *passport.Submission, res verify.Result, codes []string) (Outcome, error) {
	f, req := p.f, p.req
	errs, err := verify.SecureValueErrors(sub, res.Problems, p.problemText)
	// header says where to fix the problems: in the Passport form when
	// they are marked there, else from the list in the chat.
	header := i18n.MsgResultFixHeader
	if err != nil {
		header = i18n.MsgResultFixUnmarked
		p.log.ErrorContext(ctx, "verification: cannot build the secure value errors", slog.String("error", err.Error()))
	}
	if len(errs) > 0 {
		if err := p.setValueErrors(ctx, errs); err != nil {
			if ctx.Err() != nil {
				return Outcome{}, p.retryLater(ctx, "users.setSecureValueErrors", err)
			}
			header = i18n.MsgResultFixUnmarked
			p.log.ErrorContext(ctx, "verification: users.setSecureValueErrors failed; the chat lists the problems", slog.String("error", err.Error()))
		}
	}
	if err := p.record(ctx, store.Status{Level: req.Level, State: store.StateNeedsFixes, Ref: req.Ref, Codes: codes},
		store.Event{Kind: "needs_fixes", Level: req.Level, Ref: req.Ref, Codes: codes, Detail: map[string]string{"nonce_hash": req.NonceHash()}}); err != nil {
		return Outcome{}, err
	}
	if f.cfg.OnNeedsFixes != nil {
		n := NeedsFixes{UserID: p.sub.User.ID, Level: req.Level, Ref: req.Ref, At: f.cfg.Now(), NonceHash: req.NonceHash(), Problems: res.Problems}
		if err := f.cfg.OnNeedsFixes(ctx, n); err != nil {
			if hookRetryable(err) || ctx.Err() != nil {
				return Outcome{}, p.retryLater(ctx, "OnNeedsFixes", err)
			}
			p.log.ErrorContext(ctx, "verification: OnNeedsFixes failed", slog.String("error", err.Error()))
		}
	}
	p.log.InfoContext(ctx, "verification: needs fixes", slog.String("codes", strings.Join(codes, ",")))

	var b strings.Builder
	b.WriteString(p.loc.Plural(header, len(res.Problems), nil))
	for _, pr := range res.Problems {
		b.WriteString("\n• ")
		b.WriteString(p.problemText(pr))
	}
	chat := req.ChatID
	if chat == 0 {
		chat = p.sub.User.ID
	}
	out := Outcome{Result: handlers.SubmissionNeedsFixes, Codes: codes}
	next, err := f.cfg.Store.IssueRequest(ctx, store.RequestParams{UserID: p.sub.User.ID, ChatID: chat, Level: req.Level, Lang: p.loc.Lang(), Ref: req.Ref},
		f.cfg.RequestTTL, p.sub.ID)
	if err != nil && ctx.Err() != nil {
		return Outcome{}, p.retryLater(ctx, "issue a new request", err)
	}
	if err != nil {
		// Without a new request the user starts again with /verify.
		p.log.ErrorContext(ctx, "verification: cannot issue a new request", slog.String("error", err.Error()))
		if err := p.tell(ctx, b.String()); err != nil {
			return Outcome{}, err
		}
		return p.verdict(out), fmt.Errorf("issue a new request: %w", err)
	}
	if err := p.tell(ctx, b.String(), handlers.Button{Text: p.loc.Text(i18n.MsgButtonTryAgain, nil), URL: f.cfg.PageURL(next.ID)}); err != nil {
		return Outcome{}, err
	}
	return p.verdict(out), nil
}

// stage returns where the submission's scans are staged (see
// Config.ScanMemory and Config.TempDir); remove removes them, logging a
// failure.
func (p *run) stage(ctx context.Context) (st *staging, remove func()) {
	st = &staging{parent: p.f.cfg.TempDir, mem: p.f.mem}
	return st, func() {
		if err := st.remove(); err != nil {
			p.log.ErrorContext(ctx, "verification: cannot remove the staged scans", slog.String("error", err.Error()))
		}
	}
}

// sentinelName names the passport sentinel an error wraps.
func sentinelName(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{passport.ErrWrongKey, "wrong_key"},
		{passport.ErrHashMismatch, "hash_mismatch"},
		{passport.ErrBadPadding, "bad_padding"},
		{passport.ErrMalformed, "malformed"},
		{passport.ErrTooLarge, "too_large"},
		{passport.ErrNotAllowed, "not_allowed"},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "unknown"
}

// nonceOutcomes maps the store's nonce errors to messages and audit kinds;
// reason is the Observer's.
var nonceOutcomes = []struct {
	err    error
	msg    string
	kind   string
	reason string
}{
	{store.ErrNonceUsed, i18n.MsgNonceUsed, "nonce_used", handlers.ReasonUsed},
	{store.ErrNonceOtherUser, i18n.MsgNonceOtherUser, "nonce_other_user", handlers.ReasonOtherUser},
	{store.ErrNonceUnknown, i18n.MsgNonceNotFound, "nonce_unknown", handlers.ReasonUnknown},
	{store.ErrNonceExpired, i18n.MsgNonceExpired, "nonce_expired", handlers.ReasonExpired},
	{store.ErrNonceSuperseded, i18n.MsgNonceSuperseded, "nonce_superseded", handlers.ReasonSuperseded},
	{store.ErrNonceCancelled, i18n.MsgNonceCancelled, "nonce_cancelled", handlers.ReasonCancelled},
}

// decryptionKeys hands the keys, current first, to the fastest RSA backend
// (passport.NewKey: OpenSSL where the system has it); a key NewKey refuses
// (smaller than passport.MinKeyBits) decrypts as it is, with crypto/rsa.
func decryptionKeys(current *rsa.PrivateKey, previous []*rsa.PrivateKey) []crypto.Decrypter {
	keys := make([]crypto.Decrypter, 0, 1+len(previous))
	for _, k := range append([]*rsa.PrivateKey{current}, previous...) {
		if dk, err := passport.NewKey(k); err == nil {
			keys = append(keys, dk)
		} else {
			keys = append(keys, k)
		}
	}
	return keys
}

// decryptCredentials decrypts a submission's credentials with the bot's
// key, then with each previous key. When none decrypts them, the error is
// the current key's, whatever the previous keys answered: a failed
// decryption tells nothing more than before a rotation.
func (f *Flow) decryptCredentials(ec passport.EncryptedCredentials) (*passport.Credentials, error) {
	creds, err := passport.DecryptCredentials(f.keys[0], ec)
	if err == nil || !errors.Is(err, passport.ErrWrongKey) {
		return creds, err
	}
	for _, k := range f.keys[1:] {
		if c, perr := passport.DecryptCredentials(k, ec); perr == nil {
			return c, nil
		}
	}
	return nil, err
}

// ValidUntil returns when a verification of sub made at at ends: the
// earliest expiry date of its identity documents (midnight UTC of that
// day) and at+period (period 0: none); zero when neither ends it. A
// document without an expiry date, or with one that does not parse (the
// rules decide whether that is acceptable), does not end it.
func ValidUntil(sub *passport.Submission, at time.Time, period time.Duration) time.Time {
	var until time.Time
	if period > 0 {
		until = at.Add(period).UTC()
	}
	if sub == nil {
		return until
	}
	for i := range sub.Elements {
		el := &sub.Elements[i]
		if !el.Type.IsIdentityDocument() {
			continue
		}
		doc, err := el.IdDocument()
		if err != nil || doc.ExpiryDate == "" {
			continue
		}
		d, err := passport.ParseDate(doc.ExpiryDate)
		if err != nil {
			continue
		}
		if t := d.Time(); until.IsZero() || t.Before(until) {
			until = t
		}
	}
	return until
}
