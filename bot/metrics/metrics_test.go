package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kycbot/kycbot/handlers"
)

// The compile-time check that Metrics is a handlers.Observer.
var _ handlers.Observer = (*Metrics)(nil)

func newMetrics(t *testing.T, opts ...Option) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

func TestObserver(t *testing.T) {
	m, _ := newMetrics(t)
	m.Submission(handlers.SubmissionVerified, "", "basic")
	m.Submission(handlers.SubmissionVerified, "", "basic")
	m.Submission(handlers.SubmissionRefused, handlers.ReasonUsed, "")
	m.Submission(handlers.SubmissionNeedsFixes, "", "full")
	m.Problems([]string{"expired", "image_too_small"})
	m.Problems([]string{"expired"})
	m.Verdict(1500 * time.Millisecond)
	m.Verdict(40 * time.Second)
	m.Command("start")
	m.Command("start")
	m.Command(handlers.CommandUnknown)
	m.Delivery("delivered")
	m.Delivery("retried")
	m.Delivery("retried")
	m.InFlight(1)
	m.InFlight(1)
	m.InFlight(-1)

	for _, tc := range []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"verified basic", m.submissions.WithLabelValues("verified", "", "basic"), 2},
		{"refused used", m.submissions.WithLabelValues("refused", "used", ""), 1},
		{"needs fixes full", m.submissions.WithLabelValues("needs_fixes", "", "full"), 1},
		{"rejected", m.submissions.WithLabelValues("rejected", "", "basic"), 0},
		{"problem expired", m.problems.WithLabelValues("expired"), 2},
		{"problem image_too_small", m.problems.WithLabelValues("image_too_small"), 1},
		{"command start", m.commands.WithLabelValues("start"), 2},
		{"command unknown", m.commands.WithLabelValues("unknown"), 1},
		{"delivered", m.deliveries.WithLabelValues("delivered"), 1},
		{"retried", m.deliveries.WithLabelValues("retried"), 2},
		{"parked", m.deliveries.WithLabelValues("parked"), 0},
		{"in flight", m.inFlight, 1},
	} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(m.verdict); n != 1 {
		t.Errorf("verdict histogram has %d series", n)
	}
	want := `
# HELP kycbot_verdict_seconds Time from a submission reaching the passport handler to its verdict (verified, needs fixes, rejected) being sent.
# TYPE kycbot_verdict_seconds histogram
kycbot_verdict_seconds_bucket{le="0.25"} 0
kycbot_verdict_seconds_bucket{le="0.5"} 0
kycbot_verdict_seconds_bucket{le="1"} 0
kycbot_verdict_seconds_bucket{le="2"} 1
kycbot_verdict_seconds_bucket{le="5"} 1
kycbot_verdict_seconds_bucket{le="10"} 1
kycbot_verdict_seconds_bucket{le="20"} 1
kycbot_verdict_seconds_bucket{le="30"} 1
kycbot_verdict_seconds_bucket{le="60"} 2
kycbot_verdict_seconds_bucket{le="120"} 2
kycbot_verdict_seconds_bucket{le="300"} 2
kycbot_verdict_seconds_bucket{le="+Inf"} 2
kycbot_verdict_seconds_sum 41.5
kycbot_verdict_seconds_count 2
`
	if err := testutil.CollectAndCompare(m.verdict, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// A nil *Metrics is a valid no-op.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Submission("verified", "", "basic")
	m.Problems([]string{"expired"})
	m.Verdict(time.Second)
	m.Command("start")
	m.Delivery("delivered")
	m.InFlight(1)
	inv := m.Middleware().Handle(invoker(func() error { return tgerr.New(400, "PEER_ID_INVALID") }))
	if err := inv.Invoke(context.Background(), &tg.MessagesSendMessageRequest{}, nil); err == nil {
		t.Error("the middleware swallowed the error")
	}
}

func TestNew(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	reg := prometheus.NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
	// Each bot has a registry of its own: two bots never collide.
	if _, err := New(prometheus.NewRegistry()); err != nil {
		t.Error(err)
	}
}

// invoker is a fake tg.Invoker answering with the error of f.
type invoker func() error

func (f invoker) Invoke(context.Context, bin.Encoder, bin.Decoder) error { return f() }

