package bot

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/kycbot/kycbot/tests/testkit"
)

// TestNoLoggerWritesNothing: a bot made without WithLogger (an embedded
// plugin) writes nothing to the host's default logger, from New through a
// verification to Close; with WithLogger, the same work is logged there.
// Not parallel: it replaces slog's default logger for its duration.
func TestNoLoggerWritesNothing(t *testing.T) {
	var host testkit.Logs
	prev := slog.Default()
	slog.SetDefault(host.Logger())
	t.Cleanup(func() { slog.SetDefault(prev) })

	work := func(t *testing.T, opts ...Option) {
		env := newTestEnv(t)
		cfg := parseConfig(t, env.prefix, "", "", nil)
		opts = append([]Option{WithRedis(env.rdb), WithPrivateKey(keys.get(t)), WithInstance("a")}, opts...)
		b, err := New(context.Background(), cfg, opts...)
		if err != nil {
			t.Fatal(err)
		}
		tb := &testBot{Bot: b, env: env, logs: &testkit.Logs{}}
		tr := newFakeTransport()
		tb.enqueue(t, textUpdate(1001, "/start"), tb.submission(t, 1001))
		r := tb.start(t, tr)
		tb.waitEmpty(t, 15*time.Second)
		tr.waitMessages(t, 1001, 2, 10*time.Second)
		if err := r.stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}

	t.Run("without WithLogger", func(t *testing.T) {
		work(t)
		if s := host.String(); s != "" {
			t.Errorf("the bot wrote to the host's default logger:\n%s", s)
		}
	})
	t.Run("with WithLogger", func(t *testing.T) {
		var own testkit.Logs
		work(t, WithLogger(own.Logger()))
		if own.String() == "" {
			t.Error("the bot logged nothing to its own logger: the check above proves nothing")
		}
		if s := host.String(); s != "" {
			t.Errorf("the bot wrote to the host's default logger:\n%s", s)
		}
	})
}
