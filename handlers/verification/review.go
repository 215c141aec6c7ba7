package verification

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/verify"
)

// Reasons a submission goes to manual review (Review.Reasons, the codes of
// its status and audit event).
const (
	// ReasonDuplicate: another account was verified with one of its
	// documents, or the same person (rules.duplicates: review).
	ReasonDuplicate = "duplicate"
	// ReasonAlways: the level reviews every submission (rules.review).
	ReasonAlways = "always"
	// ReasonSample: drawn at random for quality control
	// (rules.review_sample).
	ReasonSample = "sample"
	// ReasonScreening: a ReviewCheck found the person on a watchlist.
	ReasonScreening = "screening"
)

// A ReviewCheck looks at a submission that passed the level's rules and
// returns the reasons (codes, such as ReasonScreening) to have an admin
// decide on it first; none to go on. An error wrapping
// handlers.ErrRetryLater or store.ErrUnavailable has the submission
// processed again later; any other fails it.
type ReviewCheck func(ctx context.Context, level string, sub *passport.Submission) ([]string, error)

// Review is what Config.OnReview receives when a submission goes to
// manual review. It holds no personal data beyond the user ID.
type Review struct {
	UserID int64
	Level  string
	Ref    string
	At     time.Time
	// ID names the review: the review links, the decision and the
	// verified or rejected event after it carry it.
	ID string
	// NonceHash names the submission, as in Verified.
	NonceHash string
	// Reasons are why it goes to review (the Reason* codes).
	Reasons []string
}

// Decisions of an admin on a review (Decision.Action).
const (
	// DecisionApprove verifies the user.
	DecisionApprove = "approve"
	// DecisionReject rejects the user for good, with Decision.Reason.
	DecisionReject = "reject"
	// DecisionFix asks the user to fix Decision.Fix and share again.
	DecisionFix = "fix"
)

// codeCheck is the problem code of what an admin asks to fix ("check it
// and send it again": the catalog's problem.unknown).
const codeCheck verify.Code = "unknown"

// RejectReasons are the codes an admin may reject with.
var RejectReasons = []string{"document_not_genuine", "data_mismatch", "duplicate", "screening", "other"}

// Decision is an admin's decision on a review.
type Decision struct {
	// ID names the update that carried it: the messages it sends are
	// idempotent by it.
	ID string
	// UserID and ReviewID name the review; Admin is who decided.
	UserID   int64
	ReviewID string
	Admin    int64
	// Action is one of the Decision* constants.
	Action string
	// Reason is the code of a rejection (one of RejectReasons).
	Reason string
	// Fix names what to fix (Decision.Fix of DecisionFix): each an
	// element type, or "<element>.<target>" (a field or scan, as
	// passport.Target.String writes it), as ReviewItems lists them.
	Fix []string
}

// reviewRecord is what is kept, sealed, while a submission waits for the
// decision.
type reviewRecord struct {
	User       handlers.User                 `json:"user"`
	Request    store.Request                 `json:"request"`
	Submission *passport.EncryptedSubmission `json:"submission"`
	Reasons    []string                      `json:"reasons"`
	Owner      int64                         `json:"owner,omitempty"`
	At         time.Time                     `json:"at"`
}

