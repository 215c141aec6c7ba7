package handlerstest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/store"
)

// Store gives the steps the store calls they make (verification.Store,
// chat.Store, admin.Store) on a real store, as package bot does
// (handlers.Store), and records the srcs of IssueRequest and the
// AuditOnce IDs it is given. Safe for concurrent use.
type Store struct {
	handlers.Store

	mu     sync.Mutex
	srcs   []string
	audits []string
}

// NewStore returns the steps' calls on st.
func NewStore(st *store.Store) *Store { return &Store{Store: handlers.NewStore(st)} }

// IssueRequest records src and issues the request.
func (a *Store) IssueRequest(ctx context.Context, p store.RequestParams, ttl time.Duration, src string) (store.Request, error) {
	a.mu.Lock()
	a.srcs = append(a.srcs, src)
	a.mu.Unlock()
	return a.Store.IssueRequest(ctx, p, ttl, src)
}

// AuditOnce records id and appends ev.
func (a *Store) AuditOnce(ctx context.Context, ev store.Event, id string) error {
	a.mu.Lock()
	a.audits = append(a.audits, id)
	a.mu.Unlock()
	return a.Store.AuditOnce(ctx, ev, id)
}

// IssuedFor returns the srcs IssueRequest was given, in order.
func (a *Store) IssuedFor() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.srcs)
}

// AuditIDs returns the IDs AuditOnce was given, in order.
func (a *Store) AuditIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.audits)
}
