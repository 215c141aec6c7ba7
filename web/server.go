package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
)

// Result values of an Outcome: what the Telegram app reported in the
// tg_passport parameter of the callback URL.
const (
	// ResultSuccess: the user shared the data (it arrives at the bot
	// separately, encrypted).
	ResultSuccess = "success"
	// ResultCancel: the user closed the Passport form without sharing.
	ResultCancel = "cancel"
	// ResultError: the app refused the request; Outcome.Error says why.
	ResultError = "error"
)

// Error codes of an Outcome with ResultError: the codes Telegram apps
// report in the error parameter of the callback URL, and CodeUnknown for
// anything else (or nothing).
const (
	// CodeBotInvalid: the bot_id is not a bot.
	CodeBotInvalid = "BOT_INVALID"
	// CodePublicKeyRequired: the bot has no public key set with
	// @BotFather /setpublickey.
	CodePublicKeyRequired = "PUBLIC_KEY_REQUIRED"
	// CodePublicKeyInvalid: the public key in the link is not the one set
	// with @BotFather, or unreadable. An admin alarm: nobody can share data
	// until it is fixed.
	CodePublicKeyInvalid = "PUBLIC_KEY_INVALID"
	// CodeScopeEmpty: the link asked for nothing.
	CodeScopeEmpty = "SCOPE_EMPTY"
	// CodeNonceEmpty: the link carried no nonce.
	CodeNonceEmpty = "NONCE_EMPTY"
	// CodeUnknown stands for a missing error parameter or a code not in
	// this list; the original value is not kept (it is untrusted input).
	CodeUnknown = "UNKNOWN"
)

// knownCode reports whether code is one of Telegram's documented callback
// error codes.
func knownCode(code string) bool {
	switch code {
	case CodeBotInvalid, CodePublicKeyRequired, CodePublicKeyInvalid, CodeScopeEmpty, CodeNonceEmpty:
		return true
	}
	return false
}

// ErrNotFound is returned by Backend.Request for a request that is unknown,
// expired or otherwise no longer usable. Wrap it (errors.Is is used).
var ErrNotFound = errors.New("web: request not found or expired")

// Request is what the request page needs of a verification request.
type Request struct {
	// ID identifies the request in the page URL (/passport/{ID}); it is
	// the bearer of the request, so it is never logged.
	ID string
	// Nonce goes into the deep link; never logged.
	Nonce string
	// Level is the verification level: Options.Scope turns it into the
	// scope asked for.
	Level string
	// Lang is the user's language (a tag or Telegram lang_code); empty for
	// the Accept-Language header's choice.
	Lang string
	// ExpiresAt is when the request stops being valid; the page treats a
	// request past it as expired even if the Backend still returns it. The
	// zero time means no expiry known here.
	ExpiresAt time.Time
}

// Outcome is what the Telegram app reported on returning to the callback
// URL. It comes from an unauthenticated URL: treat it as a hint (what the
// user saw), never as proof.
type Outcome struct {
	// RequestID is the request the outcome is about.
	RequestID string
	// Result is ResultSuccess, ResultCancel or ResultError.
	Result string
	// Error is set for ResultError only: one of the Code* constants
	// (CodeUnknown for anything not documented by Telegram).
	Error string
	// At is when the callback arrived (Options.Clock).
	At time.Time
}

// Backend is the storage the server reads requests from and reports
// outcomes to. Its methods must be safe for concurrent use; each call gets
// the HTTP request's context with a deadline.
type Backend interface {
	// Request returns the request with the given ID, or an error wrapping
	// ErrNotFound when it is unknown, expired or already used. Other
	// errors mean the storage failed (the page answers 503). The callback
	// endpoint looks the request up too and records outcomes only of the
	// requests found.
	Request(ctx context.Context, id string) (Request, error)
	// RecordOutcome records what the Telegram app reported for a request
	// (the bot reacts: CodePublicKeyInvalid is an admin alarm). It may be
	// called more than once for the same request (the user may reload).
	RecordOutcome(ctx context.Context, o Outcome) error
	// Ready reports whether the service is ready to work, for /readyz:
	// the storage is reachable and, for kycbot's bot, Telegram updates are
	// being received. The error says what is missing; it is logged, never
	// shown.
	Ready(ctx context.Context) error
}

