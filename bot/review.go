package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
	"github.com/kycbot/kycbot/web"
)

// Review is what a WithOnReview hook receives when a submission goes to
// manual review (an alias of verification.Review): UserID, Level, Ref,
// At and NonceHash as in Verified; ID names the review; Reasons are why
// ("duplicate", "always", "sample", "screening"). It holds no personal
// data beyond the user ID. The decision comes later, to WithOnVerified or
// WithOnRejected (or, when the admin asks to fix something, to the user
// only).
type Review = verification.Review

// ReviewLinkTTL is how long the link in an admin's review request works
// (once).
const ReviewLinkTTL = 24 * time.Hour

// reviewFormTTL is how long the review page's form works once its link
// was opened.
const reviewFormTTL = time.Hour

// Purposes of the review tokens.
const (
	reviewOpen   = "open"
	reviewDecide = "decide"
)

// reviewClaims is what a review token says.
type reviewClaims struct {
	purpose string
	review  string
	user    int64
	admin   int64
	expires time.Time
}

// signReview returns a review token: the claims, then an HMAC-SHA256 of
// them under the review link key, both in base64url. It holds IDs only.
func (b *Bot) signReview(c reviewClaims) string {
	payload := strings.Join([]string{"v1", c.purpose, c.review, strconv.FormatInt(c.user, 10),
		strconv.FormatInt(c.admin, 10), strconv.FormatInt(c.expires.Unix(), 10)}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + b.reviewMAC(payload, reviewLinkKey(b.key))
}

func (b *Bot) reviewMAC(payload string, key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// errReviewToken: a token that is not one of ours (malformed, forged).
var errReviewToken = errors.New("bot: not a valid review token")

// checkReview returns the claims of a token of purpose (verifyReview) and
// spends it (spendReview).
func (b *Bot) checkReview(ctx context.Context, token, purpose string) (reviewClaims, error) {
	c, err := b.verifyReview(token, purpose)
	if err != nil {
		return c, err
	}
	return c, b.spendReview(ctx, token, c)
}

// spendReview marks a token used: an error wrapping web.ErrNotFound when
// it was used before.
func (b *Bot) spendReview(ctx context.Context, token string, c reviewClaims) error {
	first, err := b.store.Reviews().UseLink(ctx, token, c.expires)
	if err != nil {
		return fmt.Errorf("bot: review link: %w", err)
	}
	if !first {
		return fmt.Errorf("%w: the review link was used already", web.ErrNotFound)
	}
	return nil
}

// verifyReview returns the claims of a token of purpose: signed by this
// bot's key (or a previous one), not expired, for an admin of the config
// in force (web.ErrForbidden otherwise).
func (b *Bot) verifyReview(token, purpose string) (reviewClaims, error) {
	enc, mac, ok := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || len(token) > 1024 {
		return reviewClaims{}, fmt.Errorf("%w: %w", web.ErrNotFound, errReviewToken)
	}
	payload := string(raw)
	signed := false
	for _, k := range append([]*rsa.PrivateKey{b.key}, b.previous...) {
		if hmac.Equal([]byte(mac), []byte(b.reviewMAC(payload, reviewLinkKey(k)))) {
			signed = true
			break
		}
	}
	parts := strings.Split(payload, "|")
	if !signed || len(parts) != 6 || parts[0] != "v1" || parts[1] != purpose {
		return reviewClaims{}, fmt.Errorf("%w: %w", web.ErrNotFound, errReviewToken)
	}
	user, err1 := strconv.ParseInt(parts[3], 10, 64)
	admin, err2 := strconv.ParseInt(parts[4], 10, 64)
	exp, err3 := strconv.ParseInt(parts[5], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return reviewClaims{}, fmt.Errorf("%w: %w", web.ErrNotFound, errReviewToken)
	}
	c := reviewClaims{purpose: purpose, review: parts[2], user: user, admin: admin, expires: time.Unix(exp, 0)}
	if !b.o.now().Before(c.expires) {
		return reviewClaims{}, fmt.Errorf("%w: the review link has expired", web.ErrNotFound)
	}
	if !slices.Contains(b.current().cfg.Admins, c.admin) {
		return reviewClaims{}, fmt.Errorf("%w: user %d is not an admin", web.ErrForbidden, c.admin)
	}
	return c, nil
}

// reviewLink is the link of admin's review request (Config.ReviewLink).
func (b *Bot) reviewLink(reviewID string, userID, admin int64) string {
	token := b.signReview(reviewClaims{purpose: reviewOpen, review: reviewID, user: userID, admin: admin, expires: b.o.now().Add(ReviewLinkTTL)})
	return web.ReviewURL(b.opsBaseURL(), token)
}

// onReview is the flow's hook for submissions sent to review: the host's
// hook, then the webhook event.
func (b *Bot) onReview(ctx context.Context, r Review) error {
	if b.o.onReview != nil {
		if err := b.o.onReview(ctx, r); err != nil {
			return err
		}
	}
	if !b.webhook() {
		return nil
	}
	return b.queue(ctx, delivery.FromReview(r))
}

// reviews serves the review page (web.Reviews) with a transport's
// Download: any instance serves any link.
type reviews struct {
	b *Bot
	t Transport
}

// maxReviewScan bounds one scan the review page shows.
const maxReviewScan = 20 << 20

// Open implements web.Reviews. The link is spent once the page is built:
// a page that cannot be built now (Redis or Telegram unreachable) leaves
// the link working.
func (r reviews) Open(ctx context.Context, token string) (web.ReviewPage, error) {
	c, err := r.b.verifyReview(token, reviewOpen)
	if err != nil {
		return web.ReviewPage{}, err
	}
	page, err := r.page(ctx, c)
	if err != nil {
		return web.ReviewPage{}, err
	}
	if err := r.b.spendReview(ctx, token, c); err != nil {
		return web.ReviewPage{}, err
	}
	return page, nil
}

// page builds the review page of the claims of an open link.
func (r reviews) page(ctx context.Context, c reviewClaims) (web.ReviewPage, error) {
	w := r.b.wiring()
	if w == nil {
		return web.ReviewPage{}, fmt.Errorf("bot: %w", ErrNotReceiving)
	}
	rv, err := w.flow.OpenReview(ctx, c.user, c.review)
	if errors.Is(err, store.ErrNotFound) {
		return web.ReviewPage{}, fmt.Errorf("%w: %w", web.ErrNotFound, err)
	}
	if err != nil {
		return web.ReviewPage{}, err
	}
	page := web.ReviewPage{User: c.user, Level: rv.Level, Ref: rv.Ref, Reasons: rv.Reasons, Owner: rv.Owner, Received: rv.At,
		Items: rv.Items, RejectReasons: verification.RejectReasons}
	if slices.Contains(rv.Reasons, verification.ReasonScreening) {
		// Screened again, against the lists in force now.
		page.Screened = true
		page.Hits = reviewHits(r.b.screenSubmission(ctx, rv.Submission))
	}
	scans := verify.Scans(rv.Submission)
	for _, el := range rv.Submission.Elements {
		sec := web.ReviewSection{Title: string(el.Type)}
		names := make([]string, 0, len(el.Fields))
		for n := range el.Fields {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			sec.Fields = append(sec.Fields, web.ReviewField{Name: n, Value: el.Fields[n]})
		}
		if el.PhoneNumber != "" {
			sec.Fields = append(sec.Fields, web.ReviewField{Name: "phone_number", Value: el.PhoneNumber})
		}
		if el.Email != "" {
			sec.Fields = append(sec.Fields, web.ReviewField{Name: "email", Value: el.Email})
		}
		for _, sc := range scans {
			if sc.Key.Element != el.Type {
				continue
			}
			data, err := r.scan(ctx, sc.File)
			if err != nil {
				return web.ReviewPage{}, fmt.Errorf("bot: review scan %s.%s: %w", sc.Key.Element, sc.Key.Target, err)
			}
			sec.Scans = append(sec.Scans, web.ReviewScan{Label: sc.Key.Target.String(), MIME: "image/jpeg", Data: data})
		}
		page.Sections = append(page.Sections, sec)
	}
	page.FormToken = r.b.signReview(reviewClaims{purpose: reviewDecide, review: c.review, user: c.user, admin: c.admin,
		expires: r.b.o.now().Add(reviewFormTTL)})
	return page, nil
}

// scan downloads and decrypts one scan, checked against its hash.
func (r reviews) scan(ctx context.Context, f *passport.File) ([]byte, error) {
	var enc bytes.Buffer
	if err := r.t.Download(ctx, f, &enc); err != nil {
		return nil, err
	}
	fr, err := passport.NewFileReader(&enc, f.Credentials)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, io.LimitReader(fr, maxReviewScan)); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Decide implements web.Reviews: the decision is queued (one per review:
// the queue drops a second), and a worker applies it.
func (r reviews) Decide(ctx context.Context, formToken, action, reason string, fix []string) error {
	c, err := r.b.checkReview(ctx, formToken, reviewDecide)
	if err != nil {
		return err
	}
	return r.b.Enqueue(ctx, Update{Kind: KindReview, From: handlers.User{ID: c.user},
		Review: &ReviewDecision{ReviewID: c.review, Admin: c.admin, Action: action, Reason: reason, Fix: fix}})
}
