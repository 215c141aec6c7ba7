package handlers_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
)

// printBadger prints what a transport would ask of Telegram.
type printBadger struct{}

func (printBadger) SetBadge(_ context.Context, to handlers.User, description string) error {
	fmt.Printf("bots.setCustomVerification user %d: %q\n", to.ID, description)
	return nil
}

func (printBadger) RemoveBadge(_ context.Context, to handlers.User) error {
	fmt.Printf("bots.setCustomVerification user %d: off\n", to.ID)
	return nil
}

// A verified user gets the bot's badge, described in the catalog's
// default language, and loses it when the verification ends.
func ExampleBadges() {
	cat, err := i18n.New()
	if err != nil {
		panic(err)
	}
	b := &handlers.Badges{Telegram: printBadger{}, Catalog: cat, Titles: map[string]string{"full": "Full KYC"}}
	b.Grant(context.Background(), handlers.User{ID: 42}, "full", time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC))
	b.Remove(context.Background(), handlers.User{ID: 42})
	// Output:
	// bots.setCustomVerification user 42: "Identity verified: Full KYC, valid until 1 Jan 2035"
	// bots.setCustomVerification user 42: off
}
