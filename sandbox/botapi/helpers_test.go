package botapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/botapi"
)

// Keys are slow to generate: the tests share one server key and one bot
// key.
var (
	serverKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	botKey    = sync.OnceValues(func() (*rsa.PrivateKey, error) { return passport.GenerateKey(2048) })
)

// env is a sandbox, a bot registered in it and the Bot API front over it.
type env struct {
	sb   *sandbox.Sandbox
	srv  *botapi.Server
	http *httptest.Server
	bot  sandbox.Bot
	key  *rsa.PrivateKey
	pem  string
}

func testContext(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newEnv starts a sandbox with opts, registers a bot and serves the Bot
// API over the sandbox's Remote (remote, when set, replaces it).
func newEnv(t *testing.T, opts sandbox.Options, remote func(sandbox.Remote) sandbox.Remote, srvOpts ...botapi.Option) *env {
	t.Helper()
	key, err := serverKey()
	if err != nil {
		t.Fatal(err)
	}
	opts.ServerKey = key
	sb, err := sandbox.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	bk, err := botKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, err := passport.MarshalPublicKey(&bk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	bot, err := sb.AddBot(sandbox.BotSpec{Username: "kyc_botapi_bot", FirstName: "KYC", PublicKeyPEM: string(pem), PrivacyPolicyURL: "https://example.com/privacy"})
	if err != nil {
		t.Fatal(err)
	}
	r := sb.Remote()
	if remote != nil {
		r = remote(r)
	}
	srv, err := botapi.New(context.Background(), r, srvOpts...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("close bot api: %v", err)
		}
	})
	return &env{sb: sb, srv: srv, http: hs, bot: bot, key: bk, pem: string(pem)}
}

// user adds a simulated user.
func (e *env) user(ctx context.Context, t *testing.T, phone, name string, profile sandbox.Profile) *sandbox.SimUser {
	t.Helper()
	u, err := e.sb.NewSimUser(ctx, sandbox.UserSpec{Phone: phone, FirstName: name, LastName: "Tester", Username: strings.ToLower(name) + "_t", LangCode: "en"},
		sandbox.SimUserOptions{Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// response is a Bot API answer.
type response struct {
	status      int
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call posts params as JSON to method, as a Bot API client does.
func (e *env) call(ctx context.Context, t *testing.T, method string, params any) response {
	t.Helper()
	body, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.http.URL+"/bot"+e.bot.Token+"/"+method, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// form posts params urlencoded (objects as JSON text, as the Bot API
// takes them in forms).
func (e *env) form(ctx context.Context, t *testing.T, token, method string, params url.Values) response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.http.URL+"/bot"+token+"/"+method, strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

// multipart posts params as multipart/form-data, as go-telegram/bot does
// for every call.
func (e *env) multipart(ctx context.Context, t *testing.T, method string, params map[string]string) response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range params {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.http.URL+"/bot"+e.bot.Token+"/"+method, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: answer is not JSON: %v: %s", req.URL.Path, err, b)
	}
	r.status = resp.StatusCode
	return r
}

// ok checks that r succeeded and decodes its result into dst.
func ok(t *testing.T, what string, r response, dst any) {
	t.Helper()
	if !r.OK || r.status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, r.ErrorCode, r.Description)
	}
	if dst != nil {
		if err := json.Unmarshal(r.Result, dst); err != nil {
			t.Fatalf("%s: result %s: %v", what, r.Result, err)
		}
	}
}

// fails checks that r is the Bot API error code/description.
func fails(t *testing.T, what string, r response, code int, description string) {
	t.Helper()
	if r.OK || r.status != code || r.ErrorCode != code || r.Description != description {
		t.Fatalf("%s: got %d/%d %q, want %d %q", what, r.status, r.ErrorCode, r.Description, code, description)
	}
}

// The Bot API objects as a client reads them.
type (
	user struct {
		ID           int64  `json:"id"`
		IsBot        bool   `json:"is_bot"`
		FirstName    string `json:"first_name"`
		LastName     string `json:"last_name"`
		Username     string `json:"username"`
		LanguageCode string `json:"language_code"`
	}
	chat struct {
		ID   int64  `json:"id"`
		Type string `json:"type"`
	}
	entity struct {
		Type   string `json:"type"`
		Offset int    `json:"offset"`
		Length int    `json:"length"`
	}
	button struct {
		Text         string `json:"text"`
		URL          string `json:"url,omitempty"`
		CallbackData string `json:"callback_data,omitempty"`
	}
	markup struct {
		InlineKeyboard [][]button `json:"inline_keyboard"`
	}
	message struct {
		MessageID    int             `json:"message_id"`
		From         *user           `json:"from"`
		Chat         chat            `json:"chat"`
		Date         int64           `json:"date"`
		EditDate     int64           `json:"edit_date"`
		Text         string          `json:"text"`
		Entities     []entity        `json:"entities"`
		ReplyMarkup  *markup         `json:"reply_markup"`
		PassportData json.RawMessage `json:"passport_data"`
	}
	callbackQuery struct {
		ID           string   `json:"id"`
		From         user     `json:"from"`
		Message      *message `json:"message"`
		ChatInstance string   `json:"chat_instance"`
		Data         string   `json:"data"`
	}
	update struct {
		UpdateID      int            `json:"update_id"`
		Message       *message       `json:"message"`
		CallbackQuery *callbackQuery `json:"callback_query"`
	}
)

// poller reads updates with getUpdates, confirming what it read.
type poller struct {
	e      *env
	offset int
}

// next long-polls until an update matches, and returns it.
func (p *poller) next(ctx context.Context, t *testing.T, match func(update) bool) update {
	t.Helper()
	for ctx.Err() == nil {
		var ups []update
		ok(t, "getUpdates", p.e.call(ctx, t, "getUpdates", map[string]any{"offset": p.offset, "timeout": 5}), &ups)
		for _, u := range ups {
			if u.UpdateID < p.offset {
				t.Fatalf("update %d returned after offset %d confirmed it", u.UpdateID, p.offset)
			}
			p.offset = u.UpdateID + 1
			if match == nil || match(u) {
				// The rest is read again on the next call.
				return u
			}
		}
	}
	t.Fatal("no matching update in time")
	return update{}
}

func fileBytes(t *testing.T, s sandbox.Scan) []byte {
	t.Helper()
	b, err := s.JPEG()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// delivery is a webhook request.
type delivery struct {
	secret string
	body   []byte
}

// newHookServer serves a webhook receiver and returns its URL.
func newHookServer(t *testing.T, handle func(http.ResponseWriter, delivery)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		handle(w, delivery{secret: r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), body: body})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
