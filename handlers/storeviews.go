package handlers

import (
	"context"
	"time"

	"github.com/kycbot/kycbot/store"
)

// StoreViews adapts st, whose operations live in views (st.Requests(),
// st.Statuses(), st.Prefs(), st.Audit()), to Store and CommandStore:
// each call goes to the view that owns it, unchanged.
func StoreViews(st *store.Store) interface {
	Store
	CommandStore
} {
	return storeViews{st: st}
}

type storeViews struct{ st *store.Store }

func (v storeViews) MarkUpdate(ctx context.Context, userID int64, msgID int, ttl time.Duration, opts ...store.MarkOption) (bool, error) {
	return v.st.MarkUpdate(ctx, userID, msgID, ttl, opts...)
}

func (v storeViews) ForgetUpdate(ctx context.Context, userID int64, msgID int, opts ...store.MarkOption) error {
	return v.st.ForgetUpdate(ctx, userID, msgID, opts...)
}

func (v storeViews) IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration) (store.Request, error) {
	return v.st.Requests().Issue(ctx, p, ttl)
}

func (v storeViews) LiveRequest(ctx context.Context, userID int64) (store.Request, bool, error) {
	return v.st.Requests().Live(ctx, userID)
}

func (v storeViews) CancelRequest(ctx context.Context, userID int64) (bool, error) {
	return v.st.Requests().Cancel(ctx, userID)
}

func (v storeViews) ConsumeNonce(ctx context.Context, nonce string, userID int64, opts ...store.ConsumeOption) (store.Request, error) {
	return v.st.Requests().Consume(ctx, nonce, userID, opts...)
}

func (v storeViews) SetStatus(ctx context.Context, st store.Status) error {
	return v.st.Statuses().Set(ctx, st)
}

func (v storeViews) GetStatus(ctx context.Context, userID int64, level string) (store.Status, error) {
	return v.st.Statuses().Get(ctx, userID, level)
}

func (v storeViews) ListStatuses(ctx context.Context, userID int64) ([]store.Status, error) {
	return v.st.Statuses().List(ctx, userID)
}

func (v storeViews) ResetStatus(ctx context.Context, userID int64, level string) error {
	return v.st.Statuses().Reset(ctx, userID, level)
}

func (v storeViews) Stats(ctx context.Context, day time.Time) (store.Stats, error) {
	return v.st.Statuses().Stats(ctx, day)
}

func (v storeViews) Preferences(ctx context.Context, userID int64) (store.Prefs, error) {
	return v.st.Prefs().Get(ctx, userID)
}

func (v storeViews) SetLanguage(ctx context.Context, userID int64, tag string) error {
	return v.st.Prefs().SetLanguage(ctx, userID, tag)
}

func (v storeViews) SetRef(ctx context.Context, userID int64, ref string) error {
	return v.st.Prefs().SetRef(ctx, userID, ref)
}

func (v storeViews) Audit(ctx context.Context, ev store.Event) error {
	return v.st.Audit().Append(ctx, ev)
}

func (v storeViews) AuditOnce(ctx context.Context, ev store.Event, id string) error {
	return v.st.Audit().AppendOnce(ctx, ev, id)
}

func (v storeViews) DeleteUser(ctx context.Context, userID int64) (int, error) {
	return v.st.DeleteUser(ctx, userID)
}
