package chat_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/chat"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

func ExampleConversation() {
	ctx := context.Background()
	rdb, _ := testkit.NewClient() // a Redis at 127.0.0.1:6379
	defer rdb.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "kycbot-example:" + hex.EncodeToString(b) + ":"
	defer testkit.DeletePrefix(ctx, rdb, prefix)
	st := store.New(rdb, store.WithPrefix(prefix), store.WithAuditKey(handlerstest.AuditKey())) // the bot derives it: bot.AuditKey

	cat, err := i18n.New()
	if err != nil {
		panic(err)
	}
	basic := passport.NewScope(passport.Require(passport.TypePersonalDetails), passport.Require(passport.TypePassport).WithSelfie())
	conv, err := chat.New(chat.Config{
		Store: handlers.NewStore(st), Telegram: handlerstest.PrintTelegram{}, Catalog: cat, Levels: []string{"basic"},
		Scopes:  func(string) (passport.Scope, error) { return basic, nil },
		PageURL: func(id string) string { return "https://kyc.example/passport/" + id },
	})
	if err != nil {
		panic(err)
	}

	// A user opens t.me/<bot>?start=crm-42, then asks where they stand.
	user := handlers.User{ID: 1001, AccessHash: 42, LangCode: "en"}
	for i, text := range []string{"/start crm-42", "/status"} {
		m := handlers.TextMessage{ID: fmt.Sprintf("1773489600000-%d", i), From: user, MsgID: i + 1, Text: text}
		if err := conv.OnMessage(ctx, m); err != nil {
			panic(err)
		}
	}
	req, _, _ := st.Requests().Live(ctx, user.ID)
	fmt.Printf("request: level %s, ref %s, language %s\n", req.Level, req.Ref, req.Lang)
	// Output:
	// to 1001: Hello! I can verify your identity with Telegram Passport. It takes only a few minutes, and your documents reach us encrypted.
	// to 1001: To verify your identity, share the following through Telegram Passport:
	//   [Verify with Telegram Passport] https://kyc.example/passport/<request ID>
	// to 1001: You have started a verification but have not shared your documents yet.
	// request: level basic, ref crm-42, language en
}
