package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/store"
)

// Defaults of Options.
const (
	DefaultGiveUpAfter  = 24 * time.Hour
	DefaultTimeout      = 10 * time.Second
	DefaultPollInterval = time.Second
	DefaultMinBackoff   = 5 * time.Second
	DefaultMaxBackoff   = 10 * time.Minute
	DefaultConcurrency  = 8
	// DefaultReclaimAfter is the least ReclaimAfter defaults to; it is
	// at least three times the HTTP client's timeout.
	DefaultReclaimAfter = time.Minute
)

// maxResponseRead bounds how much of a response body is read (and
// discarded) so that the connection can be reused.
const maxResponseRead = 64 << 10

// Options configure a Sender.
type Options struct {
	// URL receives the events (config delivery.webhook_url). Required:
	// http or https.
	URL string
	// Secret signs the requests (config delivery.webhook_secret); at
	// least config.MinWebhookSecretLength bytes. Required.
	Secret []byte
	// PreviousSecret is the secret before a rotation (config
	// delivery.previous_webhook_secret): when set, each request carries a
	// second v1 signature under it (Sign), so that receivers still
	// checking it accept the request. Optional.
	PreviousSecret []byte
	// GiveUpAfter is how long after it was enqueued a failing event is
	// retried; the first failure after that parks it (default
	// DefaultGiveUpAfter, config delivery.give_up_after).
	GiveUpAfter time.Duration
	// HTTPClient sends the requests (default: a client with a
	// DefaultTimeout timeout). The Sender uses a copy that never follows
	// redirects (a 3xx is a failure: a signed body with personal data is
	// not forwarded anywhere) and gets DefaultTimeout if it has none.
	HTTPClient *http.Client
	// Consumer names this instance among those sharing the Redis (1 to
	// 128 characters of A-Z a-z 0-9 _ . : -; default: host name, process
	// ID and random hex). Two running Senders must not share one.
	Consumer string
	// OnParked is called once for every event given up on, after it was
	// moved to the parked stream: alert the admins. Optional.
	OnParked func(context.Context, Parked)
	// OnResult is called with the result of every attempt that has one
	// (ResultDelivered, ResultRetried or ResultParked), for metrics; it
	// must return quickly. Attempts cut short by a stop, taken over by
	// another instance or whose outcome cannot be recorded are not
	// reported. Optional.
	OnResult func(result string)
	// Logger receives event IDs, user IDs, status codes, reason codes
	// and attempt counts; never a body, a URL or a secret (default: none,
	// nothing is logged).
	Logger *slog.Logger
	// Clock gives the time of signatures and of the give-up decisions
	// (default time.Now). Pauses between attempts are timed by the
	// store's clock.
	Clock func() time.Time
	// PollInterval is how often the outbox is looked at when it has
	// nothing due (default DefaultPollInterval).
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the pause after a failed attempt:
	// after the n-th failure of an event (n from 1) the pause is between
	// half and all of min(MinBackoff·2^(n-1), MaxBackoff), at random
	// (defaults DefaultMinBackoff and DefaultMaxBackoff; config
	// delivery.min_backoff and delivery.max_backoff).
	MinBackoff, MaxBackoff time.Duration
	// ReclaimAfter is how long an event being delivered may go without
	// an outcome before another instance takes it over (its sender died).
	// It must exceed the HTTP client's timeout (default: the larger of
	// DefaultReclaimAfter and three times that timeout; config
	// delivery.reclaim_after).
	ReclaimAfter time.Duration
	// Concurrency is how many events this Sender delivers at once
	// (default DefaultConcurrency).
	Concurrency int
	// Signature is how requests are signed: config.SignatureKycbot (the
	// SignatureHeader; the default), config.SignatureStandard (the
	// Standard Webhooks headers, SetStandardHeaders) or
	// config.SignatureBoth. Standard Webhooks takes its keys from Secret
	// and PreviousSecret, which must then be whsec_ secrets
	// (config.StandardKey).
	Signature string
	// Links mints the one-time links to the scans of events with scans
	// (Event.Files): fresh ones at every attempt, so that a delivery
	// retried for hours still carries working links. Required when
	// events carry scans (delivery.include_files): without it their
	// attempts fail ("no_scan_links").
	Links *Links
}

