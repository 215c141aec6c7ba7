package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// Schema is the version of the webhook body. It changes only when a field
// changes meaning or goes away; new fields may be added within a version,
// so receivers should ignore fields they do not know. Version 2 replaced
// the scans' bytes (files[].data, base64) with one-time links
// (files[].url, files[].expires_at). Version 3 writes the dates of the
// data (birth_date, expiry_date) as ISO 8601, YYYY-MM-DD, where versions 1
// and 2 passed Telegram's DD.MM.YYYY on. Events queued by an older kycbot
// are sent as they were queued, with their own version: read Event.Date
// to get a date from any of them.
const Schema = 3

// dateFields are the data fields that hold a date: ISO 8601 (YYYY-MM-DD)
// in the body since schema 3, DD.MM.YYYY (as Telegram Passport writes
// them) before.
var dateFields = []string{"birth_date", "expiry_date"}

// Event kinds (Event.Kind) and decisions (Event.Decision).
const (
	KindVerified     = "verification.verified"
	KindRejected     = "verification.rejected"
	DecisionVerified = "verified"
	DecisionRejected = "rejected"
	// KindReview: the submission passed the rules and waits for an
	// admin's decision (manual review); the decision follows as a
	// verification.verified or verification.rejected event (or none when
	// the admin asks the user to fix something).
	KindReview     = "verification.review"
	DecisionReview = "review"
	// KindNeedsFix: the submission has problems the user can fix; they
	// are asked to share again (Problems has the codes).
	KindNeedsFix     = "verification.needs_fix"
	DecisionNeedsFix = "needs_fix"
	// KindExpired: a verified status ran out (the documents' expiry or
	// the level's re-verification period).
	KindExpired     = "verification.expired"
	DecisionExpired = "expired"
	// KindRevoked: an admin revoked a verified status.
	KindRevoked     = "verification.revoked"
	DecisionRevoked = "revoked"
	// KindErased: everything kept about the user was erased (their
	// /delete_my_data, or an admin's /kyc_delete); the status is none.
	KindErased     = "verification.erased"
	DecisionErased = "erased"
)

// Kinds lists every event kind, in the order of a verification's life.
var Kinds = []string{KindNeedsFix, KindReview, KindVerified, KindRejected, KindExpired, KindRevoked, KindErased}

// decisions maps each kind to its decision.
var decisions = map[string]string{
	KindVerified: DecisionVerified, KindRejected: DecisionRejected, KindReview: DecisionReview,
	KindNeedsFix: DecisionNeedsFix, KindExpired: DecisionExpired, KindRevoked: DecisionRevoked, KindErased: DecisionErased,
}

// Status is the user's status after the event, at its level: the state
// (store.StateVerified, StateRejected, StateReview, StateNeedsFixes, or
// "none" after an erasure; "expired" and "revoked" for those events) and,
// for a verified status, the last day it is valid when known.
type Status struct {
	// Level is the event's level ("" for an erasure: every level).
	Level string `json:"level"`
	// State is the state at the level after the event.
	State string `json:"state"`
	// ValidUntil is the last day a verified status is valid, YYYY-MM-DD
	// (the earliest expiry of the documents); absent when not known.
	ValidUntil string `json:"valid_until,omitempty"`
}

// newStatus is the Status of level and state, valid until until (zero:
// not known).
func newStatus(level, state string, until time.Time) *Status {
	st := &Status{Level: level, State: state}
	if !until.IsZero() {
		st.ValidUntil = until.UTC().Format(time.DateOnly)
	}
	return st
}

