package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

func auditSome(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		ev := Event{
			Kind: "verified", UserID: int64(1000 + i), Level: "basic", Ref: "crm-" + string(rune('a'+i)),
			Codes: []string{"ok"}, Detail: map[string]string{"nonce_hash": "3f2a", "element": "passport"},
		}
		if err := s.Audit().Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditChainVerifies(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	if sum, err := s.Audit().Verify(ctx); err != nil || sum.Events != 0 {
		t.Fatalf("empty trail: %+v %v", sum, err)
	}
	auditSome(t, s, 5)
	sum, err := s.Audit().Verify(ctx)
	if err != nil || sum != (AuditSummary{Events: 5}) {
		t.Fatalf("Verify = %+v, %v; want 5 events, nil", sum, err)
	}
	msgs, _ := c.XRange(ctx, s.auditKey("stream"), "-", "+").Result()
	if msgs[0].Values["prev"] != "" {
		t.Fatalf("first event names a previous one: %v", msgs[0].Values)
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Values["prev"] != msgs[i-1].Values["hash"] {
			t.Fatalf("event %d does not chain", i)
		}
	}
	// The canonical encoding is stable JSON with sorted detail keys.
	e := msgs[0].Values["e"].(string)
	if !strings.Contains(e, `"detail":{"element":"passport","nonce_hash":"3f2a"}`) {
		t.Fatalf("canonical encoding %s", e)
	}
}

// TestAuditOnce: an event ID is appended once, whatever the number of
// calls and the other events between them; the chain stays valid.
func TestAuditOnce(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	ev := Event{Kind: "verified", UserID: 7, Level: "basic", Detail: map[string]string{"nonce_hash": "3f2a"}}
	calls := []struct {
		id   string // "" for a plain Audit
		kind string
	}{
		{"verified:3f2a", "verified"},
		{"verified:3f2a", "verified"},
		{"", "issued"},
		{"verified:3f2a", "verified"},
		{"verified:9b1c", "verified"},
		{"", "issued"},
	}
	for i, c := range calls {
		e := ev
		e.Kind = c.kind
		var err error
		if c.id == "" {
			err = s.Audit().Append(ctx, e)
		} else {
			err = s.Audit().AppendOnce(ctx, e, c.id)
		}
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	var kinds []string
	if err := s.Audit().Events(ctx, func(e RecordedEvent) error { kinds = append(kinds, e.Kind); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"verified", "issued", "verified", "issued"}; strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if sum, err := s.Audit().Verify(ctx); err != nil || sum.Events != 4 {
		t.Errorf("Verify = %+v, %v; want 4, nil", sum, err)
	}
	for _, id := range []string{"", "a b", strings.Repeat("a", 129)} {
		if err := s.Audit().AppendOnce(ctx, ev, id); !errors.Is(err, ErrInvalid) {
			t.Errorf("AppendOnce with ID %q: error %v, want ErrInvalid", id, err)
		}
	}
}

func TestAuditValidation(t *testing.T) {
	s, _ := newTestStore(t)
	for name, ev := range map[string]Event{
		"no kind":             {UserID: 1},
		"kind with space":     {Kind: "a b"},
		"name in detail":      {Kind: "x", Detail: map[string]string{"name": "John Smith"}},
		"email in detail key": {Kind: "x", Detail: map[string]string{"john@example.com": "1"}},
		"date in code":        {Kind: "x", Codes: []string{"born 1990/01/01"}},
		"bad ref":             {Kind: "x", Ref: "a/b"},
		"negative user":       {Kind: "x", UserID: -1},
	} {
		if err := s.Audit().Append(context.Background(), ev); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// rewriteAudit replaces the audit stream with edit's result, keeping IDs,
// as an attacker with a raw client would.
func rewriteAudit(t *testing.T, s *Store, c redis.UniversalClient, edit func([]redis.XMessage) []redis.XMessage) []redis.XMessage {
	t.Helper()
	ctx := context.Background()
	key := s.auditKey("stream")
	msgs, err := c.XRange(ctx, key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	msgs = edit(msgs)
	c.Del(ctx, key)
	for _, m := range msgs {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: m.ID, Values: []any{"e", m.Values["e"], "prev", m.Values["prev"], "hash", m.Values["hash"]}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return msgs
}

func rehash(m redis.XMessage, change func(*auditRecord)) redis.XMessage {
	var r auditRecord
	_ = json.Unmarshal([]byte(m.Values["e"].(string)), &r)
	change(&r)
	e, _ := json.Marshal(r)
	sum := sha256.Sum256(e)
	return redis.XMessage{ID: m.ID, Values: map[string]any{"e": string(e), "prev": r.Prev, "hash": hex.EncodeToString(sum[:])}}
}

func TestAuditTamper(t *testing.T) {
	tests := []struct {
		name    string
		edit    func([]redis.XMessage) []redis.XMessage
		badAt   int // index (in the edited stream) of the event reported
		wantN   int
		forgery bool // append a forged event with XADD instead
	}{
		{"content changed, hash kept", func(m []redis.XMessage) []redis.XMessage {
			m[2].Values["e"] = strings.Replace(m[2].Values["e"].(string), `"verified"`, `"rejected"`, 1)
			return m
		}, 2, 2, false},
		{"content changed, link recomputed with SHA-256", func(m []redis.XMessage) []redis.XMessage {
			m[2] = rehash(m[2], func(r *auditRecord) { r.Kind = "rejected" })
			return m
		}, 2, 2, false},
		{"middle event removed", func(m []redis.XMessage) []redis.XMessage {
			return append(m[:1:1], m[2:]...)
		}, 1, 1, false},
		{"first event removed", func(m []redis.XMessage) []redis.XMessage {
			return m[1:]
		}, 0, 0, false},
		{"two events swapped", func(m []redis.XMessage) []redis.XMessage {
			m[1].ID, m[2].ID = m[2].ID, m[1].ID
			m[1], m[2] = m[2], m[1]
			return m
		}, 1, 1, false},
		{"last event removed", func(m []redis.XMessage) []redis.XMessage {
			return m[:len(m)-1]
		}, 3, 4, false}, // reported at the new last event: the head names another
		{"prev field edited to match", func(m []redis.XMessage) []redis.XMessage {
			m[3].Values["prev"] = "00"
			return m
		}, 3, 3, false},
		{"forged event appended", nil, 5, 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newTestStore(t)
			ctx := context.Background()
			auditSome(t, s, 5)
			var msgs []redis.XMessage
			if tt.forgery {
				msgs, _ = c.XRange(ctx, s.auditKey("stream"), "-", "+").Result()
				forged := rehash(msgs[4], func(r *auditRecord) { r.Kind = "verified"; r.UserID = 666; r.Prev = "deadbeef" })
				id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: s.auditKey("stream"), Values: forged.Values}).Result()
				if err != nil {
					t.Fatal(err)
				}
				msgs = append(msgs, redis.XMessage{ID: id})
			} else {
				msgs = rewriteAudit(t, s, c, tt.edit)
			}
			sum, err := s.Audit().Verify(ctx)
			n := sum.Events
			var ae *AuditError
			if !errors.Is(err, ErrAuditBroken) || !errors.As(err, &ae) {
				t.Fatalf("Verify error %v, want an AuditError", err)
			}
			if ae.EventID != msgs[tt.badAt].ID || n != tt.wantN {
				t.Fatalf("broken at %s after %d events (%v), want %s after %d", ae.EventID, n, err, msgs[tt.badAt].ID, tt.wantN)
			}
		})
	}
}

// Instances auditing at once still build one chain.
func TestAuditConcurrent(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const workers, each = 2, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := New(c, WithPrefix(s.Prefix()), WithAuditKey(testAuditKey))
			for i := range each {
				if err := st.Audit().Append(ctx, Event{Kind: "issued", UserID: int64(w*1000 + i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	sum, err := s.Audit().Verify(ctx)
	if n := sum.Events; err != nil || n != workers*each {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, workers*each)
	}
}
