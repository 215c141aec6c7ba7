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

func TestPersonKeyNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   PersonKey
		want string // empty: ErrInvalid
	}{
		{"as is", PersonKey{[]string{"Ada", "Lovelace"}, "10.12.1815"}, "ADA\x00LOVELACE\x001815-12-10"},
		{"order and case", PersonKey{[]string{"LOVELACE", "ada"}, "10.12.1815"}, "ADA\x00LOVELACE\x001815-12-10"},
		{"accents, hyphens, apostrophes", PersonKey{[]string{"Anna-María", "O'Neill"}, "1.2.1990"}, "ANNAMARIA\x00ONEILL\x001990-02-01"},
		{"empty middle name left out", PersonKey{[]string{"Ada", "", "Lovelace"}, "10.12.1815"}, "ADA\x00LOVELACE\x001815-12-10"},
		{"native script", PersonKey{[]string{"Иван", "Петров"}, "29.02.2000"}, "ИВАН\x00ПЕТРОВ\x002000-02-29"},
		{"one name", PersonKey{[]string{"Ada"}, "10.12.1815"}, ""},
		{"names without letters", PersonKey{[]string{"--", "'"}, "10.12.1815"}, ""},
		{"no date", PersonKey{[]string{"Ada", "Lovelace"}, ""}, ""},
		{"date that does not exist", PersonKey{[]string{"Ada", "Lovelace"}, "29.02.2001"}, ""},
		{"ISO date", PersonKey{[]string{"Ada", "Lovelace"}, "1815-12-10"}, ""},
		{"signed day", PersonKey{[]string{"Ada", "Lovelace"}, "+1.12.1815"}, ""},
		{"invalid UTF-8", PersonKey{[]string{"Ada\xff", "Lovelace"}, "10.12.1815"}, ""},
		{"too long", PersonKey{[]string{strings.Repeat("a", 600), strings.Repeat("b", 600)}, "10.12.1815"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.normalize()
			if tt.want == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("normalize = %q, %v; want ErrInvalid", got, err)
				}
				for _, n := range tt.in.Names {
					if len(n) > 2 && strings.Contains(err.Error(), n) {
						t.Errorf("error %q holds a name", err)
					}
				}
				if tt.in.BirthDate != "" && strings.Contains(err.Error(), tt.in.BirthDate) {
					t.Errorf("error %q holds the date", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("normalize = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzPersonKey(f *testing.F) {
	f.Add("Ada", "Lovelace", "10.12.1815")
	f.Add("Anna-María", "O'Neill", "1.2.1990")
	f.Add("", "\xff", "31.02.2000")
	f.Fuzz(func(t *testing.T, a, b, date string) {
		p := PersonKey{Names: []string{a, b}, BirthDate: date}
		c, err := p.normalize()
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// Swapping the names changes nothing, and normalizing is stable.
		if c2, err := (PersonKey{Names: []string{b, a}, BirthDate: date}).normalize(); err != nil || c2 != c {
			t.Fatalf("swapped names: %q, %v; want %q", c2, err, c)
		}
	})
}

// ClaimAll claims all or nothing: a user refused for one document keeps
// no claim of the others.
func TestClaimAll(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const alice, bob, carol int64 = 6101, 6102, 6103
	passportA := DocumentKey{"DE", "passport", "C01X00T47"}
	personA := PersonKey{Names: []string{"Erika", "Mustermann"}, BirthDate: "12.08.1964"}
	if owner, err := s.Documents().ClaimAll(ctx, alice, passportA, personA); err != nil || owner != alice {
		t.Fatalf("alice: %d, %v", owner, err)
	}
	// Bob shows a new identity card and Alice's passport: refused, and the
	// identity card stays free.
	cardB := DocumentKey{"DE", "identity_card", "L01X00T47"}
	owner, err := s.Documents().ClaimAll(ctx, bob, cardB, passportA)
	if !errors.Is(err, ErrDocumentTaken) || owner != alice {
		t.Fatalf("bob: %d, %v; want alice, ErrDocumentTaken", owner, err)
	}
	if m := c.SMembers(ctx, s.userKey(bob, "docs")).Val(); len(m) != 0 {
		t.Errorf("bob's index %v after a refusal, want empty", m)
	}
	if owner, err := s.Documents().Claim(ctx, cardB, carol); err != nil || owner != carol {
		t.Fatalf("carol claims the card bob was refused with: %d, %v", owner, err)
	}
	// The same person with another document, written differently: refused
	// as Alice's.
	other := PersonKey{Names: []string{"MUSTERMANN", "Érika"}, BirthDate: "12.8.1964"}
	if owner, err := s.Documents().ClaimAll(ctx, bob, DocumentKey{"DE", "passport", "C99"}, other); !errors.Is(err, ErrDocumentTaken) || owner != alice {
		t.Fatalf("same person: %d, %v; want alice", owner, err)
	}
	// Alice again: her claims hold, nothing to undo.
	if owner, err := s.Documents().ClaimAll(ctx, alice, personA, passportA); err != nil || owner != alice {
		t.Fatalf("alice again: %d, %v", owner, err)
	}
	// An invalid fingerprint writes nothing.
	if _, err := s.Documents().ClaimAll(ctx, bob, DocumentKey{"DE", "passport", "X1"}, PersonKey{Names: []string{"Bob"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid person: %v, want ErrInvalid", err)
	}
	if m := c.SMembers(ctx, s.userKey(bob, "docs")).Val(); len(m) != 0 {
		t.Errorf("bob's index %v, want empty", m)
	}
	// Erasing Alice releases the document and the person.
	if _, err := s.DeleteUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if owner, err := s.Documents().ClaimAll(ctx, bob, passportA, other); err != nil || owner != bob {
		t.Fatalf("after alice's erasure: %d, %v; want bob", owner, err)
	}
	// Nothing holds a name or the date.
	for _, k := range allKeys(t, c, s.Prefix()) {
		v := dumpKey(t, c, k)
		for _, bad := range []string{"MUSTERMANN", "Mustermann", "1964"} {
			if strings.Contains(k, bad) || strings.Contains(v, bad) {
				t.Errorf("key %s (%s) holds %q", k, v, bad)
			}
		}
	}
}

// After a rotation of the document key, claims recorded under the
// previous key still refuse another user.
func TestClaimDocumentPreviousKey(t *testing.T) {
	before, c := newTestStore(t)
	prefix := before.Prefix()
	ctx := context.Background()
	oldKey, newKey := testDocKey, []byte("a new document key, 32 bytes...!")
	doc := DocumentKey{"DE", "passport", "C01X00T47"}
	if _, err := before.Documents().Claim(ctx, doc, 1); err != nil {
		t.Fatal(err)
	}
	after := New(c, WithPrefix(prefix), WithAuditKey(testAuditKey), WithDocumentKey(newKey, oldKey))
	if owner, err := after.Documents().Claim(ctx, doc, 2); !errors.Is(err, ErrDocumentTaken) || owner != 1 {
		t.Fatalf("after the rotation, user 2: %d, %v; want user 1's claim", owner, err)
	}
	if owner, err := after.Documents().Claim(ctx, doc, 1); err != nil || owner != 1 {
		t.Fatalf("after the rotation, the owner: %d, %v", owner, err)
	}
	// Without the previous key, the claim is forgotten.
	forgot := New(c, WithPrefix(prefix), WithDocumentKey([]byte("yet another key, 32 bytes long..")))
	if owner, err := forgot.Documents().Claim(ctx, doc, 2); err != nil || owner != 2 {
		t.Fatalf("without the previous key: %d, %v; want user 2", owner, err)
	}
	// Erasing user 1 releases the claims under both keys.
	if _, err := after.DeleteUser(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if owner, err := after.Documents().Claim(ctx, doc, 3); err != nil || owner != 3 {
		t.Fatalf("after erasing user 1: %d, %v; want user 3", owner, err)
	}
}
