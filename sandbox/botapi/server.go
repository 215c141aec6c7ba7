package botapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gotd/log"

	"github.com/kycbot/kycbot/sandbox"
)

// Option configures a Server.
type Option func(*options)

type options struct {
	logger     log.Logger
	webhook    *http.Client
	retryMin   time.Duration
	retryMax   time.Duration
	maxTimeout time.Duration
}

// WithLogger sends the server's logs to l (gotd's log.Logger, like
// sandbox.Options.Logger). Nothing personal and no token is logged:
// methods, bot IDs, update IDs and error codes only. No logs by default.
func WithLogger(l log.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithWebhookClient sets the HTTP client that delivers updates to
// webhooks (default: one with a 30 s timeout).
func WithWebhookClient(c *http.Client) Option {
	return func(o *options) { o.webhook = c }
}

// WithWebhookRetry sets how long the server waits before it retries a
// webhook delivery that failed: first min, doubling up to max (default
// 100 ms and 5 s; Telegram waits longer).
func WithWebhookRetry(min, max time.Duration) Option {
	return func(o *options) { o.retryMin, o.retryMax = min, max }
}

// Server is a Bot API server over a sandbox's MTProto servers. Serve it
// with net/http (it is an http.Handler) or with Serve. All methods are
// safe for concurrent use.
type Server struct {
	remote sandbox.Remote
	opts   options
	log    log.Helper

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	faults faults
	// states are the bots' updates states: a client started again goes on
	// from where the last one was.
	states *stateStorage

	mu      sync.Mutex
	bots    map[string]*botClient
	servers []*http.Server
	closed  bool
}

// New returns a Server whose bots log in to the servers remote describes:
// sandbox.Sandbox.Remote in the sandbox's process, RemoteConfig.Remote in
// another. It connects nothing yet: a bot logs in on the first request
// with its token (or Login). ctx bounds the server's life, as Close does.
func New(ctx context.Context, remote sandbox.Remote, opts ...Option) (*Server, error) {
	if len(remote.PublicKeys) == 0 || len(remote.DCList.Options) == 0 {
		return nil, errors.New("botapi: the sandbox's remote has no public key or no DC address (take it from Sandbox.Remote or RemoteConfig.Remote)")
	}
	o := options{retryMin: 100 * time.Millisecond, retryMax: 5 * time.Second, maxTimeout: 50 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = log.Nop
	}
	if o.webhook == nil {
		o.webhook = &http.Client{Timeout: 30 * time.Second}
	}
	if o.retryMin <= 0 {
		o.retryMin = 100 * time.Millisecond
	}
	if o.retryMax < o.retryMin {
		o.retryMax = o.retryMin
	}
	sctx, cancel := context.WithCancel(ctx)
	return &Server{
		remote: remote, opts: o, log: log.For(o.logger).Named("botapi"),
		ctx: sctx, cancel: cancel, bots: map[string]*botClient{}, faults: faults{rules: map[string]*floodRule{}, calls: map[string]int{}},
		states: newStateStorage(),
	}, nil
}

// Serve answers Bot API requests on ln until Close. It returns
// http.ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return http.ErrServerClosed
	}
	s.servers = append(s.servers, hs)
	s.mu.Unlock()
	return hs.Serve(ln)
}

// Close stops the HTTP servers Serve runs, logs every bot out of MTProto
// (its connections closed; the sandbox keeps its account) and stops
// webhook deliveries. Waiting getUpdates calls answer at once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	servers := s.servers
	s.mu.Unlock()
	s.cancel()
	var errs []error
	for _, hs := range servers {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := hs.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("botapi: stop http server: %w", err))
		}
		cancel()
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// spawn runs f on a goroutine Close waits for, unless the server is
// closed.
func (s *Server) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// Login logs the bot with token in (auth.importBotAuthorization) if it is
// not yet, so that its updates are kept from now on, as Telegram keeps a
// bot's updates until it asks for them. A request with the token does the
// same; Login lets a sandbox start receiving before the bot's process
// runs. An unknown token is an error.
func (s *Server) Login(ctx context.Context, token string) error {
	if _, err := s.bot(ctx, token); err != nil {
		return fmt.Errorf("botapi: log the bot in: %s", fromMTProto(err).description)
	}
	return nil
}

