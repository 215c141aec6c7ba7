package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/kycbot/kycbot/i18n"
)

// ErrForbidden is returned by Reviews.Open and Decide for a link that is
// well formed and signed but not for an admin (any more): the page
// refuses it with 403.
var ErrForbidden = errors.New("web: not allowed")

// Reviews serves the manual review page (Options.Reviews) on the
// operations server only: GET /review/{token}, the page a review link
// opens, and POST /review/decide, its form. Package bot implements it.
type Reviews interface {
	// Open checks the review link token (its signature, its expiry, that
	// its admin is one, that it was not used before), spends it, and
	// returns the page: the decrypted data and scans. Errors wrap
	// ErrNotFound (unknown, forged, used or expired link, or a review
	// decided already) or ErrForbidden (not an admin).
	Open(ctx context.Context, token string) (ReviewPage, error)
	// Decide checks the form's token like Open and records the decision:
	// action is "approve", "reject" (with reason) or "fix" (with fix, the
	// items to fix). Errors as for Open.
	Decide(ctx context.Context, formToken, action, reason string, fix []string) error
}

// ReviewPage is what the review page shows.
type ReviewPage struct {
	// User is the Telegram user ID; Level, Ref and Reasons are the
	// request's level and reference and why it is reviewed; Owner is the
	// other account of a duplicate (0: none); Received is when it was
	// sent to review.
	User     int64
	Level    string
	Ref      string
	Reasons  []string
	Owner    int64
	Received time.Time
	// Screened says the case was sent to review for a screening hit;
	// Hits are then the list entries the person matches, screened again
	// when the page was built, against the lists in force (none: no entry
	// matches any more).
	Screened bool
	Hits     []ReviewHit
	// Sections are the shared elements, in order.
	Sections []ReviewSection
	// Items are what the admin may ask to fix; RejectReasons the codes
	// of a rejection.
	Items         []string
	RejectReasons []string
	// FormToken authorizes the decision (Reviews.Decide), once.
	FormToken string
}

// ReviewSection is one element of a review. Title is the element's type
// ("personal_details"), Fields' names its data fields' (the page names
// both in the admins' language; a field named like the element, such as
// phone_number, is the element's plain value).
type ReviewSection struct {
	Title  string
	Fields []ReviewField
	Scans  []ReviewScan
}

// ReviewHit is a watchlist entry the person matched (what
// screening.Hit.Explain says): the list and the entry's ID, the entry's
// name that matched (the list's data; Alias when not its primary name),
// the scores, and how the birth date and nationality compared ("same",
// "compatible", "different", "unknown").
type ReviewHit struct {
	List, Entry, Name      string
	Alias                  bool
	Score, NameScore       float64
	BirthDate, Nationality string
}

// ReviewField is one data field.
type ReviewField struct{ Name, Value string }

// ReviewScan is one scan, decrypted.
type ReviewScan struct {
	Label string
	MIME  string
	Data  []byte
}

// Paths of the review page, on the operations server.
const (
	reviewPath       = "/review/"
	reviewDecidePath = "/review/decide"
	maxReviewForm    = 64 << 10
)

// ReviewURL returns the URL of the review page of token on the operations
// server at base (config web.ops_url).
func ReviewURL(base, token string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + reviewPath + token
}

// addReviewRoutes adds the review page to the operations mux.
func (s *Server) addReviewRoutes(mux *http.ServeMux) {
	if s.opts.Reviews == nil {
		return
	}
	mux.HandleFunc("GET "+reviewPath+"{token}", s.handleReview)
	mux.HandleFunc("POST "+reviewDecidePath, s.handleDecide)
}

