package botapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/bot/internal/wait"
)

// DefaultBaseURL is Telegram's Bot API server.
const DefaultBaseURL = "https://api.telegram.org"

// DefaultMaxFloodWait is the longest retry_after a Client waits out
// before trying a call again (WithMaxFloodWait).
const DefaultMaxFloodWait = 5 * time.Minute

// callTimeout bounds one call that is not a long poll or a download.
const callTimeout = time.Minute

// A call Telegram could not answer (a network error, a 5xx) is tried this
// many times in all when it is safe to make again, with pauses from
// retryPause, doubling up to maxRetryPause; a call that never left (the
// connection could not be made) is tried up to unsentAttempts times
// (about half a minute), whatever the method, as an MTProto client waits
// for its connection.
const (
	callAttempts   = 3
	unsentAttempts = 9
	retryPause     = 500 * time.Millisecond
	maxRetryPause  = 5 * time.Second
)

// Client is a small Bot API client: the calls kycbot's transport, hook
// and loops make, over HTTP with JSON. A 429 is waited out (retry_after,
// at most WithMaxFloodWait, within the call's context) and the call made
// again; a call that is safe to make again (every one but sendMessage
// and answerCallbackQuery) is tried again after a network error or a 5xx,
// and every call while the connection cannot be made (Telegram never saw
// it), for about half a minute.
// Other failures are returned: a *Error for Telegram's answers, a
// network error otherwise. The token never appears in an error or a log.
// It is safe for concurrent use.
type Client struct {
	token    string
	base     string
	hc       *http.Client
	log      *slog.Logger
	maxFlood time.Duration
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithBaseURL sets the Bot API server (default DefaultBaseURL): a
// self-hosted telegram-bot-api server, or the sandbox's Bot API front.
// Calls go to <u>/bot<token>/<method>, files come from
// <u>/file/bot<token>/<path>.
func WithBaseURL(u string) ClientOption {
	return func(c *Client) { c.base = strings.TrimRight(u, "/") }
}

// WithHTTPClient sets the HTTP client (default: one without an overall
// timeout; each call has its own, the long poll its timeout plus a
// margin).
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithLogger sets the logger of the waits for flood control and the
// retries (default slog.Default()).
func WithLogger(l *slog.Logger) ClientOption {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithMaxFloodWait sets the longest retry_after the client waits out
// (default DefaultMaxFloodWait); a longer one is returned as the *Error.
func WithMaxFloodWait(d time.Duration) ClientOption {
	return func(c *Client) { c.maxFlood = d }
}

// NewClient returns a client of the bot with the token @BotFather gave.
func NewClient(token string, opts ...ClientOption) *Client {
	c := &Client{token: token, base: DefaultBaseURL, hc: &http.Client{}, log: slog.Default(), maxFlood: DefaultMaxFloodWait}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Error is a call's failure as the Bot API reports it: its error_code
// (400 bad request, 403 forbidden such as a user who blocked the bot, 409
// conflict, 429 too many requests, ...) and description.
type Error struct {
	// Method is the method called.
	Method string
	// Code is the error_code (the HTTP status when the answer had none).
	Code int
	// Description is Telegram's description ("Bad Request: chat not
	// found").
	Description string
	// RetryAfter is how long to wait before the next call (429).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := "botapi: " + e.Method + ": " + strconv.Itoa(e.Code)
	if e.Description != "" {
		s += " " + e.Description
	}
	if e.RetryAfter > 0 {
		s += " (retry after " + e.RetryAfter.String() + ")"
	}
	return s
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// response is the Bot API's answer.
type response struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// notRepeatable are the methods not tried again after a network error or
// a 5xx: the first attempt may have taken effect.
var notRepeatable = map[string]bool{"sendMessage": true, "answerCallbackQuery": true, "getUpdates": true}

// Call calls method with params (marshaled to JSON; nil for none) and
// decodes its result into result (nil to drop it), with the client's
// flood control and retries.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	return c.call(ctx, method, params, result, callTimeout)
}

func (c *Client) call(ctx context.Context, method string, params, result any, timeout time.Duration) error {
	body := []byte("{}")
	if params != nil {
		var err error
		if body, err = json.Marshal(params); err != nil {
			return fmt.Errorf("botapi: %s: encode the parameters: %w", method, err)
		}
	}
	pause := retryPause
	for attempt := 1; ; attempt++ {
		raw, err := c.once(ctx, method, body, timeout)
		if err == nil {
			if result == nil || len(raw) == 0 {
				return nil
			}
			if err := json.Unmarshal(raw, result); err != nil {
				return fmt.Errorf("botapi: %s: decode the result: %w", method, err)
			}
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			if errors.Is(err, cerr) {
				return err
			}
			return errors.Join(err, cerr)
		}
		var d time.Duration
		if e, ok := AsError(err); ok && e.Code == http.StatusTooManyRequests {
			d = max(e.RetryAfter, time.Second)
			if d > c.maxFlood {
				return err
			}
			c.log.WarnContext(ctx, "botapi: flood control: waiting before calling again", slog.String("method", method), slog.Duration("wait", d))
		} else {
			limit := callAttempts
			if unsent(err) {
				limit = unsentAttempts // safe for every method: Telegram never saw it
			} else if notRepeatable[method] {
				return err
			}
			if attempt >= limit || !transient(err) {
				return err
			}
			d = pause
			pause = min(pause*2, maxRetryPause)
			c.log.WarnContext(ctx, "botapi: call failed; trying again", slog.String("method", method), slog.Int("attempt", attempt), slog.String("error", err.Error()))
		}
		if werr := wait.Sleep(ctx, d); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

// transient reports whether err may pass if the call is made again: a
// network error or a 5xx.
func transient(err error) bool {
	if e, ok := AsError(err); ok {
		return e.Code >= 500
	}
	var p permanent
	if errors.As(err, &p) {
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// unsent reports whether err says the request never reached the server:
// the connection could not be made (refused, unreachable, the name not
// resolved).
func unsent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// permanent is a failure that making the call again does not mend (a
// malformed URL, an answer that is not the Bot API's).
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// endpoint returns the URL of a method or file.
func (c *Client) endpoint(prefix, rest string) string {
	return c.base + prefix + "bot" + c.token + "/" + rest
}

// once makes one call and returns its result.
func (c *Client) once(ctx context.Context, method string, body []byte, timeout time.Duration) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/", method), bytes.NewReader(body))
	if err != nil {
		return nil, permanent{fmt.Errorf("botapi: %s: %w", method, c.clean(err))}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("botapi: %s: %w", method, c.clean(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("botapi: %s: read the answer: %w", method, c.clean(err))
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil || (!r.OK && r.ErrorCode == 0 && resp.StatusCode < 300) {
		if resp.StatusCode >= 300 {
			return nil, &Error{Method: method, Code: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
		}
		return nil, permanent{fmt.Errorf("botapi: %s: the answer (HTTP %d) is not the Bot API's JSON: is the base URL a Bot API server?", method, resp.StatusCode)}
	}
	if !r.OK {
		e := &Error{Method: method, Code: r.ErrorCode, Description: c.redact(r.Description)}
		if e.Code == 0 {
			e.Code = resp.StatusCode
		}
		if r.Parameters != nil && r.Parameters.RetryAfter > 0 {
			e.RetryAfter = time.Duration(r.Parameters.RetryAfter) * time.Second
		}
		return nil, e
	}
	return r.Result, nil
}

// clean strips the URL (which holds the token) from net/http's errors,
// and the token from anything else.
func (c *Client) clean(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if c.token != "" && strings.Contains(err.Error(), c.token) {
		return &redacted{msg: c.redact(err.Error()), err: err}
	}
	return err
}

// redact replaces the token in s.
func (c *Client) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "<token>")
}

// redacted is an error whose text held the token: it says it without,
// and still answers errors.Is and As for what it wraps.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }

// Is and As look through to the wrapped error without exposing it to
// errors.Unwrap (whose text holds the token).
func (r *redacted) Is(target error) bool { return errors.Is(r.err, target) }
func (r *redacted) As(target any) bool   { return errors.As(r.err, target) }

// GetMe returns the bot's own user.
func (c *Client) GetMe(ctx context.Context) (User, error) {
	var u User
	err := c.Call(ctx, "getMe", nil, &u)
	return u, err
}

// SendMessage sends a text message and returns it as sent.
func (c *Client) SendMessage(ctx context.Context, p SendMessageParams) (Message, error) {
	var m Message
	err := c.Call(ctx, "sendMessage", p, &m)
	return m, err
}

// EditMessageText replaces the text (and the inline keyboard) of a
// message.
func (c *Client) EditMessageText(ctx context.Context, p EditMessageTextParams) error {
	return c.Call(ctx, "editMessageText", p, nil)
}

// AnswerCallbackQuery answers a tap on a callback button.
func (c *Client) AnswerCallbackQuery(ctx context.Context, p AnswerCallbackQueryParams) error {
	return c.Call(ctx, "answerCallbackQuery", p, nil)
}

// SetMyCommands sets the bot's command menu for a scope and language.
func (c *Client) SetMyCommands(ctx context.Context, p SetMyCommandsParams) error {
	return c.Call(ctx, "setMyCommands", p, nil)
}

// SetPassportDataErrors shows errs in the user's Telegram Passport form.
func (c *Client) SetPassportDataErrors(ctx context.Context, userID int64, errs []PassportElementError) error {
	p := struct {
		UserID int64                  `json:"user_id"`
		Errors []PassportElementError `json:"errors"`
	}{userID, errs}
	if p.Errors == nil {
		p.Errors = []PassportElementError{}
	}
	return c.Call(ctx, "setPassportDataErrors", p, nil)
}

// VerifyUser marks the user as verified by the bot's organisation, with
// description (verifyUser; "" leaves Telegram's default description).
// Telegram answers bots it has not approved as verifiers 400 or 403
// BOT_VERIFIER_FORBIDDEN.
func (c *Client) VerifyUser(ctx context.Context, userID int64, description string) error {
	return c.Call(ctx, "verifyUser", struct {
		UserID            int64  `json:"user_id"`
		CustomDescription string `json:"custom_description,omitempty"`
	}{userID, description}, nil)
}

// RemoveUserVerification takes the bot's verification off the user
// (removeUserVerification).
func (c *Client) RemoveUserVerification(ctx context.Context, userID int64) error {
	return c.Call(ctx, "removeUserVerification", struct {
		UserID int64 `json:"user_id"`
	}{userID}, nil)
}

// GetFile returns where to download a file (File.FilePath).
func (c *Client) GetFile(ctx context.Context, fileID string) (File, error) {
	var f File
	err := c.Call(ctx, "getFile", struct {
		FileID string `json:"file_id"`
	}{fileID}, &f)
	return f, err
}

// DownloadFile streams the file at filePath (from GetFile) into w, and
// returns how many bytes it wrote. It is bound by ctx only.
func (c *Client) DownloadFile(ctx context.Context, filePath string, w io.Writer) (int64, error) {
	if filePath == "" {
		return 0, errors.New("botapi: download a file: no file path (getFile gave none)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint("/file/", strings.TrimLeft(filePath, "/")), nil)
	if err != nil {
		return 0, fmt.Errorf("botapi: download a file: %w", c.clean(err))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("botapi: download a file: %w", c.clean(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, &Error{Method: "file download", Code: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("botapi: download a file: %w", c.clean(err))
	}
	return n, nil
}

// pollMargin is how much longer than its timeout a long poll may take.
const pollMargin = 15 * time.Second

// GetUpdates returns the updates after p.Offset, waiting up to p.Timeout
// seconds for one: each as its raw JSON, which Take and the host's
// handlers read.
func (c *Client) GetUpdates(ctx context.Context, p GetUpdatesParams) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := c.call(ctx, "getUpdates", p, &out, time.Duration(p.Timeout)*time.Second+pollMargin)
	return out, err
}

// SetWebhook makes Telegram push the updates to a URL.
func (c *Client) SetWebhook(ctx context.Context, p SetWebhookParams) error {
	return c.Call(ctx, "setWebhook", p, nil)
}

// DeleteWebhook stops the pushes (so that getUpdates works), dropping
// the updates not delivered yet when dropPending.
func (c *Client) DeleteWebhook(ctx context.Context, dropPending bool) error {
	return c.Call(ctx, "deleteWebhook", struct {
		DropPendingUpdates bool `json:"drop_pending_updates,omitempty"`
	}{dropPending}, nil)
}