// Transition is a change of a user's status to report as an event:
// package bot builds one for each change (needs_fix, erased; expired and
// revoked by the code that makes them) and queues FromTransition's event.
type Transition struct {
	// Kind is one of Kinds.
	Kind   string
	UserID int64
	// Level and Ref are those of the status that changed ("" for an
	// erasure).
	Level, Ref string
	// At is when it changed (default: now).
	At time.Time
	// Key names the change, so that the same change reported again gets
	// the same event ID (the submission's nonce hash, the admin's update,
	// the expiry's schedule): required, 1 to 256 bytes, never personal
	// data.
	Key string
	// State is the user's state after the change (Status.State).
	State string
	// ValidUntil is the last day the status is valid, when known.
	ValidUntil time.Time
	// Problems are the codes of what to fix (KindNeedsFix), or the reason
	// of an expiry or a revocation as one problem's code. Codes only.
	Problems []Problem
}

// FromTransition builds the event of a transition. It fails when the
// kind is not one of Kinds or the transition has no user or key; the
// error says which.
func FromTransition(t Transition) (Event, error) {
	decision, ok := decisions[t.Kind]
	switch {
	case !ok:
		return Event{}, fmt.Errorf("delivery: transition kind %q is not one of %s", t.Kind, strings.Join(Kinds, ", "))
	case t.UserID <= 0:
		return Event{}, fmt.Errorf("delivery: %s transition: no user ID", t.Kind)
	case t.Key == "" || len(t.Key) > 256:
		return Event{}, fmt.Errorf("delivery: %s transition: the key must be 1 to 256 bytes (it names the change, for a stable event ID)", t.Kind)
	}
	problems := t.Problems
	if problems == nil {
		problems = []Problem{}
	}
	return Event{
		Schema: Schema, EventID: NewEventID(t.Kind, t.UserID, t.Key), Kind: t.Kind, Time: eventTime(t.At),
		UserID: t.UserID, Level: t.Level, Ref: t.Ref, Decision: decision, Problems: problems,
		Status: newStatus(t.Level, t.State, t.ValidUntil),
	}, nil
}

// MaxFileSize bounds one scan FromVerified describes in an event
// (Telegram Passport allows 10 MB per file); a larger file is an error.
const MaxFileSize = 20 << 20

// Event is the body of a webhook request: the outcome of one verification,
// as JSON. See docs/webhook.md for an example.
type Event struct {
	// Schema is the body's version: 3 (the constant Schema); 2 or 1 for
	// an event queued by an older kycbot.
	Schema int `json:"schema"`
	// EventID identifies the event: deliveries of the same event (retries,
	// or the same submission processed again) carry the same ID, so the
	// receiver can drop duplicates by it. It is "evt_" and 32 hex digits,
	// derived from the kind, the user ID and the SHA-256 of the request's
	// nonce (see NewEventID). It is also sent as the X-Kycbot-Event-Id
	// header.
	EventID string `json:"event_id"`
	// Kind is one of Kinds: KindVerified ("verification.verified"),
	// KindRejected, KindReview, KindNeedsFix, KindExpired, KindRevoked or
	// KindErased.
	Kind string `json:"kind"`
	// Time is when the submission was accepted or rejected, RFC 3339 in
	// UTC to the second (not when the request is sent: retries keep it).
	Time time.Time `json:"time"`
	// UserID is the Telegram user ID of the user who verified.
	UserID int64 `json:"user_id"`
	// Level is the verification level the user was asked for (a name
	// from the config, such as "basic").
	Level string `json:"level"`
	// Ref is the business's own reference for the user, from the
	// t.me/<bot>?start=<ref> link the user came through; "" without one.
	Ref string `json:"ref"`
	// Decision is the kind's last word: DecisionVerified ("verified"),
	// DecisionRejected, DecisionReview, DecisionNeedsFix, DecisionExpired,
	// DecisionRevoked or DecisionErased.
	Decision string `json:"decision"`
	// Problems are why a submission was rejected: element, target and
	// code of each problem, never the data. Empty (not null) for
	// verified submissions.
	Problems []Problem `json:"problems"`
	// Data is the verified data, when the delivery includes it
	// (delivery.include_data): per element type, exactly the fields the
	// submission holds. Elements with a data object (personal_details,
	// passport, driver_license, identity_card, internal_passport,
	// address) map to their decrypted fields ("first_name",
	// "document_no", "expiry_date", "street_line1", ...), dates
	// (birth_date, expiry_date) as YYYY-MM-DD; phone_number
	// maps to {"phone_number": "<digits>"} and email to
	// {"email": "<address>"}. Elements with scans only are not in Data,
	// but their scans are in Files. Absent when not included.
	Data map[passport.ElementType]map[string]string `json:"data,omitempty"`
	// Status is the user's status after the event, at its level (every
	// event queued by this version; absent in events queued before).
	Status *Status `json:"status,omitempty"`
	// Review says why a submission waits for an admin's decision (events
	// of KindReview only): the review's ID and the reasons' codes
	// ("duplicate", "always", "sample", "screening").
	Review *Review `json:"review,omitempty"`
	// Files describe the scans, when the delivery includes them
	// (delivery.include_files), in the submission's order, each with a
	// one-time link from which to fetch its decrypted bytes (see File).
	// Absent when not included.
	Files []File `json:"files,omitempty"`
}

