package handlers

import (
	"context"
	"time"

	"github.com/kycbot/kycbot/store"
)

// Store gives the handlers the store calls they make (verification.Store,
// chat.Store and admin.Store), each to the view of the store that owns it.
// Package bot wires the handlers with it; tests of the handlers use it to
// run them on a real store.
type Store struct{ s *store.Store }

// NewStore returns the handlers' calls on st.
func NewStore(st *store.Store) Store { return Store{s: st} }

// ConsumeNonce burns nonce for userID, repeatably by message (store.ByMessage).
func (a Store) ConsumeNonce(ctx context.Context, nonce string, userID int64, msgID int) (store.Request, error) {
	return a.s.Requests().Consume(ctx, nonce, userID, store.ByMessage(msgID))
}

// IssueRequest issues a request, idempotently by src (store.IssuedFor) unless src is empty.
func (a Store) IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration, src string) (store.Request, error) {
	var opts []store.IssueOption
	if src != "" {
		opts = append(opts, store.IssuedFor(src))
	}
	return a.s.Requests().Issue(ctx, p, ttl, opts...)
}

// LiveRequest returns the user's live request.
func (a Store) LiveRequest(ctx context.Context, userID int64) (store.Request, bool, error) {
	return a.s.Requests().Live(ctx, userID)
}

// CancelRequest voids the user's live request.
func (a Store) CancelRequest(ctx context.Context, userID int64) (bool, error) {
	return a.s.Requests().Cancel(ctx, userID)
}

// SetStatus records a status.
func (a Store) SetStatus(ctx context.Context, st store.Status) error {
	return a.s.Statuses().Set(ctx, st)
}

// GetStatus reads the user's status at a level.
func (a Store) GetStatus(ctx context.Context, userID int64, level string) (store.Status, error) {
	return a.s.Statuses().Get(ctx, userID, level)
}

// ListStatuses reads the user's statuses.
func (a Store) ListStatuses(ctx context.Context, userID int64) ([]store.Status, error) {
	return a.s.Statuses().List(ctx, userID)
}

// ResetStatus removes the user's status at a level.
func (a Store) ResetStatus(ctx context.Context, userID int64, level string) error {
	return a.s.Statuses().Reset(ctx, userID, level)
}

// Stats reads the counters of a day and the totals.
func (a Store) Stats(ctx context.Context, day time.Time) (store.Stats, error) {
	return a.s.Statuses().Stats(ctx, day)
}

// Preferences reads the user's preferences.
func (a Store) Preferences(ctx context.Context, userID int64) (store.Prefs, error) {
	return a.s.Prefs().Get(ctx, userID)
}

// SetLanguage remembers the language the user chose.
func (a Store) SetLanguage(ctx context.Context, userID int64, tag string) error {
	return a.s.Prefs().SetLanguage(ctx, userID, tag)
}

// SetRef remembers the business's reference for the user.
func (a Store) SetRef(ctx context.Context, userID int64, ref string) error {
	return a.s.Prefs().SetRef(ctx, userID, ref)
}

// AuditOnce appends ev to the audit trail once per id.
func (a Store) AuditOnce(ctx context.Context, ev store.Event, id string) error {
	return a.s.Audit().AppendOnce(ctx, ev, id)
}

// ClaimDocuments claims a submission's identity documents and person for
// the user, all or none (store.Documents.ClaimAll).
func (a Store) ClaimDocuments(ctx context.Context, userID int64, fps []store.Fingerprint) (int64, error) {
	return a.s.Documents().ClaimAll(ctx, userID, fps...)
}

// ReleaseDocuments releases the user's claims of fps (store.Documents.ReleaseAll).
func (a Store) ReleaseDocuments(ctx context.Context, userID int64, fps []store.Fingerprint) error {
	return a.s.Documents().ReleaseAll(ctx, userID, fps...)
}

// PutReview keeps a submission for manual review, sealed (store.Reviews).
func (a Store) PutReview(ctx context.Context, userID int64, id string, value []byte, ttl time.Duration) error {
	return a.s.Reviews().Put(ctx, userID, id, value, ttl)
}

// GetReview returns a submission kept for manual review.
func (a Store) GetReview(ctx context.Context, userID int64, id string) ([]byte, error) {
	return a.s.Reviews().Get(ctx, userID, id)
}

// DeleteReview erases a submission kept for manual review.
func (a Store) DeleteReview(ctx context.Context, userID int64, id string) error {
	return a.s.Reviews().Delete(ctx, userID, id)
}

// DeleteUser erases everything about the user.
func (a Store) DeleteUser(ctx context.Context, userID int64) (int, error) {
	return a.s.DeleteUser(ctx, userID)
}
