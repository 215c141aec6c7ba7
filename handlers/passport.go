package handlers

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// Store is the part of *store.Store the passport handler uses.
type Store interface {
	MarkUpdate(ctx context.Context, userID int64, msgID int, ttl time.Duration, opts ...store.MarkOption) (bool, error)
	ForgetUpdate(ctx context.Context, userID int64, msgID int, opts ...store.MarkOption) error
	ConsumeNonce(ctx context.Context, nonce string, userID int64, opts ...store.ConsumeOption) (store.Request, error)
	IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration) (store.Request, error)
	SetStatus(ctx context.Context, st store.Status) error
	Audit(ctx context.Context, ev store.Event) error
	AuditOnce(ctx context.Context, ev store.Event, id string) error
}

// ErrRetryLater is wrapped by the errors of OnNewMessage when a
// submission could not be processed now (Redis unreachable, or the
// context ended before the user was told the outcome) and processing the
// same update again is safe: the user was told at most that it takes
// longer. Call OnNewMessage again later with the same update and context
// (package bot does, WithRetry), and GiveUp once retrying stops. Any
// other error is final: the user was told what to do.
var ErrRetryLater = errors.New("handlers: cannot process now, retry later")

type updateIDKey struct{}

// ContextWithUpdateID returns ctx carrying id, which names one delivery
// of an update to the handlers (package bot gives each update an
// update_id). The passport handler marks the submission it processes as
// held by that delivery (store.MarkedBy): OnNewMessage called again with
// the same ID, a retry, resumes the processing even when Redis lost the
// answer to the mark or the mark could not be forgotten, while every other
// delivery of the update is dropped as a duplicate. id is 1 to 128
// characters of A-Z a-z 0-9 _ . : -. Without an ID the mark has no owner,
// and a call after one that failed is processed only if the mark was
// forgotten.
func ContextWithUpdateID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, updateIDKey{}, id)
}

type markedKey struct{}

// ContextMarked returns ctx saying that the caller has just marked the
// submission's update (store.MarkUpdate with store.MarkedBy of the
// context's update ID, ContextWithUpdateID) and was the first: the
// handler then skips its own mark, one Redis round trip. Give it for the
// call that directly follows that mark only (package bot does, when it
// holds the submission in its journal): on a retry the mark may have
// been forgotten meanwhile, and the handler must mark again. Without an
// update ID it is ignored.
func ContextMarked(ctx context.Context) context.Context {
	return context.WithValue(ctx, markedKey{}, true)
}

// UpdateIDFromContext returns the ID of ContextWithUpdateID, or "".
func UpdateIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(updateIDKey{}).(string)
	return id
}

// Defaults of PassportConfig and the options.
const (
	// DefaultRequestTTL is the life of the requests issued by the
	// conversation and of the fresh request issued when a submission
	// needs fixes.
	DefaultRequestTTL = 30 * time.Minute
	// DefaultDownloadConcurrency is how many files of one submission are
	// downloaded at once.
	DefaultDownloadConcurrency = 2
	// UpdateMarkTTL is how long a processed submission is remembered to
	// drop duplicates of it.
	UpdateMarkTTL = 7 * 24 * time.Hour
)

// PassportConfig is what NewPassport needs.
type PassportConfig struct {
	// Key is the bot's Passport private key (its public key is registered
	// with @BotFather). Required.
	Key *rsa.PrivateKey
	// Store keeps nonces, dedupe marks, statuses and the audit trail
	// (*store.Store). Required.
	Store Store
	// Telegram talks to Telegram (NewTelegram). Required.
	Telegram Telegram
	// Catalog holds the texts. Required.
	Catalog *i18n.Catalog
	// Checkers checks submissions, per verification level name (the
	// request's Level). Required, at least one.
	Checkers map[string]*verify.Checker
	// PageURL returns the URL of the request page of a request ID (for
	// example web.PageURL bound to the public URL). Required.
	PageURL func(requestID string) string
	// Admins are the Telegram user IDs notified of outcomes and alarms.
	Admins []int64
	// RequestTTL is the life of the request issued for a new attempt after
	// fixable problems (default DefaultRequestTTL).
	RequestTTL time.Duration
}

