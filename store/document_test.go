package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDocumentNormalize(t *testing.T) {
	tests := []struct {
		name                 string
		in                   DocumentKey
		country, typ, number string // empty: ErrInvalid
	}{
		{"as is", DocumentKey{"DE", "passport", "C01X00T47"}, "DE", "passport", "C01X00T47"},
		{"lower case", DocumentKey{"de", "Passport", "c01x00t47"}, "DE", "passport", "C01X00T47"},
		{"spaces around", DocumentKey{" de ", " passport ", "  C01X00T47 "}, "DE", "passport", "C01X00T47"},
		{"separators", DocumentKey{"FR", "identity_card", "ab-12 345/6.7"}, "FR", "identity_card", "AB1234567"},
		{"tab and no-break space", DocumentKey{"FR", "identity_card", "AB\t12\u00a034"}, "FR", "identity_card", "AB1234"},
		{"en dash and minus-like dashes", DocumentKey{"US", "driver_license", "D123\u2013456\u2010789"}, "US", "driver_license", "D123456789"},
		{"non-ASCII letters", DocumentKey{"RU", "internal_passport", "45 06 №123 ä"}, "RU", "internal_passport", "4506№123Ä"},
		{"64 characters", DocumentKey{"DE", "passport", strings.Repeat("7", 64) + "---"}, "DE", "passport", strings.Repeat("7", 64)},
		{"empty number", DocumentKey{"DE", "passport", ""}, "", "", ""},
		{"only separators", DocumentKey{"DE", "passport", " - / . "}, "", "", ""},
		{"65 characters", DocumentKey{"DE", "passport", strings.Repeat("7", 65)}, "", "", ""},
		{"control character", DocumentKey{"DE", "passport", "C01\x00X00"}, "", "", ""},
		{"invalid UTF-8", DocumentKey{"DE", "passport", "C01\xffX00"}, "", "", ""},
		{"alpha-3 country", DocumentKey{"DEU", "passport", "C01X00T47"}, "", "", ""},
		{"digit in country", DocumentKey{"D1", "passport", "C01X00T47"}, "", "", ""},
		{"no country", DocumentKey{"", "passport", "C01X00T47"}, "", "", ""},
		{"type with space", DocumentKey{"DE", "id card", "C01X00T47"}, "", "", ""},
		{"no type", DocumentKey{"DE", "", "C01X00T47"}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			country, typ, number, err := tt.in.normalize()
			if tt.number == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("normalize(%q) = %q %q %q, %v; want ErrInvalid", tt.in, country, typ, number, err)
				}
				if tt.in.Number != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in.Number)) {
					t.Errorf("error %q holds the number", err)
				}
				return
			}
			if err != nil || country != tt.country || typ != tt.typ || number != tt.number {
				t.Fatalf("normalize(%q) = %q %q %q, %v; want %q %q %q", tt.in, country, typ, number, err, tt.country, tt.typ, tt.number)
			}
		})
	}
}