// Review is the manual review of an event of KindReview.
type Review struct {
	ID      string   `json:"id"`
	Reasons []string `json:"reasons"`
}

// FromReview returns the event of a submission sent to manual review: no
// data, no files, the reasons.
func FromReview(r verification.Review) Event {
	return Event{
		Schema: Schema, EventID: NewEventID(KindReview, r.UserID, r.NonceHash), Kind: KindReview,
		Time: eventTime(r.At), UserID: r.UserID, Level: r.Level, Ref: r.Ref,
		Decision: DecisionReview, Problems: []Problem{}, Review: &Review{ID: r.ID, Reasons: r.Reasons},
		Status: newStatus(r.Level, store.StateReview, time.Time{}),
	}
}

// Problem is one problem of a rejected submission: codes only.
type Problem struct {
	// Element is the element type the problem is about ("passport").
	Element passport.ElementType `json:"element"`
	// Target is the part of the element: "element", "data.<field>",
	// "front_side", "reverse_side", "selfie", "files[<i>]", "files",
	// "translation[<i>]" or "translation".
	Target string `json:"target"`
	// Code says what is wrong ("too_young", "expired"; see package verify
	// for the list).
	Code verify.Code `json:"code"`
}

// File is one scan: what it is, and a one-time link to its decrypted
// bytes. The bytes are never in the event (nor in Redis): the business
// fetches them from URL, once, before ExpiresAt, and checks them against
// Size and SHA256.
type File struct {
	// Element is the element type the scan belongs to ("passport").
	Element passport.ElementType `json:"element"`
	// Target says which scan: "front_side", "reverse_side", "selfie",
	// "files[<i>]" or "translation[<i>]".
	Target string `json:"target"`
	// MIME is the media type of the content, sniffed from it:
	// "image/jpeg" for the scans Telegram apps make.
	MIME string `json:"mime"`
	// Size is the size of the content in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of the content.
	SHA256 string `json:"sha256"`
	// URL is the one-time link to the content: <web.public_url>/passport/
	// scans/<token>. A GET answers the decrypted scan once; afterwards,
	// and after ExpiresAt, it answers 404. Each delivery attempt of the
	// event carries fresh links (Sender mints them); "" in an event not
	// yet sent.
	URL string `json:"url"`
	// ExpiresAt is when URL stops working (delivery.file_link_ttl after
	// the attempt that carried it), RFC 3339 in UTC.
	ExpiresAt time.Time `json:"expires_at"`

	// source is where the scan is, for the links: its location at
	// Telegram and its file credentials. Never in the body.
	source *passport.File
}

// Include says what personal data an event carries besides the outcome
// (config delivery.include_data and delivery.include_files).
type Include struct {
	// Data puts the decrypted fields, phone number and email in Event.Data.
	Data bool
	// Files describes the scans in Event.Files, with one-time links to
	// their decrypted bytes.
	Files bool
}

