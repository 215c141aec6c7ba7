package botapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/sandbox"
)

// getMe over a Remote read back from its plain-data config, as another
// process would; an unknown token is 401, an unknown method 404.
func TestGetMeFromRemoteConfig(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{}, func(r sandbox.Remote) sandbox.Remote {
		rc, err := r.Config()
		if err != nil {
			t.Fatal(err)
		}
		out, err := rc.Remote()
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
	var me user
	ok(t, "getMe", e.call(ctx, t, "getMe", nil), &me)
	if me.ID != e.bot.ID || !me.IsBot || me.Username != "kyc_botapi_bot" || me.FirstName != "KYC" {
		t.Fatalf("getMe: %+v, want bot %d @kyc_botapi_bot", me, e.bot.ID)
	}
	// GET with no parameters works too, and method names ignore case.
	resp, err := http.Get(e.http.URL + "/bot" + e.bot.Token + "/GETME")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET GETME: %d", resp.StatusCode)
	}

	if err := e.srv.Login(ctx, e.bot.Token); err != nil {
		t.Errorf("Login of a logged-in bot: %v", err)
	}
	id := strconv.FormatInt(e.bot.ID, 10)
	if err := e.srv.Login(ctx, id+":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err == nil || !strings.Contains(err.Error(), "Unauthorized") ||
		strings.Contains(err.Error(), "AAAAAAAA") {
		t.Errorf("Login with an unknown token: %v, want Unauthorized without the token", err)
	}
	for _, tt := range []struct {
		name, token, method string
		code                int
		description         string
	}{
		{"unknown token", id + ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "getMe", 401, "Unauthorized"},
		{"malformed token", "nonsense", "getMe", 401, "Unauthorized"},
		{"unknown method", e.bot.Token, "sendSticker", 404, "Not Found"},
	} {
		fails(t, tt.name, e.form(ctx, t, tt.token, tt.method, nil), tt.code, tt.description)
	}
}

// A user's /start reaches getUpdates (long poll) with its command entity;
// sendMessage with URL and callback buttons reaches the user; pressing the
// callback button is a callback_query the bot answers; edits, commands
// and the errors of a chat the bot does not know.
func TestMessagesAndCallbacks(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{}, nil)
	ok(t, "getMe", e.call(ctx, t, "getMe", nil), nil)
	u := e.user(ctx, t, "15550000001", "Ada", nil)

	// The long poll waits for the message.
	got := make(chan response, 1)
	go func() {
		got <- e.call(ctx, t, "getUpdates", map[string]any{"timeout": 20, "allowed_updates": []string{"message", "callback_query"}})
	}()
	if _, err := u.Start(ctx, "@kyc_botapi_bot", "ref-42"); err != nil {
		t.Fatal(err)
	}
	var ups []update
	ok(t, "getUpdates", <-got, &ups)
	if len(ups) != 1 || ups[0].Message == nil {
		t.Fatalf("getUpdates: %+v, want the /start message", ups)
	}
	m := ups[0].Message
	wantFrom := user{ID: u.User.ID, FirstName: "Ada", LastName: "Tester", Username: "ada_t", LanguageCode: "en"}
	if m.Text != "/start ref-42" || m.From == nil || *m.From != wantFrom || m.Chat != (chat{ID: u.User.ID, Type: "private"}) || m.Date == 0 {
		t.Fatalf("message %+v from %+v", m, m.From)
	}
	if want := []entity{{Type: "bot_command", Offset: 0, Length: 6}}; !reflect.DeepEqual(m.Entities, want) {
		t.Fatalf("entities %+v, want %+v", m.Entities, want)
	}
	p := &poller{e: e, offset: ups[0].UpdateID + 1}

	// sendMessage, form-encoded, with a URL button and a callback button.
	kb := `{"inline_keyboard":[[{"text":"Verify","url":"https://kyc.example.com/r/abc"}],[{"text":"Help","callback_data":"help"}]]}`
	var sent message
	ok(t, "sendMessage", e.form(ctx, t, e.bot.Token, "sendMessage", url.Values{
		"chat_id": {strconv.FormatInt(u.User.ID, 10)}, "text": {"Please verify"}, "reply_markup": {kb},
	}), &sent)
	if sent.MessageID == 0 || sent.From == nil || sent.From.ID != e.bot.ID || sent.Chat.ID != u.User.ID || sent.Text != "Please verify" ||
		sent.ReplyMarkup == nil || len(sent.ReplyMarkup.InlineKeyboard) != 2 || sent.ReplyMarkup.InlineKeyboard[1][0].CallbackData != "help" {
		t.Fatalf("sendMessage answered %+v", sent)
	}
	seen, err := u.WaitMessage(ctx, func(c sandbox.ChatMessage) bool { return c.Text == "Please verify" })
	if err != nil {
		t.Fatal(err)
	}
	if b, found := seen.Button("Verify"); !found || b.URL != "https://kyc.example.com/r/abc" {
		t.Fatalf("the user sees buttons %+v", seen.Buttons)
	}
	help, found := seen.Button("Help")
	if !found {
		t.Fatalf("no Help button in %+v", seen.Buttons)
	}

	// The press is a callback_query; the user sees the bot's answer.
	answer := make(chan *tg.MessagesBotCallbackAnswer, 1)
	pressErr := make(chan error, 1)
	go func() {
		a, err := u.Press(ctx, seen, help)
		pressErr <- err
		answer <- a
	}()
	q := p.next(ctx, t, func(u update) bool { return u.CallbackQuery != nil }).CallbackQuery
	if q.ID == "" || q.Data != "help" || q.From.ID != u.User.ID || q.ChatInstance == "" || q.Message == nil || q.Message.MessageID != sent.MessageID {
		t.Fatalf("callback_query %+v", q)
	}
	ok(t, "answerCallbackQuery", e.call(ctx, t, "answerCallbackQuery", map[string]any{"callback_query_id": q.ID, "text": "Here is help"}), nil)
	if err := <-pressErr; err != nil {
		t.Fatal(err)
	}
	if a := <-answer; a.Message != "Here is help" {
		t.Fatalf("the user saw the answer %q", a.Message)
	}
	fails(t, "answer twice", e.call(ctx, t, "answerCallbackQuery", map[string]any{"callback_query_id": q.ID}),
		400, "Bad Request: query is too old and response timeout expired or query ID is invalid")

	// editMessageText reaches the user; the same edit again is "not modified".
	edit := map[string]any{"chat_id": u.User.ID, "message_id": sent.MessageID, "text": "Link expired"}
	var edited message
	ok(t, "editMessageText", e.call(ctx, t, "editMessageText", edit), &edited)
	// Without reply_markup, the edit removes the keyboard, as on Telegram.
	if edited.MessageID != sent.MessageID || edited.Text != "Link expired" || edited.EditDate == 0 || edited.ReplyMarkup != nil {
		t.Fatalf("editMessageText answered %+v", edited)
	}
	if c, err := u.WaitMessage(ctx, func(c sandbox.ChatMessage) bool { return c.Edited && c.Text == "Link expired" }); err != nil || len(c.Buttons) != 0 {
		t.Fatalf("the user sees the edit %+v (%v), want no buttons", c, err)
	}
	fails(t, "same edit", e.call(ctx, t, "editMessageText", edit), 400,
		"Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	edit["message_id"] = sent.MessageID + 100
	fails(t, "edit of no message", e.call(ctx, t, "editMessageText", edit), 400, "Bad Request: message to edit not found")

	// Chats the bot never heard from are not found; text is required.
	fails(t, "unknown chat", e.call(ctx, t, "sendMessage", map[string]any{"chat_id": 123456, "text": "hi"}), 400, "Bad Request: chat not found")
	fails(t, "no text", e.call(ctx, t, "sendMessage", map[string]any{"chat_id": u.User.ID, "text": " "}), 400, "Bad Request: message text is empty")
	fails(t, "markup not JSON", e.form(ctx, t, e.bot.Token, "sendMessage", url.Values{"chat_id": {strconv.FormatInt(u.User.ID, 10)}, "text": {"x"}, "reply_markup": {"{"}}),
		400, "Bad Request: can't parse reply keyboard markup JSON object")
	fails(t, "bad chat_id", e.call(ctx, t, "sendMessage", map[string]any{"chat_id": "@nobody", "text": "hi"}), 400, "Bad Request: chat not found")

	// Commands per language and per chat.
	cmds := []map[string]string{{"command": "verify", "description": "Verify your identity"}}
	ok(t, "setMyCommands", e.call(ctx, t, "setMyCommands", map[string]any{"commands": cmds, "language_code": "en", "scope": map[string]any{"type": "default"}}), nil)
	ok(t, "setMyCommands chat", e.multipart(ctx, t, "setMyCommands", map[string]string{
		"commands": `[{"command":"verify","description":"Verify your identity"}]`,
		"scope":    fmt.Sprintf(`{"type":"chat","chat_id":%d}`, u.User.ID),
	}), nil)
	var got2 []map[string]string
	ok(t, "getMyCommands", e.call(ctx, t, "getMyCommands", map[string]any{"language_code": "en"}), &got2)
	if !reflect.DeepEqual(got2, cmds) {
		t.Fatalf("getMyCommands %+v", got2)
	}
	if c := e.sb.BotCommands(e.bot.ID); len(c) != 1 || c[0].Command != "verify" {
		t.Fatalf("the sandbox has commands %+v", c)
	}
	fails(t, "scope of an unknown chat", e.call(ctx, t, "setMyCommands", map[string]any{"commands": cmds, "scope": map[string]any{"type": "chat", "chat_id": 42}}),
		400, "Bad Request: chat not found")
}

// Updates of a user who wrote before the bot's first request are kept, as
// Telegram keeps them until the bot asks; a cut connection loses none.
func TestUpdatesBeforeFirstRequest(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{}, nil)
	u := e.user(ctx, t, "15550000011", "Grace", nil)
	if _, err := u.Start(ctx, "@kyc_botapi_bot", ""); err != nil {
		t.Fatal(err)
	}
	p := &poller{e: e}
	if m := p.next(ctx, t, nil).Message; m == nil || m.Text != "/start" || m.From.ID != u.User.ID {
		t.Fatalf("first update %+v", m)
	}
	// Confirmed updates are not returned again.
	var ups []update
	ok(t, "getUpdates", e.call(ctx, t, "getUpdates", map[string]any{"offset": p.offset}), &ups)
	if len(ups) != 0 {
		t.Fatalf("after confirming: %+v", ups)
	}
	// The bot's MTProto connection is cut: what is sent next still
	// arrives, once.
	e.sb.DropConnections(sandbox.MainDC)
	// The user's connection was cut too: its app reconnects first.
	for {
		if _, err := u.API().HelpGetConfig(ctx); err == nil {
			break
		} else if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := u.Send(ctx, e.bot.ID, "while cut"); err != nil {
		t.Fatal(err)
	}
	if m := p.next(ctx, t, nil).Message; m == nil || m.Text != "while cut" {
		t.Fatalf("after the cut: %+v", m)
	}
	if err := u.Send(ctx, e.bot.ID, "after"); err != nil {
		t.Fatal(err)
	}
	if m := p.next(ctx, t, nil).Message; m == nil || m.Text != "after" {
		t.Fatalf("the update after the cut: %+v (one sent before it came twice?)", m)
	}
}

// A second getUpdates while one waits ends the first with 409.
func TestConcurrentGetUpdates(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{}, nil)
	ok(t, "getMe", e.call(ctx, t, "getMe", nil), nil)
	first := make(chan response, 1)
	go func() { first <- e.call(ctx, t, "getUpdates", map[string]any{"timeout": 30}) }()
	// The second call must come while the first waits: retry until the
	// first is ended (the first may not have arrived yet).
	var second response
	for {
		second = e.call(ctx, t, "getUpdates", map[string]any{"timeout": 1})
		select {
		case r := <-first:
			fails(t, "the first getUpdates", r, 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
			ok(t, "the second getUpdates", second, nil)
			return
		default:
		}
		if ctx.Err() != nil {
			t.Fatal("the first getUpdates was never ended")
		}
	}
}

// The fault injector makes a method answer 429 with retry_after, and an
// MTProto FLOOD_WAIT_X from the sandbox is a 429 with retry_after X.
func TestFloodWait(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{}, nil)
	u := e.user(ctx, t, "15550000021", "Alan", nil)
	if _, err := u.Start(ctx, "@kyc_botapi_bot", ""); err != nil {
		t.Fatal(err)
	}
	(&poller{e: e}).next(ctx, t, nil)
	send := map[string]any{"chat_id": u.User.ID, "text": "hello"}

	e.srv.FloodWait("sendMessage", 2, 7)
	for i := range 2 {
		r := e.call(ctx, t, "sendMessage", send)
		fails(t, "flood "+strconv.Itoa(i), r, 429, "Too Many Requests: retry after 7")
		if r.Parameters == nil || r.Parameters.RetryAfter != 7 {
			t.Fatalf("parameters %+v, want retry_after 7", r.Parameters)
		}
	}
	ok(t, "after the flood", e.call(ctx, t, "sendMessage", send), nil)
	if n := e.srv.Calls("SENDMESSAGE"); n != 3 {
		t.Fatalf("Calls(sendMessage) = %d, want the 2 refused and the 1 sent", n)
	}

	e.sb.FloodWait(tg.MessagesSendMessageRequestTypeID, 3, 1)
	r := e.call(ctx, t, "sendMessage", send)
	fails(t, "mtproto flood", r, 429, "Too Many Requests: retry after 3")
	if r.Parameters == nil || r.Parameters.RetryAfter != 3 {
		t.Fatalf("parameters %+v, want retry_after 3", r.Parameters)
	}
	ok(t, "after the mtproto flood", e.call(ctx, t, "sendMessage", send), nil)
	// The user's app gets the messages by its updates, after the calls
	// returned; anything a refused call sent would come before the second.
	for i := range 2 {
		if _, err := u.WaitMessage(ctx, func(m sandbox.ChatMessage) bool { return m.Text == "hello" }); err != nil {
			t.Fatalf("message %d sent: %v", i+1, err)
		}
	}
	msgs := 0
	for _, m := range u.Messages() {
		if m.Text == "hello" {
			msgs++
		}
	}
	if msgs != 2 {
		t.Fatalf("the user got %d messages, want 2 (refused calls send nothing)", msgs)
	}
}

