package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/store"
)

// examplePrefix returns a random key prefix for an example, and what
// deletes its keys at the end.
func examplePrefix(ctx context.Context, client *redis.Client) (string, func()) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "kycbot-example:" + hex.EncodeToString(b) + ":"
	return prefix, func() {
		keys, _ := client.Keys(ctx, prefix+"*").Result()
		for _, k := range keys {
			client.Del(ctx, k)
		}
	}
}

// A user starts verification; the bot's page shows the request, the
// submission comes back with the nonce, and a replay of the same nonce is
// refused. (Needs Redis on 127.0.0.1:6379; the example's keys live under a
// random prefix and are deleted at the end.)
func ExampleRequests_Issue() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	prefix, cleanup := examplePrefix(ctx, client)
	defer cleanup()
	s := store.New(client, store.WithPrefix(prefix))

	// /start crm-1234
	req, err := s.Requests().Issue(ctx, store.RequestParams{UserID: 42, ChatID: 42, Level: "basic", Lang: "en", Ref: "crm-1234"}, 30*time.Minute)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ID and nonce lengths:", len(req.ID), len(req.Nonce))

	// The request page looks the request up by its ID.
	page, err := s.Requests().Get(ctx, req.ID)
	fmt.Println("page finds the request:", err == nil && page.Nonce == req.Nonce)

	// Another user cannot use the nonce, and does not burn it.
	_, err = s.Requests().Consume(ctx, req.Nonce, 43)
	fmt.Println("other user:", errors.Is(err, store.ErrNonceOtherUser))

	// The submission of user 42 consumes it once.
	got, err := s.Requests().Consume(ctx, req.Nonce, 42)
	fmt.Println("first consume:", err, got.Ref)
	_, err = s.Requests().Consume(ctx, req.Nonce, 42)
	fmt.Println("second consume is a replay:", errors.Is(err, store.ErrNonceUsed))
	// Output:
	// ID and nonce lengths: 22 43
	// page finds the request: true
	// other user: true
	// first consume: <nil> crm-1234
	// second consume is a replay: true
}

// The audit trail: events keyed under the audit key, a user named by a
// pseudonym that erasure unlinks, and a head to anchor elsewhere. (Needs
// Redis on 127.0.0.1:6379.)
func ExampleAuditTrail_Verify() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	prefix, cleanup := examplePrefix(ctx, client)
	defer cleanup()
	auditKey := []byte("32 bytes the bot derives, not Redis") // bot.AuditKey(privateKey)
	s := store.New(client, store.WithPrefix(prefix), store.WithAuditKey(auditKey[:32]))
	audit := s.Audit()

	_ = audit.Append(ctx, store.Event{Kind: "verified", UserID: 42, Level: "basic", Ref: "crm-1234"})
	head, _ := audit.Head(ctx) // record head.Hash elsewhere
	show := func() {
		_ = audit.Events(ctx, func(e store.RecordedEvent) error {
			fmt.Printf("%s user %d ref %q\n", e.Kind, e.UserID, e.Ref)
			return nil
		}, 42)
	}
	show()
	_, _ = s.DeleteUser(ctx, 42)
	show()
	sum, err := audit.Verify(ctx, head.Hash)
	fmt.Println("verified:", sum.Events, "events", err)
	// Output:
	// verified user 42 ref "crm-1234"
	// verified user 0 ref ""
	// deleted user 0 ref ""
	// verified: 2 events <nil>
}

// One passport, two Telegram accounts: the second account's claim of the
// document (and of the person) is refused, and names the first; the
// refused account keeps no claim. (Needs Redis on 127.0.0.1:6379.)
func ExampleDocuments_ClaimAll() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	prefix, cleanup := examplePrefix(ctx, client)
	defer cleanup()
	// The bot derives the key from its Passport key (bot.DocumentKey).
	s := store.New(client, store.WithPrefix(prefix), store.WithDocumentKey([]byte("a secret of at least 32 bytes...")))

	passport := store.DocumentKey{Country: "DE", Type: "passport", Number: "C01X00T47"}
	person := store.PersonKey{Names: []string{"Erika", "Mustermann"}, BirthDate: "12.08.1964"}
	owner, err := s.Documents().ClaimAll(ctx, 1001, passport, person)
	fmt.Println("first account:", owner, err)

	card := store.DocumentKey{Country: "DE", Type: "identity_card", Number: "L01X00T47"}
	owner, err = s.Documents().ClaimAll(ctx, 2002, card, store.DocumentKey{Country: "de", Type: "passport", Number: "c01x-00t47"})
	fmt.Println("second account refused:", errors.Is(err, store.ErrDocumentTaken), "owner:", owner)

	owner, err = s.Documents().Claim(ctx, card, 3003)
	fmt.Println("the card stayed free:", owner, err)
	// Output:
	// first account: 1001 <nil>
	// second account refused: true owner: 1001
	// the card stayed free: 3003 <nil>
}
