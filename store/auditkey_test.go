package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// sha256Link is how a version 1 record is linked.
func sha256Link(rec []byte) string {
	sum := sha256.Sum256(rec)
	return hex.EncodeToString(sum[:])
}

// rebuildAudit rewrites every event with change and relinks the whole
// chain with link, head included: what someone with write access to Redis
// but without the audit key can do.
func rebuildAudit(t *testing.T, s *Store, c redis.UniversalClient, change func(*auditRecord), link func([]byte) string) {
	t.Helper()
	ctx := context.Background()
	prev := ""
	rewriteAudit(t, s, c, func(msgs []redis.XMessage) []redis.XMessage {
		for i, m := range msgs {
			var r auditRecord
			if err := json.Unmarshal([]byte(m.Values["e"].(string)), &r); err != nil {
				t.Fatal(err)
			}
			r.Prev = prev
			change(&r)
			e, _ := json.Marshal(r)
			prev = link(e)
			msgs[i] = redis.XMessage{ID: m.ID, Values: map[string]any{"e": string(e), "prev": r.Prev, "hash": prev}}
		}
		return msgs
	})
	if err := c.Set(ctx, s.auditKey("head"), prev, 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// A chain rebuilt consistently without the audit key does not verify.
func TestAuditRebuiltWithoutKey(t *testing.T) {
	wrong, _ := newAuditKeys(bytes.Repeat([]byte{9}, 32), "test key")
	tests := []struct {
		name   string
		change func(*auditRecord)
		link   func([]byte) string
		want   string
	}{
		{"SHA-256 links", func(r *auditRecord) { r.Kind = "rejected" }, sha256Link, "does not match its content under the audit key"},
		{"another key, its id", func(r *auditRecord) { r.Kind = "rejected"; r.KID = wrong.id }, wrong.link, "neither the current audit key"},
		{"another key, the right id", func(r *auditRecord) { r.Kind = "rejected" }, wrong.link, "does not match its content under the audit key"},
		{"as records from before keying", func(r *auditRecord) { r.V, r.KID, r.UserID, r.User = 1, "", 666, "" }, sha256Link, "no event of the chain is keyed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newTestStore(t)
			auditSome(t, s, 4)
			rebuildAudit(t, s, c, tt.change, tt.link)
			_, err := s.Audit().Verify(context.Background())
			var ae *AuditError
			if !errors.As(err, &ae) || !errors.Is(err, ErrAuditBroken) || !strings.Contains(ae.Reason, tt.want) {
				t.Fatalf("Verify error %v, want an AuditError saying %q", err, tt.want)
			}
		})
	}
}

func TestAuditKeyRequired(t *testing.T) {
	c := needRedis(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	for name, opts := range map[string][]Option{
		"no key":               {WithPrefix(prefix)},
		"short key":            {WithPrefix(prefix), WithAuditKey(testAuditKey[:16])},
		"short previous key":   {WithPrefix(prefix), WithAuditKey(testAuditKey, []byte("short"))},
		"key given, then none": {WithPrefix(prefix), WithAuditKey(testAuditKey), WithAuditKey(nil)},
	} {
		s := New(c, opts...)
		if err := s.Audit().Append(ctx, Event{Kind: "issued", UserID: 1}); !errors.Is(err, ErrAuditKey) {
			t.Errorf("%s: Append error %v, want ErrAuditKey", name, err)
		}
		if _, err := s.Audit().Verify(ctx); !errors.Is(err, ErrAuditKey) {
			t.Errorf("%s: Verify error %v, want ErrAuditKey", name, err)
		}
	}
	if keys := allKeys(t, c, prefix); len(keys) != 0 {
		t.Errorf("without a key, Redis got %v", keys)
	}
}

// After a rotation, events keyed with the previous key verify and
// resolve when it is given, and name it when it is not.
func TestAuditKeyRotation(t *testing.T) {
	old := bytes.Repeat([]byte{3}, 32)
	s, c := newTestStore(t, WithAuditKey(old))
	ctx := context.Background()
	if err := s.Audit().Append(ctx, Event{Kind: "verified", UserID: 41, Ref: "crm-41"}); err != nil {
		t.Fatal(err)
	}
	rotated := New(c, WithPrefix(s.Prefix()), WithAuditKey(testAuditKey, old))
	if err := rotated.Audit().Append(ctx, Event{Kind: "verified", UserID: 41, Ref: "crm-41b"}); err != nil {
		t.Fatal(err)
	}
	if sum, err := rotated.Audit().Verify(ctx); err != nil || sum.Events != 2 {
		t.Fatalf("Verify with both keys = %+v, %v", sum, err)
	}
	var refs []string
	var kids []string
	if err := rotated.Audit().Events(ctx, func(e RecordedEvent) error {
		if e.UserID == 41 {
			refs = append(refs, e.Ref)
		}
		kids = append(kids, e.KeyID)
		return nil
	}, 41); err != nil {
		t.Fatal(err)
	}
	if strings.Join(refs, ",") != "crm-41,crm-41b" || kids[0] == kids[1] {
		t.Errorf("refs %v under keys %v, want both resolved, under two keys", refs, kids)
	}
	newOnly := New(c, WithPrefix(s.Prefix()), WithAuditKey(testAuditKey))
	_, err := newOnly.Audit().Verify(ctx)
	var ae *AuditError
	if !errors.As(err, &ae) || !strings.Contains(ae.Reason, "give the previous Passport key") {
		t.Errorf("Verify without the previous key: %v, want it named", err)
	}
}

// Erasure unlinks every event about the user, and the chain still
// verifies.
func TestAuditErasureUnlinks(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const erased, kept, admin = 51234567, 51234568, 777
	for _, ev := range []Event{
		{Kind: "request_issued", UserID: erased, Level: "basic", Ref: "crm-9f8e7d", Detail: map[string]string{"nonce_hash": "3f2a"}},
		{Kind: "verified", UserID: kept, Level: "basic", Ref: "crm-kept"},
		{Kind: "admin_status", UserID: erased, Actor: admin},
		{Kind: "verified", UserID: erased, Level: "basic", Ref: "crm-9f8e7d"},
	} {
		if err := s.Audit().Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	var before []RecordedEvent
	if err := s.Audit().Events(ctx, func(e RecordedEvent) error { before = append(before, e); return nil }, erased, kept, admin); err != nil {
		t.Fatal(err)
	}
	if len(before) != 4 || before[0].UserID != erased || before[0].Ref != "crm-9f8e7d" || before[2].Actor != admin || before[1].UserID != kept {
		t.Fatalf("events before erasure %+v, want the users resolved", before)
	}
	if _, err := s.DeleteUser(ctx, erased); err != nil {
		t.Fatal(err)
	}
	if sum, err := s.Audit().Verify(ctx); err != nil || sum.Events != 5 {
		t.Fatalf("Verify after erasure = %+v, %v; want 5 events", sum, err)
	}
	var after []RecordedEvent
	if err := s.Audit().Events(ctx, func(e RecordedEvent) error { after = append(after, e); return nil }, erased, kept, admin); err != nil {
		t.Fatal(err)
	}
	for i, e := range after {
		if e.UserID == erased || e.Ref == "crm-9f8e7d" {
			t.Errorf("event %d still resolves to the erased user: %+v", i, e)
		}
	}
	if after[1].UserID != kept || after[1].Ref != "crm-kept" || after[2].Actor != admin || after[4].Kind != "deleted" || after[4].UserPseudonym == "" {
		t.Errorf("events after erasure %+v, want the others resolved and a deleted event", after)
	}
	// Nothing in Redis names the user or the ref, and nothing in Redis
	// makes the pseudonyms computable: the user's key is gone, and no
	// value of Redis taken as the user's key gives them.
	uid := strconv.FormatInt(erased, 10)
	pseudonyms := map[string]bool{}
	for _, e := range after {
		if e.UserID != kept && e.UserPseudonym != "" {
			pseudonyms[e.UserPseudonym] = true
		}
	}
	for _, k := range allKeys(t, c, s.Prefix()) {
		if strings.Contains(k, uid) {
			t.Errorf("key %s names the user", k)
		}
		for _, v := range redisValues(t, c, k) {
			if strings.Contains(v, uid) || strings.Contains(v, "crm-9f8e7d") {
				t.Errorf("%s holds the user ID or ref: %q", k, v)
			}
			if pseudonyms[s.auditCur.pseudonym([]byte(v), erased)] {
				t.Errorf("%s holds a key that computes the user's pseudonym", k)
			}
		}
	}
}

// redisValues returns every string a key holds (fields and values).
func redisValues(t *testing.T, c redis.UniversalClient, k string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	switch c.Type(ctx, k).Val() {
	case "string":
		out = append(out, c.Get(ctx, k).Val())
	case "hash":
		for f, v := range c.HGetAll(ctx, k).Val() {
			out = append(out, f, v)
		}
	case "set":
		out = append(out, c.SMembers(ctx, k).Val()...)
	case "zset":
		out = append(out, c.ZRange(ctx, k, 0, -1).Val()...)
	case "stream":
		for _, m := range c.XRange(ctx, k, "-", "+").Val() {
			for f, v := range m.Values {
				out = append(out, f, v.(string))
			}
		}
	}
	return out
}

// Events from before keying verify as SHA-256 links, counted apart, and
// only before the keyed ones.
func TestAuditUnkeyedRecords(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	prev := ""
	for i := range 3 {
		e, _ := json.Marshal(auditRecord{V: 1, Prev: prev, Time: 1700000000000 + int64(i), Kind: "verified", UserID: 1000, Ref: "crm-old"})
		h := sha256Link(e)
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.auditKey("stream"), Values: []any{"e", string(e), "prev", prev, "hash", h}}).Err(); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	c.Set(ctx, s.auditKey("head"), prev, 0)
	if _, err := s.Audit().Verify(ctx); !errors.Is(err, ErrAuditBroken) {
		t.Errorf("Verify of a chain with no keyed event: %v, want it broken", err)
	}
	if err := s.Audit().Append(ctx, Event{Kind: "verified", UserID: 1000}); err != nil {
		t.Fatal(err)
	}
	if sum, err := s.Audit().Verify(ctx); err != nil || sum != (AuditSummary{Events: 4, Unkeyed: 3}) {
		t.Fatalf("Verify = %+v, %v; want 4 events, 3 unkeyed", sum, err)
	}
	var got []RecordedEvent
	if err := s.Audit().Events(ctx, func(e RecordedEvent) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if got[0].UserID != 1000 || got[0].Ref != "crm-old" || got[0].KeyID != "" || got[3].KeyID != s.auditCur.id {
		t.Errorf("events %+v", got)
	}
	// An unkeyed event after a keyed one is a forgery.
	e, _ := json.Marshal(auditRecord{V: 1, Prev: c.Get(ctx, s.auditKey("head")).Val(), Time: 1700000000009, Kind: "verified", UserID: 666})
	c.XAdd(ctx, &redis.XAddArgs{Stream: s.auditKey("stream"), Values: []any{"e", string(e), "prev", c.Get(ctx, s.auditKey("head")).Val(), "hash", sha256Link(e)}})
	c.Set(ctx, s.auditKey("head"), sha256Link(e), 0)
	var ae *AuditError
	if _, err := s.Audit().Verify(ctx); !errors.As(err, &ae) || !strings.Contains(ae.Reason, "after keyed events") {
		t.Errorf("Verify with an unkeyed event after keyed ones: %v", err)
	}
}

// The head, recorded elsewhere, is found again by Verify while the chain
// holds it, and not once the chain was cut back before it.
func TestAuditHeadAnchor(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	if _, err := s.Audit().Head(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head of an empty trail: %v, want ErrNotFound", err)
	}
	auditSome(t, s, 3)
	h, err := s.Audit().Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := c.XRevRangeN(ctx, s.auditKey("stream"), "+", "-", 1).Result()
	if h.EventID != last[0].ID || h.Hash != last[0].Values["hash"] || h.KeyID != s.auditCur.id || h.At.IsZero() {
		t.Fatalf("Head = %+v, want the last event %v", h, last[0])
	}
	auditSome(t, s, 2)
	if _, err := s.Audit().Verify(ctx, h.Hash); err != nil {
		t.Fatalf("Verify with the anchor: %v", err)
	}
	// Another hash: the first digit changed (a fixed "00" prefix was the
	// head's own once in 256 runs).
	other := map[bool]string{true: "1", false: "0"}[h.Hash[0] == '0'] + h.Hash[1:]
	if _, err := s.Audit().Verify(ctx, other); !errors.Is(err, ErrAuditBroken) {
		t.Errorf("Verify with an anchor never in the chain: %v, want it broken", err)
	}
	// Cut back to before the anchor, the head moved back: only the anchor
	// tells.
	msgs := rewriteAudit(t, s, c, func(m []redis.XMessage) []redis.XMessage { return m[:2] })
	c.Set(ctx, s.auditKey("head"), msgs[1].Values["hash"], 0)
	if _, err := s.Audit().Verify(ctx); err != nil {
		t.Fatalf("Verify without the anchor: %v", err)
	}
	var ae *AuditError
	if _, err := s.Audit().Verify(ctx, h.Hash); !errors.As(err, &ae) || !strings.Contains(ae.Reason, "anchored head") {
		t.Errorf("Verify with the anchor after a cut: %v", err)
	}
}

// FuzzOpenRef: a sealed ref from Redis, whatever it holds, opens or is
// refused; it never panics, and only what sealRef sealed opens.
func FuzzOpenRef(f *testing.F) {
	k, _ := newAuditKeys(testAuditKey, "test key")
	userKey := bytes.Repeat([]byte{5}, 32)
	s := New(nil)
	sealed, err := s.sealRef(k, userKey, 42, "crm-42")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, int64(42))
	f.Add("", int64(0))
	f.Add("!!not base64", int64(42))
	f.Add(sealed[:10], int64(42))
	f.Fuzz(func(t *testing.T, sref string, uid int64) {
		ref, ok := openRef(k, userKey, uid, sref)
		if ok && (uid != 42 || ref != "crm-42") {
			t.Fatalf("opened %q from %q for user %d", ref, sref, uid)
		}
	})
}
