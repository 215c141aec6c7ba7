package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// Sample personal data: none of it may reach a log.
var personal = []string{"Johanna", "Sample-Person", "X1234567", "+15550001234", "johanna@example.com", "Sample Street 1"}

func sampleImage(t testing.TB, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		img.Set(x, x%30, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB) []byte {
	return sampleImage(t, func(b *bytes.Buffer, img image.Image) error { return jpeg.Encode(b, img, nil) })
}

func pngBytes(t testing.TB) []byte {
	return sampleImage(t, func(b *bytes.Buffer, img image.Image) error { return png.Encode(b, img) })
}

// sampleFile is where a scan is: a location at Telegram and credentials.
func sampleFile(n int) *passport.File {
	return &passport.File{
		FileRef:     passport.FileRef{ID: int64(n) * 1000003, AccessHash: -int64(n) * 77, DCID: 2, FileID: fmt.Sprintf("file-id-%d", n), Size: 4096},
		Credentials: passport.FileCredentials{FileHash: bytes.Repeat([]byte{byte(n)}, 32), Secret: bytes.Repeat([]byte{byte(n + 100)}, 32)},
	}
}

// sampleVerified is an accepted submission with personal details, a
// passport with front side and selfie, a utility bill with two scans (the
// second a PNG), a phone number and an email; Open reads its scans from
// memory.
func sampleVerified(t testing.TB) (verification.Verified, map[verify.ScanKey][]byte) {
	t.Helper()
	sub := &passport.Submission{
		Nonce: "nonce-of-the-sample-request-0123456789abcdef",
		Elements: []passport.Element{
			{Type: passport.TypePersonalDetails, Fields: map[string]string{
				"first_name": "Johanna", "last_name": "Sample-Person", "birth_date": "01.02.1990",
				"gender": "female", "country_code": "DE", "residence_country_code": "DE",
			}},
			{Type: passport.TypePassport, Fields: map[string]string{"document_no": "X1234567", "expiry_date": "01.01.2031"},
				FrontSide: sampleFile(1), Selfie: sampleFile(2)},
			{Type: passport.TypeUtilityBill, Files: []passport.File{*sampleFile(3), *sampleFile(4)}},
			{Type: passport.TypeAddress, Fields: map[string]string{"street_line1": "Sample Street 1", "city": "Berlin", "country_code": "DE", "post_code": "10115"}},
			{Type: passport.TypePhoneNumber, PhoneNumber: "+15550001234"},
			{Type: passport.TypeEmail, Email: "johanna@example.com"},
		},
	}
	j := jpegBytes(t)
	contents := map[verify.ScanKey][]byte{
		{Element: passport.TypePassport, Target: passport.TargetOf(passport.TargetFrontSide)}: append(slices.Clone(j), 'F'),
		{Element: passport.TypePassport, Target: passport.TargetOf(passport.TargetSelfie)}:    append(slices.Clone(j), 'S'),
		{Element: passport.TypeUtilityBill, Target: passport.FileAt(0)}:                       append(slices.Clone(j), '0'),
		{Element: passport.TypeUtilityBill, Target: passport.FileAt(1)}:                       pngBytes(t),
	}
	return verification.Verified{
		UserID: 424242, Level: "full", Ref: "crm-42",
		At:         time.Date(2026, 3, 14, 12, 30, 45, 678_000_000, time.FixedZone("CET", 3600)),
		Submission: sub,
	}.WithScans(contents), contents
}

func TestFromVerified(t *testing.T) {
	v, contents := sampleVerified(t)
	ctx := context.Background()
	for _, inc := range []Include{{}, {Data: true}, {Files: true}, {Data: true, Files: true}} {
		t.Run(fmt.Sprintf("data=%v,files=%v", inc.Data, inc.Files), func(t *testing.T) {
			ev, err := FromVerified(ctx, v, inc)
			if err != nil {
				t.Fatal(err)
			}
			wantTime := time.Date(2026, 3, 14, 11, 30, 45, 0, time.UTC)
			if ev.Schema != 3 || ev.Kind != KindVerified || ev.Decision != DecisionVerified || ev.UserID != 424242 ||
				ev.Level != "full" || ev.Ref != "crm-42" || !ev.Time.Equal(wantTime) || ev.Time.Location() != time.UTC {
				t.Fatalf("event %+v", ev)
			}
			if ev.Problems == nil || len(ev.Problems) != 0 {
				t.Errorf("problems %v, want empty, not nil", ev.Problems)
			}
			if want := NewEventID(KindVerified, 424242, sha256Hex(v.Submission.Nonce)); ev.EventID != want {
				t.Errorf("event ID %s, want %s", ev.EventID, want)
			}

			body, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			keys := []string{"schema", "event_id", "kind", "time", "user_id", "level", "ref", "decision", "problems", "status"}
			if inc.Data {
				keys = append(keys, "data")
			}
			if inc.Files {
				keys = append(keys, "files")
			}
			if got := slices.Sorted(mapsKeys(raw)); !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
				t.Errorf("body keys %v, want %v", got, keys)
			}
			if string(raw["time"]) != `"2026-03-14T11:30:45Z"` {
				t.Errorf("time %s", raw["time"])
			}
			if string(raw["problems"]) != `[]` {
				t.Errorf("problems %s", raw["problems"])
			}
			if strings.Contains(string(body), "Johanna") != inc.Data {
				t.Errorf("body holds the data: %v, want %v", !inc.Data, inc.Data)
			}

			if inc.Data {
				// Dates as ISO 8601, the other fields as the user wrote them.
				personal := maps.Clone(v.Submission.Elements[0].Fields)
				personal["birth_date"] = "1990-02-01"
				doc := maps.Clone(v.Submission.Elements[1].Fields)
				doc["expiry_date"] = "2031-01-01"
				want := map[passport.ElementType]map[string]string{
					passport.TypePersonalDetails: personal,
					passport.TypePassport:        doc,
					passport.TypeAddress:         v.Submission.Elements[3].Fields,
					passport.TypePhoneNumber:     {"phone_number": "+15550001234"},
					passport.TypeEmail:           {"email": "johanna@example.com"},
				}
				if !reflect.DeepEqual(ev.Data, want) {
					t.Errorf("data %v, want %v", ev.Data, want)
				}
				var round map[string]map[string]string
				if err := json.Unmarshal(raw["data"], &round); err != nil || round["passport"]["document_no"] != "X1234567" || round["email"]["email"] != "johanna@example.com" ||
					round["personal_details"]["birth_date"] != "1990-02-01" || round["passport"]["expiry_date"] != "2031-01-01" {
					t.Errorf("data in JSON %s: %v", raw["data"], err)
				}
				// A copy: changing the event leaves the submission alone.
				ev.Data[passport.TypePassport]["document_no"] = "changed"
				if v.Submission.Elements[1].Fields["document_no"] != "X1234567" {
					t.Error("the event shares the submission's maps")
				}
			} else if ev.Data != nil {
				t.Errorf("data %v, want none", ev.Data)
			}

			if !inc.Files {
				if ev.Files != nil {
					t.Errorf("files %v, want none", ev.Files)
				}
				return
			}
			wantOrder := []string{"passport.front_side", "passport.selfie", "utility_bill.files[0]", "utility_bill.files[1]"}
			var order []string
			for _, f := range ev.Files {
				order = append(order, string(f.Element)+"."+f.Target)
			}
			if !slices.Equal(order, wantOrder) {
				t.Fatalf("files %v, want %v", order, wantOrder)
			}
			var jsonFiles []map[string]any
			if err := json.Unmarshal(raw["files"], &jsonFiles); err != nil {
				t.Fatal(err)
			}
			for i, f := range ev.Files {
				var key verify.ScanKey
				for k := range contents {
					if k.Element == f.Element && k.Target.String() == f.Target {
						key = k
					}
				}
				content := contents[key]
				sum := sha256.Sum256(content)
				wantMIME := "image/jpeg"
				if f.Target == "files[1]" {
					wantMIME = "image/png"
				}
				if f.Size != int64(len(content)) || f.SHA256 != hex.EncodeToString(sum[:]) || f.MIME != wantMIME {
					t.Errorf("file %s.%s: size %d sha256 %s mime %s", f.Element, f.Target, f.Size, f.SHA256, f.MIME)
				}
				if f.source == nil {
					t.Errorf("file %s.%s: no source to link to", f.Element, f.Target)
				}
				// The scan's description and a link (minted when sent),
				// never its bytes.
				jf := jsonFiles[i]
				if got := slices.Sorted(mapsKeys(jf)); !slices.Equal(got, []string{"element", "expires_at", "mime", "sha256", "size", "target", "url"}) {
					t.Errorf("file %d in JSON has the keys %v", i, got)
				}
				if jf["sha256"] != f.SHA256 || jf["mime"] != wantMIME || jf["size"] != float64(len(content)) ||
					jf["element"] != string(f.Element) || jf["target"] != f.Target {
					t.Errorf("file %d in JSON: %v", i, jf)
				}
			}
		})
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The same submission gives the same event ID; another nonce, user or
// kind another one.
func TestEventIDStable(t *testing.T) {
	v, _ := sampleVerified(t)
	ctx := context.Background()
	a, _ := FromVerified(ctx, v, Include{})
	v.At = v.At.Add(time.Hour)
	b, _ := FromVerified(ctx, v, Include{Data: true})
	if a.EventID != b.EventID {
		t.Fatalf("same submission: %s and %s", a.EventID, b.EventID)
	}
	ids := map[string]bool{a.EventID: true}
	for _, id := range []string{
		NewEventID(KindVerified, v.UserID+1, sha256Hex(v.Submission.Nonce)),
		NewEventID(KindVerified, v.UserID, sha256Hex("another nonce")),
		NewEventID(KindRejected, v.UserID, sha256Hex(v.Submission.Nonce)),
	} {
		if ids[id] {
			t.Fatalf("event ID %s repeats", id)
		}
		ids[id] = true
	}
	if len(a.EventID) != 36 || !strings.HasPrefix(a.EventID, "evt_") {
		t.Fatalf("event ID %q", a.EventID)
	}
}

func TestFromVerifiedMissingScan(t *testing.T) {
	v, contents := sampleVerified(t)
	// The passport's scans are described but cannot be opened.
	scans := v.Scans
	for k := range contents {
		if k.Element == passport.TypePassport {
			delete(contents, k)
		}
	}
	v = v.WithScans(contents)
	v.Scans = scans
	if _, err := FromVerified(context.Background(), v, Include{Data: true}); err != nil {
		t.Fatalf("without files: %v", err)
	}
	_, err := FromVerified(context.Background(), v, Include{Files: true})
	if err == nil || !strings.Contains(err.Error(), "scan passport.") {
		t.Fatalf("missing scan: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FromVerified(ctx, v, Include{Files: true}); err == nil {
		t.Fatal("cancelled context: no error")
	}
}

func TestFromRejected(t *testing.T) {
	r := verification.Rejected{
		UserID: 77, Level: "basic", Ref: "r1", At: time.Date(2026, 3, 14, 9, 0, 0, 500, time.UTC),
		Problems: []verify.Problem{
			{Element: passport.TypePersonalDetails, Target: passport.Field("birth_date"), Code: verify.CodeTooYoung,
				Params: map[string]string{"min_age": "18", "age": "16"}, Final: true},
			{Element: passport.TypePassport, Target: passport.TargetOf(passport.TargetSelfie), Code: verify.CodeMissingSelfie},
		},
		Codes: []string{"too_young", "missing_selfie"},
	}
	ev := FromRejected(r)
	want := Event{
		Schema: 3, EventID: ev.EventID, Kind: KindRejected, Time: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC),
		UserID: 77, Level: "basic", Ref: "r1", Decision: DecisionRejected, Status: &Status{Level: "basic", State: "rejected"},
		Problems: []Problem{
			{Element: "personal_details", Target: "data.birth_date", Code: "too_young"},
			{Element: "passport", Target: "selfie", Code: "missing_selfie"},
		},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("event\n%+v\nwant\n%+v", ev, want)
	}
	if !strings.HasPrefix(ev.EventID, "evt_") || FromRejected(r).EventID != ev.EventID {
		t.Fatalf("event ID %q not stable", ev.EventID)
	}
	body, _ := json.Marshal(ev)
	if strings.Contains(string(body), "min_age") || strings.Contains(string(body), `"16"`) || strings.Contains(string(body), "data\":") {
		t.Fatalf("body holds more than codes: %s", body)
	}
	r2 := r
	r2.At = r.At.Add(time.Minute)
	if FromRejected(r2).EventID == ev.EventID {
		t.Fatal("two rejections share an event ID")
	}
	// With the nonce hash the ID names the submission: processed again
	// later, it is the same event.
	r.NonceHash, r2.NonceHash = sha256Hex("n1"), sha256Hex("n1")
	if FromRejected(r).EventID != FromRejected(r2).EventID {
		t.Fatal("the same submission rejected twice got two event IDs")
	}
	if r2.NonceHash = sha256Hex("n2"); FromRejected(r).EventID == FromRejected(r2).EventID {
		t.Fatal("two submissions share an event ID")
	}
}

// Printing or logging an event shows no data.
func TestEventNotLogged(t *testing.T) {
	v, _ := sampleVerified(t)
	ev, err := FromVerified(context.Background(), v, Include{Data: true, Files: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", slog.Any("event", ev))
	out := buf.String() + fmt.Sprint(ev) + fmt.Sprintf("%v %+v %s", ev, ev, ev)
	for _, p := range personal {
		if strings.Contains(out, p) {
			t.Fatalf("%q printed: %s", p, out)
		}
	}
	if !strings.Contains(buf.String(), ev.EventID) {
		t.Fatalf("log lacks the event ID: %s", buf.String())
	}
}

func TestOutboxKey(t *testing.T) {
	a := OutboxKey(testSecret)
	if len(a) != 32 || !bytes.Equal(a, OutboxKey(bytes.Clone(testSecret))) {
		t.Fatalf("key %x not 32 bytes or not stable", a)
	}
	if bytes.Equal(a, OutboxKey([]byte("another secret of thirty-two bytes!!"))) {
		t.Fatal("two secrets, one key")
	}
	if bytes.Contains(a, testSecret[:8]) {
		t.Fatal("the key shows the secret")
	}
	// Fixed: a change would strand every pending entry.
	if got := hex.EncodeToString(OutboxKey([]byte("secret"))); got != outboxKeySecret {
		t.Fatalf("OutboxKey(\"secret\") = %s, want %s", got, outboxKeySecret)
	}
}

// outboxKeySecret is HKDF-SHA256(secret "secret", no salt, info "kycbot
// outbox key v1", 32 bytes), computed with Python's hmac module.
const outboxKeySecret = "c088bed9ae149851a50f88385c7e021cb798a1ddea36e3be6c1beb14c58b78d1"

// TestEventDate reads a date of the data from events of every schema a
// receiver may get: ISO 8601 from schema 3 on, Telegram's DD.MM.YYYY in
// events queued by an older kycbot.
func TestEventDate(t *testing.T) {
	want := time.Date(1990, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		schema int
		value  string
		ok     bool
	}{
		{3, "1990-02-01", true},
		{2, "01.02.1990", true},
		{1, "01.02.1990", true},
		{3, "01.02.1990", false},
		{2, "1990-02-01", false},
		{3, "", false},
		{3, "1990-02-30", false},
	} {
		ev := Event{Schema: tt.schema, Data: map[passport.ElementType]map[string]string{
			passport.TypePersonalDetails: {"birth_date": tt.value},
		}}
		got, ok := ev.Date(passport.TypePersonalDetails, "birth_date")
		if ok != tt.ok || ok && !got.Equal(want) || !ok && !got.IsZero() {
			t.Errorf("schema %d, %q: Date = %v, %v", tt.schema, tt.value, got, ok)
		}
	}
	if _, ok := (Event{Schema: 3}).Date(passport.TypePassport, "expiry_date"); ok {
		t.Error("a date from an event without data")
	}
}

// TestQueuedBeforeSchema3: an event queued by an older kycbot is sent as it
// was queued: its schema, its dates as DD.MM.YYYY.
func TestQueuedBeforeSchema3(t *testing.T) {
	payload := []byte(`{"schema":2,"event_id":"evt_72311439c1c5ba04a28840c5ac57404a","kind":"verification.verified",` +
		`"time":"2026-03-14T12:30:45Z","user_id":1,"level":"basic","ref":"","decision":"verified","problems":[],` +
		`"data":{"personal_details":{"birth_date":"01.02.1990"}}}`)
	got, reason := body(context.Background(), nil, payload)
	if reason != "" || !bytes.Equal(got, payload) {
		t.Errorf("body = %s (%s), want the payload as queued", got, reason)
	}
}

func TestFromReview(t *testing.T) {
	r := verification.Review{UserID: 77, Level: "basic", Ref: "r1", At: time.Date(2026, 3, 14, 9, 0, 0, 500, time.UTC),
		ID: "r0123456789abcdef", NonceHash: sha256Hex("n1"), Reasons: []string{"duplicate", "sample"}}
	ev := FromReview(r)
	want := Event{
		Schema: 3, EventID: ev.EventID, Kind: KindReview, Time: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC),
		UserID: 77, Level: "basic", Ref: "r1", Decision: DecisionReview, Problems: []Problem{},
		Review: &Review{ID: "r0123456789abcdef", Reasons: []string{"duplicate", "sample"}},
		Status: &Status{Level: "basic", State: "review"},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Fatalf("event\n%+v\nwant\n%+v", ev, want)
	}
	// Stable by submission, and not the ID of the decision's event.
	if FromReview(r).EventID != ev.EventID || NewEventID(KindVerified, 77, r.NonceHash) == ev.EventID {
		t.Fatalf("event ID %q", ev.EventID)
	}
	body, _ := json.Marshal(ev)
	if !strings.Contains(string(body), `"review":{"id":"r0123456789abcdef","reasons":["duplicate","sample"]}`) || strings.Contains(string(body), `"data"`) {
		t.Fatalf("body %s", body)
	}
}
