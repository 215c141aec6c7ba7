package botapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/gotd/log"
)

// getUpdates answers getUpdates: offset confirms the updates before it
// (a negative offset keeps the last -offset), limit (1-100, default 100)
// bounds the answer, timeout (seconds) makes it wait for one. A new call
// ends the one waiting with 409, as on Telegram.
func (b *botClient) getUpdates(ctx context.Context, offset int64, limit, timeout int) ([]byte, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	if timeout < 0 {
		timeout = 0
	}
	if t := int(b.srv.opts.maxTimeout / time.Second); timeout > t {
		timeout = t
	}
	b.mu.Lock()
	if b.hook != nil {
		b.mu.Unlock()
		return nil, errConflictWebhook
	}
	b.confirmLocked(offset)
	// Whatever this call does, one that waits is over.
	b.stopPollLocked(errConflictPoll)
	if len(b.queue) > 0 || timeout == 0 {
		out := b.batchLocked(limit)
		b.mu.Unlock()
		return out, nil
	}
	p := &poller{stop: make(chan *apiError, 1)}
	b.poll = p
	b.mu.Unlock()

	t := time.NewTimer(time.Duration(timeout) * time.Second)
	defer t.Stop()
	for {
		b.mu.Lock()
		if len(b.queue) > 0 || b.poll != p {
			break
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case e := <-p.stop:
			return nil, e
		case <-t.C:
			b.mu.Lock()
			if b.poll == p {
				b.poll = nil
			}
			out := b.batchLocked(limit)
			b.mu.Unlock()
			return out, nil
		case <-ctx.Done():
			b.mu.Lock()
			if b.poll == p {
				b.poll = nil
			}
			b.mu.Unlock()
			return nil, errInternal
		}
	}
	// b.mu held.
	if b.poll != p {
		b.mu.Unlock()
		select {
		case e := <-p.stop:
			return nil, e
		default:
			return nil, errConflictPoll
		}
	}
	b.poll = nil
	out := b.batchLocked(limit)
	b.mu.Unlock()
	return out, nil
}

// confirmLocked forgets the updates offset confirms.
func (b *botClient) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		i := 0
		for i < len(b.queue) && int64(b.queue[i].id) < offset {
			i++
		}
		b.queue = b.queue[i:]
	case offset < 0:
		if keep := -offset; keep < int64(len(b.queue)) {
			b.queue = b.queue[int64(len(b.queue))-keep:]
		}
	}
}

// batchLocked returns the first limit updates as a JSON array.
func (b *botClient) batchLocked(limit int) []byte {
	n := min(limit, len(b.queue))
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b.queue[i].body)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// webhook is where updates are delivered to, one at a time in order.
type webhook struct {
	url      string
	secret   string
	maxConns int
	cancel   context.CancelFunc

	// Guarded by the bot's mu.
	lastErrDate int64
	lastErrMsg  string
}

// secretRE is what Telegram allows in a secret_token.
var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// setWebhook sets (or with an empty URL removes) the webhook.
func (b *botClient) setWebhook(rawURL, secret string, maxConns int, drop bool) (any, error) {
	if rawURL == "" {
		return b.deleteWebhook(drop), nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, badRequest("bad webhook: an HTTP(S) URL must be provided for webhook")
	}
	if secret != "" && !secretRE.MatchString(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	if maxConns == 0 {
		maxConns = 40
	}
	if maxConns < 1 || maxConns > 100 {
		return nil, badRequest("bad webhook: max_connections must be between 1 and 100")
	}
	ctx, cancel := context.WithCancel(b.srv.ctx)
	h := &webhook{url: rawURL, secret: secret, maxConns: maxConns, cancel: cancel}
	b.mu.Lock()
	if old := b.hook; old != nil {
		old.cancel()
	}
	if drop {
		b.queue = nil
	}
	b.hook = h
	b.stopPollLocked(&apiError{code: http.StatusConflict, description: "Conflict: terminated by setWebhook request"})
	b.wakeLocked()
	b.mu.Unlock()
	if !b.srv.spawn(func() { b.deliver(ctx, h) }) {
		cancel()
		return nil, errInternal
	}
	return described{result: true, description: "Webhook was set"}, nil
}

// deleteWebhook removes the webhook; drop forgets the pending updates.
func (b *botClient) deleteWebhook(drop bool) described {
	b.mu.Lock()
	defer b.mu.Unlock()
	if drop {
		b.queue = nil
	}
	if b.hook == nil {
		return described{result: true, description: "Webhook is already deleted"}
	}
	b.hook.cancel()
	b.hook = nil
	b.wakeLocked()
	return described{result: true, description: "Webhook was deleted"}
}

func (b *botClient) webhookInfo() apiWebhookInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	info := apiWebhookInfo{PendingUpdateCount: len(b.queue)}
	if h := b.hook; h != nil {
		info.URL, info.MaxConnections = h.url, h.maxConns
		info.LastErrorDate, info.LastErrorMessage = h.lastErrDate, h.lastErrMsg
	}
	return info
}

// deliver posts the queue's updates to the webhook in order, retrying one
// that fails (an answer other than 2xx) with a growing delay, until the
// webhook is removed or replaced.
func (b *botClient) deliver(ctx context.Context, h *webhook) {
	delay := b.srv.opts.retryMin
	for {
		b.mu.Lock()
		if b.hook != h {
			b.mu.Unlock()
			return
		}
		if len(b.queue) == 0 {
			wake := b.wake
			b.mu.Unlock()
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		next := b.queue[0]
		b.mu.Unlock()

		failure := b.post(ctx, h, next.body)
		if ctx.Err() != nil {
			return
		}
		b.mu.Lock()
		if failure == "" {
			if len(b.queue) > 0 && b.queue[0].id == next.id {
				b.queue = b.queue[1:]
			}
			b.mu.Unlock()
			delay = b.srv.opts.retryMin
			continue
		}
		h.lastErrDate, h.lastErrMsg = time.Now().Unix(), failure
		b.mu.Unlock()
		b.log.Debug(ctx, "webhook delivery failed", log.Int("update_id", next.id), log.String("error", failure))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		delay = min(2*delay, b.srv.opts.retryMax)
	}
}

// post sends one update to the webhook. It returns why it failed, worded
// as getWebhookInfo's last_error_message, or "".
func (b *botClient) post(ctx context.Context, h *webhook, body []byte) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return "Bad webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	if h.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", h.secret)
	}
	resp, err := b.srv.opts.webhook.Do(req)
	if err != nil {
		return "Connection failed: " + stripURL(err).Error()
	}
	// The answer may carry a method call; the sandbox does not run it.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Sprintf("Wrong response from the webhook: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return ""
}
