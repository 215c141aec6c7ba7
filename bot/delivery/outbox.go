package delivery

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/kycbot/kycbot/store"
)

// outboxKeyInfo is the HKDF info string of OutboxKey; changing it makes
// every pending entry undecryptable.
const outboxKeyInfo = "kycbot outbox key v1"

// OutboxKey derives a 32-byte AES-256 key from the webhook secret, with
// HKDF-SHA256 and a fixed info string: the key that sealed outbox
// payloads at rest (store.WithOutboxKey) before the bot derived it from
// the Passport private key (bot.OutboxKey). The bot passes it as a
// previous outbox key, so that entries enqueued by older versions still
// open; nothing new is sealed under it.
func OutboxKey(webhookSecret []byte) []byte {
	key, err := hkdf.Key(sha256.New, webhookSecret, nil, outboxKeyInfo, 32)
	if err != nil {
		// Only a length beyond 255 hash sizes fails.
		panic("delivery: hkdf: " + err.Error())
	}
	return key
}

// Outbox enqueues events for the Sender, in Redis: an event added is
// delivered at least once, by whichever instance gets to it.
type Outbox struct {
	s *store.Store
}

// NewOutbox returns an Outbox on s, which needs the outbox key
// (store.WithOutboxKey; the bot's is bot.OutboxKey).
func NewOutbox(s *store.Store) *Outbox { return &Outbox{s: s} }

// Add enqueues ev, sealed at rest. Adding an event ID again (another
// instance, or the same submission processed twice) within 7 days is a
// no-op. Errors name the event ID, never the data; one wrapping
// store.ErrUnavailable means Redis could not be reached and Add can be
// called again.
func (o *Outbox) Add(ctx context.Context, ev Event) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("delivery: encode event %s: %w", ev.EventID, err)
	}
	if err := o.s.Outbox().Enqueue(ctx, store.OutboxEntry{EventID: ev.EventID, UserID: ev.UserID, Kind: ev.Kind, Payload: payload}); err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	return nil
}
