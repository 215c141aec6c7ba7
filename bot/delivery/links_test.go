package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

func TestNewLinks(t *testing.T) {
	st := newStore(t)
	url := func(token string) string { return testLinkBase + token }
	tests := []struct {
		name string
		o    LinkOptions
		want time.Duration // 0: refused
	}{
		{"default TTL", LinkOptions{URL: url}, DefaultLinkTTL},
		{"shortest", LinkOptions{URL: url, TTL: MinLinkTTL}, MinLinkTTL},
		{"longest", LinkOptions{URL: url, TTL: MaxLinkTTL}, MaxLinkTTL},
		{"too short", LinkOptions{URL: url, TTL: time.Second}, 0},
		{"too long", LinkOptions{URL: url, TTL: 48 * time.Hour}, 0},
		{"no URL", LinkOptions{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLinks(st, tt.o)
			if tt.want == 0 {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || l.TTL() != tt.want {
				t.Fatalf("NewLinks: %v, TTL %v; want %v", err, l.TTL(), tt.want)
			}
		})
	}
}

// body turns an outbox payload into the webhook body: verbatim without
// scans, with fresh links with them; never with the scans' sources.
func TestBody(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	links := testLinks(t, st)
	c := testkit.Need(t)
	noKey, err := NewLinks(store.New(c, store.WithPrefix(st.Prefix())), LinkOptions{URL: links.url})
	if err != nil {
		t.Fatal(err)
	}
	v, contents := sampleVerified(t)
	withFiles, err := FromVerified(ctx, v, Include{Data: true, Files: true})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := FromVerified(ctx, v, Include{Data: true})
	if err != nil {
		t.Fatal(err)
	}
	payload := func(ev Event) []byte {
		st := stored{Event: ev}
		for _, f := range ev.Files {
			st.Sources = append(st.Sources, *f.source)
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	full, plainBody := payload(withFiles), payload(bare)
	oneShort := func() []byte {
		var s stored
		_ = json.Unmarshal(full, &s)
		s.Sources = s.Sources[1:]
		b, _ := json.Marshal(s)
		return b
	}()
	for _, content := range contents {
		if bytes.Contains(full, content[:64]) {
			t.Fatal("the outbox payload holds a scan's bytes")
		}
	}
	tests := []struct {
		name    string
		links   *Links
		payload []byte
		reason  string
		links4  bool // the body carries four links
	}{
		{"no scans", links, plainBody, "", false},
		{"no scans, no links", nil, plainBody, "", false},
		{"scans", links, full, "", true},
		{"scans, no links", nil, full, "no_scan_links", false},
		{"scans, links cannot be stored", noKey, full, "scan_links_unavailable", false},
		{"sources do not match the files", links, oneShort, "bad_payload", false},
		{"not JSON", links, []byte("{"), "bad_payload", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, reason := body(ctx, tt.links, tt.payload)
			if reason != tt.reason {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
			if reason != "" {
				return
			}
			if !tt.links4 {
				if !bytes.Equal(b, tt.payload) {
					t.Errorf("body %s, want the payload as it is", b)
				}
				return
			}
			if strings.Contains(string(b), "kycbot_scan_sources") || strings.Contains(string(b), "file-id-") {
				t.Errorf("the body holds the scans' sources: %s", b)
			}
			var ev Event
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			again, _ := body(ctx, tt.links, tt.payload)
			var ev2 Event
			_ = json.Unmarshal(again, &ev2)
			for i, f := range ev.Files {
				if !strings.HasPrefix(f.URL, testLinkBase) || f.ExpiresAt.IsZero() {
					t.Errorf("file %d: link %q expiring %v", i, f.URL, f.ExpiresAt)
				}
				if ev2.Files[i].URL == f.URL {
					t.Errorf("file %d: two attempts, one link", i)
				}
			}
		})
	}
}

func TestLinksTake(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	links := testLinks(t, st)
	v, _ := sampleVerified(t)
	ev, err := FromVerified(ctx, v, Include{Files: true})
	if err != nil {
		t.Fatal(err)
	}
	f := ev.Files[0]
	url, exp, err := links.Mint(ctx, Scan{Element: f.Element, Target: f.Target, MIME: f.MIME, Size: f.Size, SHA256: f.SHA256, File: *f.source})
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(url, testLinkBase)
	sc, err := links.Take(ctx, token)
	if err != nil || sc.SHA256 != f.SHA256 || sc.File.FileID != "file-id-1" || !bytes.Equal(sc.File.Credentials.Secret, f.source.Credentials.Secret) {
		t.Fatalf("Take = %+v, %v", sc, err)
	}
	if !sc.Expires.Equal(exp) {
		t.Errorf("expires %v, minted to expire %v", sc.Expires, exp)
	}
	// Put back after a failed download: it works once more.
	if err := links.Restore(ctx, token, sc); err != nil {
		t.Fatal(err)
	}
	if again, err := links.Take(ctx, token); err != nil || again.SHA256 != sc.SHA256 || !again.Expires.Equal(exp) {
		t.Fatalf("Take after Restore = %+v, %v", again, err)
	}
	if err := links.Restore(ctx, token, Scan{Expires: time.Now().Add(-time.Second)}); !errors.Is(err, ErrLinkNotFound) {
		t.Errorf("Restore of an expired link = %v, want ErrLinkNotFound", err)
	}
	for _, tok := range []string{token, "unknown-token-0123456789abcdef0123456789abcdef", "short"} {
		if _, err := links.Take(ctx, tok); !errors.Is(err, ErrLinkNotFound) {
			t.Errorf("Take(%.8s...) = %v, want ErrLinkNotFound", tok, err)
		}
	}
}
