package botapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/botapi"
)

// newClient returns a client of f.
func newClient(f *fakeAPI, opts ...botapi.ClientOption) *botapi.Client {
	return botapi.NewClient(testToken, append([]botapi.ClientOption{botapi.WithBaseURL(f.URL()), botapi.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// TestClientErrors: the Bot API's failures come back as *Error with the
// code and description (the token never in them); flood control is
// waited out when short enough; 5xx and network failures are tried again
// only for calls that are safe to repeat.
func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	send := func(c *botapi.Client) error {
		_, err := c.SendMessage(ctx, botapi.SendMessageParams{ChatID: 10, Text: "x"})
		return err
	}
	getMe := func(c *botapi.Client) error { _, err := c.GetMe(ctx); return err }
	tests := []struct {
		name  string
		setup func(f *fakeAPI)
		call  func(c *botapi.Client) error
		opts  []botapi.ClientOption
		want  *botapi.Error // nil: success
		calls int
	}{
		{"400", func(f *fakeAPI) { f.failAPI("sendMessage", 400, "Bad Request: chat not found", 0) }, send, nil,
			&botapi.Error{Method: "sendMessage", Code: 400, Description: "Bad Request: chat not found"}, 1},
		{"403 blocked", func(f *fakeAPI) { f.failAPI("sendMessage", 403, "Forbidden: bot was blocked by the user", 0) }, send, nil,
			&botapi.Error{Method: "sendMessage", Code: 403, Description: "Forbidden: bot was blocked by the user"}, 1},
		{"429 waited out", func(f *fakeAPI) { f.failAPI("sendMessage", 429, "Too Many Requests: retry after 1", 1) }, send, nil, nil, 2},
		{"429 too long", func(f *fakeAPI) { f.failAPI("sendMessage", 429, "Too Many Requests: retry after 60", 60) }, send,
			[]botapi.ClientOption{botapi.WithMaxFloodWait(10 * time.Second)},
			&botapi.Error{Method: "sendMessage", Code: 429, Description: "Too Many Requests: retry after 60", RetryAfter: time.Minute}, 1},
		{"502 retried", func(f *fakeAPI) { f.fail("getMe", 502, "<html>Bad Gateway</html>") }, getMe, nil, nil, 2},
		{"500 three times", func(f *fakeAPI) {
			for range 3 {
				f.failAPI("getMe", 500, "Internal Server Error", 0)
			}
		}, getMe, nil, &botapi.Error{Method: "getMe", Code: 500, Description: "Internal Server Error"}, 3},
		{"502 not retried for sendMessage", func(f *fakeAPI) { f.fail("sendMessage", 502, "<html>Bad Gateway</html>") }, send, nil,
			&botapi.Error{Method: "sendMessage", Code: 502, Description: "Bad Gateway"}, 1},
		{"the token echoed", func(f *fakeAPI) { f.failAPI("getMe", 400, "Bad Request: bot"+testToken+" is odd", 0) }, getMe, nil,
			&botapi.Error{Method: "getMe", Code: 400, Description: "Bad Request: bot<token> is odd"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI()
			defer f.Close()
			tt.setup(f)
			err := tt.call(newClient(f, tt.opts...))
			if n := len(f.called("")); n != tt.calls {
				t.Errorf("%d calls, want %d", n, tt.calls)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			e, isAPI := botapi.AsError(err)
			if !isAPI || *e != *tt.want {
				t.Fatalf("err = %#v, want %#v", err, tt.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("the error %q holds the token", err)
			}
		})
	}
}

// TestClientNetworkError: a server that cannot be reached gives an error
// without the token (net/http's error names the URL) that still answers
// errors.As for the network error.
func TestClientNetworkError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	c := botapi.NewClient(testToken, botapi.WithBaseURL("http://"+addr), botapi.WithLogger(slog.New(slog.DiscardHandler)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second) // it would try for half a minute
	defer cancel()
	_, err = c.GetMe(ctx)
	if err == nil {
		t.Fatal("getMe of a server that is not there succeeded")
	}
	var op *net.OpError
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "AAHdq") || !errors.As(err, &op) {
		t.Errorf("err = %q; want the network error, without the token", err)
	}
	if _, err := c.DownloadFile(ctx, "files/x", &bytes.Buffer{}); err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("download: %v; want an error without the token", err)
	}
	// A token in a malformed URL is not printed either.
	bad := botapi.NewClient(testToken, botapi.WithBaseURL("http://bad host"))
	if _, err := bad.GetMe(ctx); err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("a bad base URL: %v; want an error without the token", err)
	}
}

// TestClientFloodWaitCut: a flood wait ends with the call's context.
func TestClientFloodWaitCut(t *testing.T) {
	f := newFakeAPI()
	defer f.Close()
	f.failAPI("getMe", 429, "Too Many Requests: retry after 3600", 3600)
	c := newClient(f, botapi.WithMaxFloodWait(2*time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(f.called("getMe")) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := c.GetMe(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the context's", err)
	}
	if e, isAPI := botapi.AsError(err); !isAPI || e.Code != 429 {
		t.Errorf("err = %v, want the 429 too", err)
	}
}

// TestClientNotJSON: an answer that is not the Bot API's is an error.
func TestClientNotJSON(t *testing.T) {
	f := newFakeAPI()
	defer f.Close()
	f.fail("setWebhook", http.StatusOK, "<html>a captive portal</html>")
	err := newClient(f).SetWebhook(context.Background(), botapi.SetWebhookParams{URL: "https://bot.example/tg"})
	if err == nil || !strings.Contains(err.Error(), "not the Bot API's JSON") {
		t.Errorf("err = %v", err)
	}
}

// TestClientLogs: the client's logs (flood waits, retries) never hold the
// token.
func TestClientLogs(t *testing.T) {
	f := newFakeAPI()
	defer f.Close()
	f.failAPI("getMe", 429, "Too Many Requests: retry after 1", 1)
	f.fail("getMe", 502, "<html>Bad Gateway for /bot"+testToken+"/getMe</html>")
	var logs bytes.Buffer
	c := botapi.NewClient(testToken, botapi.WithBaseURL(f.URL()), botapi.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if _, err := c.GetMe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "flood control") || !strings.Contains(logs.String(), "trying again") {
		t.Errorf("logs %q, want the wait and the retry", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the logs hold the token: %s", logs.String())
	}
}

// TestClientUnsent: a call whose connection could not be made is made
// again, sendMessage too (Telegram never saw it); a sendMessage whose
// connection broke after it was sent is not (Telegram may have sent the
// message).
func TestClientUnsent(t *testing.T) {
	f := newFakeAPI()
	defer f.Close()
	var mu sync.Mutex
	failDials := 2
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		if failDials > 0 {
			failDials--
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return dialer.DialContext(ctx, network, addr)
	}}}
	c := newClient(f, botapi.WithHTTPClient(hc))
	if _, err := c.SendMessage(context.Background(), botapi.SendMessageParams{ChatID: 10, Text: "x"}); err != nil {
		t.Fatalf("sendMessage after two refused connections: %v", err)
	}
	if n := len(f.called("sendMessage")); n != 1 {
		t.Errorf("%d sendMessage calls reached the server, want 1", n)
	}

	var mu2 sync.Mutex
	seen := 0
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu2.Lock()
		seen++
		mu2.Unlock()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close() // the answer is lost
		}
	}))
	defer cut.Close()
	c2 := botapi.NewClient(testToken, botapi.WithBaseURL(cut.URL), botapi.WithLogger(slog.New(slog.DiscardHandler)))
	if _, err := c2.SendMessage(context.Background(), botapi.SendMessageParams{ChatID: 10, Text: "x"}); err == nil {
		t.Fatal("a sendMessage without an answer succeeded")
	}
	mu2.Lock()
	defer mu2.Unlock()
	if seen != 1 {
		t.Errorf("the sendMessage whose answer was lost was made %d times, want once", seen)
	}
}