func TestClaimDocument(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const alice, bob int64 = 6001, 6002
	doc := DocumentKey{Country: "DE", Type: "passport", Number: "C01X00T47"}

	// Alice claims her passport; claiming it again, written differently,
	// is fine.
	for _, d := range []DocumentKey{doc, {"de", "PASSPORT", "c01x-00t 47"}, doc} {
		owner, err := s.Documents().Claim(ctx, d, alice)
		if err != nil || owner != alice {
			t.Fatalf("Claim(%v, alice) = %d, %v; want alice", d, owner, err)
		}
	}
	// Bob cannot, however he writes it.
	for _, d := range []DocumentKey{doc, {" De", "passport", "C01X.00T/47"}} {
		owner, err := s.Documents().Claim(ctx, d, bob)
		if !errors.Is(err, ErrDocumentTaken) || owner != alice {
			t.Fatalf("Claim(%v, bob) = %d, %v; want alice, ErrDocumentTaken", d, owner, err)
		}
		if strings.Contains(strings.ToUpper(err.Error()), "C01X") || strings.Contains(err.Error(), "00T") {
			t.Fatalf("error %q holds the number", err)
		}
	}
	// The same number from another country or of another type is another
	// document.
	for _, d := range []DocumentKey{{"AT", "passport", doc.Number}, {"DE", "identity_card", doc.Number}} {
		if owner, err := s.Documents().Claim(ctx, d, bob); err != nil || owner != bob {
			t.Fatalf("Claim(%v, bob) = %d, %v; want bob", d, owner, err)
		}
	}

	// Keys hold a keyed hash: neither the number nor its plain hash.
	plain := sha256.Sum256([]byte("kycbot document v1\x00DE\x00passport\x00C01X00T47"))
	dh := documentHash(testDocKey, "DE", "passport", "C01X00T47")
	var docKeys int
	for _, k := range allKeys(t, c, s.Prefix()) {
		v := dumpKey(t, c, k)
		for _, bad := range []string{"C01X00T47", "c01x00t47", "C01X", hex.EncodeToString(plain[:])} {
			if strings.Contains(k, bad) || strings.Contains(v, bad) {
				t.Errorf("key %s (%s) holds the number or its plain hash", k, v)
			}
		}
		if strings.HasPrefix(k, s.key("doc:")) {
			docKeys++
		}
	}
	if docKeys != 3 {
		t.Errorf("%d document keys, want 3", docKeys)
	}
	if got := c.Get(ctx, s.key("doc:"+dh)).Val(); got != strconv.FormatInt(alice, 10) {
		t.Errorf("document key holds %q, want alice's ID", got)
	}
	// Without a retention, claims do not expire.
	if ttl := c.PTTL(ctx, s.key("doc:"+dh)).Val(); ttl != -1 {
		t.Errorf("document key TTL %v, want none", ttl)
	}
	// Bob's failed claim left nothing in his index.
	if m := c.SMembers(ctx, s.userKey(bob, "docs")).Val(); len(m) != 2 {
		t.Errorf("bob's index %v, want his 2 documents", m)
	}
}

func TestClaimDocumentConcurrent(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	doc := DocumentKey{Country: "PT", Type: "identity_card", Number: "12345678 9 ZZ1"}
	const n = 20
	owners := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := New(c, WithPrefix(s.Prefix()), WithDocumentKey(testDocKey))
			<-start
			owners[i], errs[i] = other.Documents().Claim(ctx, doc, int64(7000+i))
		}()
	}
	close(start)
	wg.Wait()
	winners := 0
	var owner int64
	for i := range n {
		switch {
		case errs[i] == nil:
			winners++
			owner = int64(7000 + i)
		case !errors.Is(errs[i], ErrDocumentTaken):
			t.Fatalf("user %d: %v", 7000+i, errs[i])
		}
	}
	if winners != 1 {
		t.Fatalf("%d users own the document, want exactly 1", winners)
	}
	for i, o := range owners {
		if o != owner {
			t.Errorf("user %d was told the owner is %d, want %d", 7000+i, o, owner)
		}
	}
	for i := range n {
		m := c.SMembers(ctx, s.userKey(int64(7000+i), "docs")).Val()
		if want := int64(7000+i) == owner; (len(m) == 1) != want {
			t.Errorf("user %d's index %v (owner: %t)", 7000+i, m, want)
		}
	}
}