// Options configure a Server.
type Options struct {
	// BotID is the bot's numeric ID (the part of its token before ':',
	// passport.BotIDFromToken). Required.
	BotID int64
	// BotName is who is asking, as shown on the request page, such as
	// "@acme_kyc_bot" or "Acme Bank" (kycbot's bot gives config
	// web.brand.name). When set, it also heads every page, beside Logo,
	// and ends their title. Default: "@" + BotUsername, in the sentences
	// only. One of BotName and BotUsername is required.
	BotName string
	// Logo is the business's logo shown beside BotName at the top of the
	// request page (optional): a PNG, JPEG or SVG image of at most
	// MaxLogoSize bytes, served by this server itself at
	// /passport/logo (the page loads nothing from other hosts). LogoType
	// is its media type: "image/png", "image/jpeg" or "image/svg+xml"
	// (package config reads and checks web.brand.logo_file into both).
	Logo     []byte
	LogoType string
	// BotUsername is the bot's username without '@' (optional). When set,
	// the expired and callback pages have a "Back to the chat" button
	// linking to https://t.me/<BotUsername>.
	BotUsername string
	// PublicKeyPEM is the bot's public key in SPKI PEM form ("-----BEGIN
	// PUBLIC KEY-----"), the one given to @BotFather. Required.
	PublicKeyPEM string
	// PublicURL is the base URL at which browsers reach this server
	// (config web.public_url): https, or http for localhost only; without
	// query or fragment; a trailing '/' is ignored. The callback_url of
	// the deep links is PublicURL + "/passport/callback?r=<request ID>".
	// The handler serves paths from the root: when PublicURL has a path,
	// the reverse proxy in front must strip it. Required.
	PublicURL string
	// PrivacyPolicyURL is the http(s) URL of the business's privacy policy,
	// linked from the request page (optional).
	PrivacyPolicyURL string
	// Scope returns the scope asked for at a verification level
	// (Request.Level). An error makes the page answer 503 and is logged
	// with the level name. Required.
	Scope func(level string) (passport.Scope, error)
	// Logger receives the server's log records (nil: none). Records carry
	// request ID hashes at most.
	Logger *slog.Logger
	// Clock returns the current time (nil: time.Now).
	Clock func() time.Time
	// Metrics, when set, is served as GET /metrics (for example the
	// Prometheus handler of package bot/metrics); nil: no /metrics route.
	Metrics http.Handler
	// SeparateOps leaves the operations endpoints (/healthz, /readyz and
	// /metrics) out of Handler, which then answers them 404 like any
	// unknown path: serve OpsHandler on a private address instead (config
	// web.ops_listen, unless public). Default false: Handler serves them
	// beside the pages.
	SeparateOps bool
	// Scans, when set, serves the one-time scan links of the webhook
	// events (GET /passport/scans/{token}, see ScanURL); nil: no such
	// route (404).
	Scans Scans
	// Reviews, when set, serves the manual review page on the operations
	// server alone (OpsHandler, and only with SeparateOps: the page shows
	// users' documents), GET /review/{token} and POST /review/decide (see
	// ReviewURL); nil: no such route.
	Reviews Reviews
}

// Server serves the request page, the callback endpoint, the health and
// readiness checks and, when Options.Metrics is set, the metrics (the last
// three through OpsHandler alone when Options.SeparateOps is set). Build it
// with New; it is safe for concurrent use.
type Server struct {
	backend   Backend
	cat       *i18n.Catalog
	opts      Options
	publicURL string // without trailing '/'
	botName   string
	backURL   string // https://t.me/<username>, or ""
	logoSrc   string // PublicURL + logoPath when there is a logo (the CSP's img-src), or ""
	logoURL   string // logoSrc with a version query (a new logo gets a new URL), or ""
	log       *slog.Logger
	now       func() time.Time
	tmpl      *template.Template
	handler   http.Handler
	ops       http.Handler // the operations endpoints alone
}