// Results of an attempt, as Options.OnResult receives them.
const (
	// ResultDelivered: the webhook answered 2xx and the event left the
	// outbox.
	ResultDelivered = "delivered"
	// ResultRetried: the attempt failed and the event waits for the next.
	ResultRetried = "retried"
	// ResultParked: the attempt failed after GiveUpAfter and the event was
	// given up on.
	ResultParked = "parked"
)

// Parked describes an event given up on.
type Parked struct {
	EventID string
	UserID  int64
	// Attempts counts the failed attempts, the last one included.
	Attempts int
	// Reason is the code of the last failure: "http_<status>" (such as
	// "http_500"), "timeout", "connection_refused", "connection_reset",
	// "dns_error", "tls_error" or "network_error"; or, before any
	// request, "scan_links_unavailable" (Redis failed minting the scan
	// links), "no_scan_links" (Options.Links missing) or "bad_payload".
	Reason string
}

// Sender delivers the outbox to the webhook: signed POSTs, retried with
// exponential backoff, parked after GiveUpAfter. Several Senders (one per
// instance) may share the outbox: each event goes to one of them at a
// time; an event whose sender stopped during its request is handed back
// at once, and one whose sender died is taken over after ReclaimAfter.
type Sender struct {
	s      *store.Store
	o      Options
	signer *Signer
	url    string
	client *http.Client
	log    *slog.Logger
}

// NewSender returns a Sender for the outbox of s (which needs the outbox
// key: the bot's is bot.OutboxKey, see the package doc), with opts' defaults
// filled in. It fails when an option is invalid; the error says which.
func NewSender(s *store.Store, opts Options) (*Sender, error) {
	if s == nil {
		return nil, errors.New("delivery: NewSender: nil store")
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("delivery: NewSender: URL must be an absolute http or https URL")
	}
	if len(opts.Secret) < config.MinWebhookSecretLength {
		return nil, fmt.Errorf("delivery: NewSender: the secret must be at least %d bytes, got %d", config.MinWebhookSecretLength, len(opts.Secret))
	}
	o := opts
	if n := len(opts.PreviousSecret); n > 0 && n < config.MinWebhookSecretLength {
		return nil, fmt.Errorf("delivery: NewSender: the previous secret must be at least %d bytes, got %d", config.MinWebhookSecretLength, n)
	}
	o.Secret = bytes.Clone(opts.Secret)
	o.PreviousSecret = bytes.Clone(opts.PreviousSecret)
	client := &http.Client{Timeout: DefaultTimeout}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		client = &c
		if client.Timeout <= 0 {
			client.Timeout = DefaultTimeout
		}
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		return nil, fmt.Errorf("delivery: NewSender: MaxBackoff %v is below MinBackoff %v", o.MaxBackoff, o.MinBackoff)
	}
	if o.ReclaimAfter <= 0 {
		o.ReclaimAfter = max(DefaultReclaimAfter, 3*client.Timeout)
	}
	if o.ReclaimAfter <= client.Timeout {
		return nil, fmt.Errorf("delivery: NewSender: ReclaimAfter %v must exceed the HTTP timeout %v, or deliveries under way would be taken over", o.ReclaimAfter, client.Timeout)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	signer, err := NewSigner(o.Signature, o.Secret, o.PreviousSecret)
	if err != nil {
		return nil, fmt.Errorf("delivery: NewSender: %w", err)
	}
	o.Signature = signer.scheme
	if o.Consumer == "" {
		o.Consumer = defaultConsumer()
	} else if !validConsumer(o.Consumer) {
		return nil, errors.New("delivery: NewSender: Consumer must be 1 to 128 characters of A-Z a-z 0-9 _ . : -")
	}
	return &Sender{s: s, o: o, signer: signer, url: opts.URL, client: client, log: o.Logger.With(slog.String("consumer", o.Consumer))}, nil
}

func validConsumer(c string) bool {
	if len(c) == 0 || len(c) > 128 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !consumerByte(c[i]) {
			return false
		}
	}
	return true
}

func consumerByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == ':' || b == '-'
}

