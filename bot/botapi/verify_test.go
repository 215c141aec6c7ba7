package botapi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/tests/testkit"
)

// idConfig asks for personal details and a passport with a selfie.
const idConfig = `
telegram: {bot_token: "` + testToken + `"}
passport: {privacy_policy_url: "https://acme.example/privacy"}
levels:
  id:
    scope:
      - personal_details
      - passport: {selfie: true}
web: {public_url: "https://kyc.acme.example"}
`

// TestVerify: a Passport submission over the Bot API, through the whole
// pipeline: taken from the update, its scans fetched with getFile and
// the file URL and decrypted, the verdict edited into the "received,
// checking" message; an expired passport is shown to the user in the
// Passport form (setPassportDataErrors, on the field) and in the chat.
func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name, expiry string
		verified     bool
	}{
		{"verified", "22.11.2031", true},
		{"expired", "01.02.2020", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			f := newFakeAPI()
			defer f.Close()
			c := newClient(f)
			kyc := configBot(t, testkit.Need(t), idConfig)
			done := make(chan error, 1)
			go func() { done <- botapi.Run(ctx, kyc, c) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()

			link, err := kyc.IssueLink(ctx, bot.LinkParams{UserID: 1001, Lang: "en"})
			must(t, err)
			front, err := sandbox.Scan{Text: "front"}.JPEG()
			must(t, err)
			selfie, err := sandbox.Scan{Text: "selfie"}.JPEG()
			must(t, err)
			sh, err := passport.EncryptSubmission(rand.Reader, &kyc.PrivateKey().PublicKey, link.Request.Nonce, []passport.PlainElement{
				{Type: passport.TypePersonalDetails, Fields: map[string]string{
					"first_name": "Ada", "last_name": "Lovelace", "birth_date": "10.12.1990", "gender": "female",
					"country_code": "GB", "residence_country_code": "GB",
				}},
				{Type: passport.TypePassport, Fields: map[string]string{"document_no": "X1234567", "expiry_date": tc.expiry},
					FrontSide: front, Selfie: selfie},
			})
			must(t, err)
			for id, b := range sh.Files {
				f.addFile(id, string(b))
			}
			data, err := sh.Submission.MarshalBotAPI()
			must(t, err)
			raw := fmt.Sprintf(`{"update_id":1,"message":{"message_id":40,%s,%s,"date":1700000000,"passport_data":%s}}`, adaFrom, privateChat, data)
			if taken, err := botapi.Take(ctx, kyc, []byte(raw)); !taken || err != nil {
				t.Fatalf("Take = %v, %v", taken, err)
			}
			if !testkit.Eventually(30*time.Second, func() bool { return len(f.called("editMessageText")) > 0 }) {
				t.Fatalf("no verdict; calls %v", f.called(""))
			}
			if n := len(f.called("getFile")); n != 2 {
				t.Errorf("%d getFile calls, want the two scans", n)
			}
			edit := f.called("editMessageText")[0]
			for _, c := range f.called("") {
				t.Logf("%s %.300s", c.Method, c.JSON())
			}
			received := f.called("sendMessage")[0]
			if got, _ := received.Params["text"].(string); got != kyc.Catalog().Language("en").Text(i18n.MsgSubmissionReceived, nil) {
				t.Errorf("the first message %q, want the received one", got)
			}
			if fmt.Sprint(edit.Params["message_id"]) != "1" {
				t.Errorf("edited message %v, want the received one (1)", edit.Params["message_id"])
			}
			verdict, _ := edit.Params["text"].(string)
			want := kyc.Catalog().Language("en").Text(i18n.MsgResultVerified, nil)
			if (verdict == want) != tc.verified {
				t.Errorf("verdict %q (verified: %q)", verdict, want)
			}
			pe := f.called("setPassportDataErrors")
			if tc.verified {
				if len(pe) != 0 {
					t.Errorf("setPassportDataErrors of a verified submission: %v", pe)
				}
				return
			}
			if !testkit.Eventually(10*time.Second, func() bool { pe = f.called("setPassportDataErrors"); return len(pe) > 0 }) {
				t.Fatal("no setPassportDataErrors")
			}
			errs, _ := pe[0].Params["errors"].([]any)
			if fmt.Sprint(pe[0].Params["user_id"]) != "1001" || len(errs) != 1 {
				t.Fatalf("setPassportDataErrors %s", pe[0].JSON())
			}
			e := errs[0].(map[string]any)
			if e["source"] != "data" || e["type"] != "passport" || e["field_name"] != "expiry_date" || e["data_hash"] == "" {
				t.Errorf("the error %v, want the passport's expiry date", e)
			}
		})
	}
}
