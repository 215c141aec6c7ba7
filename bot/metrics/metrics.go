package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace starts the name of every series.
const Namespace = "kycbot"

// DefaultScrapeTimeout bounds how long a scrape waits for the outbox
// depth (WithOutboxDepth).
const DefaultScrapeTimeout = 2 * time.Second

// verdictBuckets are the buckets of kycbot_verdict_seconds, in seconds:
// from a quick check to a slow download of several scans.
var verdictBuckets = []float64{0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300}

// Delivery results, the values of the result label of
// kycbot_deliveries_total (delivery.Result*).
var deliveryResults = []string{"delivered", "retried", "parked"}

// OutboxDepth reports how many entries wait in the outbox and how many are
// parked (store.Outbox.Depth).
type OutboxDepth func(ctx context.Context) (pending, parked int64, err error)

// QueueDepth reports how many updates wait in the queue and how many are
// being handled (from store.Queue.Depth).
type QueueDepth func(ctx context.Context) (waiting, handled int64, err error)

// Option configures New.
type Option func(*options)

type options struct {
	depth   OutboxDepth
	queue   QueueDepth
	timeout time.Duration
}

// WithOutboxDepth adds kycbot_outbox_entries{state="pending"|"parked"},
// read with fn at every scrape (at most WithScrapeTimeout). Give it only
// when there is an outbox (a webhook is configured).
func WithOutboxDepth(fn OutboxDepth) Option { return func(o *options) { o.depth = fn } }

// WithQueueDepth adds kycbot_queue_entries{state="waiting"|"handled"},
// read with fn at every scrape (at most WithScrapeTimeout).
func WithQueueDepth(fn QueueDepth) Option { return func(o *options) { o.queue = fn } }

// WithScrapeTimeout sets how long a scrape waits for the outbox depth
// (default DefaultScrapeTimeout).
func WithScrapeTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Metrics holds the collectors of one bot. Its methods are safe for
// concurrent use, and do nothing on a nil *Metrics.
type Metrics struct {
	submissions *prometheus.CounterVec
	problems    *prometheus.CounterVec
	verdict     prometheus.Histogram
	deliveries  *prometheus.CounterVec
	rpcErrors   *prometheus.CounterVec
	inFlight    prometheus.Gauge
	commands    *prometheus.CounterVec
	receiving   prometheus.Gauge
}

// New creates the collectors and registers them on reg (a registry of the
// bot's own: prometheus.NewRegistry()). It fails when reg already holds
// series of the same names.
func New(reg prometheus.Registerer, opts ...Option) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("metrics: a registry is required (prometheus.NewRegistry())")
	}
	o := options{timeout: DefaultScrapeTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.timeout <= 0 {
		o.timeout = DefaultScrapeTimeout
	}
	m := &Metrics{
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "submissions_total",
			Help: "Telegram Passport submissions processed, by outcome (verified, needs_fixes, rejected, refused, undecryptable, failed), reason (refused: used, other_user, unknown, expired, superseded, cancelled; undecryptable and failed: a code) and level.",
		}, []string{"outcome", "reason", "level"}),
		problems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "problems_total",
			Help: "Problems found in checked submissions, by problem code (each code once per submission).",
		}, []string{"code"}),
		verdict: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "verdict_seconds",
			Help:    "Time from a submission reaching the passport handler to its verdict (verified, needs fixes, rejected) being sent.",
			Buckets: verdictBuckets,
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "deliveries_total",
			Help: "Webhook delivery attempts, by result (delivered, retried, parked).",
		}, []string{"result"}),
		rpcErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "telegram_rpc_errors_total",
			Help: "Telegram calls that failed, by method (TL name), code (Telegram's error code, 0 without a Telegram error) and type (such as FLOOD_WAIT; TIMEOUT or TRANSPORT without a Telegram error).",
		}, []string{"method", "code", "type"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "updates_in_flight",
			Help: "Update handlers running now (submissions, commands, button taps).",
		}),
		receiving: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "receiving",
			Help: "1 while this instance receives Telegram's updates for every instance (it holds the receiver's lease), 0 otherwise.",
		}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "commands_total",
			Help: "Messages and button taps the conversation answered, by command (unknown for unknown commands, text for other text, callback_* for taps).",
		}, []string{"command"}),
	}
	for _, r := range deliveryResults {
		m.deliveries.WithLabelValues(r)
	}
	cs := []prometheus.Collector{m.submissions, m.problems, m.verdict, m.deliveries, m.rpcErrors, m.inFlight, m.commands, m.receiving}
	if o.depth != nil {
		cs = append(cs, &depthCollector{what: "outbox depth", depth: o.depth, states: [2]string{"pending", "parked"}, timeout: o.timeout,
			desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "outbox", "entries"),
				"Entries of the webhook outbox, by state (pending: waiting or being delivered; parked: given up on), read at scrape time.",
				[]string{"state"}, nil)})
	}
	if o.queue != nil {
		cs = append(cs, &depthCollector{what: "queue depth", depth: o.queue, states: [2]string{"waiting", "handled"}, timeout: o.timeout,
			desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "queue", "entries"),
				"Updates in the queue shared by the instances, by state (waiting: not yet taken; handled: taken by an instance, not yet done), read at scrape time.",
				[]string{"state"}, nil)})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Receiving sets whether this instance receives Telegram's updates.