// defaultConsumer is "<host>-<pid>-<8 random hex digits>", the host name
// cut to fit the consumer alphabet.
func defaultConsumer() string {
	host, _ := os.Hostname()
	b := []byte(host)
	for i := range b {
		if !consumerByte(b[i]) {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	if len(b) == 0 {
		b = []byte("kycbot")
	}
	r := make([]byte, 4)
	_, _ = rand.Read(r)
	return string(b) + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(r)
}

// Consumer returns the name this Sender claims events under.
func (s *Sender) Consumer() string { return s.o.Consumer }

// Depth returns how many events wait in the outbox (new, being delivered
// or waiting for a retry) and how many were parked, for metrics.
func (s *Sender) Depth(ctx context.Context) (pending, parked int64, err error) {
	return s.s.Outbox().Depth(ctx)
}

// Run delivers events until ctx ends, then waits for the deliveries under
// way (whose requests ctx cancels) and returns nil. Deliveries cut short
// this way are handed back (the attempt counted): another instance, or the
// next Run, sends them again at once. Those of a sender that dies, or
// cannot reach Redis to hand them back, are taken over after
// ReclaimAfter. Errors reaching Redis are logged and retried; Run fails
// only when the store has no valid outbox key. Call Run once per Sender.
func (s *Sender) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, s.o.Concurrency)
	errPause := s.o.PollInterval
	for {
		// Wait for a free slot, then claim as many events as slots are free.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1 + cap(slots) - len(slots)
		ds, err := s.s.Outbox().Claim(ctx, s.o.Consumer, s.o.ReclaimAfter, free)
		if err != nil {
			if ctx.Err() != nil {
				<-slots
				return nil
			}
			if errors.Is(err, store.ErrOutboxKey) {
				<-slots
				return fmt.Errorf("delivery: %w", err)
			}
			// Undecryptable entries (another key) come with the good
			// ones; Redis errors with none. The error names stream IDs.
			s.log.ErrorContext(ctx, "delivery: claiming events failed", slog.String("error", err.Error()))
		}
		if len(ds) == 0 {
			<-slots
			pause := s.o.PollInterval
			if err != nil {
				pause, errPause = errPause, min(2*errPause, 30*time.Second)
			}
			if wait.Sleep(ctx, pause) != nil {
				return nil
			}
			continue
		}
		errPause = s.o.PollInterval
		for i, d := range ds {
			if i > 0 {
				slots <- struct{}{} // free: only this loop takes slots
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				s.deliver(ctx, d)
			}()
		}
	}
}

// deliver makes one attempt and records its outcome.
func (s *Sender) deliver(ctx context.Context, d store.Delivery) {
	attempt := d.Attempts + 1
	log := s.log.With(slog.String("event_id", d.EventID), slog.Int64("user_id", d.UserID), slog.Int("attempt", attempt))
	status, reason := s.post(ctx, d)
	// Stopped during the request (Run's context ended): the outcome is
	// still recorded, briefly.
	actx, cancel := afterStop(ctx)
	defer cancel()
	if reason == "" {
		if err := s.s.Outbox().Ack(actx, d.ID); err != nil {
			log.ErrorContext(ctx, "delivery: delivered but not acknowledged; the event will be sent again", slog.Int("status", status), slog.String("error", err.Error()))
			return
		}
		log.InfoContext(ctx, "delivery: delivered", slog.Int("status", status))
		s.result(ResultDelivered)
		return
	}
	if ctx.Err() != nil {
		// The answer was cut short, or came as Run stopped: the event is
		// handed back, to be sent again at once by another instance or the
		// next Run, rather than after ReclaimAfter.
		switch err := s.s.Outbox().Release(actx, d); {
		case errors.Is(err, store.ErrNotFound):
			log.InfoContext(ctx, "delivery: stopped during delivery; event taken over by another instance meanwhile", slog.String("reason", reason))
		case err != nil:
			log.WarnContext(ctx, "delivery: stopped during delivery and cannot hand the event back; it will be taken over after reclaim_after", slog.String("reason", reason), slog.String("error", err.Error()))
		default:
			log.InfoContext(ctx, "delivery: stopped during delivery; event handed back to be sent again at once", slog.String("reason", reason))
		}
		return
	}
	cause := errors.New(reason)
	if age := s.o.Clock().Sub(d.Enqueued); age >= s.o.GiveUpAfter {
		if err := s.s.Outbox().Park(ctx, d, reason); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				log.InfoContext(ctx, "delivery: event taken over by another instance before it could be parked", slog.String("reason", reason))
				return
			}
			log.ErrorContext(ctx, "delivery: cannot park the event; it will be tried again", slog.String("reason", reason), slog.String("error", err.Error()))
			return
		}
		log.ErrorContext(ctx, "delivery: gave up; event parked", slog.String("reason", reason), slog.Duration("age", age.Round(time.Second)))
		s.result(ResultParked)
		if s.o.OnParked != nil {
			s.o.OnParked(ctx, Parked{EventID: d.EventID, UserID: d.UserID, Attempts: attempt, Reason: reason})
		}
		return
	}
	pause := s.backoff(d.Attempts)
	if err := s.s.Outbox().RetryAfter(ctx, d, cause, pause); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			log.InfoContext(ctx, "delivery: failed; event taken over by another instance meanwhile", slog.String("reason", reason))
			return
		}
		log.ErrorContext(ctx, "delivery: failed, and cannot schedule the retry; the event will be taken over", slog.String("reason", reason), slog.String("error", err.Error()))
		return
	}
	log.WarnContext(ctx, "delivery: failed; will retry", slog.String("reason", reason), slog.Duration("pause", pause))
	s.result(ResultRetried)
}

