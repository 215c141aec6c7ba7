package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram/updates"
)

func TestDeleteUser(t *testing.T) {
	for name, opts := range map[string][]Option{
		"keep forever": nil,
		"retention":    {WithStatusRetention(time.Hour), WithAuditRetention(time.Hour)},
	} {
		t.Run(name, func(t *testing.T) { testDeleteUser(t, opts...) })
	}
}

func testDeleteUser(t *testing.T, opts ...Option) {
	s, c := newTestStore(t, opts...)
	ctx := context.Background()
	const (
		user  int64 = 7700112233
		other int64 = 8800445566
		self  int64 = 9900000001
		ref         = "crm-ref-7Qx9"
	)
	uid := strconv.FormatInt(user, 10)

	// Everything the store can keep about a user, and the same for another
	// user who must stay untouched.
	var secrets []string // strings that must be gone: request IDs, nonces, their hashes
	for _, u := range []int64{user, other} {
		var reqs []Request
		for range 3 { // the first two are superseded
			r, err := s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic", Ref: ref + strconv.FormatInt(u%10, 10)}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, r)
		}
		if _, err := s.Requests().Consume(ctx, reqs[1].Nonce, u); !errors.Is(err, ErrNonceSuperseded) {
			t.Fatal(err)
		}
		if u == user {
			for _, r := range reqs {
				secrets = append(secrets, r.ID, r.Nonce, r.NonceHash())
			}
		}
		if err := s.Prefs().SetLanguage(ctx, u, "pt-BR"); err != nil {
			t.Fatal(err)
		}
		if err := s.Prefs().SetRef(ctx, u, ref+strconv.FormatInt(u%10, 10)); err != nil {
			t.Fatal(err)
		}
		for _, level := range []string{"basic", "full"} {
			if err := s.Statuses().Set(ctx, Status{UserID: u, Level: level, State: StateVerified, Ref: ref, Codes: []string{"ok"}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, kind := range []string{"verified", "rejected", "parked"} {
			ev := OutboxEntry{EventID: "ev-" + strconv.FormatInt(u, 10) + "-" + kind, UserID: u, Kind: kind, Payload: samplePayload}
			if err := s.Outbox().Enqueue(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Sessions().UserAccessHasher().SetUserAccessHash(ctx, self, u, 123456789); err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"passport", "driver_license"} {
			doc := DocumentKey{Country: "DE", Type: typ, Number: "N" + strconv.FormatInt(u, 10)}
			if _, err := s.Documents().Claim(ctx, doc, u); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Two updates of each user in the queue; the user's first is being
	// handled.
	for _, u := range []int64{user, other} {
		for _, msg := range []int{17, 18} {
			item := QueueItem{Key: "m:" + strconv.FormatInt(u, 10) + ":" + strconv.Itoa(msg), UserID: u, Payload: []byte("update"), Keep: time.Hour}
			if _, err := s.Queue().Append(ctx, item); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, err := s.Queue().Read(ctx, "w1", 1, 0, false); err != nil || len(got) != 1 {
		t.Fatalf("read: %v, %v", got, err)
	}
	// The user tries the other user's passport: refused, nothing kept.
	otherDoc := DocumentKey{Country: "DE", Type: "passport", Number: "N" + strconv.FormatInt(other, 10)}
	if _, err := s.Documents().Claim(ctx, otherDoc, user); !errors.Is(err, ErrDocumentTaken) {
		t.Fatal(err)
	}
	// Each user's entries go out one at a time: the first (verified) is
	// parked, the second (rejected) retried, the third waits behind it.
	for round, kind := range []string{"verified", "rejected"} {
		if round > 0 {
			time.Sleep(orderPause + 100*time.Millisecond) // the waiting entries' pause
		}
		ds, err := s.Outbox().Claim(ctx, "c1", time.Minute, 100)
		if err != nil || len(ds) != 2 {
			t.Fatalf("claim %d: %d %v", round, len(ds), err)
		}
		for _, d := range ds {
			switch {
			case d.Kind != kind:
				t.Fatalf("claim %d: %s, want the %s entries", round, d.Kind, kind)
			case kind == "verified":
				err = s.Outbox().Park(ctx, d, "gone")
			default:
				err = s.Outbox().Retry(ctx, d, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Sessions().StateStorage().SetState(ctx, self, updates.State{Pts: 1, Qts: 1, Date: 1, Seq: 1}); err != nil {
		t.Fatal(err)
	}

	deleted, err := s.DeleteUser(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	// request, index, status, documents index, preferences, 3 nonce
	// tombstones, 3+3 routing keys, 2 document keys, 3 outbox entries (2
	// pending + 1 parked), 3 kept events with their list and the order
	// list, 2 queue entries, 1 access hash.
	if want := 5 + 3 + 6 + 2 + 3 + 5 + 2 + 1; deleted != want {
		t.Errorf("deleted %d records, want %d", deleted, want)
	}

	docKeys := 0
	for _, k := range allKeys(t, c, s.Prefix()) {
		if strings.Contains(k, uid) {
			t.Errorf("key %s names the user", k)
		}
		v := dumpKey(t, c, k)
		if strings.HasPrefix(k, s.key("doc:")) {
			docKeys++
			if v != strconv.FormatInt(other, 10) {
				t.Errorf("document key %s holds %q: only the other user's documents may remain", k, v)
			}
		}
		if k == s.auditKey("stream") {
			// Only the deletion event, with the user's pseudonym and nothing else.
			msgs, _ := c.XRange(ctx, k, "-", "+").Result()
			if len(msgs) != 1 || msgs[0].Values["e"] == nil || !strings.Contains(msgs[0].Values["e"].(string), `"kind":"deleted","user":"`) ||
				strings.Contains(msgs[0].Values["e"].(string), uid) {
				t.Errorf("audit trail %v, want one deletion event, without the user ID", msgs)
			}
			continue
		}
		if strings.Contains(v, uid) {
			t.Errorf("key %s holds the user ID: %s", k, v)
		}
		if strings.Contains(v, ref+"3") { // the user's ref (user%10 == 3)
			t.Errorf("key %s holds the user's ref", k)
		}
		for _, sec := range secrets {
			if strings.Contains(k, sec) || strings.Contains(v, sec) {
				t.Errorf("key %s holds a request ID, nonce or nonce hash of the user", k)
			}
		}
	}

	if docKeys != 2 {
		t.Errorf("%d document keys left, want the other user's 2", docKeys)
	}

	// The user is gone from every API.
	if st, _ := s.Statuses().List(ctx, user); len(st) != 0 {
		t.Errorf("statuses left: %v", st)
	}
	if _, found, _ := s.Sessions().UserAccessHasher().GetUserAccessHash(ctx, self, user); found {
		t.Error("access hash left")
	}
	if p, _ := s.Prefs().Get(ctx, user); p != (Prefs{}) {
		t.Errorf("preferences left: %+v", p)
	}
	stats, err := s.Statuses().Stats(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Total["basic"][StateVerified] != 1 || stats.Total["full"][StateVerified] != 1 {
		t.Errorf("totals %v, want only the other user", stats.Total)
	}

	// The other user is untouched.
	if st, _ := s.Statuses().List(ctx, other); len(st) != 2 {
		t.Errorf("other user's statuses: %v", st)
	}
	if _, found, _ := s.Sessions().UserAccessHasher().GetUserAccessHash(ctx, self, other); !found {
		t.Error("other user's access hash gone")
	}
	if p, _ := s.Prefs().Get(ctx, other); p.Lang != "pt-BR" || p.Ref == "" {
		t.Errorf("other user's preferences: %+v", p)
	}
	for u, want := range map[int64]int64{user: 9900000777, other: other} {
		// The user's documents are free again; the other user's are not.
		doc := DocumentKey{Country: "DE", Type: "passport", Number: "N" + strconv.FormatInt(u, 10)}
		if owner, _ := s.Documents().Claim(ctx, doc, 9900000777); owner != want {
			t.Errorf("document of %d: owner %d, want %d", u, owner, want)
		}
	}
	if _, err := s.DeleteUser(ctx, 9900000777); err != nil {
		t.Fatal(err)
	}
	// The user's queued updates are gone (the one being handled too); the
	// other user's stay.
	if n, processing, err := s.Queue().Depth(ctx); err != nil || n != 2 || processing != 0 {
		t.Errorf("queue depth %d (%d being handled), %v; want the other user's 2", n, processing, err)
	}
	if p, k := depth(t, s); p != 2 || k != 1 {
		t.Errorf("outbox depth %d/%d, want the other user's 2/1", p, k)
	}
	if sum, err := s.Audit().Verify(ctx); err != nil || sum.Events != 2 { // both deletions
		t.Errorf("audit: %+v %v", sum, err)
	}
	// A second deletion finds nothing more (but is audited).
	if n, err := s.DeleteUser(ctx, user); err != nil || n != 0 {
		t.Errorf("second DeleteUser = %d, %v", n, err)
	}
}

// TestDeleteUserForgetsAccessHash: for ForgetWindow after DeleteUser the
// user's access hash is not stored again (the notice of the erasure, on
// any instance, would bring it back), other users' are, and once the
// window is over the user's is too.
func TestDeleteUserForgetsAccessHash(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const (
		user  int64 = 7700112299
		other int64 = 8800445599
		self  int64 = 9900000002
	)
	h := s.Sessions().UserAccessHasher()
	for _, u := range []int64{user, other} {
		if err := h.SetUserAccessHash(ctx, self, u, u*3); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	for _, u := range []int64{user, other} { // what the updates manager does next
		if err := h.SetUserAccessHash(ctx, self, u, u*5); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, err := h.GetUserAccessHash(ctx, self, user); err != nil || found {
		t.Errorf("the erased user's access hash was stored again (found %v, %v)", found, err)
	}
	if hash, found, err := h.GetUserAccessHash(ctx, self, other); err != nil || !found || hash != other*5 {
		t.Errorf("other user's access hash %d, %v, %v; want %d", hash, found, err, other*5)
	}
	marker := s.forgetKey(self, user)
	if strings.Contains(marker, strconv.FormatInt(user, 10)) {
		t.Errorf("the marker %q names the user", marker)
	}
	// Keyed: user IDs cannot be tried against it without the key.
	plain := sha256.Sum256([]byte(s.prefix + "forget:" + strconv.FormatInt(user, 10)))
	if strings.HasSuffix(marker, hex.EncodeToString(plain[:16])) {
		t.Errorf("the marker %q is an unkeyed digest of the user ID", marker)
	}
	if other := New(c, WithPrefix(s.prefix), WithQueueKey(bytes.Repeat([]byte{7}, 32))); other.forgetKey(self, user) == marker {
		t.Error("the marker's name does not depend on the queue key")
	}
	if unkeyed := New(c, WithPrefix(s.prefix)); !strings.HasSuffix(unkeyed.forgetKey(self, user), hex.EncodeToString(plain[:16])) {
		t.Error("without a queue key the marker is not the documented SHA-256 digest")
	}
	ttl, err := c.PTTL(ctx, marker).Result()
	if err != nil || ttl <= 0 || ttl > ForgetWindow {
		t.Fatalf("marker TTL %v (%v), want up to %v", ttl, err, ForgetWindow)
	}
	if err := c.Del(ctx, marker).Err(); err != nil { // the window is over
		t.Fatal(err)
	}
	if err := h.SetUserAccessHash(ctx, self, user, user*7); err != nil {
		t.Fatal(err)
	}
	if hash, found, err := h.GetUserAccessHash(ctx, self, user); err != nil || !found || hash != user*7 {
		t.Errorf("after the window: access hash %d, %v, %v; want %d", hash, found, err, user*7)
	}
}