// Date returns the date in the data field of an element (such as
// personal_details' birth_date, or passport's expiry_date) as midnight
// UTC, in whichever form the event's schema writes it: YYYY-MM-DD from
// schema 3 on, DD.MM.YYYY in events of schema 1 and 2 queued by an older
// kycbot. ok is false when the event has no such date.
func (e Event) Date(el passport.ElementType, field string) (t time.Time, ok bool) {
	v := e.Data[el][field]
	if v == "" {
		return time.Time{}, false
	}
	if e.Schema < 3 {
		d, err := passport.ParseDate(v)
		if err != nil {
			return time.Time{}, false
		}
		return d.Time(), true
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// String describes the event without its data, for logs.
func (e Event) String() string {
	return fmt.Sprintf("event %s (%s, user %d)", e.EventID, e.Kind, e.UserID)
}

// LogValue keeps the data out of logs: only the event ID, kind and user.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(slog.String("event_id", e.EventID), slog.String("kind", e.Kind), slog.Int64("user_id", e.UserID))
}

// NewEventID derives the event ID of an outcome from its kind, the user
// and the hex SHA-256 of the request's nonce (store.Request.NonceHash),
// so that processing the same submission again gives the same ID: "evt_"
// and the first 32 hex digits of a SHA-256 over the three.
func NewEventID(kind string, userID int64, nonceHash string) string {
	h := sha256.New()
	h.Write([]byte("kycbot event id v1\x00" + kind + "\x00" + strconv.FormatInt(userID, 10) + "\x00" + nonceHash))
	return "evt_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// eventTime is t in UTC to the second; the zero time becomes now.
func eventTime(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Second)
}

// FromVerified builds the event of an accepted submission, with the data
// and scans inc asks for. With inc.Files it reads each scan of the
// submission once through v.Open, as a stream, for its size, SHA-256 and
// media type (memory stays bounded whatever the sizes), so call it while
// the OnVerified hook runs; the event keeps where each scan is at
// Telegram (for the Sender's links, sealed in the outbox), never its
// bytes. Its errors name the scan (element and target), never its
// content.
func FromVerified(ctx context.Context, v verification.Verified, inc Include) (Event, error) {
	nh := v.NonceHash
	if nh == "" && v.Submission != nil {
		nh = store.Request{Nonce: v.Submission.Nonce}.NonceHash()
	}
	ev := Event{
		Schema: Schema, EventID: NewEventID(KindVerified, v.UserID, nh), Kind: KindVerified,
		Time: eventTime(v.At), UserID: v.UserID, Level: v.Level, Ref: v.Ref,
		Decision: DecisionVerified, Problems: []Problem{}, Status: newStatus(v.Level, store.StateVerified, v.ValidUntil),
	}
	if inc.Data && v.Submission != nil {
		ev.Data = submissionData(v.Submission)
	}
	if inc.Files {
		files, err := scanFiles(ctx, v)
		if err != nil {
			return Event{}, err
		}
		ev.Files = files
	}
	return ev, nil
}

// submissionData copies the data of every element that has some.
func submissionData(sub *passport.Submission) map[passport.ElementType]map[string]string {
	data := map[passport.ElementType]map[string]string{}
	for _, el := range sub.Elements {
		switch {
		case el.Type == passport.TypePhoneNumber:
			data[el.Type] = map[string]string{"phone_number": el.PhoneNumber}
		case el.Type == passport.TypeEmail:
			data[el.Type] = map[string]string{"email": el.Email}
		case el.Fields != nil:
			fields := maps.Clone(el.Fields)
			for _, name := range dateFields {
				// Verified data holds real dates; anything else (an
				// empty optional date) is passed on as it is.
				if d, err := passport.ParseDate(fields[name]); err == nil {
					fields[name] = d.ISO()
				}
			}
			data[el.Type] = fields
		}
	}
	if len(data) == 0 {
		return nil
	}
	return data
}

// scanFiles describes every scan of v's submission, in its order.
func scanFiles(ctx context.Context, v verification.Verified) ([]File, error) {
	if v.Submission == nil {
		return nil, nil
	}
	scans := verify.Scans(v.Submission)
	files := make([]File, 0, len(scans))
	for _, sc := range scans {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("delivery: reading the scans: %w", err)
		}
		f, err := describeScan(v, sc.Key)
		if err != nil {
			return nil, fmt.Errorf("delivery: scan %s.%s: %w", sc.Key.Element, sc.Key.Target, err)
		}
		f.source = sc.File
		files = append(files, f)
	}
	return files, nil
}

