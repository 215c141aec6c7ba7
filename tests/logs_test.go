package tests

import "testing"

// TestIndexWord: the personal-data check of the logs finds a value as a
// word of its own, not inside a random ID.
func TestIndexWord(t *testing.T) {
	for _, tt := range []struct {
		s, v string
		want int
	}{
		{"10117", "10117", 0},
		{"postcode=10117 city=Berlin", "10117", 9},
		{`"zip":"10117"}`, "10117", 7},
		{"update_id=a10117bc", "10117", -1},
		{"id=a10117 zip=10117", "10117", 14},
		{"nonce=x101170", "10117", -1},
		{"name=Anna Schmidt.", "Anna Schmidt", 5},
		{"street=Müllerstraße 5", "Müller", -1},
		{"street=Müllerstraße 5", "Müllerstraße 5", 7},
		{"phone=+4930123456", "+4930123456", 6},
		{"", "10117", -1},
	} {
		if got := indexWord(tt.s, tt.v); got != tt.want {
			t.Errorf("indexWord(%q, %q) = %d, want %d", tt.s, tt.v, got, tt.want)
		}
	}
}