// Verified is what OnVerified receives for an accepted submission.
type Verified struct {
	UserID int64
	// Level and Ref are those of the request the submission answered.
	Level string
	Ref   string
	// At is when the submission was accepted (the handler's clock).
	At time.Time
	// NonceHash is the hex SHA-256 of the request's nonce: it names the
	// submission (the same submission processed again has the same one),
	// for idempotent deliveries.
	NonceHash string
	// Submission is the decrypted data.
	Submission *passport.Submission
	// Files are the paths of the decrypted scans. They are removed when
	// the hook returns: copy what must be kept.
	Files map[verify.ScanKey]string
	// Scans describe the scans (size, pixel size).
	Scans map[verify.ScanKey]verify.ScanInfo
}

// Open opens the decrypted scan key; it is valid while the hook runs.
func (v Verified) Open(key verify.ScanKey) (io.ReadCloser, error) {
	path, ok := v.Files[key]
	if !ok {
		return nil, fmt.Errorf("no scan %s.%s", key.Element, key.Target)
	}
	return os.Open(path)
}

// Rejected is what OnRejected receives for a finally rejected submission.
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

// PassportHandler processes Telegram Passport submissions (steps 5 to 8 of
// the design). It is safe for concurrent use.
type PassportHandler struct {
	cfg         PassportConfig
	now         func() time.Time
	log         *slog.Logger
	onVerified  func(context.Context, Verified) error
	onRejected  func(context.Context, Rejected) error
	concurrency int
	tempDir     string
	obs         Observer

	mu      sync.Mutex
	delayed map[updateKey]bool // updates whose user was told about a delay
}

type updateKey struct {
	user int64
	msg  int
}

// maxDelayed bounds the memory of delay notices.
const maxDelayed = 10000

// NewPassport returns a PassportHandler; it fails when cfg lacks
// something required.
func NewPassport(cfg PassportConfig, opts ...Option) (*PassportHandler, error) {
	if err := requireSet("passport", []setting{
		{"Key", cfg.Key != nil}, {"Store", cfg.Store != nil}, {"Telegram", cfg.Telegram != nil},
		{"Catalog", cfg.Catalog != nil}, {"Checkers", len(cfg.Checkers) > 0}, {"PageURL", cfg.PageURL != nil},
	}); err != nil {
		return nil, err
	}
	for level, c := range cfg.Checkers {
		if c == nil {
			return nil, fmt.Errorf("handlers: passport config: checker of level %q is nil", level)
		}
	}
	if cfg.RequestTTL <= 0 {
		cfg.RequestTTL = DefaultRequestTTL
	}
	o := newOptions(opts)
	return &PassportHandler{
		cfg: cfg, now: o.now, log: o.log, onVerified: o.onVerified, onRejected: o.onRejected,
		concurrency: o.concurrency, tempDir: o.tempDir, obs: o.obs, delayed: map[updateKey]bool{},
	}, nil
}

// Register installs the handler as the dispatcher's NewMessage handler.
// tg.UpdateDispatcher keeps one handler per update type and has no way to
// read it back, so Register replaces any NewMessage handler set before: to
// keep one (the conversation commands), install h.Chain(next) instead:
//
//	d.OnNewMessage(h.Chain(commands.OnNewMessage))
func (h *PassportHandler) Register(d *tg.UpdateDispatcher) {
	d.OnNewMessage(h.OnNewMessage)
}

// Chain returns a NewMessage handler that gives Passport submissions to h
// and every other new message to next (which may be nil).
func (h *PassportHandler) Chain(next tg.NewMessageHandler) tg.NewMessageHandler {
	return func(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) error {
		if _, _, ok := submission(u); ok {
			return h.OnNewMessage(ctx, e, u)
		}
		if next == nil {
			return nil
		}
		return next(ctx, e, u)
	}
}

// submission extracts a Passport submission from an update: a service
// message from a user with MessageActionSecureValuesSentMe.
func submission(u *tg.UpdateNewMessage) (*tg.MessageService, *tg.MessageActionSecureValuesSentMe, bool) {
	if u == nil {
		return nil, nil, false
	}
	msg, ok := u.Message.(*tg.MessageService)
	if !ok || msg.Out {
		return nil, nil, false
	}
	action, ok := msg.Action.(*tg.MessageActionSecureValuesSentMe)
	if !ok {
		return nil, nil, false
	}
	if _, ok := msg.PeerID.(*tg.PeerUser); !ok {
		return nil, nil, false
	}
	return msg, action, true
}

