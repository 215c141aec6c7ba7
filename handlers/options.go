package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Option configures the handlers: NewPassport and NewCommands take the
// same options, and each reads those that concern it (WithClock,
// WithLogger and WithObserver concern both; the hooks, the download
// concurrency and the temporary directory only the passport handler).
type Option func(*options)

// options is what the Options set.
type options struct {
	now         func() time.Time
	log         *slog.Logger
	onVerified  func(context.Context, Verified) error
	onRejected  func(context.Context, Rejected) error
	concurrency int
	tempDir     string
	obs         Observer
}

// newOptions applies opts over the defaults.
func newOptions(opts []Option) options {
	o := options{now: time.Now, log: slog.Default(), concurrency: DefaultDownloadConcurrency, tempDir: os.TempDir()}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.obs == nil {
		o.obs = nopObserver{}
	}
	return o
}

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger (default slog.Default()). Nothing personal is
// ever logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithOnVerified sets the hook called with every accepted submission,
// before the user is told. An error wrapping ErrRetryLater or
// store.ErrUnavailable (the hook's own store cannot take the result now)
// has the processing run again later (the user is told it takes longer);
// any other error fails the processing (it is logged, audited, returned,
// and the user asked to share again). When Redis cannot record the
// outcome after the hook ran, the processing is retried too: the hook may
// be called again with the same Verified.NonceHash, so make it idempotent
// by that hash. Passport handler only.
func WithOnVerified(fn func(context.Context, Verified) error) Option {
	return func(o *options) { o.onVerified = fn }
}

// WithOnRejected sets the hook called with every final rejection, after
// the status is recorded and before the user is told. An error wrapping
// ErrRetryLater or store.ErrUnavailable has the processing run again
// later (the hook may be called again with the same Rejected.NonceHash);
// any other error is logged. Passport handler only.
func WithOnRejected(fn func(context.Context, Rejected) error) Option {
	return func(o *options) { o.onRejected = fn }
}

// WithDownloadConcurrency sets how many files of one submission are
// downloaded at once (default DefaultDownloadConcurrency; at least 1).
// Passport handler only.
func WithDownloadConcurrency(n int) Option {
	return func(o *options) { o.concurrency = max(n, 1) }
}

// WithTempDir sets the directory of the temporary scan files (default
// os.TempDir()). Passport handler only.
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// setting is a required field of a handler's config and whether it is set.
type setting struct {
	name string
	set  bool
}

// requireSet fails naming every setting of the what config that is not set.
func requireSet(what string, settings []setting) error {
	var missing []string
	for _, s := range settings {
		if !s.set {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("handlers: %s config lacks %s", what, strings.Join(missing, ", "))
	}
	return nil
}