// Webhook mode: updates are POSTed with the secret header, a delivery
// answered 500 is retried, getUpdates is refused while the webhook is set.
func TestWebhook(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{}, nil)
	var (
		mu       sync.Mutex
		failures = 1
	)
	got := make(chan delivery, 10)
	hook := newHookServer(t, func(w http.ResponseWriter, d delivery) {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		got <- d
	})
	var set bool
	r := e.call(ctx, t, "setWebhook", map[string]any{"url": hook + "/hook", "secret_token": "s3cret-Token_1"})
	ok(t, "setWebhook", r, &set)
	if !set || r.Description != "Webhook was set" {
		t.Fatalf("setWebhook: %v %q", set, r.Description)
	}
	fails(t, "getUpdates with a webhook", e.call(ctx, t, "getUpdates", nil), 409,
		"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	fails(t, "bad secret", e.call(ctx, t, "setWebhook", map[string]any{"url": hook, "secret_token": "no spaces"}), 400,
		"Bad Request: secret token contains unallowed characters")

	u := e.user(ctx, t, "15550000031", "Edsger", nil)
	if _, err := u.Start(ctx, "@kyc_botapi_bot", "x"); err != nil {
		t.Fatal(err)
	}
	var d delivery
	select {
	case d = <-got:
	case <-ctx.Done():
		t.Fatal("no webhook delivery")
	}
	if d.secret != "s3cret-Token_1" {
		t.Fatalf("secret header %q", d.secret)
	}
	var up update
	if err := json.Unmarshal(d.body, &up); err != nil || up.Message == nil || up.Message.Text != "/start x" || up.UpdateID == 0 {
		t.Fatalf("delivered %s (%v)", d.body, err)
	}
	var info struct {
		URL                string `json:"url"`
		PendingUpdateCount int    `json:"pending_update_count"`
		LastErrorDate      int64  `json:"last_error_date"`
		LastErrorMessage   string `json:"last_error_message"`
	}
	ok(t, "getWebhookInfo", e.call(ctx, t, "getWebhookInfo", nil), &info)
	if info.URL != hook+"/hook" || info.LastErrorDate == 0 || info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" {
		t.Fatalf("getWebhookInfo %+v", info)
	}

	r = e.call(ctx, t, "deleteWebhook", nil)
	ok(t, "deleteWebhook", r, nil)
	if r.Description != "Webhook was deleted" {
		t.Fatalf("deleteWebhook: %q", r.Description)
	}
	if err := u.Send(ctx, e.bot.ID, "after"); err != nil {
		t.Fatal(err)
	}
	if m := (&poller{e: e}).next(ctx, t, func(u update) bool { return u.Message != nil && u.Message.Text == "after" }).Message; m.From.ID != u.User.ID {
		t.Fatalf("after deleteWebhook: %+v", m)
	}
	ok(t, "getWebhookInfo", e.call(ctx, t, "getWebhookInfo", nil), &info)
	if info.URL != "" {
		t.Fatalf("webhook still set: %+v", info)
	}
}

func TestBadParameters(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 3*time.Minute)
	e := newEnv(t, sandbox.Options{}, nil)
	for _, tt := range []struct {
		name, method string
		body         string
		ctype        string
		description  string
	}{
		{"not json", "getUpdates", `{"offset":`, "application/json", "Bad Request: can't parse JSON object"},
		{"offset not a number", "getUpdates", "offset=abc", "application/x-www-form-urlencoded", `Bad Request: field "offset" must be an Integer`},
		{"webhook url", "setWebhook", `{"url":"ftp://x"}`, "application/json", "Bad Request: bad webhook: an HTTP(S) URL must be provided for webhook"},
		{"file_id", "getFile", `{"file_id":"nope"}`, "application/json", "Bad Request: invalid file_id"},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.http.URL+"/bot"+e.bot.Token+"/"+tt.method, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", tt.ctype)
		fails(t, tt.name, do(t, req), 400, tt.description)
	}
}