// OnNewMessage processes a Passport submission; it has the signature of
// tg.UpdateDispatcher.OnNewMessage and ignores every other message.
//
// It returns nil when the submission was handled, whatever the outcome
// for the user (verified, rejected, problems to fix, a refused nonce, data
// that does not decrypt). It returns an error wrapping ErrRetryLater when
// the submission could not be processed now (Redis unreachable), before
// the outcome was told: the dedupe mark is kept for the delivery
// (ContextWithUpdateID) that retries it, the nonce is consumed by message
// (store.ByMessage) and the outcome audited once (store.AuditOnce), so
// processing it again is safe; before the nonce was consumed the mark is
// also removed, so the same update delivered again is processed. When ctx
// ends before the user was told the outcome (the bot is stopping), the
// processing stops there and the error wraps both ErrRetryLater and ctx's
// error: the mark stays with the delivery, which can forget it
// (store.ForgetUpdate with store.MarkedBy) so that the update delivered
// again is processed. Other errors are final (the user was told).
func (h *PassportHandler) OnNewMessage(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) error {
	p, action, ok := h.newRun(ctx, e, u)
	if !ok {
		return nil
	}
	return p.process(ctx, action)
}

// GiveUp ends a submission that OnNewMessage kept failing with
// ErrRetryLater until the caller stopped retrying it: the user, told that
// it takes longer, is asked to share again (MsgSubmissionFailed), and the
// failure is audited (processing_failed, code gave_up) if Redis lets it.
// It ignores every update but a submission.
func (h *PassportHandler) GiveUp(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) {
	p, _, ok := h.newRun(ctx, e, u)
	if !ok {
		return
	}
	defer h.clearDelayed(p.userID, p.msgID)
	p.log.ErrorContext(ctx, "passport: submission given up on; the user is asked to share again")
	p.audit(ctx, store.Event{Kind: "processing_failed", Codes: []string{"gave_up"}})
	p.send(ctx, p.localizer().Text(i18n.MsgSubmissionFailed, nil))
}

// newRun prepares the processing of a submission; ok is false for any
// other update.
func (h *PassportHandler) newRun(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) (_ *run, _ *tg.MessageActionSecureValuesSentMe, ok bool) {
	msg, action, ok := submission(u)
	if !ok {
		return nil, nil, false
	}
	userID := msg.PeerID.(*tg.PeerUser).UserID
	p := &run{h: h, userID: userID, msgID: msg.ID, user: &tg.InputUser{UserID: userID}, e: e, start: h.now()}
	if id := UpdateIDFromContext(ctx); id != "" {
		p.mark = []store.MarkOption{store.MarkedBy(id)}
	}
	p.log = LoggerFromContext(ctx, h.log).With(slog.Int64("user_id", userID), slog.Int("msg_id", msg.ID))
	if tu, ok := e.Users[userID]; ok && tu != nil {
		p.user.AccessHash = tu.AccessHash
		p.langCode = tu.LangCode
	} else {
		p.log.WarnContext(ctx, "passport: user not among the update's entities; answering without access hash")
	}
	return p, action, true
}

// run is the processing of one submission.
type run struct {
	h        *PassportHandler
	log      *slog.Logger
	userID   int64
	msgID    int
	user     *tg.InputUser
	e        tg.Entities
	langCode string
	loc      *i18n.Localizer
	start    time.Time          // when the update reached the handler
	mark     []store.MarkOption // the owner of the dedupe mark, if any
}

// verdict tells the observer that the verdict was sent.
func (p *run) verdict(outcome, level string, codes []string) {
	if len(codes) > 0 {
		p.h.obs.Problems(codes)
	}
	p.h.obs.Submission(outcome, "", level)
	p.h.obs.Verdict(p.h.now().Sub(p.start))
}

