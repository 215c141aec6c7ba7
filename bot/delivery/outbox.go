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

// OutboxKey derives the 32-byte AES-256 key that seals outbox payloads at
// rest (store.WithOutboxKey) from the webhook secret, with HKDF-SHA256
// and a fixed info string: every instance with the same secret derives
// the same key, and the key reveals nothing of the secret.
//
// Changing the webhook secret changes the key: entries enqueued under the
// old one no longer decrypt (store.ErrOutboxDecrypt) and stay pending.
// Let the outbox drain (Sender.Depth) before rotating the secret.
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
// (store.WithOutboxKey(OutboxKey(secret))).
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
