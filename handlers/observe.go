package handlers

import (
	"context"
	"log/slog"
	"time"
)

// Observer is told what the handlers do, for metrics: outcomes, problem
// codes, durations and command names, never anything personal. Its
// methods are called from many goroutines and must return quickly. The
// handlers' configs take one; package bot/metrics implements it with
// Prometheus.
type Observer interface {
	// Submission is called once for every Passport submission processed
	// to an end (duplicates and attempts to be retried are not counted):
	// outcome is one of the Submission* constants; reason is a
	// Reason* constant for SubmissionRefused, the sentinel name
	// ("wrong_key", "hash_mismatch", "bad_padding", "malformed",
	// "too_large", "not_allowed", "unknown") for SubmissionUndecryptable,
	// the failure code ("unknown_level", "temp_dir", "download_failed",
	// "hook_failed") for SubmissionFailed, and empty otherwise; level is
	// the request's level, empty when it is not known yet.
	Submission(outcome, reason, level string)
	// Problems is called with the distinct problem codes of a checked
	// submission that needs fixes or is rejected.
	Problems(codes []string)
	// Verdict is called when the verdict (verified, needs fixes or
	// rejected) was sent to the user, with the time since the update
	// reached the passport handler (the handler's clock).
	Verdict(d time.Duration)
	// Command is called for every message and callback the conversation
	// answers, with a bounded name: a command name of the conversation
	// or of the admin commands ("start", "kyc_stats", ...), "unknown"
	// for any other command, "text" for text that is not a command, and
	// "callback_language", "callback_delete" or "callback_unknown" for
	// button taps.
	Command(name string)
}

// Outcomes of Observer.Submission.
const (
	// SubmissionVerified: the submission was accepted.
	SubmissionVerified = "verified"
	// SubmissionNeedsFixes: problems the user can fix were sent back.
	SubmissionNeedsFixes = "needs_fixes"
	// SubmissionRejected: a final rejection.
	SubmissionRejected = "rejected"
	// SubmissionReview: the submission passed the rules and waits for an
	// admin's decision (manual review; the reason is the first trigger).
	SubmissionReview = "review"
	// SubmissionRefused: the nonce was refused (the reason says why).
	SubmissionRefused = "refused"
	// SubmissionUndecryptable: the credentials, a value or a scan do not
	// decrypt.
	SubmissionUndecryptable = "undecryptable"
	// SubmissionFailed: processing failed after the nonce was consumed;
	// the user was asked to share again.
	SubmissionFailed = "failed"
)

// Reasons of a SubmissionRefused: why the nonce was refused.
const (
	ReasonUsed       = "used"
	ReasonOtherUser  = "other_user"
	ReasonUnknown    = "unknown"
	ReasonExpired    = "expired"
	ReasonSuperseded = "superseded"
	ReasonCancelled  = "cancelled"
)

// Command names of Observer.Command besides the commands themselves.
const (
	CommandUnknown          = "unknown"
	CommandText             = "text"
	CommandCallbackLanguage = "callback_language"
	CommandCallbackDelete   = "callback_delete"
	CommandCallbackErase    = "callback_erase"    // the buttons of /delete_my_data
	CommandCallbackReverify = "callback_reverify" // the re-verification button of reminders
	CommandCallbackUnknown  = "callback_unknown"
)

// NopObserver is an Observer that does nothing: the default of the
// handlers' configs.
type NopObserver struct{}

func (NopObserver) Submission(string, string, string) {}
func (NopObserver) Problems([]string)                 {}
func (NopObserver) Verdict(time.Duration)             {}
func (NopObserver) Command(string)                    {}

// loggerKey is the context key of ContextWithLogger.
type loggerKey struct{}

// ContextWithLogger returns a copy of ctx carrying l. The handlers log
// the processing of an update with the logger its context carries (with
// their own attributes added) instead of the one of WithLogger: give it a
// child of that logger with the attributes of the update, such as a
// request-scoped ID (package bot adds "update_id"). Never put anything
// personal in it.
func ContextWithLogger(ctx context.Context, l *slog.Logger) context.Context {
	if l == nil {
		return ctx
	}
	return context.WithValue(ctx, loggerKey{}, l)
}

// LoggerFromContext returns the logger ctx carries (ContextWithLogger),
// or fallback when it carries none.
func LoggerFromContext(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}
