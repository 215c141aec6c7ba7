package store

import (
	"context"
	"errors"
	"testing"
)

func TestAuditEventsReadsEveryEventInOrder(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	// More than one page of 256.
	for i := range 300 {
		if err := s.Audit().Append(ctx, Event{Kind: "verified", UserID: int64(1000 + i), Level: "basic",
			Detail: map[string]string{"element": "passport"}}); err != nil {
			t.Fatal(err)
		}
	}
	// Asked about every user but one, which shows a pseudonym only.
	users := make([]int64, 0, 299)
	for i := range 299 {
		users = append(users, int64(1000+i))
	}
	var got []RecordedEvent
	if err := s.Audit().Events(ctx, func(e RecordedEvent) error { got = append(got, e); return nil }, users...); err != nil {
		t.Fatal(err)
	}
	if len(got) != 300 {
		t.Fatalf("read %d events, want 300", len(got))
	}
	if last := got[299]; last.UserID != 0 || len(last.UserPseudonym) != 32 {
		t.Fatalf("the event of a user not asked about = %+v, want a pseudonym only", last)
	}
	for i, e := range got[:299] {
		if e.UserID != int64(1000+i) || e.Kind != "verified" || e.Level != "basic" || e.Detail["element"] != "passport" {
			t.Fatalf("event %d = %+v", i, e)
		}
		if e.At.IsZero() || e.ID == "" {
			t.Fatalf("event %d has no time or ID: %+v", i, e)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.Audit().Events(ctx, func(RecordedEvent) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("stopping: n=%d err=%v", n, err)
	}
}
