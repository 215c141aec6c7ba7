package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycbot/kycbot/config"
)

// fakeReloader records the configs it is given and answers with err.
type fakeReloader struct {
	mu   sync.Mutex
	cfgs []*config.Config
	err  error
}

func (f *fakeReloader) Reload(_ context.Context, cfg *config.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfgs = append(f.cfgs, cfg)
	return f.err
}

func (f *fakeReloader) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cfgs)
}

const reloadYAML = `
telegram: {app_id: 1, bot_token: "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}
passport: {privacy_policy_url: "https://acme.example/privacy"}
levels:
  basic:
    scope: [personal_details]
web: {public_url: "https://kyc.acme.example"}
admins: [777]
delivery: {none: true}
`

func TestReloadConfig(t *testing.T) {
	env := func(name string) (string, bool) {
		if name == "KYCBOT_APP_HASH" {
			return "0123456789abcdef0123456789abcdef", true
		}
		return "", false
	}
	for _, tc := range []struct {
		name      string
		yaml      string
		reloadErr error
		calls     int
		want      []string // in the error and the log
	}{
		{name: "reloaded", yaml: reloadYAML, calls: 1, want: []string{"level=INFO", "config reloaded"}},
		{name: "bad yaml", yaml: reloadYAML + "levels: [oops\n", want: []string{"level=ERROR", "not reloaded", "keeps the one it has"}},
		{name: "no levels", yaml: strings.Replace(reloadYAML, "levels:", "old_levels:", 1), want: []string{"level=ERROR", "not reloaded"}},
		{name: "results would go nowhere", yaml: strings.Replace(reloadYAML, "delivery: {none: true}\n", "", 1),
			want: []string{"level=ERROR", "not reloaded", "delivery.webhook_url: is not set"}},
		{name: "refused", yaml: reloadYAML, reloadErr: errors.New("bot: reload refused: web.listen"), calls: 1,
			want: []string{"level=ERROR", "not reloaded", "web.listen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeConfig(t, tc.yaml)
			var logs bytes.Buffer
			r := &fakeReloader{err: tc.reloadErr}
			err := reloadConfig(context.Background(), r, file, env, slog.New(slog.NewTextHandler(&logs, nil)))
			if (err == nil) != (tc.calls == 1 && tc.reloadErr == nil) {
				t.Errorf("reloadConfig: %v", err)
			}
			if r.calls() != tc.calls {
				t.Errorf("Reload called %d times, want %d", r.calls(), tc.calls)
			}
			if tc.calls == 1 && tc.reloadErr == nil {
				if cfg := r.cfgs[0]; cfg.Telegram.AppHash.Value() != "0123456789abcdef0123456789abcdef" || len(cfg.Admins) != 1 {
					t.Errorf("the reloaded config lacks the environment or the file: %+v", cfg.Telegram)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("the log lacks %q: %s", w, logs.String())
				}
				if w != "level=INFO" && w != "level=ERROR" && w != "config reloaded" && (err == nil || !strings.Contains(err.Error(), w)) {
					t.Errorf("the error lacks %q: %v", w, err)
				}
			}
			if strings.Count(strings.TrimSpace(logs.String()), "\n") != 0 {
				t.Errorf("more than one log line: %s", logs.String())
			}
			if strings.Contains(logs.String(), "0123456789abcdef0123456789abcdef") {
				t.Error("the log shows the app hash")
			}
		})
	}
}

// Every SIGHUP reloads, until the context ends.
func TestWatchReload(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal)
	reloads := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchReload(ctx, sigs, func(context.Context) { reloads <- struct{}{} })
	}()
	for range 2 {
		sigs <- syscall.SIGHUP
		select {
		case <-reloads:
		case <-time.After(5 * time.Second):
			t.Fatal("no reload after SIGHUP")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("watchReload did not return after its context ended")
	}
}
