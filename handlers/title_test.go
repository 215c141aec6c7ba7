package handlers

import "testing"

func TestTitle(t *testing.T) {
	titles := map[string]string{"full": "Full KYC", "blank": ""}
	for _, tt := range []struct{ level, want string }{
		{"full", "Full KYC"},
		{"basic", "basic"}, // no title: its name
		{"blank", "blank"}, // an empty title: its name
	} {
		if got := Title(titles, tt.level); got != tt.want {
			t.Errorf("Title(%q) = %q, want %q", tt.level, got, tt.want)
		}
	}
	if got := Title(nil, "full"); got != "full" {
		t.Errorf("Title without titles = %q, want the name", got)
	}
}
