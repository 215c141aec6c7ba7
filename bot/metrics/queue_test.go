package metrics

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The queue's depth is read at scrape time, like the outbox's, and the
// receiver gauge says whether this instance receives Telegram's updates.
func TestQueueAndReceiving(t *testing.T) {
	var fail error
	queue := func(ctx context.Context) (int64, int64, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the queue depth is read without a deadline")
		}
		return 5, 2, fail
	}
	m, reg := newMetrics(t, WithQueueDepth(queue), WithScrapeTimeout(time.Second))
	var logs bytes.Buffer
	h := Handler(reg, slog.New(slog.NewTextHandler(&logs, nil)))
	for _, step := range []struct {
		receiving bool
		want      []string
	}{
		{false, []string{`kycbot_queue_entries{state="waiting"} 5`, `kycbot_queue_entries{state="handled"} 2`, "kycbot_receiving 0"}},
		{true, []string{"kycbot_receiving 1"}},
		{false, []string{"kycbot_receiving 0"}},
	} {
		m.Receiving(step.receiving)
		out := scrape(t, h)
		for _, want := range step.want {
			if !strings.Contains(out, want) {
				t.Errorf("receiving %v: the scrape lacks %s:\n%s", step.receiving, want, out)
			}
		}
	}
	fail = errors.New("redis: connection refused")
	out := scrape(t, h)
	if strings.Contains(out, "kycbot_queue_entries{") || !strings.Contains(out, "kycbot_receiving") {
		t.Errorf("scrape with the queue unreadable:\n%s", out)
	}
	if !strings.Contains(logs.String(), "queue depth") {
		t.Errorf("the failure is not logged: %q", logs.String())
	}
	var none *Metrics
	none.Receiving(true) // a nil *Metrics does nothing
}
