package verification_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
	"github.com/kycbot/kycbot/verify"
)

func ExampleFlow() {
	ctx := context.Background()
	rdb, _ := testkit.NewClient() // a Redis at 127.0.0.1:6379
	defer rdb.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "kycbot-example:" + hex.EncodeToString(b) + ":"
	defer testkit.DeletePrefix(ctx, rdb, prefix)
	st := store.New(rdb, store.WithPrefix(prefix), store.WithAuditKey(handlerstest.AuditKey()), // the bot derives it: bot.AuditKey
		store.WithDocumentKey(handlerstest.DocumentKey())) // and this one: bot.DocumentKey

	key, err := passport.GenerateKey(2048) // the bot's Passport key (@BotFather has its public half)
	if err != nil {
		panic(err)
	}
	cat, err := i18n.New()
	if err != nil {
		panic(err)
	}
	checker, err := verify.New(passport.NewScope(passport.Require(passport.TypePersonalDetails)), verify.DefaultPolicy())
	if err != nil {
		panic(err)
	}
	flow, err := verification.New(verification.Config{
		Key: key, Store: handlers.NewStore(st), Telegram: handlerstest.PrintTelegram{}, Catalog: cat,
		Checkers: map[string]*verify.Checker{"basic": checker},
		PageURL:  func(id string) string { return "https://kyc.example/passport/" + id },
		OnVerified: func(_ context.Context, v verification.Verified) error {
			pd, _ := v.Submission.Element(passport.TypePersonalDetails).PersonalDetails()
			fmt.Printf("OnVerified: level %s, ref %s, born %s\n", v.Level, v.Ref, pd.BirthDate)
			return nil
		},
	})
	if err != nil {
		panic(err)
	}

	// The conversation issued a request (/start crm-42); the user shares
	// their personal details with Telegram Passport (simulated here), and
	// the update carrying them is processed.
	req, err := st.Requests().Issue(ctx, store.RequestParams{UserID: 1001, ChatID: 1001, Level: "basic", Lang: "en", Ref: "crm-42"}, 30*time.Minute)
	if err != nil {
		panic(err)
	}
	shared, err := passport.EncryptSubmission(rand.Reader, &key.PublicKey, req.Nonce, []passport.PlainElement{{
		Type: passport.TypePersonalDetails, Fields: map[string]string{
			"first_name": "Ada", "last_name": "Lovelace", "birth_date": "10.12.1985", "gender": "female",
			"country_code": "GB", "residence_country_code": "GB",
		},
	}})
	if err != nil {
		panic(err)
	}
	out, err := flow.Process(ctx, verification.Submission{
		ID: "1773489600000-0", User: handlers.User{ID: 1001, LangCode: "en"}, MsgID: 7, Encrypted: shared.Submission,
	})
	fmt.Println(out.Result, err)
	// Output:
	// to 1001: Thank you! I have received your documents and am checking them now. This usually takes less than a minute.
	// OnVerified: level basic, ref crm-42, born 10.12.1985
	// (edit of message 1) to 1001: Done! Your identity has been verified. Thank you.
	// verified <nil>
}

// An OnVerified hook reads the scans through Open; WithScans gives it
// scans from memory in a test.
func ExampleVerified_WithScans() {
	hook := func(_ context.Context, v verification.Verified) error {
		for k := range v.Scans {
			r, err := v.Open(k)
			if err != nil {
				return err
			}
			n, err := io.Copy(io.Discard, r) // keep or forward the scan here
			_ = r.Close()
			if err != nil {
				return err
			}
			fmt.Printf("%s.%s: %d bytes\n", k.Element, k.Target, n)
		}
		return nil
	}
	front := verify.ScanKey{Element: passport.TypePassport, Target: passport.TargetOf(passport.TargetFrontSide)}
	v := verification.Verified{UserID: 1001, Level: "full"}.WithScans(map[verify.ScanKey][]byte{front: []byte("not really a JPEG")})
	fmt.Println(hook(context.Background(), v))
	// Output:
	// passport.front_side: 17 bytes
	// <nil>
}
