package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http/httptest"
	"regexp"
	"time"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/web"
)

// oneRequest is a Backend that knows a single request.
type oneRequest struct{ req web.Request }

func (b oneRequest) Request(_ context.Context, id string) (web.Request, error) {
	if id != b.req.ID {
		return web.Request{}, web.ErrNotFound
	}
	return b.req, nil
}

func (b oneRequest) RecordOutcome(_ context.Context, o web.Outcome) error {
	fmt.Println("outcome:", o.Result, o.Error)
	return nil
}

func (oneRequest) Ready(context.Context) error { return nil }

func Example() {
	key, err := passport.GenerateKey(2048)
	if err != nil {
		panic(err)
	}
	pub, err := passport.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		panic(err)
	}
	cat, err := i18n.New()
	if err != nil {
		panic(err)
	}
	backend := oneRequest{web.Request{
		ID:        "q7Vx1m2Zb3Nc4Kd5Lf6Pg8",
		Nonce:     "Yk2Q9nQm0f4W3o8rJb7hX1tVsC5aLz6eDuGiHpRqKwN",
		Level:     "basic",
		Lang:      "ru",
		ExpiresAt: time.Now().Add(30 * time.Minute),
	}}
	srv, err := web.New(backend, cat, web.Options{
		BotID:            123456789,
		BotUsername:      "acme_kyc_bot",
		PublicKeyPEM:     string(pub),
		PublicURL:        "https://kyc.acme.example",
		PrivacyPolicyURL: "https://acme.example/privacy",
		Scope: func(level string) (passport.Scope, error) {
			return passport.NewScope(
				passport.Require(passport.TypePersonalDetails),
				passport.RequireOneOf(passport.TypePassport, passport.TypeIdentityCard).WithSelfie(),
			), nil
		},
	})
	if err != nil {
		panic(err)
	}
	h := srv.Handler()

	// The bot's inline button opens the request page.
	pageURL := web.PageURL("https://kyc.acme.example", backend.req.ID)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", pageURL, nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Language"), rec.Header().Get("Cache-Control"))

	// Its button is the Passport deep link.
	href := regexp.MustCompile(`id="open" class="button" href="([^"]*)"`).FindStringSubmatch(rec.Body.String())[1]
	link, err := passport.ParseLink(html.UnescapeString(href))
	if err != nil {
		panic(err)
	}
	scope, _ := link.Scope.Encode()
	fmt.Println(link.BotID, scope)
	fmt.Println(link.Nonce == backend.req.Nonce, link.CallbackURL)

	// The Telegram app comes back to the callback URL.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", link.CallbackURL+"&tg_passport=error&error=PUBLIC_KEY_INVALID", nil))
	fmt.Println(rec.Code)

	// An unknown request gets the friendly expired page.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", web.PageURL("https://kyc.acme.example", "unknown"), nil))
	fmt.Println(rec.Code)
	// Output:
	// 200 ru no-store
	// 123456789 {"v":1,"d":["pd",{"_":["pp","ic"],"s":1}]}
	// true https://kyc.acme.example/passport/callback?r=q7Vx1m2Zb3Nc4Kd5Lf6Pg8
	// outcome: error PUBLIC_KEY_INVALID
	// 200
	// 404
}
