package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"
)

// A request page whose connection fails is opened again, as a user
// reloads it; a page that answered (an error status, no link) is not, and
// the user gives up after pageAttempts failures.
func TestOpenPageReloads(t *testing.T) {
	cut := &url.Error{Op: "Get", URL: "http://kyc.example/passport/x", Err: io.EOF}
	for _, tc := range []struct {
		name  string
		fails []error // the answers before the page opens
		calls int
		ok    bool
	}{
		{"opens at once", nil, 1, true},
		{"connection cut, then opens", []error{cut}, 2, true},
		{"body cut, then opens", []error{fmt.Errorf("read: %w", io.ErrUnexpectedEOF)}, 2, true},
		{"cut every time", []error{cut, cut, cut, cut}, pageAttempts, false},
		{"the page answered 404", []error{errors.New("sandbox: open URL: HTTP status 404")}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			open := func(context.Context, string) (string, error) {
				calls++
				if calls <= len(tc.fails) {
					return "", tc.fails[calls-1]
				}
				return "tg://passport?x", nil
			}
			link, err := openPage(context.Background(), open, "http://kyc.example/passport/x", 0)
			if calls != tc.calls || (err == nil) != tc.ok || tc.ok && link != "tg://passport?x" {
				t.Errorf("%d calls, link %q, error %v; want %d calls, ok %v", calls, link, err, tc.calls, tc.ok)
			}
		})
	}
}
