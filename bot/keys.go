package bot

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"

	"github.com/kycbot/kycbot/store"
)

// HKDF info strings of the keys derived from the Passport private key.
const (
	queueKeyInfo   = "kycbot queue v1"
	sessionKeyInfo = "kycbot session v1"
	messageKeyInfo = "kycbot message ids v1"
	scanLinkInfo   = "kycbot file links v1"
	outboxKeyInfo  = "kycbot outbox v2"
	auditKeyInfo   = "kycbot audit v1"
	docKeyInfo     = "kycbot documents v1"
	reviewKeyInfo  = "kycbot review v1"
	reviewLinkInfo = "kycbot review links v1"
)

// deriveKey derives a 32-byte key from the bot's Passport private key:
// HKDF-SHA256 over the key's PKCS#1 DER with info. Every instance has the
// same key file, hence the same derived keys; whoever lacks the private
// key cannot derive them.
func deriveKey(key *rsa.PrivateKey, info string) []byte {
	k, err := hkdf.Key(sha256.New, x509.MarshalPKCS1PrivateKey(key), nil, info, 32)
	if err != nil {
		// Only a length beyond 255 hash sizes fails.
		panic("bot: hkdf: " + err.Error())
	}
	return k
}

// QueueKey is the key that seals the queue of updates
// (store.WithQueueKey), derived from the Passport private key.
func QueueKey(key *rsa.PrivateKey) []byte { return deriveKey(key, queueKeyInfo) }

// SessionKey is the key that seals the instances' Telegram sessions in
// Redis, derived from the Passport private key.
func SessionKey(key *rsa.PrivateKey) []byte { return deriveKey(key, sessionKeyInfo) }

// AuditKey is the key of the audit chain and of the users' pseudonyms in
// it (store.WithAuditKey), derived from the Passport private key: Redis
// does not hold it, so whoever can only write to Redis cannot rebuild the
// chain.
func AuditKey(key *rsa.PrivateKey) []byte { return deriveKey(key, auditKeyInfo) }

// AuditKeys is the store option of the audit key of the Passport private
// key, with those of the previous Passport keys (after a rotation) to
// verify and read the events keyed with them.
func AuditKeys(key *rsa.PrivateKey, previous ...*rsa.PrivateKey) store.Option {
	prev := make([][]byte, len(previous))
	for i, p := range previous {
		prev[i] = AuditKey(p)
	}
	return store.WithAuditKey(AuditKey(key), prev...)
}

// DocumentKey is the key of the claims of identity documents and persons
// (store.WithDocumentKey), derived from the Passport private key: Redis
// holds only HMACs under it, which whoever lacks the key cannot match to a
// document number or a name.
func DocumentKey(key *rsa.PrivateKey) []byte { return deriveKey(key, docKeyInfo) }

// ReviewKey is the key that seals the submissions kept for manual review
// (store.WithReviewKey), derived from the Passport private key.
func ReviewKey(key *rsa.PrivateKey) []byte { return deriveKey(key, reviewKeyInfo) }

// reviewLinkKey is the key that signs the review links (HMAC-SHA256).
func reviewLinkKey(key *rsa.PrivateKey) []byte { return deriveKey(key, reviewLinkInfo) }

// ScanLinkKey is the key that seals the records of the one-time scan
// links in Redis (store.WithScanLinkKey), derived from the Passport
// private key.
func ScanLinkKey(key *rsa.PrivateKey) []byte { return deriveKey(key, scanLinkInfo) }

// OutboxKey is the key that seals the outbox of webhook deliveries
// (store.WithOutboxKey), derived from the Passport private key. It used to
// be derived from the webhook secret (delivery.OutboxKey), which stranded
// the queued events when the secret changed; the bot gives that key as a
// previous one, so that events queued before the upgrade still go out.
func OutboxKey(key *rsa.PrivateKey) []byte { return deriveKey(key, outboxKeyInfo) }

// derived returns derive of the current key followed by derive of each
// previous key: the current key and the previous keys of a store.With*Key
// option.
func derived(derive func(*rsa.PrivateKey) []byte, current *rsa.PrivateKey, previous []*rsa.PrivateKey) ([]byte, [][]byte) {
	prev := make([][]byte, len(previous))
	for i, k := range previous {
		prev[i] = derive(k)
	}
	return derive(current), prev
}

// MessageIDs turns the idempotency keys of messages (handlers.Message.Key)
// into Telegram random_id values: the same key gives the same random_id in
// every instance, and Telegram sends one message per random_id. The IDs
// are a keyed hash (HMAC-SHA256 under a key derived from the Passport
// private key), so they reveal nothing of the key they come from.
type MessageIDs struct{ key []byte }

// NewMessageIDs returns the random_id source of the bot whose Passport
// private key is key.
func NewMessageIDs(key *rsa.PrivateKey) MessageIDs {
	return MessageIDs{key: deriveKey(key, messageKeyInfo)}
}

// RandomID returns the random_id of idempotency key k (never 0).
func (m MessageIDs) RandomID(k string) int64 {
	mac := hmac.New(sha256.New, m.key)
	mac.Write([]byte(k))
	id := int64(binary.LittleEndian.Uint64(mac.Sum(nil)))
	if id == 0 {
		id = 1
	}
	return id
}