// afterStop returns ctx while it lasts; once it has ended, a context of
// a few seconds that is not cancelled with it, to record what happened
// to a delivery as Run stops.
func afterStop(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// result reports the result of an attempt to Options.OnResult.
func (s *Sender) result(r string) {
	if s.o.OnResult != nil {
		s.o.OnResult(r)
	}
}

// backoff is the pause after a failure of an event that had failed n
// times before: between half and all of min(MinBackoff·2^n, MaxBackoff).
func (s *Sender) backoff(n int) time.Duration {
	d := s.o.MinBackoff
	for i := 0; i < n && d < s.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.o.MaxBackoff)
	return d/2 + mrand.N(d/2+1)
}

// NewRequest returns the webhook request that delivers body, the JSON of
// the event eventID (json.Marshal of the Event, its scans' links filled
// in),
// to webhookURL: a POST with the Content-Type (application/json),
// User-Agent (UserAgent), EventIDHeader and SignatureHeader headers, the
// signature made with secret for time t (Sign). The Sender builds every
// request with it; tools and tests use it to send exactly what the bot
// sends. Send it with a client that does not follow redirects, as the
// Sender does.
//
// It fails when webhookURL is not an absolute http or https URL; the
// error does not repeat the URL, which may hold a token.
func NewRequest(ctx context.Context, webhookURL string, secret []byte, eventID string, body []byte, t time.Time, previous ...[]byte) (*http.Request, error) {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("delivery: NewRequest: the URL must be an absolute http or https URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("delivery: NewRequest: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(EventIDHeader, eventID)
	req.Header.Set(SignatureHeader, Sign(secret, t, body, previous...))
	return req, nil
}

// post sends the event of d, with fresh links to its scans. It answers
// the status code (0 without a response) and "" for a 2xx, or the reason
// code of the failure.
func (s *Sender) post(ctx context.Context, d store.Delivery) (int, string) {
	b, reason := body(ctx, s.o.Links, d.Payload)
	if reason != "" {
		return 0, reason
	}
	req, err := s.signer.Request(ctx, s.url, d.EventID, b, s.o.Clock())
	if err != nil {
		return 0, "bad_request"
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// The error text holds the URL: only its code is kept.
		return 0, reasonOf(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, "http_" + strconv.Itoa(resp.StatusCode)
}

// reasonOf names a failed request's cause with a code.
func reasonOf(err error) string {
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		uaErr   x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
		alert   tls.AlertError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_reset"
	case errors.As(err, &dnsErr):
		return "dns_error"
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &uaErr), errors.As(err, &hostErr),
		errors.As(err, &invErr), errors.As(err, &alert):
		return "tls_error"
	default:
		return "network_error"
	}
}
