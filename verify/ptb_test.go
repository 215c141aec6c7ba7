package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/kycbot/kycbot/passport"
)

const ptbPath = "../../shared/testdata/passport/ptb-passport-1.1.json"

// loadPTB decrypts the python-telegram-bot sample from ../shared.
func loadPTB(tb testing.TB) *passport.Submission {
	tb.Helper()
	b, err := os.ReadFile(ptbPath)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("shared test data not found at %s (clone with ../shared beside the project to run this test)", ptbPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		Key  string          `json:"private_key_pem"`
		Data json.RawMessage `json:"passport_data"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatal(err)
	}
	key, err := passport.ParsePrivateKey([]byte(f.Key))
	if err != nil {
		tb.Fatal(err)
	}
	es, err := passport.ParseBotAPI(f.Data)
	if err != nil {
		tb.Fatal(err)
	}
	sub, err := passport.Decrypt(key, es)
	if err != nil {
		tb.Fatal(err)
	}
	return sub
}

func fixedClock(y int, m time.Month, d int) Option {
	return WithClock(func() time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) })
}

func TestPTBSubmissionExpiredLicence(t *testing.T) {
	sub := loadPTB(t)
	scope := passport.NewScope(
		passport.Require(passport.TypePersonalDetails).WithNativeNames(),
		passport.Require(passport.TypeDriverLicense).WithSelfie().WithTranslation(),
		passport.Require(passport.TypeAddress),
		passport.Require(passport.TypeUtilityBill).WithTranslation(),
		passport.Require(passport.TypeEmail),
	)
	c, err := New(scope, DefaultPolicy(), fixedClock(2026, 11, 23))
	if err != nil {
		t.Fatal(err)
	}
	res := c.Check(context.Background(), sub, nil)
	var expired *Problem
	for i, p := range res.Problems {
		if p.Code == CodeExpired {
			expired = &res.Problems[i]
		}
	}
	if expired == nil {
		t.Fatalf("no expired problem in %v", res.Problems)
	}
	if expired.Element != passport.TypeDriverLicense || expired.Target != passport.Field("expiry_date") ||
		expired.Params["date"] != "01.01.2001" || expired.Final {
		t.Fatalf("expired problem = %+v", *expired)
	}
	errs, err := SecureValueErrors(sub, []Problem{*expired}, func(p Problem) string { return "expired" })
	if err != nil || len(errs) != 1 {
		t.Fatalf("SecureValueErrors = %v, %v", errs, err)
	}
	d, ok := errs[0].(*tg.SecureValueErrorData)
	want := sub.Element(passport.TypeDriverLicense).DataCredentials.DataHash
	if !ok || d.Field != "expiry_date" || !bytes.Equal(d.DataHash, want) {
		t.Fatalf("error = %#v, want SecureValueErrorData on expiry_date with the licence's data hash", errs[0])
	}
	if _, isDL := d.Type.(*tg.SecureValueTypeDriverLicense); !isDL {
		t.Errorf("error type %T", d.Type)
	}
	t.Logf("all problems: %v", res.Problems)
}