func TestMiddleware(t *testing.T) {
	m, _ := newMetrics(t)
	for _, tc := range []struct {
		name  string
		input bin.Encoder
		err   error
	}{
		{"ok", &tg.MessagesSendMessageRequest{}, nil},
		{"flood wait", &tg.MessagesSendMessageRequest{}, tgerr.New(420, "FLOOD_WAIT_30")},
		{"flood wait again", &tg.MessagesSendMessageRequest{}, fmt.Errorf("rpc: %w", tgerr.New(420, "FLOOD_WAIT_5"))},
		{"peer invalid", &tg.UploadGetFileRequest{}, tgerr.New(400, "PEER_ID_INVALID")},
		{"timeout", &tg.UploadGetFileRequest{}, context.DeadlineExceeded},
		{"network", &tg.UploadGetFileRequest{}, errors.New("connection reset by peer")},
		{"cancelled: not counted", &tg.UploadGetFileRequest{}, context.Canceled},
		{"no type name", plainEncoder{}, tgerr.New(500, "INTERNAL")},
	} {
		mw := m.Middleware().Handle(invoker(func() error { return tc.err }))
		if err := mw.Invoke(context.Background(), tc.input, nil); !errors.Is(err, tc.err) {
			t.Errorf("%s: the middleware returned %v, want %v", tc.name, err, tc.err)
		}
	}
	for _, tc := range []struct {
		method, code, typ string
		want              float64
	}{
		{"messages.sendMessage", "420", "FLOOD_WAIT", 2},
		{"upload.getFile", "400", "PEER_ID_INVALID", 1},
		{"upload.getFile", "0", "TIMEOUT", 1},
		{"upload.getFile", "0", "TRANSPORT", 1},
		{"unknown", "500", "INTERNAL", 1},
	} {
		if got := testutil.ToFloat64(m.rpcErrors.WithLabelValues(tc.method, tc.code, tc.typ)); got != tc.want {
			t.Errorf("rpc errors{%s,%s,%s} = %v, want %v", tc.method, tc.code, tc.typ, got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(m.rpcErrors); n != 5 {
		t.Errorf("%d rpc error series, want 5", n)
	}
}

type plainEncoder struct{}

func (plainEncoder) Encode(*bin.Buffer) error { return nil }

func TestBoundedName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"messages.sendMessage", "messages.sendMessage"},
		{"FLOOD_WAIT", "FLOOD_WAIT"},
		{"", "x"},
		{"has space", "x"},
		{strings.Repeat("a", 65), "x"},
		{"José", "x"},
	} {
		if got := boundedName(tc.in, "x"); got != tc.want {
			t.Errorf("boundedName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestOutboxAndHandler(t *testing.T) {
	var fail error
	depth := func(ctx context.Context) (int64, int64, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the outbox depth is read without a deadline")
		}
		return 3, 1, fail
	}
	m, reg := newMetrics(t, WithOutboxDepth(depth), WithScrapeTimeout(time.Second))
	m.Submission("verified", "", "basic")
	m.Problems([]string{"expired"})
	m.Command("help")
	m.rpcError(&tg.MessagesSendMessageRequest{}, tgerr.New(420, "FLOOD_WAIT_1"))
	var logs bytes.Buffer
	h := Handler(reg, slog.New(slog.NewTextHandler(&logs, nil)))

	out := scrape(t, h)
	for _, want := range []string{
		`kycbot_submissions_total{level="basic",outcome="verified",reason=""} 1`,
		`kycbot_problems_total{code="expired"} 1`,
		`kycbot_verdict_seconds_count 0`,
		`kycbot_deliveries_total{result="parked"} 0`,
		`kycbot_outbox_entries{state="pending"} 3`,
		`kycbot_outbox_entries{state="parked"} 1`,
		`kycbot_telegram_rpc_errors_total{code="420",method="messages.sendMessage",type="FLOOD_WAIT"} 1`,
		`kycbot_updates_in_flight 0`,
		`kycbot_commands_total{command="help"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the scrape lacks %s:\n%s", want, out)
		}
	}

	// Redis down: the outbox series is left out, the others are served.
	fail = errors.New("redis: connection refused")
	out = scrape(t, h)
	if strings.Contains(out, "kycbot_outbox_entries{") || !strings.Contains(out, "kycbot_commands_total") {
		t.Errorf("scrape with the outbox unreadable:\n%s", out)
	}
	if !strings.Contains(logs.String(), "outbox depth") || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("the failure is not logged: %q", logs.String())
	}
}

func TestRegisterRuntime(t *testing.T) {
	reg := prometheus.NewRegistry()
	for range 2 {
		if err := RegisterRuntime(reg); err != nil {
			t.Fatal(err)
		}
	}
	out := scrape(t, Handler(reg, nil))
	if !strings.Contains(out, "go_goroutines") {
		t.Errorf("no Go runtime series:\n%.500s", out)
	}
}