// SampleOf draws the submission whose nonce hash is nonceHash for
// rules.review_sample: a number in [0, 1), uniform over submissions (the
// nonces are random) and the same every time for one submission, so that
// a submission processed again (after a crash) is drawn the same way.
func SampleOf(nonceHash string) float64 {
	sum := sha256.Sum256([]byte("kycbot review sample\x00" + nonceHash))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// reviewID names the review of the submission whose nonce hash is nh:
// the same submission processed again gets the same review.
func reviewID(nh string) string { return "r" + nh[:31] }

// reviewReasons returns why the submission must go to review first.
func (p *run) reviewReasons(ctx context.Context, policy verify.Policy, sub *passport.Submission, owner int64) ([]string, error) {
	var reasons []string
	if owner != 0 {
		reasons = append(reasons, ReasonDuplicate)
	}
	if policy.Review == verify.ReviewAlways {
		reasons = append(reasons, ReasonAlways)
	}
	if policy.ReviewSample > 0 && p.f.cfg.Sample(p.req.NonceHash()) < policy.ReviewSample {
		reasons = append(reasons, ReasonSample)
	}
	for _, check := range p.f.cfg.ReviewChecks {
		more, err := check(ctx, p.req.Level, sub)
		if err != nil {
			if hookRetryable(err) || ctx.Err() != nil {
				return nil, p.retryLater(ctx, "review check", err)
			}
			return nil, fmt.Errorf("review check: %w", err)
		}
		reasons = append(reasons, more...)
	}
	slices.Sort(reasons)
	return slices.Compact(reasons), nil
}

// toReview keeps the submission, sealed, for an admin's decision: the
// status review, the audit event, OnReview, then the user is told and
// each admin gets a link of their own to the review page.
func (p *run) toReview(ctx context.Context, es *passport.EncryptedSubmission, reasons []string, owner int64) (Outcome, error) {
	f, req := p.f, p.req
	id := reviewID(req.NonceHash())
	rec, err := json.Marshal(reviewRecord{User: p.sub.User, Request: req, Submission: es, Reasons: reasons, Owner: owner, At: f.cfg.Now()})
	if err != nil {
		return p.failed(ctx, "review", "encode"), fmt.Errorf("review record: %w", err)
	}
	if err := f.cfg.Store.PutReview(ctx, p.sub.User.ID, id, rec, f.cfg.ReviewTTL); err != nil {
		if errors.Is(err, store.ErrReviewDecided) {
			// Handled again after the admin's decision (a queue entry
			// lost in a failover and queued again): nothing more to do.
			p.log.InfoContext(ctx, "verification: the review of this submission was decided already", slog.String("review_id", id))
			return Outcome{Result: handlers.SubmissionReview, Reason: "decided", Level: req.Level}, nil
		}
		if ctx.Err() != nil || errors.Is(err, store.ErrUnavailable) {
			return Outcome{}, p.retryLater(ctx, "keep the submission for review", err)
		}
		p.log.ErrorContext(ctx, "verification: cannot keep the submission for review", slog.String("error", err.Error()))
		return p.failed(ctx, "review", "keep_failed"), err
	}
	if err := p.setStatus(ctx, store.Status{Level: req.Level, State: store.StateReview, Ref: req.Ref, Codes: reasons}); err != nil {
		return Outcome{}, err
	}
	if f.cfg.OnReview != nil {
		r := Review{UserID: p.sub.User.ID, Level: req.Level, Ref: req.Ref, At: f.cfg.Now(), ID: id, NonceHash: req.NonceHash(), Reasons: reasons}
		if err := f.cfg.OnReview(ctx, r); err != nil {
			if hookRetryable(err) || ctx.Err() != nil {
				return Outcome{}, p.retryLater(ctx, "OnReview", err)
			}
			p.log.ErrorContext(ctx, "verification: OnReview failed", slog.String("error", err.Error()))
		}
	}
	if err := p.auditOutcome(ctx, store.Event{Kind: "review", Level: req.Level, Ref: req.Ref, Codes: reasons,
		Detail: map[string]string{"nonce_hash": req.NonceHash(), "review_id": id}}); err != nil {
		return Outcome{}, err
	}
	if err := p.tell(ctx, p.loc.Text(i18n.MsgResultReview, nil)); err != nil {
		return Outcome{}, err
	}
	p.log.InfoContext(ctx, "verification: sent to review", slog.String("review_id", id), slog.String("reasons", strings.Join(reasons, ",")))
	out := p.verdict(Outcome{Result: handlers.SubmissionReview, Reason: reasons[0]})
	user := strconv.FormatInt(p.sub.User.ID, 10)
	f.cfg.Admins.NotifyEach(ctx, p.sub.ID+":review", i18n.MsgAdminReview, func(loc *i18n.Localizer, admin int64) string {
		data := map[string]any{"User": user, "Level": req.Level, "Ref": req.Ref, "Reasons": strings.Join(reasons, ", ")}
		if owner != 0 {
			data["Owner"] = strconv.FormatInt(owner, 10)
		}
		if f.cfg.ReviewLink != nil {
			data["Link"] = f.cfg.ReviewLink(id, p.sub.User.ID, admin)
		}
		return loc.Text(i18n.MsgAdminReview, data)
	})
	return out, nil
}

// Reviewed is a submission kept for review, decrypted for the review
// page: the data and how to read each scan.
type Reviewed struct {
	UserID  int64
	Level   string
	Ref     string
	Reasons []string
	// Owner is the other account of a duplicate (0: none).
	Owner int64
	At    time.Time
	// Submission is the decrypted data; its files are read from Telegram
	// (Files, passport.NewFileReader).
	Submission *passport.Submission
	// Items are what an admin may ask to fix (Decision.Fix).
	Items []string
}

// OpenReview returns the review id of userID, decrypted: ErrNotFound
// (wrapped from the store) once decided, expired or erased.
func (f *Flow) OpenReview(ctx context.Context, userID int64, id string) (*Reviewed, error) {
	rec, sub, err := f.loadReview(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	return &Reviewed{UserID: userID, Level: rec.Request.Level, Ref: rec.Request.Ref, Reasons: rec.Reasons, Owner: rec.Owner,
		At: rec.At, Submission: sub, Items: ReviewItems(sub)}, nil
}

func (f *Flow) loadReview(ctx context.Context, userID int64, id string) (*reviewRecord, *passport.Submission, error) {
	b, err := f.cfg.Store.GetReview(ctx, userID, id)
	if err != nil {
		return nil, nil, fmt.Errorf("verification: review %s: %w", id, err)
	}
	var rec reviewRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.Submission == nil {
		return nil, nil, fmt.Errorf("verification: review %s: malformed record", id)
	}
	creds, err := f.decryptCredentials(rec.Submission.Credentials)
	if err != nil {
		return nil, nil, fmt.Errorf("verification: review %s: credentials: %w", id, err)
	}
	sub, err := creds.Open(rec.Submission.Elements)
	if err != nil {
		return nil, nil, fmt.Errorf("verification: review %s: values: %w", id, err)
	}
	return &rec, sub, nil
}

// ReviewItems lists what an admin may ask the user to fix: each element,
// then its fields and scans ("<element>.<target>").
func ReviewItems(sub *passport.Submission) []string {
	var items []string
	scans := verify.Scans(sub)
	for _, el := range sub.Elements {
		items = append(items, string(el.Type))
		fields := make([]string, 0, len(el.Fields))
		for name := range el.Fields {
			fields = append(fields, name)
		}
		slices.Sort(fields)
		for _, name := range fields {
			items = append(items, string(el.Type)+"."+passport.Field(name).String())
		}
		for _, sc := range scans {
			if sc.Key.Element == el.Type {
				items = append(items, string(el.Type)+"."+sc.Key.Target.String())
			}
		}
	}
	return items
}

// fixProblems turns the items of a DecisionFix into problems (code
// unknown: "check it and send it again"), pinned where Telegram Passport
// can show them.
func fixProblems(sub *passport.Submission, items []string) []verify.Problem {
	targets := map[string]verify.Problem{}
	scans := verify.Scans(sub)
	for _, el := range sub.Elements {
		targets[string(el.Type)] = verify.Problem{Element: el.Type, Target: passport.TargetOf(passport.TargetElement), Code: codeCheck}
		for name := range el.Fields {
			t := passport.Field(name)
			targets[string(el.Type)+"."+t.String()] = verify.Problem{Element: el.Type, Target: t, Code: codeCheck}
		}
	}
	for _, sc := range scans {
		targets[string(sc.Key.Element)+"."+sc.Key.Target.String()] = verify.Problem{Element: sc.Key.Element, Target: sc.Key.Target, Code: codeCheck}
	}
	var out []verify.Problem
	for _, it := range items {
		if pr, ok := targets[it]; ok {
			out = append(out, pr)
		}
	}
	return out
}

// ErrBadDecision: a decision that cannot be applied (an unknown action or
// reason, nothing to fix).
var ErrBadDecision = errors.New("verification: bad review decision")

// Decide applies an admin's decision to a review: approve (verified: the
// OnVerified hook gets the data and the scans, downloaded again), reject
// (for good, with the reason's code) or ask to fix (the items, in the
// chat and the Passport form, with a new request). The user is told, the
// decision is audited with the admin as actor, and the submission kept
// for review is erased. A review already decided (gone) changes nothing.
// Errors as for Process: ErrRetryLater when it can be applied later.
func (f *Flow) Decide(ctx context.Context, d Decision) (Outcome, error) {
	switch d.Action {
	case DecisionApprove:
	case DecisionReject:
		if !slices.Contains(RejectReasons, d.Reason) {
			return Outcome{}, fmt.Errorf("%w: reject reason %q is not one of %s", ErrBadDecision, d.Reason, strings.Join(RejectReasons, ", "))
		}
	case DecisionFix:
		if len(d.Fix) == 0 {
			return Outcome{}, fmt.Errorf("%w: ask to fix what? name at least one item", ErrBadDecision)
		}
	default:
		return Outcome{}, fmt.Errorf("%w: unknown action %q", ErrBadDecision, d.Action)
	}
	rec, sub, err := f.loadReview(ctx, d.UserID, d.ReviewID)
	if errors.Is(err, store.ErrNotFound) {
		f.cfg.Log.InfoContext(ctx, "verification: review already decided or gone", slog.String("review_id", d.ReviewID), slog.Int64("user_id", d.UserID))
		return Outcome{Result: handlers.SubmissionRefused, Reason: "review_gone"}, nil
	}
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, store.ErrUnavailable) {
			return Outcome{}, fmt.Errorf("%w: %w", handlers.ErrRetryLater, err)
		}
		return Outcome{}, err
	}
	p := f.newRun(ctx, Submission{ID: d.ID, User: rec.User})
	defer f.clearDelayed(d.ID)
	p.req = rec.Request
	if p.req.Lang != "" {
		p.loc = f.cfg.Catalog.Language(p.req.Lang)
	}
	p.log = p.log.With(slog.String("level", p.req.Level), slog.String("review_id", d.ReviewID), slog.Int64("admin_id", d.Admin))

	var out Outcome
	switch d.Action {
	case DecisionApprove:
		out, err = p.approve(ctx, sub)
	case DecisionReject:
		problems := []verify.Problem{{Element: sub.Elements[0].Type, Target: passport.TargetOf(passport.TargetElement), Code: verify.Code(d.Reason), Final: true}}
		reason := p.loc.Text(i18n.MsgReviewRejected, nil)
		text := p.loc.Text(i18n.MsgResultRejected, map[string]any{"Reason": reason, "Support": f.cfg.Support})
		out, err = p.reject(ctx, problems, []string{d.Reason}, text)
		if err == nil {
			// The documents may be someone else's: they stay free for them.
			if rerr := f.cfg.Store.ReleaseDocuments(ctx, d.UserID, Fingerprints(sub)); rerr != nil {
				p.log.ErrorContext(ctx, "verification: cannot release the documents of a rejected review", slog.String("error", rerr.Error()))
			}
		}
	case DecisionFix:
		problems := fixProblems(sub, d.Fix)
		if len(problems) == 0 {
			return Outcome{}, fmt.Errorf("%w: none of the items to fix is in the submission", ErrBadDecision)
		}
		out, err = p.needsFixes(ctx, sub, verify.Result{Problems: problems}, []string{string(codeCheck)})
	}
	if err != nil {
		return out, err
	}
	codes := []string{d.Action}
	if d.Reason != "" {
		codes = append(codes, d.Reason)
	}
	p.audit(ctx, store.Event{Kind: "review_decided", Level: p.req.Level, Ref: p.req.Ref, Actor: d.Admin, Codes: codes,
		Detail: map[string]string{"review_id": d.ReviewID, "nonce_hash": p.req.NonceHash()}}, "review_decided:"+d.ReviewID)
	if err := f.cfg.Store.DeleteReview(ctx, d.UserID, d.ReviewID); err != nil {
		p.log.ErrorContext(ctx, "verification: cannot erase the submission kept for review; its TTL will", slog.String("error", err.Error()))
	}
	return out, nil
}

// approve verifies a reviewed submission: its scans are downloaded again
// and staged for the OnVerified hook, as in Process.
func (p *run) approve(ctx context.Context, sub *passport.Submission) (Outcome, error) {
	f := p.f
	st, remove := p.stage(ctx)
	defer remove()
	files, err := fetchAll(ctx, f.cfg.Telegram, sub, st, f.cfg.DownloadConcurrency, false)
	if se := (*stageError)(nil); errors.As(err, &se) {
		return p.failed(ctx, "files", "temp_dir"), fmt.Errorf("scans: %w", err)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Outcome{}, p.retryLater(ctx, "download the scans", err)
		}
		return Outcome{}, fmt.Errorf("%w: download the scans: %w", handlers.ErrRetryLater, err)
	}
	return p.verified(ctx, sub, files)
}
