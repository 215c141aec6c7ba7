package handlerstest

import (
	"context"
	"slices"
	"testing"

	"github.com/kycbot/kycbot/store"
)

// Audit returns the audit events st holds, oldest first, read with the
// store's own reader; with users, only the events about them. It fails t
// when the trail cannot be read.
func Audit(t testing.TB, ctx context.Context, st *store.Store, users ...int64) []store.Event {
	t.Helper()
	var out []store.Event
	if err := st.Audit().Events(ctx, func(e store.RecordedEvent) error {
		if len(users) == 0 || slices.Contains(users, e.UserID) {
			out = append(out, e.Event)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
