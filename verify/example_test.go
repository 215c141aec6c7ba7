package verify_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// Check a decrypted submission and build the errors for the user's app.
func Example() {
	// A submission as the bot decrypts it (here made by the client-side
	// encryptor with a throwaway key).
	key, _ := passport.GenerateKey(2048)
	shared, _ := passport.EncryptSubmission(rand.Reader, &key.PublicKey, "n", []passport.PlainElement{
		{Type: passport.TypePassport, Fields: map[string]string{"document_no": "C01X00T47", "expiry_date": "01.01.2020"},
			FrontSide: []byte("front")},
	})
	sub, _ := passport.Decrypt(key, shared.Submission)

	scope := passport.NewScope(passport.Require(passport.TypePassport).WithSelfie())
	policy := verify.DefaultPolicy()
	policy.Documents.MinValidityDays = 30
	clock := verify.WithClock(func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) })
	checker, err := verify.New(scope, policy, clock)
	if err != nil {
		fmt.Println(err)
		return
	}
	res := checker.Check(context.Background(), sub, nil)
	for _, p := range res.Problems {
		fmt.Println(p, p.Params, "final:", p.Final)
	}
	errs, _ := verify.SecureValueErrors(sub, res.Problems, func(p verify.Problem) string { return "please fix: " + string(p.Code) })
	for _, e := range errs {
		fmt.Println(e.TypeName())
	}
	// Output:
	// passport.data.expiry_date: expired map[date:01.01.2020] final: false
	// passport.element: missing_selfie map[] final: false
	// secureValueErrorData
	// secureValueError
}
