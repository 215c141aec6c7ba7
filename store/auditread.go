package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// RecordedEvent is an audit event as stored.
type RecordedEvent struct {
	Event
	// ID is the event's stream ID.
	ID string
	// At is when it was appended (store clock, millisecond precision).
	At time.Time
}

// Events calls f with every audit event, oldest first, until f
// returns an error (which Events returns). It does not check the
// chain: Verify does.
func (a AuditTrail) Events(ctx context.Context, f func(RecordedEvent) error) (err error) {
	defer markUnavailable(&err)
	s := a.s
	if s.optErr != nil {
		return s.optErr
	}
	const page = 256
	from := "-"
	for {
		msgs, err := s.rdb.XRangeN(ctx, s.auditKey("stream"), from, "+", page).Result()
		if err != nil {
			return fmt.Errorf("audit events: %w", err)
		}
		for _, m := range msgs {
			e, _ := m.Values["e"].(string)
			var rec auditRecord
			if err := json.Unmarshal([]byte(e), &rec); err != nil {
				return fmt.Errorf("audit event %s: not an audit record: %w", m.ID, err)
			}
			ev := RecordedEvent{ID: m.ID, At: time.UnixMilli(rec.Time).UTC(), Event: Event{
				Kind: rec.Kind, UserID: rec.UserID, Level: rec.Level, Ref: rec.Ref, Codes: rec.Codes, Detail: rec.Detail,
			}}
			if err := f(ev); err != nil {
				return err
			}
			from = "(" + m.ID
		}
		if len(msgs) < page {
			return nil
		}
	}
}