var reviewTmpl = template.Must(template.New("review").Funcs(template.FuncMap{
	"dataURL": func(sc ReviewScan) template.URL {
		return template.URL("data:" + sc.MIME + ";base64," + base64.StdEncoding.EncodeToString(sc.Data)) //nolint:gosec // our own bytes, a fixed image type
	},
}).Parse(`<!doctype html>
<html lang="{{.Lang}}" dir="{{.Dir}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="data:,"><title>{{.Title}}</title>
<style nonce="{{.Nonce}}">
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#1c1c1e}
h1{font-size:22px}h2{font-size:18px;margin-top:24px;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:3px 12px 3px 0;vertical-align:top;text-align:start}td:first-child{color:#666}
.scans{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}img{max-width:100%;width:420px;border:1px solid #ccc}
fieldset{margin:16px 0;border:1px solid #ccc;border-radius:8px}button{font:inherit;padding:8px 16px;margin-top:8px}
.note{color:#666}.error{color:#b00020}bdi{unicode-bidi:isolate}
</style></head><body>
{{$t := .T}}{{if .Message}}<h1>{{.Title}}</h1><p class="{{.Class}}" id="message">{{.Message}}</p>{{else}}{{with .Page}}
<h1>{{$.Title}}</h1>
<table id="case">
<tr><td>{{$t.Get "user"}}</td><td><bdi>{{.User}}</bdi></td></tr>
<tr><td>{{$t.Get "level"}}</td><td><bdi>{{.Level}}</bdi></td></tr>
{{if .Ref}}<tr><td>{{$t.Get "ref"}}</td><td><bdi>{{.Ref}}</bdi></td></tr>{{end}}
<tr><td>{{$t.Get "reasons"}}</td><td id="reasons"><bdi>{{range $i, $r := .Reasons}}{{if $i}}, {{end}}{{$r}}{{end}}</bdi></td></tr>
{{if .Owner}}<tr><td>{{$t.Get "owner"}}</td><td id="owner">{{$t.Owner .Owner}}</td></tr>{{end}}
<tr><td>{{$t.Get "received"}}</td><td><bdi>{{.Received.UTC.Format "2006-01-02 15:04 UTC"}}</bdi></td></tr>
</table>
{{if .Screened}}<section id="screening"><h2>{{$t.Get "screening"}}</h2>
{{if .Hits}}<p class="note">{{$t.Get "screening_note"}}</p>
<table><tr><th>{{$t.Get "hit_list"}}</th><th>{{$t.Get "hit_entry"}}</th><th>{{$t.Get "hit_name"}}</th><th>{{$t.Get "hit_score"}}</th><th>{{$t.Get "hit_name_score"}}</th><th>{{$t.Get "hit_birth_date"}}</th><th>{{$t.Get "hit_nationality"}}</th></tr>
{{range .Hits}}<tr class="hit"><td><bdi>{{.List}}</bdi></td><td><bdi>{{.Entry}}</bdi></td><td class="entry-name"><bdi>{{.Name}}</bdi>{{if .Alias}} ({{$t.Get "hit_alias"}}){{end}}</td><td>{{printf "%.2f" .Score}}</td><td>{{printf "%.2f" .NameScore}}</td><td>{{$t.Verdict .BirthDate}}</td><td>{{$t.Verdict .Nationality}}</td></tr>
{{end}}</table>
{{else}}<p class="note">{{$t.Get "no_hits"}}</p>{{end}}
</section>{{end}}
{{range .Sections}}<section><h2>{{$t.Element .Title}}</h2>
{{$el := .Title}}{{if .Fields}}<table>{{range .Fields}}<tr><td>{{$t.Field $el .Name}}</td><td class="value"><bdi>{{.Value}}</bdi></td></tr>{{end}}</table>{{end}}
{{if .Scans}}<div class="scans">{{range .Scans}}<figure><img alt="{{.Label}}" src="{{dataURL .}}"><figcaption>{{$t.Part .Label}}</figcaption></figure>{{end}}</div>{{end}}
</section>{{end}}
<form method="post" action="/review/decide">
<input type="hidden" name="token" value="{{.FormToken}}">
<fieldset><legend>{{$t.Get "approve"}}</legend><p class="note">{{$t.Get "approve_note"}}</p>
<button type="submit" name="action" value="approve" id="approve">{{$t.Get "approve"}}</button></fieldset>
<fieldset><legend>{{$t.Get "reject"}}</legend><p class="note">{{$t.Get "reject_note"}}</p>
<select name="reason" id="reason">{{range .RejectReasons}}<option value="{{.}}">{{.}}</option>{{end}}</select>
<button type="submit" name="action" value="reject" id="reject">{{$t.Get "reject"}}</button></fieldset>
<fieldset><legend>{{$t.Get "fix"}}</legend><p class="note">{{$t.Get "fix_note"}}</p>
{{range .Items}}<label><input type="checkbox" name="fix" value="{{.}}"> <bdi>{{.}}</bdi></label><br>{{end}}
<button type="submit" name="action" value="fix" id="fix">{{$t.Get "fix"}}</button></fieldset>
</form>{{end}}{{end}}
</body></html>`))

