package botapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/tests/testkit"
)

// hostHandler records the bodies the host's handler received.
type hostHandler struct {
	mu     sync.Mutex
	bodies []string
}

func (h *hostHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, string(b))
	h.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (h *hostHandler) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// TestWebhook: with the secret, kycbot's updates are queued and answered
// 200, the others reach the host's handler with their body intact;
// without the secret nothing gets through; a GET is refused.
func TestWebhook(t *testing.T) {
	kyc := testBot(t, testkit.Need(t))
	host := &hostHandler{}
	h := botapi.Webhook(kyc, host, botapi.WithSecretToken("s3cret-token_1"))
	post := func(body, secret string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/telegram", strings.NewReader(body))
		if secret != "" {
			r.Header.Set(botapi.SecretHeader, secret)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, tc := range []struct {
		name, body, secret string
		status             int
	}{
		{"kycbot's", updStart, "s3cret-token_1", http.StatusOK},
		{"the host's", updHello, "s3cret-token_1", http.StatusAccepted},
		{"not JSON, for the host", "{not json", "s3cret-token_1", http.StatusAccepted},
		{"no secret", updStart, "", http.StatusUnauthorized},
		{"another secret", updHello, "s3cret-token_2", http.StatusUnauthorized},
	} {
		if w := post(tc.body, tc.secret); w.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.status)
		}
	}
	if got := host.got(); len(got) != 2 || got[0] != updHello || got[1] != "{not json" {
		t.Errorf("the host got %q, want the two updates that are not kycbot's, intact", got)
	}
	if n, _, err := kyc.Store().Queue().Depth(context.Background()); err != nil || n != 1 {
		t.Errorf("queue depth %d, %v; want 1", n, err)
	}
	r := httptest.NewRequest(http.MethodGet, "/telegram", nil)
	r.Header.Set(botapi.SecretHeader, "s3cret-token_1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d", w.Code)
	}
}

// TestWebhookRedisDown: a kycbot update Redis cannot take is answered 503
// (Telegram delivers it again); the host's updates still pass, and
// without a next handler they are answered 200.
func TestWebhookRedisDown(t *testing.T) {
	kyc := testBot(t, downRedis(t))
	host := &hostHandler{}
	for _, tc := range []struct {
		next   http.Handler
		body   string
		status int
	}{
		{host, updStart, http.StatusServiceUnavailable},
		{host, updHello, http.StatusAccepted},
		{nil, updHello, http.StatusOK},
	} {
		h := botapi.Webhook(kyc, tc.next, botapi.WithEnqueueTimeout(300*time.Millisecond))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body)))
		if w.Code != tc.status {
			t.Errorf("%.30s (next %v): status %d, want %d", tc.body, tc.next != nil, w.Code, tc.status)
		}
	}
}

// TestPoll: kycbot's updates go to the queue and the others to next, in
// order; an update next fails is received again (nothing lost); the
// offset moves past what was handled; a 409 is waited out; Poll ends
// with its context.
func TestPoll(t *testing.T) {
	f, c, kyc := setup(t)
	f.failAPI("deleteWebhook", 500, "Internal Server Error", 0) // tried again
	f.failAPI("getUpdates", 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", 0)
	start := f.push(`{"message":{"message_id":11,` + userFrom + `,` + privateChat + `,"text":"/start"}}`)
	hello := f.push(`{"message":{"message_id":12,` + userFrom + `,` + privateChat + `,"text":"hello"}}`)
	bye := f.push(`{"message":{"message_id":13,` + userFrom + `,` + privateChat + `,"text":"bye"}}`)

	var mu sync.Mutex
	var seen []int64
	failed := false
	next := func(_ context.Context, raw json.RawMessage) error {
		var u struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, u.UpdateID)
		if u.UpdateID == hello && !failed {
			failed = true
			return errors.New("the host's database is down")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- botapi.Poll(ctx, kyc, c, next, botapi.WithDeleteWebhook(false), botapi.WithPollTimeout(time.Second))
	}()
	if !testkit.Eventually(30*time.Second, func() bool { return f.pending() == 0 }) {
		t.Fatalf("%d updates not confirmed", f.pending())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Poll = %v", err)
	}
	mu.Lock()
	if jsonOf(seen) != jsonOf([]int64{hello, hello, bye}) {
		t.Errorf("next saw %v, want %d (failed), %d, %d", seen, hello, hello, bye)
	}
	mu.Unlock()
	if n, _, err := kyc.Store().Queue().Depth(context.Background()); err != nil || n != 1 {
		t.Errorf("queue depth %d, %v; want /start once", n, err)
	}
	if len(f.called("deleteWebhook")) != 2 {
		t.Errorf("deleteWebhook calls: %v", f.called("deleteWebhook"))
	}
	// The offsets: from 0, past /start and not past hello after the
	// failure, past everything at the end.
	f.mu.Lock()
	offsets := append([]int64(nil), f.offsets...)
	f.mu.Unlock()
	if len(offsets) < 4 || offsets[0] != 0 || offsets[len(offsets)-1] != bye+1 {
		t.Errorf("getUpdates offsets %v", offsets)
	}
	for _, o := range offsets {
		if o != 0 && o != start+1 && o != hello && o != bye+1 {
			t.Errorf("getUpdates offset %d (of %v)", o, offsets)
		}
	}
}

// TestPollToken: a refused token ends Poll with the error.
func TestPollToken(t *testing.T) {
	f := newFakeAPI()
	defer f.Close()
	c := botapi.NewClient("1:wrong", botapi.WithBaseURL(f.URL()))
	err := botapi.Poll(context.Background(), testBot(t, testkit.Need(t)), c, nil)
	if e, isAPI := botapi.AsError(err); !isAPI || e.Code != http.StatusUnauthorized {
		t.Errorf("Poll = %v, want the 401", err)
	}
}

// TestPollFlood: a 429 longer than the client waits out is waited out by
// Poll, and the updates then come.
func TestPollFlood(t *testing.T) {
	f, c, kyc := setup(t, botapi.WithMaxFloodWait(0))
	f.failAPI("getUpdates", 429, "Too Many Requests: retry after 1", 1)
	f.push(`{"message":{"message_id":11,` + userFrom + `,` + privateChat + `,"text":"/start"}}`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- botapi.Poll(ctx, kyc, c, nil, botapi.WithPollTimeout(time.Second)) }()
	if !testkit.Eventually(30*time.Second, func() bool { return f.pending() == 0 }) {
		t.Fatal("the update was not received after the flood wait")
	}
	cancel()
	must(t, <-done)
	if n := len(f.called("getUpdates")); n < 2 {
		t.Errorf("%d getUpdates calls, want the refused one and more", n)
	}
	if n, _, err := kyc.Store().Queue().Depth(context.Background()); err != nil || n != 1 {
		t.Errorf("queue depth %d, %v; want 1", n, err)
	}
}
