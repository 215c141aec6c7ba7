package bot

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// miniBot is a Bot on an in-process Redis of its own, whose errors the
// test controls.
func miniBot(t *testing.T, change func(string) string) (*testBot, *miniredis.Miniredis) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	env := &testEnv{rdb: rdb, prefix: "kycbot-test:"}
	return env.newBotConfig(t, "a", parseConfig(t, env.prefix, "", "", change)), mr
}

// Ready (and /readyz) needs Run to work the queue and Redis to answer;
// /healthz and /metrics answer whenever the server does.
func TestReady(t *testing.T) {
	b, mr := miniBot(t, nil)
	ctx := context.Background()
	var run *running
	for _, step := range []struct {
		name string
		do   func()
		// ready: Ready succeeds; else it fails, wrapping ErrNotReceiving
		// when notReceiving (and a Redis error otherwise).
		ready, notReceiving bool
	}{
		{name: "before Run", do: func() {}, notReceiving: true},
		{name: "running", do: func() { run = b.start(t, newFakeTransport()) }, ready: true},
		{name: "redis down", do: func() { mr.SetError("LOADING Redis is loading the dataset in memory") }},
		{name: "redis back", do: func() { mr.SetError("") }, ready: true},
		{name: "Run returned", do: func() {
			if err := run.stop(); err != nil {
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
			if res := get(t, b.OpsHandler(), path); res.status != status {
				t.Errorf("%s: GET %s: %d, want %d", step.name, path, res.status, status)
			}
		}
	}
}
