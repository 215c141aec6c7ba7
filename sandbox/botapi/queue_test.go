package botapi

import (
	"encoding/json"
	"fmt"
	"testing"
)

// getUpdates' offset: a positive one forgets the updates before it, a
// negative one keeps the last -offset, zero forgets nothing; limit bounds
// the answer.
func TestConfirmAndBatch(t *testing.T) {
	for _, tt := range []struct {
		offset int64
		limit  int
		want   []int
	}{
		{0, 100, []int{1, 2, 3, 4, 5}},
		{3, 100, []int{3, 4, 5}},
		{6, 100, nil},
		{99, 100, nil},
		{-2, 100, []int{4, 5}},
		{-9, 100, []int{1, 2, 3, 4, 5}},
		{0, 2, []int{1, 2}},
		{4, 1, []int{4}},
	} {
		t.Run(fmt.Sprintf("offset %d limit %d", tt.offset, tt.limit), func(t *testing.T) {
			b := &botClient{}
			for id := 1; id <= 5; id++ {
				b.queue = append(b.queue, queued{id: id, body: json.RawMessage(fmt.Sprintf(`{"update_id":%d}`, id))})
			}
			b.confirmLocked(tt.offset)
			var got []struct {
				ID int `json:"update_id"`
			}
			if err := json.Unmarshal(b.batchLocked(tt.limit), &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].ID != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
