package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
)

// Every record of one update's processing carries its update_id and the
// kind of handler; other records and other updates do not share it.
func TestWorkersUpdateID(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	var inFlight []int
	w := newWorkers(2, log, func(d int) { inFlight = append(inFlight, d) })
	w.rand = bytes.NewReader([]byte{1, 2, 3, 4, 5, 6, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf})
	ctx := context.Background()
	for _, tc := range []struct {
		what string
		err  error
	}{
		{"command", nil},
		{"passport", errors.New("store down")},
	} {
		if err := w.do(ctx, tc.what, func(ctx context.Context) error {
			handlers.LoggerFromContext(ctx, nil).InfoContext(ctx, "handling")
			return tc.err
		}); err != nil {
			t.Fatal(err)
		}
		if err := w.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`level=INFO msg=handling update_id=010203040506 handler=command`,
		`level=INFO msg=handling update_id=0a0b0c0d0e0f handler=passport`,
		`level=ERROR msg="bot: update handler failed" update_id=0a0b0c0d0e0f handler=passport error="store down"`,
	}
	for _, line := range want {
		if !strings.Contains(out.String(), line) {
			t.Errorf("the logs lack %s:\n%s", line, out.String())
		}
	}
	if len(inFlight) != 4 || inFlight[0] != 1 || inFlight[1] != -1 {
		t.Errorf("in flight changes %v, want +1 -1 per update", inFlight)
	}
	if id := (&workers{rand: strings.NewReader("")}).newID(); id != "000000000000" {
		t.Errorf("ID without randomness %q", id)
	}
}

// updateIDRE finds the update IDs of log records.
var updateIDRE = regexp.MustCompile(`update_id=([0-9a-f]{12})\b`)

// The records of the handlers carry the update's ID, never the text of a
// message; commands and updates in flight are counted.
func TestUpdateLogsAndMetrics(t *testing.T) {
	tb := newTestBot(t, "", "")
	personal := []string{"Zephyrine", "Quillbottom", "17.09.1987", "DL7782311XQ"}
	tb.say(t, 1001, "/start")
	tb.say(t, 1001, "my name is Zephyrine Quillbottom, born 17.09.1987, licence DL7782311XQ")
	tb.say(t, 1001, "/Zephyrine")
	tb.say(t, 1002, "/kyc_stats")

	logs := tb.logs.String()
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.Contains(line, "commands:") {
			continue
		}
		m := updateIDRE.FindStringSubmatch(line)
		if m == nil || !strings.Contains(line, "handler=command") {
			t.Errorf("a record without update_id or handler: %s", line)
			continue
		}
		ids[m[1]] = true
	}
	if len(ids) != 4 {
		t.Errorf("%d distinct update IDs, want 4:\n%s", len(ids), logs)
	}
	for _, p := range personal {
		if strings.Contains(logs, p) {
			t.Errorf("the logs hold %q:\n%s", p, logs)
		}
	}

	// An update in flight.
	gate, sending := make(chan struct{}), make(chan struct{}, 1)
	tb.tg.mu.Lock()
	tb.tg.gate, tb.tg.sending = gate, sending
	tb.tg.mu.Unlock()
	tb.dispatch(t, 1003, "/help")
	select {
	case <-sending:
	case <-time.After(10 * time.Second):
		t.Fatal("the update did not reach Telegram")
	}
	if out := tb.scrape(t); !strings.Contains(out, "kycbot_updates_in_flight 1\n") {
		t.Errorf("in flight while handling:\n%s", out)
	}
	close(gate)
	if err := tb.work.wait(context.Background()); err != nil {
		t.Fatal(err)
	}

	out := tb.scrape(t)
	for _, want := range []string{
		`kycbot_commands_total{command="start"} 1`,
		`kycbot_commands_total{command="text"} 1`,
		`kycbot_commands_total{command="unknown"} 1`,
		`kycbot_commands_total{command="kyc_stats"} 1`,
		`kycbot_commands_total{command="help"} 1`,
		"kycbot_updates_in_flight 0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, out)
		}
	}
	for _, p := range personal {
		if strings.Contains(out, p) {
			t.Errorf("/metrics holds %q", p)
		}
	}
}

// retry retries what can be retried (handlers.ErrRetryLater) within its
// window, and nothing else.
func TestRetry(t *testing.T) {
	later := fmt.Errorf("%w: store down", handlers.ErrRetryLater)
	final := errors.New("download failed; the user was told")
	tests := []struct {
		name    string
		results []error // of the calls in turn; the last one repeats
		calls   int
		want    error // nil, or what the error wraps
	}{
		{"at once", []error{nil}, 1, nil},
		{"after two failures", []error{later, later, nil}, 3, nil},
		{"final", []error{final}, 1, final},
		{"final after a retry", []error{later, final}, 2, final},
		{"given up", []error{later}, -1, handlers.ErrRetryLater},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retry(context.Background(), slog.New(slog.DiscardHandler), 50*time.Millisecond, time.Millisecond, func(context.Context) error {
				calls++
				return tt.results[min(calls, len(tt.results))-1]
			})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("retry = %v, want %v", err, tt.want)
			}
			if tt.calls >= 0 && calls != tt.calls {
				t.Errorf("%d calls, want %d", calls, tt.calls)
			}
			if tt.calls < 0 && calls < 2 {
				t.Errorf("given up after %d calls", calls)
			}
		})
	}
}