// reviewData is the review template's data.
type reviewData struct {
	Title, Message, Class, Nonce string
	Lang, Dir                    string
	T                            reviewText
	Page                         *ReviewPage
}

// reviewText gives the review template its texts in the admins'
// language: the catalog's default language, that of the admins' notices.
type reviewText struct{ loc *i18n.Localizer }

// Get returns the text review_page.<key>.
func (t reviewText) Get(key string) string { return t.loc.Text("review_page."+key, nil) }

// Owner names the other account of a duplicate.
func (t reviewText) Owner(id int64) string {
	return t.loc.Text(i18n.MsgReviewPageOwnerUser, map[string]any{"Owner": strconv.FormatInt(id, 10)})
}

// Verdict names how a date of birth or nationality compared (a
// screening.Verdict); an unknown one as it is.
func (t reviewText) Verdict(v string) string {
	switch v {
	case "same", "compatible", "different", "unknown":
		return t.Get("verdict_" + v)
	}
	return v
}

// Element names an element type ("personal_details").
func (t reviewText) Element(typ string) string { return t.loc.Capitalize(t.loc.Element(typ)) }

// Field names a data field of an element; the phone number and e-mail
// address, which are elements of their own, by their element's name.
func (t reviewText) Field(typ, name string) string {
	if name == typ {
		return t.Element(typ)
	}
	return t.loc.Capitalize(t.loc.Field(typ, name))
}

// Part names a scan ("selfie", "files[0]"); one it does not know as it
// is.
func (t reviewText) Part(target string) string {
	if p := t.loc.Part(target); p != "" {
		return t.loc.Capitalize(p)
	}
	return target
}

// renderReview writes the review page (or a message) in the admins'
// language with a policy that allows its nonce'd style, data: images and
// a form to this server only.
func (s *Server) renderReview(w http.ResponseWriter, status int, d reviewData) {
	d.Nonce = newNonce()
	loc := s.cat.Language(s.cat.DefaultLanguage())
	d.T, d.Lang, d.Dir = reviewText{loc: loc}, loc.Lang(), loc.Dir()
	if d.Title == "" {
		d.Title = d.T.Get("title_default")
	}
	var buf bytes.Buffer
	if err := reviewTmpl.Execute(&buf, d); err != nil {
		s.log.Error("web: render the review page", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+d.Nonce+"'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// reviewMessage renders a page that is only a message: the texts
// review_page.<key>_title and review_page.<key>.
func (s *Server) reviewMessage(w http.ResponseWriter, status int, class, key string) {
	t := reviewText{loc: s.cat.Language(s.cat.DefaultLanguage())}
	s.renderReview(w, status, reviewData{Title: t.Get(key + "_title"), Class: class, Message: t.Get(key)})
}

// reviewRefusal answers a refused review link or form.
func (s *Server) reviewRefusal(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrForbidden):
		s.reviewMessage(w, http.StatusForbidden, "error", "forbidden")
	case errors.Is(err, ErrNotFound):
		s.reviewMessage(w, http.StatusGone, "error", "invalid")
	default:
		s.log.Error("web: review", "err", err)
		s.reviewMessage(w, http.StatusServiceUnavailable, "error", "unavailable")
	}
}

func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) {
	page, err := s.opts.Reviews.Open(r.Context(), r.PathValue("token"))
	if err != nil {
		s.reviewRefusal(w, err)
		return
	}
	loc := s.cat.Language(s.cat.DefaultLanguage())
	s.renderReview(w, http.StatusOK, reviewData{Title: loc.Text(i18n.MsgReviewPageTitle, map[string]any{"User": strconv.FormatInt(page.User, 10)}), Page: &page})
}

func (s *Server) handleDecide(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxReviewForm)
	if err := r.ParseForm(); err != nil {
		s.reviewMessage(w, http.StatusBadRequest, "error", "bad_form")
		return
	}
	f := r.PostForm
	action := f.Get("action")
	if action == "fix" && len(f["fix"]) == 0 {
		s.reviewMessage(w, http.StatusBadRequest, "error", "nothing_to_fix")
		return
	}
	if err := s.opts.Reviews.Decide(r.Context(), f.Get("token"), action, f.Get("reason"), f["fix"]); err != nil {
		s.reviewRefusal(w, err)
		return
	}
	s.reviewMessage(w, http.StatusOK, "note", "recorded")
}
