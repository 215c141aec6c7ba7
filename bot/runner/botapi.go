package runner

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/bot/internal/wait"
	"github.com/kycbot/kycbot/config"
)

// The labels (HMAC messages) of what the webhook derives from the bot
// token.
const (
	hookPathInfo   = "kycbot bot api webhook path v1"
	hookSecretInfo = "kycbot bot api webhook secret v1"
)

// Pauses of the Bot API runner's retries: setWebhook and getMe at start.
const (
	startFirstPause = time.Second
	startMaxPause   = 30 * time.Second
)

// webhookSecrets derives the path (after config.WebhookPathPrefix) and
// the secret token of the webhook from the bot token: every instance of
// the bot finds the same ones, only Telegram and whoever holds the token
// know them, and a new token gives new ones. Both are URL-safe base64
// (the secret token allows A-Z a-z 0-9 _ -); they are never logged.
func webhookSecrets(token string) (pathPart, secret string) {
	mac := func(info string) string {
		m := hmac.New(sha256.New, []byte(token))
		m.Write([]byte(info))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	return mac(hookPathInfo)[:32], mac(hookSecretInfo)
}

// webhookURL returns the URL given to setWebhook: web.public_url, the
// prefix and the derived path.
func webhookURL(publicURL, pathPart string) string {
	return strings.TrimRight(publicURL, "/") + config.WebhookPathPrefix + pathPart
}

// webHandler returns the handler of web.listen: the bot's Handler and,
// on the Bot API with a webhook, the webhook on its derived path (every
// other path goes to the bot's Handler).
func (r *Runner) webHandler(cfg *config.Config, token string) http.Handler {
	h := r.kyc.Handler()
	if !cfg.Telegram.OnBotAPI() || cfg.Telegram.BotAPI.Receive != config.ReceiveWebhook {
		return h
	}
	pathPart, secret := webhookSecrets(token)
	hookPath := config.WebhookPathPrefix + pathPart
	hook := botapi.Webhook(r.kyc, nil, botapi.WithSecretToken(secret))
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if path.Clean(req.URL.Path) == hookPath {
			hook.ServeHTTP(rw, req)
			return
		}
		h.ServeHTTP(rw, req)
	})
}

// describeTransport is the log attributes of how the instance talks to
// Telegram (no secret).
func describeTransport(cfg *config.Config) []any {
	t := cfg.Telegram
	if !t.OnBotAPI() {
		return []any{slog.String("transport", config.TransportMTProto)}
	}
	return []any{slog.String("transport", config.TransportBotAPI), slog.String("receive", t.BotAPI.Receive),
		slog.String("bot_api_url", t.BotAPIURL)}
}

// runBotAPI is Run on the Bot API (telegram.transport botapi): no MTProto
// client and no authorization of its own, the bot token is all. The
// workers run on the Bot API transport; the updates come by long polling
// (the holder of the receiver's lease runs botapi.Poll) or by the
// webhook every instance serves on web.listen (set with setWebhook when
// the instance starts).
func (r *Runner) runBotAPI(ctx context.Context, cfg *config.Config, token string, botID int64,
	srv *http.Server, ln net.Listener, opsAddr net.Addr) error {
	release, err := r.kyc.HoldInstance(ctx, botID)
	if err != nil {
		return err
	}
	defer release()
	hc := &http.Client{}
	if r.o.RateLimit > 0 {
		hc.Transport = &limitedTransport{next: http.DefaultTransport, limit: newPriorityLimit(rate.Limit(r.o.RateLimit), max(r.o.RateBurst, 1))}
	}
	client := botapi.NewClient(token, botapi.WithBaseURL(cfg.Telegram.BotAPIURL), botapi.WithHTTPClient(hc),
		botapi.WithLogger(r.log), botapi.WithMaxFloodWait(MaxFloodWait))
	t := botapi.NewTransport(r.kyc, client)
	var self bot.Self
	if err := retryStart(ctx, r.log, "getMe", func() error {
		var err error
		self, err = t.Self(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("runner: who am I (getMe; check telegram.bot_token and bot_api_url): %w", err)
	}
	if self.ID == 0 {
		return nil // ctx ended
	}

	// workCtx ends with ctx, or when the webhook cannot be set.
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	working := make(chan error, 1)
	go func() { working <- r.kyc.Run(workCtx, t) }()
	if stopped, err := r.serveWhenReady(ctx, ctx, working, srv, ln, opsAddr, self); stopped {
		if err != nil {
			return fmt.Errorf("runner: %w", err)
		}
		return r.drain(srv, working)
	}

	if cfg.Telegram.BotAPI.Receive == config.ReceiveWebhook {
		if err := r.hook(ctx, client, cfg.Web.PublicURL, token); err != nil {
			stopWork()
			return errors.Join(fmt.Errorf("runner: %w", err), r.drain(srv, working))
		}
	} else {
		r.receive(ctx, self, func(ctx context.Context, started func(context.Context)) error {
			started(ctx)
			return botapi.Poll(ctx, r.kyc, client, nil, botapi.WithDeleteWebhook(false),
				botapi.WithAllowedUpdates("message", "callback_query"))
		})
	}
	return r.drain(srv, working)
}

// drain stops the web server and waits for the workers (bot.Run ends the
// work in progress within the shutdown timeout once ctx ended).
func (r *Runner) drain(srv *http.Server, working <-chan error) error {
	r.log.Info("runner: stopping: finishing the work in progress")
	sctx, cancel := context.WithTimeout(context.Background(), r.kyc.ShutdownTimeout())
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		r.log.Warn("runner: web server shutdown", slog.String("error", err.Error()))
	}
	cancel()
	if err := <-working; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("runner: work the queue: %w", err)
	}
	r.log.Info("runner: stopped")
	return nil
}

