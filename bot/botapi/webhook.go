package botapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/kycbot/kycbot/bot"
)

// SecretHeader is the header in which Telegram sends the webhook's
// secret_token (setWebhook) with every update.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// DefaultEnqueueTimeout is how long Webhook waits for Redis to take a
// kycbot update before it answers 503 (WithEnqueueTimeout).
const DefaultEnqueueTimeout = 20 * time.Second

// maxUpdateSize bounds the body of a webhook request.
const maxUpdateSize = 8 << 20

// WebhookOption configures Webhook.
type WebhookOption func(*webhook)

// WithSecretToken makes Webhook refuse (401) a request whose
// X-Telegram-Bot-Api-Secret-Token header is not secret: give setWebhook
// the same secret_token. Without it every request is taken as Telegram's.
func WithSecretToken(secret string) WebhookOption {
	return func(w *webhook) { w.secret = []byte(secret) }
}

// WithEnqueueTimeout sets how long the webhook waits for Redis to take a
// kycbot update (default DefaultEnqueueTimeout) before it answers 503, so
// that Telegram delivers the update again later.
func WithEnqueueTimeout(d time.Duration) WebhookOption {
	return func(w *webhook) {
		if d > 0 {
			w.timeout = d
		}
	}
}

type webhook struct {
	kyc     *bot.Bot
	next    http.Handler
	secret  []byte
	timeout time.Duration
	log     *slog.Logger
}

// Webhook returns the handler of the bot's webhook (the URL given to
// setWebhook): it takes kycbot's updates (Take) and answers 200 once they
// are in kycbot's queue, or 503 when Redis did not take them in time (so
// that Telegram delivers them again); every other update goes to next,
// with the request and its body intact, and next answers Telegram. next
// may be nil: the other updates are then answered 200 and dropped.
//
// With WithSecretToken, a request without the secret is refused (401)
// and reaches neither kycbot nor next.
func Webhook(kyc *bot.Bot, next http.Handler, opts ...WebhookOption) http.Handler {
	w := &webhook{kyc: kyc, next: next, timeout: DefaultEnqueueTimeout, log: kyc.Logger()}
	for _, o := range opts {
		o(w)
	}
	return w
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if w.secret != nil && subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), w.secret) != 1 {
		w.log.WarnContext(r.Context(), "botapi: webhook request without the secret token; refused", slog.String("remote", r.RemoteAddr))
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(rw, "the webhook takes POST requests", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxUpdateSize))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(rw, "update too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(rw, "cannot read the update", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), w.timeout)
	defer cancel()
	taken, err := Take(ctx, w.kyc, body)
	if taken {
		if err != nil {
			w.log.ErrorContext(r.Context(), "botapi: webhook: kycbot's update not queued; Telegram will deliver it again", slog.String("error", err.Error()))
			http.Error(rw, "try again later", http.StatusServiceUnavailable)
			return
		}
		rw.WriteHeader(http.StatusOK)
		return
	}
	if w.next == nil {
		rw.WriteHeader(http.StatusOK)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	w.next.ServeHTTP(rw, r)
}
