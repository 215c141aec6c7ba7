package delivery

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/kycbot/kycbot/passport"
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

// stored is what the outbox keeps of an event: the event, and where its
// scans are (Event.Files' sources, in order) for the Sender to mint
// links from at each attempt. Sources never reach the webhook.
type stored struct {
	Event
	Sources []passport.File `json:"kycbot_scan_sources,omitempty"`
}

// Add enqueues ev, sealed at rest: with its scans' descriptions and
// where the scans are (their location at Telegram and file credentials),
// never their bytes. Adding an event ID again (another instance, or the
// same submission processed twice) within 7 days is a no-op. Errors name
// the event ID, never the data; one wrapping store.ErrUnavailable means
// Redis could not be reached and Add can be called again.
func (o *Outbox) Add(ctx context.Context, ev Event) error {
	st := stored{Event: ev}
	for _, f := range ev.Files {
		if f.source == nil {
			return fmt.Errorf("delivery: event %s: scan %s.%s: no source to link to (build events with FromVerified)", ev.EventID, f.Element, f.Target)
		}
		st.Sources = append(st.Sources, *f.source)
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("delivery: encode event %s: %w", ev.EventID, err)
	}
	if err := o.s.Outbox().Enqueue(ctx, store.OutboxEntry{EventID: ev.EventID, UserID: ev.UserID, Kind: ev.Kind, Payload: payload}); err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	return nil
}

// body returns the webhook body of an outbox payload: the payload itself
// for an event without scans (or one queued by an older kycbot, sent as
// it was), else the event with a fresh link per scan, minted by links.
// Its errors are reason codes.
func body(ctx context.Context, links *Links, payload []byte) ([]byte, string) {
	var st stored
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, "bad_payload"
	}
	if len(st.Sources) == 0 {
		return payload, ""
	}
	if len(st.Sources) != len(st.Files) {
		return nil, "bad_payload"
	}
	if links == nil {
		return nil, "no_scan_links"
	}
	for i := range st.Files {
		f := &st.Files[i]
		url, exp, err := links.Mint(ctx, Scan{Element: f.Element, Target: f.Target, MIME: f.MIME, Size: f.Size, SHA256: f.SHA256, File: st.Sources[i]})
		if err != nil {
			return nil, "scan_links_unavailable"
		}
		f.URL, f.ExpiresAt = url, exp
	}
	b, err := json.Marshal(st.Event)
	if err != nil {
		return nil, "bad_payload"
	}
	return b, ""
}