// hook sets the webhook (idempotent: every instance sets the same URL and
// secret token when it starts; pending updates are kept), registers the
// commands, and serves until ctx ends. The webhook is not deleted on
// stop: the other instances, or this one started again, go on receiving.
// A webhook Telegram refuses (a bad URL) is an error: nothing would
// receive the updates.
func (r *Runner) hook(ctx context.Context, c *botapi.Client, publicURL, token string) error {
	pathPart, secret := webhookSecrets(token)
	p := botapi.SetWebhookParams{URL: webhookURL(publicURL, pathPart), SecretToken: secret,
		AllowedUpdates: []string{"message", "callback_query"}}
	if err := retryStart(ctx, r.log, "setWebhook", func() error { return c.SetWebhook(ctx, p) }); err != nil {
		return fmt.Errorf("the Bot API refuses the webhook at <web.public_url>%s... (%w): Telegram posts to https URLs on port 443, 80, 88 or 8443 only; fix web.public_url, or set telegram.bot_api.receive to polling",
			config.WebhookPathPrefix, err)
	}
	if ctx.Err() != nil {
		return nil
	}
	r.log.InfoContext(ctx, "runner: webhook set: receiving Telegram's updates on web.listen, as every instance does",
		slog.String("instance", r.kyc.Instance()))
	r.receiving.Store(true)
	r.kyc.Metrics().Receiving(true)
	defer func() {
		r.receiving.Store(false)
		r.kyc.Metrics().Receiving(false)
	}()
	if err := r.kyc.SetCommands(ctx); err != nil {
		r.log.WarnContext(ctx, "runner: cannot register the commands with Telegram", slog.String("error", err.Error()))
	}
	if r.o.OnReceiving != nil {
		r.o.OnReceiving()
	}
	<-ctx.Done()
	return nil
}

// retryStart calls f until it succeeds, ctx ends (nil) or Telegram
// refuses it for good (a 4xx other than 429: the error), pausing between
// the failures that may pass (network errors, 5xx).
func retryStart(ctx context.Context, log *slog.Logger, what string, f func() error) error {
	pause := startFirstPause
	for {
		err := f()
		if err == nil || ctx.Err() != nil {
			return nil
		}
		if e, ok := botapi.AsError(err); ok && e.Code >= 400 && e.Code < 500 && e.Code != http.StatusTooManyRequests {
			return err
		}
		log.WarnContext(ctx, "runner: "+what+" failed; trying again", slog.Duration("pause", pause), slog.String("error", err.Error()))
		if wait.Sleep(ctx, pause) != nil {
			return nil
		}
		pause = min(pause*2, startMaxPause)
	}
}

// limitedTransport applies the rate limit (a priorityLimit) to the Bot
// API methods that act on chats and users, as sendLimit does on MTProto;
// getUpdates, getFile, downloads and the rest go through unlimited.
type limitedTransport struct {
	next  http.RoundTripper
	limit *priorityLimit
}

// limitedMethods are the Bot API methods under the rate limit (lower
// case).
var limitedMethods = map[string]bool{"sendmessage": true, "editmessagetext": true, "answercallbackquery": true,
	"setpassportdataerrors": true, "setmycommands": true}

// RoundTrip implements http.RoundTripper.
func (l *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if limitedMethods[strings.ToLower(path.Base(req.URL.Path))] && !strings.Contains(req.URL.Path, "/file/bot") {
		if err := l.limit.wait(req.Context()); err != nil {
			return nil, err
		}
	}
	return l.next.RoundTrip(req)
}
