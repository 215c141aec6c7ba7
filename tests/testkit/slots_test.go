package testkit

import (
	"testing"
)

func TestSlot(t *testing.T) {
	// The slots redis-server 7.0 answers to CLUSTER KEYSLOT.
	for key, want := range map[string]int{
		"foo": 12182, "123456789": 12739, "{user1000}.following": 3443,
		"kycbot:{u:42}:request": 8980, "x{}y": 16116, "{}{a}": 13650,
	} {
		if got := Slot(key); got != want {
			t.Errorf("Slot(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestCrossSlot(t *testing.T) {
	for _, tc := range []struct {
		args  []any
		cross bool
	}{
		{[]any{"evalsha", "abc", 2, "p{u:1}:a", "p{u:1}:b", "arg"}, false},
		{[]any{"evalsha", "abc", 2, "p{u:1}:a", "p{u:2}:b", "arg"}, true},
		{[]any{"eval", "return 1", 0}, false},
		{[]any{"del", "p{u:1}:a", "p:nidx:x"}, false}, // not a script: the server judges it
	} {
		err := crossSlot(tc.args, "script")
		if (err != nil) != tc.cross {
			t.Errorf("crossSlot(%v) = %v, want cross-slot %t", tc.args, err, tc.cross)
		}
	}
	if err := crossSlot([]any{"del", "p{u:1}:a", "p:nidx:x"}, "transaction"); err == nil {
		t.Error("a transaction over two slots passed the check")
	}
}