// retryable fails the processing of a submission whose nonce is still
// unused: the dedupe mark is removed too, so that the same update
// delivered again is processed (see retryLater).
func (p *run) retryable(ctx context.Context, stage string, err error) error {
	if ctx.Err() != nil {
		return p.cutShort(ctx, stage, err)
	}
	p.log.ErrorContext(ctx, "passport: cannot process the submission now; it will be retried",
		slog.String("stage", stage), slog.String("error", err.Error()))
	if ferr := p.h.cfg.Store.ForgetUpdate(ctx, p.userID, p.msgID, p.mark...); ferr != nil {
		p.log.ErrorContext(ctx, "passport: forget update failed", slog.String("error", ferr.Error()))
	}
	return p.retryLater(ctx, stage, err)
}

// retryLater fails the processing of a submission that can be processed
// again: the user is told (once) that it takes longer, and the error
// wraps ErrRetryLater. When ctx has ended it cuts the processing short
// instead (cutShort).
func (p *run) retryLater(ctx context.Context, stage string, err error) error {
	if ctx.Err() != nil {
		return p.cutShort(ctx, stage, err)
	}
	if p.h.markDelayed(p.userID, p.msgID) {
		p.send(ctx, p.localizer().Text(i18n.MsgSubmissionDelayed, nil))
	}
	return fmt.Errorf("%w: passport submission %d of user %d: %s: %w", ErrRetryLater, p.msgID, p.userID, stage, err)
}

// cutShort fails the processing of a submission whose context ended (the
// bot is stopping) before the user was told the outcome: nothing more is
// sent or recorded, and the error wraps ErrRetryLater and the context's
// error. The nonce is consumed by message and the outcome recorded once,
// so the update can be processed again, by another delivery once its
// dedupe mark is forgotten (package bot does both after a restart).
func (p *run) cutShort(ctx context.Context, stage string, err error) error {
	p.log.WarnContext(ctx, "passport: processing cut short before the outcome was told; the submission can be processed again",
		slog.String("stage", stage))
	return fmt.Errorf("%w: passport submission %d of user %d: %s: cut short (%w): %w", ErrRetryLater, p.msgID, p.userID, stage, ctx.Err(), err)
}

// tell sends the message that tells the user the outcome. When it cannot
// be sent because ctx has ended, the processing is cut short (cutShort),
// so that it runs again and the user is told then; another failure is
// logged.
func (p *run) tell(ctx context.Context, text string, buttons ...Button) error {
	err := p.h.cfg.Telegram.SendText(ctx, p.user, text, buttons...)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return p.cutShort(ctx, "tell the outcome", err)
	}
	p.log.ErrorContext(ctx, "passport: cannot send a message to the user", slog.String("error", err.Error()))
	return nil
}

// markDelayed reports whether the delay notice of an update is still to
// be sent, and records it.
func (h *PassportHandler) markDelayed(user int64, msg int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := updateKey{user, msg}
	if h.delayed[k] {
		return false
	}
	if len(h.delayed) >= maxDelayed {
		clear(h.delayed)
	}
	h.delayed[k] = true
	return true
}

func (h *PassportHandler) clearDelayed(user int64, msg int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.delayed, updateKey{user, msg})
}

// localizer returns the user's localizer: the request's language once
// known, else the Telegram app's.
func (p *run) localizer() *i18n.Localizer {
	if p.loc == nil {
		p.loc = p.h.cfg.Catalog.Language(p.h.cfg.Catalog.Match(p.langCode))
	}
	return p.loc
}

// send tells the user something; a failure is logged, not returned.
func (p *run) send(ctx context.Context, text string, buttons ...Button) {
	if err := p.h.cfg.Telegram.SendText(ctx, p.user, text, buttons...); err != nil {
		p.log.ErrorContext(ctx, "passport: cannot send a message to the user", slog.String("error", err.Error()))
	}
}

