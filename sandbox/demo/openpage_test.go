package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/sandbox"
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

// A request page that answers 404 (the request expired or was lost) makes
// the user ask the bot again and open the new page, askAttempts times at
// most; other answers are not asked again for.
func TestRequestPageAsksAgain(t *testing.T) {
	gone := fmt.Errorf("sandbox: open URL: %w", &sandbox.HTTPStatusError{Status: http.StatusNotFound})
	broken := fmt.Errorf("sandbox: open URL: %w", &sandbox.HTTPStatusError{Status: http.StatusInternalServerError})
	for _, tc := range []struct {
		name  string
		pages map[string]error // the answer of each page; absent: it opens
		asks  int
		link  string // "" when it fails
	}{
		{"opens at once", nil, 0, "tg://passport?page0"},
		{"404, asks, the new page opens", map[string]error{"page0": gone}, 1, "tg://passport?page1"},
		{"404 twice, asks twice", map[string]error{"page0": gone, "page1": gone}, 2, "tg://passport?page2"},
		{"404 every time: gives up", everyPage(gone), askAttempts, ""},
		{"500: does not ask", map[string]error{"page0": broken}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asks := 0
			open := func(_ context.Context, u string) (string, error) {
				page := strings.TrimPrefix(u, "http://kyc.example/")
				if err := tc.pages[page]; err != nil {
					return "", err
				}
				return "tg://passport?" + page, nil
			}
			ask := func(context.Context) (sandbox.Button, error) {
				asks++
				return sandbox.Button{URL: fmt.Sprintf("http://kyc.example/page%d", asks)}, nil
			}
			link, err := requestPage(context.Background(), open, ask, sandbox.Button{URL: "http://kyc.example/page0"}, 0)
			if asks != tc.asks || link != tc.link || (err == nil) != (tc.link != "") {
				t.Errorf("asked %d times, link %q, error %v; want %d asks, link %q", asks, link, err, tc.asks, tc.link)
			}
		})
	}
}

// everyPage answers err on the first page and on every page asking again
// could give.
func everyPage(err error) map[string]error {
	pages := map[string]error{}
	for i := 0; i <= askAttempts; i++ {
		pages[fmt.Sprintf("page%d", i)] = err
	}
	return pages
}
