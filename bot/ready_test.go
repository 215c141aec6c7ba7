package bot

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"
)

// Ready (and /readyz) needs the bot to receive updates and Redis to
// answer; /healthz answers whenever the server does.
func TestReady(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	cfg := parseConfig(t, "kycbot-test:", "", "", nil)
	b, err := New(context.Background(), cfg, WithRedis(rdb), WithPrivateKey(keys.get(t)), WithBotUsername("acme_kyc_bot"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d := tg.NewUpdateDispatcher()

	for _, step := range []struct {
		name string
		do   func()
		// ready: Ready succeeds; else it fails, wrapping ErrNotReceiving
		// when notReceiving (and a Redis error otherwise).
		ready, notReceiving bool
	}{
		{name: "before Register", do: func() {}, notReceiving: true},
		{name: "registered", do: func() {
			if err := b.Register(ctx, &d, tg.NewClient(&fakeInvoker{})); err != nil {
				t.Fatal(err)
			}
		}, ready: true},
		{name: "redis down", do: func() { mr.SetError("LOADING Redis is loading the dataset in memory") }},
		{name: "redis back", do: func() { mr.SetError("") }, ready: true},
		{name: "closed", do: func() {
			if err := b.Close(ctx); err != nil {
				t.Fatal(err)
			}
		}, notReceiving: true},
	} {
		step.do()
		err := b.Ready(ctx)
		switch {
		case step.ready && err != nil:
			t.Errorf("%s: Ready: %v", step.name, err)
		case !step.ready && (err == nil || errors.Is(err, ErrNotReceiving) != step.notReceiving):
			t.Errorf("%s: Ready: %v (not receiving: %v)", step.name, err, step.notReceiving)
		}
		readyz := http.StatusServiceUnavailable
		if step.ready {
			readyz = http.StatusOK
		}
		for path, status := range map[string]int{"/healthz": http.StatusOK, "/readyz": readyz, "/metrics": http.StatusOK} {
			if res := get(t, b.Handler(), path); res.status != status {
				t.Errorf("%s: GET %s: %d, want %d", step.name, path, res.status, status)
			}
		}
	}
}
