package botapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
)

// adaFrom is the sender of the examples' messages.
const adaFrom = `"from":{"id":1001,"is_bot":false,"first_name":"Ada","language_code":"en"}`

// exampleBot returns the shop's kycbot on an in-process Redis, and a
// function that closes both.
func exampleBot(ctx context.Context) (*bot.Bot, func()) {
	mr, err := miniredis.Run() // stands in for the shop's Redis
	if err != nil {
		log.Fatal(err)
	}
	key, err := passport.GenerateKey(2048) // the bot's Passport key
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.Parse([]byte(shopConfig), "config.yaml")
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	kyc, err := bot.New(ctx, cfg, bot.WithRedis(rdb), bot.WithPrivateKey(key), bot.WithInstance("shop-1"))
	if err != nil {
		log.Fatal(err)
	}
	return kyc, func() { _ = kyc.Close(); _ = rdb.Close(); mr.Close() }
}

// printSent waits until the fake Bot API got n sendMessage calls and
// prints them, sorted: the first line of each text, and its buttons.
func printSent(api *fakeAPI, n int) {
	deadline := time.Now().Add(time.Minute)
	for len(api.called("sendMessage")) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var lines []string
	for _, c := range api.called("sendMessage") {
		text, _ := c.Params["text"].(string)
		line, _, _ := strings.Cut(text, "\n")
		if kb, ok := c.Params["reply_markup"].(map[string]any); ok {
			rows, _ := kb["inline_keyboard"].([]any)
			for _, row := range rows {
				for _, b := range row.([]any) {
					b := b.(map[string]any)
					site, _, _ := strings.Cut(fmt.Sprint(b["url"]), "/passport/")
					line += fmt.Sprintf(" [%s -> %s/passport/...]", b["text"], site)
				}
			}
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}

// A shop's bot, a plain net/http program on the Bot API, embeds kycbot
// with a webhook: botapi.Webhook takes kycbot's updates (/start, /verify,
// ..., the Passport submissions) into kycbot's queue and passes the
// others to the shop's own handler; botapi.Run works the queue. Here a
// stand-in for Telegram's Bot API and an in-process Redis take the place
// of the real ones, and the example posts the updates as Telegram would.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api := newFakeAPI() // Telegram's Bot API
	defer api.Close()
	kyc, closeBot := exampleBot(ctx)
	defer closeBot()

	client := botapi.NewClient(testToken, botapi.WithBaseURL(api.URL())) // a real bot: botapi.NewClient(token)
	workers, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- botapi.Run(workers, kyc, client) }() // kycbot's workers

	// The shop's own handler: it answers /orders.
	shop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u botapi.Update
		if err := json.NewDecoder(r.Body).Decode(&u); err == nil && u.Message != nil && u.Message.Text == "/orders" {
			_, _ = client.SendMessage(r.Context(), botapi.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "shop: You have no orders yet."})
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/telegram", botapi.Webhook(kyc, shop, botapi.WithSecretToken("s3cret")))
	mux.Handle("/", kyc.Handler()) // the request page, at web.public_url
	srv := httptest.NewServer(mux)
	defer srv.Close()
	if err := client.SetWebhook(ctx, botapi.SetWebhookParams{URL: srv.URL + "/telegram", SecretToken: "s3cret"}); err != nil {
		log.Fatal(err)
	}

	// Telegram delivers a user's /start and /orders.
	for i, text := range []string{"/start", "/orders"} {
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,%s,%s,"date":1700000000,"text":%q}}`, 500+i, 20+i, adaFrom, privateChat, text)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/telegram", strings.NewReader(body))
		req.Header.Set(botapi.SecretHeader, "s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	printSent(api, 3)
	stop()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	// Output:
	// Hello! I can verify your identity with Telegram Passport. It takes only a few minutes, and your documents reach us encrypted.
	// To verify your identity, share the following through Telegram Passport: [Verify with Telegram Passport -> https://kyc.acme.example/passport/...]
	// shop: You have no orders yet.
}

// Webhook checks Telegram's secret token, answers kycbot's updates once
// they are queued, and hands the others, untouched, to the host's
// handler.
func ExampleWebhook() {
	ctx := context.Background()
	kyc, closeBot := exampleBot(ctx)
	defer closeBot()
	host := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted) // the host's own answer
	})
	h := botapi.Webhook(kyc, host, botapi.WithSecretToken("s3cret"))
	for _, tc := range []struct{ name, secret, body string }{
		{"/start", "s3cret", updStart},
		{"hello", "s3cret", updHello},
		{"/start without the secret", "", updStart},
	} {
		r := httptest.NewRequest(http.MethodPost, "/telegram", strings.NewReader(tc.body))
		if tc.secret != "" {
			r.Header.Set(botapi.SecretHeader, tc.secret)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%s: %d\n", tc.name, w.Code)
	}
	// Output:
	// /start: 200
	// hello: 202
	// /start without the secret: 401
}

// Poll receives the updates with getUpdates, in a single process: kycbot
// takes its own and the host's function gets the others; an update is
// confirmed to Telegram only once it was handled.
func ExamplePoll() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api := newFakeAPI() // Telegram's Bot API
	defer api.Close()
	kyc, closeBot := exampleBot(ctx)
	defer closeBot()
	client := botapi.NewClient(testToken, botapi.WithBaseURL(api.URL())) // a real bot: botapi.NewClient(token)

	work, stop := context.WithCancel(ctx)
	runDone, pollDone := make(chan error, 1), make(chan error, 1)
	go func() { runDone <- botapi.Run(work, kyc, client) }()
	go func() {
		pollDone <- botapi.Poll(work, kyc, client, func(ctx context.Context, raw json.RawMessage) error {
			var u botapi.Update
			if err := json.Unmarshal(raw, &u); err != nil || u.Message == nil || u.Message.Text != "/orders" {
				return nil // not the shop's either: dropped
			}
			_, err := client.SendMessage(ctx, botapi.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "shop: You have no orders yet."})
			return err // an error: the update comes again
		}, botapi.WithDeleteWebhook(false), botapi.WithAllowedUpdates("message", "callback_query"))
	}()

	// A user sends /start and /orders.
	for _, text := range []string{"/start", "/orders"} {
		api.push(fmt.Sprintf(`{"message":{"message_id":%d,%s,%s,"date":1700000000,"text":%q}}`, 30+len(text), adaFrom, privateChat, text))
	}
	printSent(api, 3)
	stop()
	if err := <-pollDone; err != nil {
		log.Fatal(err)
	}
	if err := <-runDone; err != nil {
		log.Fatal(err)
	}
	// Output:
	// Hello! I can verify your identity with Telegram Passport. It takes only a few minutes, and your documents reach us encrypted.
	// To verify your identity, share the following through Telegram Passport: [Verify with Telegram Passport -> https://kyc.acme.example/passport/...]
	// shop: You have no orders yet.
}

// An adapter for a Bot API framework marshals the framework's update
// back to JSON and asks Take whether it is kycbot's: false leaves it to
// the host's own handlers.
func ExampleTake() {
	ctx := context.Background()
	kyc, closeBot := exampleBot(ctx)
	defer closeBot()
	// The framework's update, as a host's middleware sees it.
	type frameworkUpdate struct {
		UpdateID int64           `json:"update_id"`
		Message  *botapi.Message `json:"message,omitempty"`
	}
	for i, text := range []string{"/verify", "What are your opening hours?"} {
		u := frameworkUpdate{UpdateID: int64(700 + i), Message: &botapi.Message{
			MessageID: 50 + i, Text: text,
			From: &botapi.User{ID: 1001, FirstName: "Ada", LanguageCode: "en"},
			Chat: botapi.Chat{ID: 1001, Type: "private"},
		}}
		raw, err := json.Marshal(u)
		if err != nil {
			log.Fatal(err)
		}
		taken, err := botapi.Take(ctx, kyc, raw)
		if err != nil {
			log.Fatal(err) // Redis did not take it: fail the update, so that it comes again
		}
		if taken {
			fmt.Printf("%q: kycbot's, queued\n", text)
			continue
		}
		fmt.Printf("%q: the host's handlers\n", text)
	}
	// Output:
	// "/verify": kycbot's, queued
	// "What are your opening hours?": the host's handlers
}