func TestClaimDocumentKey(t *testing.T) {
	c := needRedis(t)
	prefix := testPrefix(t, c)
	ctx := context.Background()
	doc := DocumentKey{Country: "DE", Type: "passport", Number: "C01X00T47"}
	for name, opts := range map[string][]Option{
		"no key":         nil,
		"31-byte key":    {WithDocumentKey(make([]byte, 31))},
		"key then empty": {WithDocumentKey(testDocKey), WithDocumentKey(nil)},
	} {
		s := New(c, append([]Option{WithPrefix(prefix)}, opts...)...)
		_, err := s.Documents().Claim(ctx, doc, 1)
		if !errors.Is(err, ErrDocumentKey) {
			t.Errorf("%s: error %v, want ErrDocumentKey", name, err)
		}
	}
	if keys := allKeys(t, c, prefix); len(keys) != 0 {
		t.Errorf("a claim without a key wrote %v", keys)
	}

	// The store keeps its own copy of the key, and another key is another
	// set of claims.
	key := append([]byte(nil), testDocKey...)
	s1 := New(c, WithPrefix(prefix), WithDocumentKey(key))
	key[0] ^= 1
	s2 := New(c, WithPrefix(prefix), WithDocumentKey(key))
	if _, err := s1.Documents().Claim(ctx, doc, 1); err != nil {
		t.Fatal(err)
	}
	if owner, err := s2.Documents().Claim(ctx, doc, 2); err != nil || owner != 2 {
		t.Fatalf("another key: %d, %v; want a claim of its own", owner, err)
	}
	s3 := New(c, WithPrefix(prefix), WithDocumentKey(testDocKey))
	if owner, err := s3.Documents().Claim(ctx, doc, 3); !errors.Is(err, ErrDocumentTaken) || owner != 1 {
		t.Fatalf("same key, caller's slice changed: %d, %v; want user 1's claim", owner, err)
	}
}

func TestClaimDocumentValidation(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	for name, tt := range map[string]struct {
		doc  DocumentKey
		user int64
	}{
		"zero user":     {DocumentKey{"DE", "passport", "X1"}, 0},
		"bad country":   {DocumentKey{"Germany", "passport", "X1"}, 1},
		"empty number":  {DocumentKey{"DE", "passport", "--"}, 1},
		"long number":   {DocumentKey{"DE", "passport", strings.Repeat("9", 70)}, 1},
		"control chars": {DocumentKey{"DE", "passport", "X1\aX2"}, 1},
	} {
		if _, err := s.Documents().Claim(ctx, tt.doc, tt.user); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", name, err)
		} else if strings.Contains(err.Error(), "999") || strings.Contains(err.Error(), "X1") {
			t.Errorf("%s: error %q holds the number", name, err)
		}
	}
	if keys := allKeys(t, c, s.Prefix()); len(keys) != 0 {
		t.Errorf("invalid claims wrote %v", keys)
	}
}

// Claims live as long as statuses, from the last claim.
func TestClaimDocumentRetention(t *testing.T) {
	s, c := newTestStore(t, WithStatusRetention(time.Hour))
	ctx := context.Background()
	doc := DocumentKey{Country: "DE", Type: "passport", Number: "C01X00T47"}
	if _, err := s.Documents().Claim(ctx, doc, 1); err != nil {
		t.Fatal(err)
	}
	dk := s.key("doc:" + documentHash(testDocKey, "DE", "passport", "C01X00T47"))
	for _, k := range []string{dk, s.userKey(1, "docs")} {
		if ttl := c.PTTL(ctx, k).Val(); ttl < time.Hour-time.Minute || ttl > time.Hour {
			t.Errorf("%s TTL %v, want about an hour", k, ttl)
		}
	}
	// Once the claim is gone (here by a short TTL), another user may
	// claim the document.
	c.PExpire(ctx, dk, time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if owner, err := s.Documents().Claim(ctx, doc, 2); err != nil || owner != 2 {
		t.Fatalf("after expiry: %d, %v; want user 2", owner, err)
	}
	// Deleting user 1 leaves user 2's claim alone.
	if _, err := s.DeleteUser(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if owner, err := s.Documents().Claim(ctx, doc, 3); !errors.Is(err, ErrDocumentTaken) || owner != 2 {
		t.Fatalf("after deleting user 1: %d, %v; want user 2's claim", owner, err)
	}
}