// FloodWait makes the next times calls of a Bot API method (by name, as
// in the URL: "sendMessage") answer 429 "Too Many Requests: retry after
// retryAfter" with parameters.retry_after, whatever the token. Later
// calls succeed again; times <= 0 removes the rule. (An MTProto
// FLOOD_WAIT_X from the sandbox, sandbox.Sandbox.FloodWait, is a 429 with
// retry_after X as well.)
func (s *Server) FloodWait(method string, times, retryAfter int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	key := strings.ToLower(method)
	if times <= 0 {
		delete(s.faults.rules, key)
		return
	}
	s.faults.rules[key] = &floodRule{remaining: times, retryAfter: retryAfter}
}

// Calls returns how many requests of a Bot API method (by name, any
// case) the server received from bots it knows, those FloodWait refused
// included: a test sees that a bot tried again after a 429.
func (s *Server) Calls(method string) int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.calls[strings.ToLower(method)]
}

// faults are the failures tests ask for, and the calls they count.
type faults struct {
	mu    sync.Mutex
	rules map[string]*floodRule
	calls map[string]int
}

type floodRule struct{ remaining, retryAfter int }

// flood counts a call of method and answers 429 while a rule for it has
// answers left.
func (f *faults) flood(method string) *apiError {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	r, ok := f.rules[method]
	if !ok || r.remaining <= 0 {
		return nil
	}
	r.remaining--
	return tooManyRequests(r.retryAfter)
}

// tokenRE is the form of a bot token: the bot's ID, a colon, a secret.
var tokenRE = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{1,100}$`)

// ServeHTTP answers /bot<token>/<method> and /file/bot<token>/<path>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/file/bot"); ok {
		token, filePath, _ := strings.Cut(rest, "/")
		s.serveFile(w, r, token, filePath)
		return
	}
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	token, method, _ := strings.Cut(rest, "/")
	if method == "" || strings.Contains(method, "/") {
		writeError(w, errNotFound)
		return
	}
	if !tokenRE.MatchString(token) {
		writeError(w, errUnauthorized)
		return
	}
	m, ok := methods[strings.ToLower(method)]
	if !ok {
		writeError(w, errNotFound)
		return
	}
	p, err := readParams(r)
	if err != nil {
		writeError(w, fromMTProto(err))
		return
	}
	b, err := s.bot(r.Context(), token)
	if err != nil {
		writeError(w, fromMTProto(err))
		return
	}
	if e := s.faults.flood(strings.ToLower(method)); e != nil {
		writeError(w, e)
		return
	}
	res, err := m(r.Context(), b, p)
	if err != nil {
		e := fromMTProto(err)
		if e == errInternal {
			b.log.Warn(r.Context(), "method failed", log.String("method", method), log.Error(stripURL(err)))
		}
		writeError(w, e)
		return
	}
	writeResult(w, res)
}

// described is a result with a description beside it, as setWebhook's
// "Webhook was set".
type described struct {
	result      any
	description string
}

func writeResult(w http.ResponseWriter, res any) {
	body := struct {
		OK          bool   `json:"ok"`
		Result      any    `json:"result"`
		Description string `json:"description,omitempty"`
	}{OK: true, Result: res}
	if d, ok := res.(described); ok {
		body.Result, body.Description = d.result, d.description
	}
	writeJSON(w, http.StatusOK, body)
}

func writeError(w http.ResponseWriter, e *apiError) {
	type parameters struct {
		RetryAfter int `json:"retry_after,omitempty"`
	}
	body := struct {
		OK          bool        `json:"ok"`
		ErrorCode   int         `json:"error_code"`
		Description string      `json:"description"`
		Parameters  *parameters `json:"parameters,omitempty"`
	}{ErrorCode: e.code, Description: e.description}
	if e.retryAfter > 0 {
		body.Parameters = &parameters{RetryAfter: e.retryAfter}
		w.Header().Set("Retry-After", fmt.Sprint(e.retryAfter))
	}
	writeJSON(w, e.code, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