// sniffLen is how much of a scan http.DetectContentType looks at.
const sniffLen = 512

// head keeps the first sniffLen bytes written to it.
type head struct{ b []byte }

func (h *head) Write(p []byte) (int, error) {
	if n := sniffLen - len(h.b); n > 0 {
		h.b = append(h.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// describeScan streams the scan k once: its size, SHA-256 and media type.
func describeScan(v verification.Verified, k verify.ScanKey) (File, error) {
	r, err := v.Open(k)
	if err != nil {
		return File{}, err
	}
	defer r.Close()
	sum, sniff := sha256.New(), &head{b: make([]byte, 0, sniffLen)}
	n, err := io.Copy(io.MultiWriter(sum, sniff), io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return File{}, err
	}
	if n > MaxFileSize {
		return File{}, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	mime := ""
	if info, ok := v.Scans[k]; ok && info.JPEG {
		mime = "image/jpeg"
	} else {
		mime, _, _ = strings.Cut(http.DetectContentType(sniff.b), ";")
	}
	return File{Element: k.Element, Target: k.Target.String(), MIME: mime, Size: n, SHA256: hex.EncodeToString(sum.Sum(nil))}, nil
}

// FromRejected builds the event of a final rejection: the problems' codes,
// no data.
//
// The event ID comes from the user and the request's nonce hash
// (Rejected.NonceHash), like a verified event's, so the same submission
// processed again gives the same ID. A Rejected without a nonce hash gets
// an ID from its user, level, ref, codes and time instead.
func FromRejected(r verification.Rejected) Event {
	at := eventTime(r.At)
	problems := make([]Problem, 0, len(r.Problems))
	for _, p := range r.Problems {
		problems = append(problems, Problem{Element: p.Element, Target: p.Target.String(), Code: p.Code})
	}
	codes := r.Codes
	if len(codes) == 0 {
		for _, p := range r.Problems {
			codes = append(codes, string(p.Code))
		}
	}
	// The nonce hash names the submission, so that the same submission
	// processed again gets the same ID; without one (a Rejected built by
	// hand), what the rejection has stands in.
	basis := r.NonceHash
	if basis == "" {
		basis = "rejected\x00" + r.Level + "\x00" + r.Ref + "\x00" + strings.Join(codes, ",") + "\x00" + strconv.FormatInt(r.At.UnixNano(), 10)
	}
	return Event{
		Schema: Schema, EventID: NewEventID(KindRejected, r.UserID, basis), Kind: KindRejected,
		Time: at, UserID: r.UserID, Level: r.Level, Ref: r.Ref,
		Decision: DecisionRejected, Problems: problems, Status: newStatus(r.Level, store.StateRejected, time.Time{}),
	}
}

// FromNeedsFixes builds the event of a submission sent back to be fixed:
// the problems' codes, no data. Its ID comes from the user and the
// request's nonce hash, as a verified event's.
func FromNeedsFixes(n verification.NeedsFixes) Event {
	problems := make([]Problem, 0, len(n.Problems))
	for _, p := range n.Problems {
		problems = append(problems, Problem{Element: p.Element, Target: p.Target.String(), Code: p.Code})
	}
	return Event{
		Schema: Schema, EventID: NewEventID(KindNeedsFix, n.UserID, n.NonceHash), Kind: KindNeedsFix,
		Time: eventTime(n.At), UserID: n.UserID, Level: n.Level, Ref: n.Ref,
		Decision: DecisionNeedsFix, Problems: problems, Status: newStatus(n.Level, store.StateNeedsFixes, time.Time{}),
	}
}
