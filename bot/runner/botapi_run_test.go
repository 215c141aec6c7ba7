package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/runner"
	"github.com/kycbot/kycbot/passport"
)

// fakeBotAPI is a Bot API server for one package's tests: it answers
// getMe as the world's bot, records every call with its parameters, and
// answers setWebhook with setWebhookAnswer.
type fakeBotAPI struct {
	srv              *httptest.Server
	botID            int64
	setWebhookAnswer string // the JSON answer of setWebhook

	mu    sync.Mutex
	calls map[string][]map[string]any
}

func newFakeBotAPI(t *testing.T, token string) *fakeBotAPI {
	t.Helper()
	id, err := passport.BotIDFromToken(token)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBotAPI{botID: id, calls: map[string][]map[string]any{}, setWebhookAnswer: `{"ok":true,"result":true}`}
	f.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/bot"+token+"/")
		if !ok {
			http.Error(rw, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var params map[string]any
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &params)
		f.mu.Lock()
		f.calls[rest] = append(f.calls[rest], params)
		answer := f.setWebhookAnswer
		f.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		switch rest {
		case "getMe":
			fmt.Fprintf(rw, `{"ok":true,"result":{"id":%d,"is_bot":true,"first_name":"ACME","username":"acme_kyc_bot"}}`, f.botID)
		case "setWebhook":
			if strings.Contains(answer, `"ok":false`) {
				rw.WriteHeader(http.StatusBadRequest)
			}
			_, _ = io.WriteString(rw, answer)
		case "getUpdates":
			select {
			case <-r.Context().Done():
			case <-time.After(200 * time.Millisecond):
			}
			_, _ = io.WriteString(rw, `{"ok":true,"result":[]}`)
		default:
			_, _ = io.WriteString(rw, `{"ok":true,"result":true}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// called returns the parameters of every call of method so far.
func (f *fakeBotAPI) called(method string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.calls[method]...)
}

// onBotAPI changes the world's config to the Bot API at url, receiving
// by receive.
func onBotAPI(url, receive string) func(string) string {
	return func(y string) string {
		return strings.Replace(y, "telegram:\n", fmt.Sprintf("telegram:\n  transport: botapi\n  bot_api_url: %q\n  bot_api: {receive: %s}\n", url, receive), 1)
	}
}

// startOnBotAPI runs an instance of a new world's bot on a fake Bot API
// server, receiving by receive, and waits until it receives.
func startOnBotAPI(t *testing.T, receive string) (*world, *fakeBotAPI, *instance) {
	t.Helper()
	w := newWorld(t)
	api := newFakeBotAPI(t, w.account.Token)
	in := w.newRunner(t, "a", w.config(t, onBotAPI(api.srv.URL, receive)), runner.Options{})
	in.run(t)
	select {
	case <-in.receiving:
	case err := <-in.done:
		t.Fatalf("Run: %v", err)
	case <-time.After(time.Minute):
		t.Fatalf("the instance never received:\n%s", in.logs.String())
	}
	in.info = <-in.ready // sent before it receives
	return w, api, in
}

// With a webhook, the instance sets it at <web.public_url>/telegram/...
// with a secret token, serves it on web.listen (refusing a request
// without the secret), does not delete it when it stops, and never
// calls getUpdates.
func TestRunBotAPIWebhook(t *testing.T) {
	w, api, in := startOnBotAPI(t, "webhook")
	set := api.called("setWebhook")
	if len(set) != 1 {
		t.Fatalf("setWebhook called %d times", len(set))
	}
	url, _ := set[0]["url"].(string)
	secret, _ := set[0]["secret_token"].(string)
	path, ok := strings.CutPrefix(url, "https://kyc.acme.example/telegram/")
	if !ok || path == "" || secret == "" || set[0]["drop_pending_updates"] == true {
		t.Fatalf("setWebhook %v", set[0])
	}
	post := func(secret string) int {
		req, err := http.NewRequest(http.MethodPost, "http://"+in.info.WebAddr.String()+"/telegram/"+path, strings.NewReader(`{"update_id":1}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("wrong"); got != http.StatusUnauthorized {
		t.Errorf("an update without the secret: %d, want 401", got)
	}
	if got := post(secret); got != http.StatusOK {
		t.Errorf("an update with the secret: %d, want 200", got)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(api.called("deleteWebhook")) + len(api.called("getUpdates")); n != 0 {
		t.Errorf("deleteWebhook or getUpdates called %d times with a webhook", n)
	}
	for _, s := range []string{path, secret, strings.SplitN(w.account.Token, ":", 2)[1]} {
		if strings.Contains(in.logs.String(), s) {
			t.Errorf("the logs hold the webhook's path, its secret or the token")
		}
	}
	if !strings.Contains(in.logs.String(), "transport=botapi receive=webhook") {
		t.Errorf("the logs do not say the transport:\n%s", in.logs.String())
	}
}

// A webhook the Bot API refuses (an http URL, say) stops the instance
// with an error saying what to fix; nothing would receive otherwise.
func TestRunBotAPIWebhookRefused(t *testing.T) {
	w := newWorld(t)
	api := newFakeBotAPI(t, w.account.Token)
	api.setWebhookAnswer = `{"ok":false,"error_code":400,"description":"Bad Request: bad webhook: An HTTPS URL must be provided for webhook"}`
	in := w.newRunner(t, "a", w.config(t, onBotAPI(api.srv.URL, "webhook")), runner.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := in.r.Run(ctx)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Run = %v (context: %v), want the refusal", err, ctx.Err())
	}
	for _, want := range []string{"refuses the webhook", "An HTTPS URL must be provided", "fix web.public_url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), w.account.Token) {
		t.Error("the error holds the token")
	}
}

// With polling, the receiver deletes a webhook set before (keeping its
// pending updates) and polls.
func TestRunBotAPIPolling(t *testing.T) {
	_, api, in := startOnBotAPI(t, "polling")
	for i := 0; len(api.called("getUpdates")) == 0; i++ {
		if i == 3000 {
			t.Fatal("the receiver never called getUpdates")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	del := api.called("deleteWebhook")
	if len(del) != 1 || del[0]["drop_pending_updates"] == true {
		t.Errorf("deleteWebhook calls %v, want one keeping the pending updates", del)
	}
	if len(api.called("setWebhook")) != 0 || len(api.called("setMyCommands")) == 0 {
		t.Errorf("setWebhook called, or the commands not registered")
	}
}
