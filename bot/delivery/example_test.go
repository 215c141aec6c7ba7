package delivery_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// A webhook receiver: check the signature on the body as received, drop
// events already handled (deliveries are at least once), answer 2xx.
func Example_receiver() {
	secret := []byte("the webhook_secret of the config, 32+ characters")
	var (
		mu   sync.Mutex
		seen = map[string]bool{} // in production: a unique key in your database
	)
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 100<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if err := delivery.Verify(secret, r.Header.Get(delivery.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev delivery.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		// 3 is this kycbot's; 2 and 1 come from events queued by an
		// older one. A newer schema: refuse, so that it comes again once
		// this receiver knows it.
		if ev.Schema < 1 || ev.Schema > delivery.Schema {
			http.Error(w, "unknown schema", http.StatusUnprocessableEntity)
			return
		}
		mu.Lock()
		dup := seen[ev.EventID]
		seen[ev.EventID] = true
		mu.Unlock()
		if !dup {
			fmt.Println("handling", ev.Kind, "of user", ev.UserID, "ref", ev.Ref)
			// Dates of the data, in whichever form the schema writes them.
			if born, ok := ev.Date(passport.TypePersonalDetails, "birth_date"); ok {
				fmt.Println("born on", born.Format(time.DateOnly))
			}
			for _, p := range ev.Problems {
				fmt.Println("problem:", p.Element, p.Target, p.Code)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// What the Sender posts, here made by hand.
	ev := delivery.FromRejected(verification.Rejected{UserID: 42, Level: "basic", Ref: "crm-42", At: time.Now(),
		Problems: []verify.Problem{{Element: passport.TypePersonalDetails, Target: passport.Field("birth_date"), Code: verify.CodeTooYoung, Final: true}}})
	body, _ := json.Marshal(ev)
	post := func(signature string) int {
		req := httptest.NewRequest(http.MethodPost, "/kyc", bytes.NewReader(body))
		req.Header.Set(delivery.SignatureHeader, signature)
		req.Header.Set(delivery.EventIDHeader, ev.EventID)
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		return rec.Code
	}
	fmt.Println(post(delivery.Sign(secret, time.Now(), body)))
	fmt.Println(post(delivery.Sign(secret, time.Now(), body)))                   // a retry: acknowledged, not handled again
	fmt.Println(post(delivery.Sign([]byte("not the secret"), time.Now(), body))) // forged
	fmt.Println(post(delivery.Sign(secret, time.Now().Add(-time.Hour), body)))   // replayed
	// Output:
	// handling verification.rejected of user 42 ref crm-42
	// problem: personal_details data.birth_date too_young
	// 204
	// 204
	// 401
	// 401
}
