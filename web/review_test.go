package web

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/i18n"
)

// fakeReviews is a Reviews with one good token per page and decisions
// recorded.
type fakeReviews struct {
	decided []string
}

func (f *fakeReviews) Open(_ context.Context, token string) (ReviewPage, error) {
	switch token {
	case "good":
		return ReviewPage{User: 42, Level: "basic", Reasons: []string{"sample"}, Received: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC),
			Sections: []ReviewSection{{Title: "personal_details", Fields: []ReviewField{{"first_name", "Ada <b>"}},
				Scans: []ReviewScan{{Label: "selfie", MIME: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff}}}}},
			Items: []string{"personal_details"}, RejectReasons: []string{"other"}, FormToken: "form-1"}, nil
	case "stranger":
		return ReviewPage{}, ErrForbidden
	}
	return ReviewPage{}, ErrNotFound
}

func (f *fakeReviews) Decide(_ context.Context, token, action, reason string, fix []string) error {
	if token != "form-1" {
		return ErrNotFound
	}
	f.decided = append(f.decided, action+":"+reason+":"+strings.Join(fix, ","))
	return nil
}

// TestReviewRoutes: the review page is served on the ops server only,
// with a strict policy; refusals are 403 and 410; a decision reaches
// Reviews.Decide, an empty Ask to fix does not.
func TestReviewRoutes(t *testing.T) {
	rv := &fakeReviews{}
	opts := testOptions(t, "https://kyc.acme.example")
	opts.SeparateOps, opts.Reviews = true, rv
	srv, err := New(newFakeBackend(), testCatalog(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	get := func(h http.Handler, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	if rec := get(srv.Handler(), "/review/good"); rec.Code != http.StatusNotFound {
		t.Errorf("the public server answers the review page %d, want 404", rec.Code)
	}
	rec := get(srv.OpsHandler(), "/review/good")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "Ada &lt;b&gt;") || !strings.Contains(body, `src="data:image/jpeg;base64,/9j/"`) ||
		!strings.Contains(body, `value="form-1"`) {
		t.Errorf("the page: %d\n%s", rec.Code, body)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "img-src data:", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", rec.Header())
	}
	if rec := get(srv.OpsHandler(), "/review/stranger"); rec.Code != http.StatusForbidden {
		t.Errorf("a non-admin's link: %d, want 403", rec.Code)
	}
	if rec := get(srv.OpsHandler(), "/review/used"); rec.Code != http.StatusGone {
		t.Errorf("a used link: %d, want 410", rec.Code)
	}

	post := func(form url.Values) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/review/decide", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		srv.OpsHandler().ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post(url.Values{"token": {"form-1"}, "action": {"fix"}}); code != http.StatusBadRequest || len(rv.decided) != 0 {
		t.Errorf("Ask to fix with nothing ticked: %d, decided %v", code, rv.decided)
	}
	if code := post(url.Values{"token": {"form-1"}, "action": {"fix"}, "fix": {"personal_details", "x"}}); code != http.StatusOK {
		t.Errorf("Ask to fix: %d", code)
	}
	if code := post(url.Values{"token": {"spent"}, "action": {"approve"}}); code != http.StatusGone {
		t.Errorf("a spent form: %d, want 410", code)
	}
	if !slices.Equal(rv.decided, []string{"fix::personal_details,x"}) {
		t.Errorf("decisions %v", rv.decided)
	}

	// Without SeparateOps there is no review page at all.
	opts.SeparateOps = false
	pub, err := New(newFakeBackend(), testCatalog(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Handler{pub.Handler(), pub.OpsHandler()} {
		if rec := get(h, "/review/good"); rec.Code != http.StatusNotFound {
			t.Errorf("without a separate ops server: %d, want 404", rec.Code)
		}
	}
}

func TestReviewURL(t *testing.T) {
	if got := ReviewURL("http://10.0.0.5:9090/", "tok"); got != "http://10.0.0.5:9090/review/tok" {
		t.Errorf("ReviewURL = %q", got)
	}
}

// TestReviewPageLanguage: the review page, its screening hits and its
// refusals are in the admins' language (the catalog's default), right to
// left for Arabic and Persian; the hits show the entry, the list's name
// and the verdicts, or that no entry matches any more.
func TestReviewPageLanguage(t *testing.T) {
	hit := ReviewHit{List: "os", Entry: "NK-1", Name: "Dmitrii Shcherbakov", Alias: true, Score: 1, NameScore: 0.96,
		BirthDate: "same", Nationality: "unknown"}
	for _, tt := range []struct{ lang, dir string }{{"en", "ltr"}, {"de", "ltr"}, {"ru", "ltr"}, {"ar", "rtl"}, {"fa", "rtl"}} {
		t.Run(tt.lang, func(t *testing.T) {
			cat, err := i18n.New(i18n.WithDefaultLanguage(tt.lang))
			if err != nil {
				t.Fatal(err)
			}
			loc := cat.Language(tt.lang)
			rv := &screenedReviews{hits: []ReviewHit{hit}}
			opts := testOptions(t, "https://kyc.acme.example")
			opts.SeparateOps, opts.Reviews = true, rv
			srv, err := New(newFakeBackend(), cat, opts)
			if err != nil {
				t.Fatal(err)
			}
			get := func(path string) (int, string) {
				rec := httptest.NewRecorder()
				srv.OpsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				return rec.Code, rec.Body.String()
			}
			code, body := get("/review/good")
			esc := template.HTMLEscapeString
			for _, want := range []string{
				`<html lang="` + tt.lang + `" dir="` + tt.dir + `">`,
				"<title>" + esc(loc.Text(i18n.MsgReviewPageTitle, map[string]any{"User": "42"})) + "</title>",
				esc(loc.Text(i18n.MsgReviewPageScreening, nil)), esc(loc.Text(i18n.MsgReviewPageHitAlias, nil)),
				esc(loc.Text(i18n.MsgReviewPageVerdictSame, nil)), esc(loc.Text(i18n.MsgReviewPageVerdictUnknown, nil)),
				esc(loc.Text(i18n.MsgReviewPageApprove, nil)), "NK-1", "Dmitrii Shcherbakov", "1.00", "0.96",
				esc(loc.Capitalize(loc.Element("personal_details"))), esc(loc.Capitalize(loc.Field("personal_details", "first_name"))),
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the page (%d) lacks %q", code, want)
				}
			}
			if tt.lang != "en" && strings.Contains(body, ">Approve<") {
				t.Errorf("the %s page has English buttons", tt.lang)
			}
			rv.hits = nil
			if _, body := get("/review/good"); !strings.Contains(body, esc(loc.Text(i18n.MsgReviewPageNoHits, nil))) {
				t.Errorf("a screened case without hits now does not say so")
			}
			code, body = get("/review/used")
			if want := "<title>" + esc(loc.Text(i18n.MsgReviewPageInvalidTitle, nil)) + "</title>"; code != http.StatusGone || !strings.Contains(body, want) {
				t.Errorf("a used link: %d, lacks %q", code, want)
			}
		})
	}
}

// screenedReviews is a Reviews whose good page was sent to review for a
// screening hit.
type screenedReviews struct {
	fakeReviews
	hits []ReviewHit
}

func (f *screenedReviews) Open(ctx context.Context, token string) (ReviewPage, error) {
	p, err := f.fakeReviews.Open(ctx, token)
	p.Screened, p.Hits = err == nil, f.hits
	return p, err
}