// usernameRE matches Telegram usernames (5 to 32 characters).
var usernameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]$`)

// New checks the options and builds a Server. b and cat are required.
func New(b Backend, cat *i18n.Catalog, opts Options) (*Server, error) {
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("web: "+format, args...))
	}
	if b == nil {
		bad("a Backend is required")
	}
	if cat == nil {
		bad("an i18n catalog is required")
	}
	if opts.BotID <= 0 {
		bad("BotID must be the positive number before ':' in the bot token")
	}
	opts.BotUsername = strings.TrimPrefix(strings.TrimSpace(opts.BotUsername), "@")
	if opts.BotUsername != "" && !usernameRE.MatchString(opts.BotUsername) {
		bad("BotUsername %.40q is not a Telegram username (5-32 letters, digits and '_', without '@')", opts.BotUsername)
	}
	name := strings.TrimSpace(opts.BotName)
	if name == "" && opts.BotUsername != "" {
		name = "@" + opts.BotUsername
	}
	if name == "" {
		bad("BotName or BotUsername is required: the request page says who is asking")
	}
	if opts.Scope == nil {
		bad("a Scope function is required")
	}
	if len(opts.Logo) > 0 || opts.LogoType != "" {
		switch {
		case len(opts.Logo) == 0:
			bad("LogoType is set without a Logo")
		case len(opts.Logo) > MaxLogoSize:
			bad("the Logo is %d KiB; at most %d KiB are served", (len(opts.Logo)+1023)>>10, MaxLogoSize>>10)
		case !slices.Contains(logoTypes, opts.LogoType):
			bad("LogoType %.40q is not one of %s", opts.LogoType, strings.Join(logoTypes, ", "))
		}
	}
	pub, err := checkPublicURL(opts.PublicURL)
	if err != nil {
		problems = append(problems, err)
	}
	if opts.PrivacyPolicyURL != "" {
		if u, err := url.Parse(opts.PrivacyPolicyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("PrivacyPolicyURL must be an absolute http(s) URL")
		}
	}
	// Check the key (and the bot ID and callback URL) the way every link
	// will be checked, with a stand-in scope and nonce, so that a bad key
	// fails here and not on each page view.
	probe := passport.Link{
		BotID:       max(opts.BotID, 1),
		Scope:       passport.NewScope(passport.Require(passport.TypeEmail)),
		PublicKey:   opts.PublicKeyPEM,
		Nonce:       "probe",
		CallbackURL: pub + callbackPath + "?r=probe",
	}
	if err := probe.Validate(); err != nil {
		bad("PublicKeyPEM: %v", err)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	s := &Server{
		backend:   b,
		cat:       cat,
		opts:      opts,
		publicURL: pub,
		botName:   name,
		log:       opts.Logger,
		now:       opts.Clock,
		tmpl:      pageTemplate,
	}
	if opts.BotUsername != "" {
		s.backURL = "https://t.me/" + opts.BotUsername
	}
	if len(opts.Logo) > 0 {
		sum := sha256.Sum256(opts.Logo)
		s.logoSrc = pub + logoPath
		s.logoURL = s.logoSrc + "?v=" + hex.EncodeToString(sum[:6])
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.handler = s.routes()
	s.ops = s.opsRoutes()
	return s, nil
}

// checkPublicURL validates Options.PublicURL and returns it without a
// trailing '/'.
func checkPublicURL(raw string) (string, error) {
	const want = "web: PublicURL must be the https URL at which browsers reach this server, such as https://kyc.example.com"
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", errors.New(want)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", errors.New(want + " (http is allowed for localhost only)")
		}
	default:
		return "", errors.New(want)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Paths served by the handler.
const (
	pagePrefix   = "/passport/"
	callbackPath = "/passport/callback"
	logoPath     = "/passport/logo"
	healthPath   = "/healthz"
	readyPath    = "/readyz"
	metricsPath  = "/metrics"
)

// PageURL returns the URL of the request page of request id, for the
// bot's inline URL button: publicURL (Options.PublicURL) + "/passport/" +
// id.
func PageURL(publicURL, id string) string {
	return strings.TrimRight(publicURL, "/") + pagePrefix + url.PathEscape(id)
}

// CallbackURL returns the callback_url of the deep link of request id:
// publicURL (Options.PublicURL) + "/passport/callback?r=" + id.
func CallbackURL(publicURL, id string) string {
	return strings.TrimRight(publicURL, "/") + callbackPath + "?r=" + url.QueryEscape(id)
}

// callbackURL returns the callback_url of request id's deep link.
func (s *Server) callbackURL(id string) string { return CallbackURL(s.publicURL, id) }

// routes builds the handler. "GET /passport/callback" is more specific
// than "GET /passport/{id}", so the mux sends the callback there and never
// to the request page (TestRoutes checks it).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, s.handleCallback)
	mux.HandleFunc("GET "+pagePrefix+"{id}", s.handlePage)
	if s.logoURL != "" {
		mux.HandleFunc("GET "+logoPath, s.handleLogo)
	}
	if s.opts.Scans != nil {
		mux.HandleFunc("GET "+scanPrefix+"{token}", s.handleScan)
	}
	if !s.opts.SeparateOps {
		s.addOpsRoutes(mux)
	}
	return withBaseHeaders(mux)
}

// opsRoutes builds the handler of the operations endpoints alone.
func (s *Server) opsRoutes() http.Handler {
	mux := http.NewServeMux()
	s.addOpsRoutes(mux)
	if s.opts.SeparateOps {
		s.addReviewRoutes(mux)
	}
	return withBaseHeaders(mux)
}

// addOpsRoutes adds the operations endpoints to mux: the health and
// readiness checks and, when Options.Metrics is set, the metrics.
func (s *Server) addOpsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+healthPath, s.handleHealth)
	mux.HandleFunc("GET "+readyPath, s.handleReady)
	if s.opts.Metrics != nil {
		mux.Handle("GET "+metricsPath, s.opts.Metrics)
	}
}

// Handler returns the server's HTTP handler (see the package doc for its
// endpoints). Mount it at the root. With Options.SeparateOps it serves the
// pages only.
func (s *Server) Handler() http.Handler { return s.handler }

// OpsHandler returns the handler of the operations endpoints alone: GET
// /healthz, GET /readyz and, when Options.Metrics is set, GET /metrics;
// any other path gets 404. It serves them whatever Options.SeparateOps
// says. Serve it where only your monitoring reaches it (config
// web.ops_listen, such as 127.0.0.1:9090), with timeouts of your own.
func (s *Server) OpsHandler() http.Handler { return s.ops }

// NewHTTPServer returns an http.Server for h with the limits a server
// facing the Internet needs, those Serve uses: 5 s to read the headers,
// 10 s the whole request, 20 s to write the answer, 60 s idle, 16 KiB of
// headers. errorLog (may be nil) gets net/http's own errors. Use it when
// you serve Handler or OpsHandler yourself (package bot does).
func NewHTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errorLog,
	}
}

// Timeouts of the http.Server built by Serve and ListenAndServe.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 20 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	shutdownTimeout   = 10 * time.Second
	// backendTimeout bounds each Backend call made for an HTTP request.
	backendTimeout = 5 * time.Second
	// outcomeTimeout bounds RecordOutcome, longer: the outcome is not
	// to be lost while Redis fails over (the bot's backend keeps trying).
	outcomeTimeout = 15 * time.Second // within writeTimeout
	// readyTimeout bounds Backend.Ready for /readyz.
	readyTimeout = 2 * time.Second
)

// ListenAndServe listens on addr (host:port, config web.listen) and serves
// Handler until ctx is cancelled, then shuts down gracefully: it stops
// accepting connections and waits up to 10 seconds for requests in flight.
// It returns nil after a shutdown caused by ctx, else the error that
// stopped it.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener the caller opened (for example on
// 127.0.0.1:0 in tests). It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := NewHTTPServer(s.handler, slog.NewLogLogger(s.log.Handler(), slog.LevelWarn))
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("web: serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("web: shutdown: %w", err)
	}
	s.log.Info("web: stopped")
	return nil
}

// idHash returns a short hash of a request ID for logs: enough to match
// log records of one request, useless to open its page.
func idHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}

// validID reports whether id looks like a request ID (base64url text of
// sane length); anything else is answered without asking the Backend.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