// audit appends an event; a failure is logged.
func (p *run) audit(ctx context.Context, ev store.Event) {
	ev.UserID = p.userID
	if err := p.h.cfg.Store.Audit(ctx, ev); err != nil {
		p.log.ErrorContext(ctx, "passport: audit failed", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
	}
}

// notifyAdmins sends a text in the default language to every admin.
func (p *run) notifyAdmins(ctx context.Context, id string, data map[string]any) {
	if len(p.h.cfg.Admins) == 0 {
		return
	}
	text := p.h.cfg.Catalog.Language(p.h.cfg.Catalog.DefaultLanguage()).Text(id, data)
	for _, admin := range p.h.cfg.Admins {
		u := &tg.InputUser{UserID: admin}
		if tu, ok := p.e.Users[admin]; ok && tu != nil {
			u.AccessHash = tu.AccessHash
		}
		if err := p.h.cfg.Telegram.SendText(ctx, u, text); err != nil {
			p.log.ErrorContext(ctx, "passport: cannot notify an admin", slog.Int64("admin_id", admin), slog.String("error", err.Error()))
		}
	}
}

// nonceHash is the hex SHA-256 of a nonce, as the store names it.
func nonceHash(nonce string) string { return store.Request{Nonce: nonce}.NonceHash() }

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

// nonceOutcomes maps the store's nonce errors to messages and audit kinds.
// reason is the Observer's.
var nonceOutcomes = []struct {
	err    error
	msg    string
	kind   string
	reason string
}{
	{store.ErrNonceUsed, i18n.MsgNonceUsed, "nonce_used", ReasonUsed},
	{store.ErrNonceOtherUser, i18n.MsgNonceOtherUser, "nonce_other_user", ReasonOtherUser},
	{store.ErrNonceUnknown, i18n.MsgNonceNotFound, "nonce_unknown", ReasonUnknown},
	{store.ErrNonceExpired, i18n.MsgNonceExpired, "nonce_expired", ReasonExpired},
	{store.ErrNonceSuperseded, i18n.MsgNonceSuperseded, "nonce_superseded", ReasonSuperseded},
	{store.ErrNonceCancelled, i18n.MsgNonceCancelled, "nonce_cancelled", ReasonCancelled},
}

func (p *run) process(ctx context.Context, action *tg.MessageActionSecureValuesSentMe) (err error) {
	h := p.h
	first := true
	if marked, _ := ctx.Value(markedKey{}).(bool); !marked || len(p.mark) == 0 {
		if first, err = h.cfg.Store.MarkUpdate(ctx, p.userID, p.msgID, UpdateMarkTTL, p.mark...); err != nil {
			return p.retryable(ctx, "mark update", err)
		}
	}
	if !first {
		p.log.DebugContext(ctx, "passport: duplicate submission dropped")
		return nil
	}
	defer func() {
		if !errors.Is(err, ErrRetryLater) {
			h.clearDelayed(p.userID, p.msgID) // done: a later delay is another one
		}
	}()

	// Credentials.
	es, err := passport.FromMTProto(action)
	var creds *passport.Credentials
	if err == nil {
		creds, err = passport.DecryptCredentials(h.cfg.Key, es.Credentials)
	}
	if err != nil {
		name := sentinelName(err)
		p.log.WarnContext(ctx, "passport: credentials do not decrypt", slog.String("reason", name), slog.String("error", err.Error()))
		p.audit(ctx, store.Event{Kind: "decrypt_failed", Codes: []string{name}})
		p.send(ctx, p.localizer().Text(i18n.MsgSubmissionUndecryptable, nil))
		h.obs.Submission(SubmissionUndecryptable, name, "")
		if errors.Is(err, passport.ErrWrongKey) {
			p.notifyAdmins(ctx, i18n.MsgAdminWrongKey, nil)
		}
		return nil
	}
	nh := nonceHash(creds.Nonce)
	p.log = p.log.With(slog.String("nonce_hash", nh))

	// Nonce.
	// ByMessage: if this update is retried after the consume (a lost reply),
	// the same message gets its request back instead of a replay refusal.
	req, err := h.cfg.Store.ConsumeNonce(ctx, creds.Nonce, p.userID, store.ByMessage(p.msgID))
	if err != nil {
		for _, o := range nonceOutcomes {
			if errors.Is(err, o.err) {
				p.log.WarnContext(ctx, "passport: nonce refused", slog.String("reason", o.kind))
				p.audit(ctx, store.Event{Kind: o.kind, Detail: map[string]string{"nonce_hash": nh}})
				p.send(ctx, p.localizer().Text(o.msg, nil))
				h.obs.Submission(SubmissionRefused, o.reason, "")
				return nil
			}
		}
		return p.retryable(ctx, "consume nonce", err)
	}
	if req.Lang != "" {
		p.loc = h.cfg.Catalog.Language(req.Lang)
	}
	p.log = p.log.With(slog.String("level", req.Level))

	// From here the nonce is burned: only this message gets its request
	// back. Failures are reported to the user (share again), except that
	// an outcome Redis cannot record now is retried (retryLater) before
	// the user is told.
	if err := p.verify(ctx, es, creds, req); err != nil {
		if errors.Is(err, ErrRetryLater) {
			return err
		}
		p.log.ErrorContext(ctx, "passport: submission processing failed", slog.String("error", err.Error()))
		return fmt.Errorf("handlers: passport submission %d of user %d: %w", p.msgID, p.userID, err)
	}
	return nil
}

// setStatus records the status the submission ends with, before the user
// is told. When Redis is unreachable the processing is retried
// (retryLater); another failure is logged. When ctx has ended the
// processing is cut short.
func (p *run) setStatus(ctx context.Context, st store.Status) error {
	st.UserID = p.userID
	if err := p.h.cfg.Store.SetStatus(ctx, st); err != nil {
		if ctx.Err() != nil {
			return p.cutShort(ctx, "record the "+st.State+" status", err)
		}
		if errors.Is(err, store.ErrUnavailable) {
			p.log.ErrorContext(ctx, "passport: cannot record the "+st.State+" status now; it will be retried", slog.String("error", err.Error()))
			return p.retryLater(ctx, "record the "+st.State+" status", err)
		}
		p.log.ErrorContext(ctx, "passport: cannot record the "+st.State+" status", slog.String("error", err.Error()))
	}
	return nil
}

// auditOutcome appends the outcome's audit event, once per submission
// (its kind and nonce hash name it), before the user is told. When Redis
// is unreachable the processing is retried (retryLater); another failure
// is logged. When ctx has ended the processing is cut short.
func (p *run) auditOutcome(ctx context.Context, req store.Request, ev store.Event) error {
	ev.UserID = p.userID
	if err := p.h.cfg.Store.AuditOnce(ctx, ev, ev.Kind+":"+req.NonceHash()); err != nil {
		if ctx.Err() != nil {
			return p.cutShort(ctx, "audit "+ev.Kind, err)
		}
		if errors.Is(err, store.ErrUnavailable) {
			p.log.ErrorContext(ctx, "passport: cannot audit the outcome now; it will be retried", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
			return p.retryLater(ctx, "audit "+ev.Kind, err)
		}
		p.log.ErrorContext(ctx, "passport: audit failed", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
	}
	return nil
}

// failed reports a failure after the nonce was consumed: audited, and the
// user is asked to share again.
func (p *run) failed(ctx context.Context, req store.Request, stage, code string) {
	p.audit(ctx, store.Event{Kind: "processing_failed", Level: req.Level, Ref: req.Ref, Codes: []string{code},
		Detail: map[string]string{"stage": stage, "nonce_hash": req.NonceHash()}})
	p.send(ctx, p.localizer().Text(i18n.MsgSubmissionFailed, nil))
	p.h.obs.Submission(SubmissionFailed, code, req.Level)
}

func (p *run) verify(ctx context.Context, es *passport.EncryptedSubmission, creds *passport.Credentials, req store.Request) error {
	h := p.h
	checker, ok := h.cfg.Checkers[req.Level]
	if !ok {
		p.failed(ctx, req, "check", "unknown_level")
		return fmt.Errorf("no checker for level %q", req.Level)
	}
	sub, err := creds.Open(es.Elements)
	if err != nil {
		name := sentinelName(err)
		p.log.WarnContext(ctx, "passport: values do not decrypt", slog.String("reason", name), slog.String("error", err.Error()))
		p.audit(ctx, store.Event{Kind: "decrypt_failed", Level: req.Level, Ref: req.Ref, Codes: []string{name},
			Detail: map[string]string{"nonce_hash": req.NonceHash()}})
		p.send(ctx, p.localizer().Text(i18n.MsgSubmissionUndecryptable, nil))
		h.obs.Submission(SubmissionUndecryptable, name, req.Level)
		return nil
	}
	types := make([]string, len(sub.Elements))
	for i, el := range sub.Elements {
		types[i] = string(el.Type)
	}
	p.log.InfoContext(ctx, "passport: submission received", slog.String("elements", strings.Join(types, ",")))

	dir, err := os.MkdirTemp(h.tempDir, "kycbot-")
	if err != nil {
		p.failed(ctx, req, "files", "temp_dir")
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			p.log.ErrorContext(ctx, "passport: cannot remove the temporary scans", slog.String("error", err.Error()))
		}
	}()
	files, err := fetchAll(ctx, h.cfg.Telegram, sub, dir, h.concurrency)
	if err != nil && ctx.Err() != nil {
		return p.cutShort(ctx, "download the scans", err)
	}
	if err != nil {
		var fe *fileError
		if errors.As(err, &fe) && sentinelName(err) != "unknown" {
			// The file itself is bad (tampered, malformed, too large).
			name := sentinelName(err)
			p.log.WarnContext(ctx, "passport: a scan does not decrypt", slog.String("element", string(fe.key.Element)),
				slog.String("target", fe.key.Target.String()), slog.String("reason", name))
			p.audit(ctx, store.Event{Kind: "decrypt_failed", Level: req.Level, Ref: req.Ref, Codes: []string{name},
				Detail: map[string]string{"nonce_hash": req.NonceHash(), "element": string(fe.key.Element)}})
			p.send(ctx, p.localizer().Text(i18n.MsgSubmissionUndecryptable, nil))
			h.obs.Submission(SubmissionUndecryptable, name, req.Level)
			return nil
		}
		p.failed(ctx, req, "files", "download_failed")
		return fmt.Errorf("scans: %w", err)
	}

	res := checker.Check(ctx, sub, files.infos)
	codes := make([]string, 0, len(res.Problems))
	for _, c := range res.Codes() {
		codes = append(codes, string(c))
	}
	switch {
	case res.OK():
		return p.verified(ctx, req, sub, files)
	case res.Final():
		return p.rejected(ctx, req, res, codes)
	default:
		return p.needsFixes(ctx, req, sub, res, codes)
	}
}

func (p *run) verified(ctx context.Context, req store.Request, sub *passport.Submission, files *fetched) error {
	h := p.h
	if h.onVerified != nil {
		v := Verified{UserID: p.userID, Level: req.Level, Ref: req.Ref, At: h.now(), NonceHash: req.NonceHash(), Submission: sub,
			Files: files.paths, Scans: files.infos}
		if err := h.onVerified(ctx, v); err != nil {
			if hookRetryable(err) || ctx.Err() != nil {
				return p.retryLater(ctx, "OnVerified", err)
			}
			p.failed(ctx, req, "on_verified", "hook_failed")
			return fmt.Errorf("OnVerified: %w", err)
		}
	}
	// The user is told only once the outcome is recorded: when Redis
	// cannot record it now, the whole processing runs again later (and the
	// hook with it: deliveries are idempotent by NonceHash).
	if err := p.setStatus(ctx, store.Status{Level: req.Level, State: store.StateVerified, Ref: req.Ref}); err != nil {
		return err
	}
	if err := p.auditOutcome(ctx, req, store.Event{Kind: "verified", Level: req.Level, Ref: req.Ref, Detail: map[string]string{"nonce_hash": req.NonceHash()}}); err != nil {
		return err
	}
	if err := p.tell(ctx, p.localizer().Text(i18n.MsgResultVerified, nil)); err != nil {
		return err
	}
	p.log.InfoContext(ctx, "passport: verified")
	p.verdict(SubmissionVerified, req.Level, nil)
	p.notifyAdmins(ctx, i18n.MsgAdminVerified, map[string]any{"User": strconv.FormatInt(p.userID, 10), "Level": req.Level, "Ref": req.Ref})
	return nil
}

// hookRetryable reports whether a hook's error asks for the whole
// processing to run again later: it wraps ErrRetryLater, or
// store.ErrUnavailable (package bot's webhook outbox with Redis down).
func hookRetryable(err error) bool {
	return errors.Is(err, ErrRetryLater) || errors.Is(err, store.ErrUnavailable)
}

func (p *run) problemText(pr verify.Problem) string {
	return p.localizer().Problem(string(pr.Code), string(pr.Element), pr.Target.String(), pr.Params)
}

func (p *run) rejected(ctx context.Context, req store.Request, res verify.Result, codes []string) error {
	h := p.h
	if err := p.setStatus(ctx, store.Status{Level: req.Level, State: store.StateRejected, Ref: req.Ref, Codes: codes}); err != nil {
		return err
	}
	if h.onRejected != nil {
		rj := Rejected{UserID: p.userID, Level: req.Level, Ref: req.Ref, At: h.now(), NonceHash: req.NonceHash(),
			Problems: res.Problems, Codes: codes}
		if err := h.onRejected(ctx, rj); err != nil {
			if hookRetryable(err) || ctx.Err() != nil {
				return p.retryLater(ctx, "OnRejected", err)
			}
			p.log.ErrorContext(ctx, "passport: OnRejected failed", slog.String("error", err.Error()))
		}
	}
	if err := p.auditOutcome(ctx, req, store.Event{Kind: "rejected", Level: req.Level, Ref: req.Ref, Codes: codes, Detail: map[string]string{"nonce_hash": req.NonceHash()}}); err != nil {
		return err
	}
	var reason string
	for _, pr := range res.Problems {
		if pr.Final {
			reason = p.problemText(pr)
			break
		}
	}
	if err := p.tell(ctx, p.localizer().Text(i18n.MsgResultRejected, map[string]any{"Reason": reason})); err != nil {
		return err
	}
	p.log.InfoContext(ctx, "passport: rejected", slog.String("codes", strings.Join(codes, ",")))
	p.verdict(SubmissionRejected, req.Level, codes)
	p.notifyAdmins(ctx, i18n.MsgAdminRejected, map[string]any{"User": strconv.FormatInt(p.userID, 10), "Codes": strings.Join(codes, ", "), "Ref": req.Ref})
	return nil
}

func (p *run) needsFixes(ctx context.Context, req store.Request, sub *passport.Submission, res verify.Result, codes []string) error {
	h := p.h
	errs, err := verify.SecureValueErrors(sub, res.Problems, p.problemText)
	if err != nil {
		p.log.ErrorContext(ctx, "passport: cannot build the secure value errors", slog.String("error", err.Error()))
	}
	if len(errs) > 0 {
		if err := h.cfg.Telegram.SetSecureValueErrors(ctx, p.user, errs); err != nil {
			p.log.ErrorContext(ctx, "passport: users.setSecureValueErrors failed", slog.String("error", err.Error()))
		}
	}
	if err := p.setStatus(ctx, store.Status{Level: req.Level, State: store.StateNeedsFixes, Ref: req.Ref, Codes: codes}); err != nil {
		return err
	}
	if err := p.auditOutcome(ctx, req, store.Event{Kind: "needs_fixes", Level: req.Level, Ref: req.Ref, Codes: codes, Detail: map[string]string{"nonce_hash": req.NonceHash()}}); err != nil {
		return err
	}
	p.log.InfoContext(ctx, "passport: needs fixes", slog.String("codes", strings.Join(codes, ",")))

	loc := p.localizer()
	var b strings.Builder
	b.WriteString(loc.Plural(i18n.MsgResultFixHeader, len(res.Problems), nil))
	for _, pr := range res.Problems {
		b.WriteString("\n• ")
		b.WriteString(p.problemText(pr))
	}
	chat := req.ChatID
	if chat == 0 {
		chat = p.userID
	}
	next, err := h.cfg.Store.IssueRequest(ctx, store.RequestParams{UserID: p.userID, ChatID: chat, Level: req.Level, Lang: loc.Lang(), Ref: req.Ref}, h.cfg.RequestTTL)
	if err != nil && ctx.Err() != nil {
		return p.cutShort(ctx, "issue a new request", err)
	}
	if err != nil {
		// Without a new request the user starts again with /verify.
		p.log.ErrorContext(ctx, "passport: cannot issue a new request", slog.String("error", err.Error()))
		p.send(ctx, b.String())
		p.verdict(SubmissionNeedsFixes, req.Level, codes)
		return fmt.Errorf("issue a new request: %w", err)
	}
	if err := p.tell(ctx, b.String(), Button{Text: loc.Text(i18n.MsgButtonTryAgain, nil), URL: h.cfg.PageURL(next.ID)}); err != nil {
		return err
	}
	p.verdict(SubmissionNeedsFixes, req.Level, codes)
	return nil
}
