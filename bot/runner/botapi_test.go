package runner

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The webhook's path and secret token come from the bot token: the same
// for every instance, other for another token, in the characters
// Telegram allows in a secret_token, and not the token itself.
func TestWebhookSecrets(t *testing.T) {
	const tokenA, tokenB = "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsax"
	pathA, secretA := webhookSecrets(tokenA)
	pathA2, secretA2 := webhookSecrets(tokenA)
	pathB, secretB := webhookSecrets(tokenB)
	if pathA != pathA2 || secretA != secretA2 {
		t.Error("two instances with one token derive different webhooks")
	}
	if pathA == pathB || secretA == secretB {
		t.Error("another token derives the same webhook")
	}
	allowed := regexp.MustCompile(`^[A-Za-z0-9_-]{32,256}$`)
	for _, s := range []string{pathA, secretA} {
		if !allowed.MatchString(s) {
			t.Errorf("%q is not 32 to 256 of A-Z a-z 0-9 _ -", s)
		}
		if strings.Contains(s, "AAHdqTcv") || strings.Contains(secretA, pathA) {
			t.Errorf("%q shows the token, or the secret holds the path", s)
		}
	}
	if got, want := webhookURL("https://kyc.example.com/", pathA), "https://kyc.example.com/telegram/"+pathA; got != want {
		t.Errorf("webhook URL %q, want %q", got, want)
	}
}

// countingLimiter counts the turns it gives.
type countingLimiter struct {
	mu sync.Mutex
	n  int
}

func (c *countingLimiter) Wait(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The rate limit holds the Bot API methods that act on chats and users,
// in any case, and lets getUpdates, getFile, the downloads and the rest
// through.
func TestLimitedTransport(t *testing.T) {
	tests := []struct {
		path    string
		limited bool
	}{
		{"/bot1:x/sendMessage", true},
		{"/bot1:x/SENDMESSAGE", true},
		{"/bot1:x/editMessageText", true},
		{"/bot1:x/answerCallbackQuery", true},
		{"/bot1:x/setPassportDataErrors", true},
		{"/bot1:x/setMyCommands", true},
		{"/bot1:x/getUpdates", false},
		{"/bot1:x/getFile", false},
		{"/bot1:x/getMe", false},
		{"/bot1:x/setWebhook", false},
		{"/file/bot1:x/passport/sendMessage", false},
	}
	for _, tt := range tests {
		lim := &countingLimiter{}
		lt := &limitedTransport{limit: newPriority(lim), next: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
		})}
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1"+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lt.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if got := lim.n == 1; got != tt.limited {
			t.Errorf("%s: limited %v, want %v", tt.path, got, tt.limited)
		}
	}
}