func (m *Metrics) Receiving(on bool) {
	if m == nil {
		return
	}
	v := 0.0
	if on {
		v = 1
	}
	m.receiving.Set(v)
}

// Submission counts a processed submission (handlers.Observer).
func (m *Metrics) Submission(outcome, reason, level string) {
	if m == nil {
		return
	}
	m.submissions.WithLabelValues(outcome, reason, level).Inc()
}

// Problems counts the problem codes of a checked submission
// (handlers.Observer).
func (m *Metrics) Problems(codes []string) {
	if m == nil {
		return
	}
	for _, c := range codes {
		m.problems.WithLabelValues(c).Inc()
	}
}

// Verdict observes the time to a verdict (handlers.Observer).
func (m *Metrics) Verdict(d time.Duration) {
	if m == nil {
		return
	}
	m.verdict.Observe(d.Seconds())
}

// Command counts a command of the conversation (handlers.Observer).
func (m *Metrics) Command(name string) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(name).Inc()
}

// Delivery counts the result of a webhook delivery attempt
// (delivery.Options.OnResult).
func (m *Metrics) Delivery(result string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(result).Inc()
}

// InFlight adds delta (+1 when an update handler starts, -1 when it
// ends) to kycbot_updates_in_flight.
func (m *Metrics) InFlight(delta int) {
	if m == nil {
		return
	}
	m.inFlight.Add(float64(delta))
}

// Middleware returns the gotd middleware that counts the failed Telegram
// calls in kycbot_telegram_rpc_errors_total. Calls cancelled by their
// context are not counted. Install it after the flood-wait middleware
// (closer to the network) to count every FLOOD_WAIT Telegram answered,
// including those waited out.
func (m *Metrics) Middleware() telegram.Middleware {
	return telegram.MiddlewareFunc(func(next tg.Invoker) telegram.InvokeFunc {
		return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
			err := next.Invoke(ctx, input, output)
			if err != nil && m != nil {
				m.rpcError(input, err)
			}
			return err
		}
	})
}

// rpcError counts a failed call.
func (m *Metrics) rpcError(input bin.Encoder, err error) {
	code, typ := "0", "TRANSPORT"
	if rpc, ok := tgerr.As(err); ok {
		code, typ = strconv.Itoa(rpc.Code), boundedName(rpc.Type, "UNKNOWN")
	} else if errors.Is(err, context.Canceled) {
		return
	} else if errors.Is(err, context.DeadlineExceeded) {
		typ = "TIMEOUT"
	}
	m.rpcErrors.WithLabelValues(MethodName(input), code, typ).Inc()
}

// MethodName names a Telegram request by its TL name, such as
// "messages.sendMessage" (the TypeName of gotd's request types), or
// "unknown".
func MethodName(input bin.Encoder) string {
	if n, ok := input.(interface{ TypeName() string }); ok {
		return boundedName(n.TypeName(), "unknown")
	}
	return "unknown"
}

// boundedName returns s when it looks like a TL or error type name (at
// most 64 characters of A-Z a-z 0-9 . _), else fallback.
func boundedName(s, fallback string) string {
	if s == "" || len(s) > 64 {
		return fallback
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_') {
			return fallback
		}
	}
	return s
}

// depthCollector reads two counts of a Redis structure (the outbox, the
// queue) at scrape time, as a gauge with a state label.
type depthCollector struct {
	what    string
	depth   func(ctx context.Context) (int64, int64, error)
	states  [2]string
	timeout time.Duration
	desc    *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	a, b, err := c.depth(ctx)
	if err != nil {
		// Reported through the handler's error log; the other series are
		// still served (Handler uses promhttp.ContinueOnError).
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("%s: %w", c.what, err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(a), c.states[0])
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(b), c.states[1])
}

// RegisterRuntime adds the Go runtime and process collectors (go_*,
// process_*) to reg; collectors already registered are kept. A
// standalone bot has them; a bot embedded in a program that exports its
// own usually does not need them.
func RegisterRuntime(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
				continue
			}
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}

// Handler serves the series of g in the Prometheus text format (the
// /metrics endpoint). A collector that fails (the outbox depth when
// Redis is down) is logged at Warn and left out; the other series are
// still served.
func Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      errorLog{log},
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	})
}

// errorLog is promhttp's error log on slog.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Println(v ...any) {
	e.l.Warn("metrics: " + fmt.Sprint(v...))
}
