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
	// Sections are the shared elements, in order.
	Sections []ReviewSection
	// Items are what the admin may ask to fix; RejectReasons the codes
	// of a rejection.
	Items         []string
	RejectReasons []string
	// FormToken authorizes the decision (Reviews.Decide), once.
	FormToken string
}

// ReviewSection is one element of a review.
type ReviewSection struct {
	Title  string
	Fields []ReviewField
	Scans  []ReviewScan
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
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="data:,"><title>{{.Title}}</title>
<style nonce="{{.Nonce}}">
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#1c1c1e}
h1{font-size:22px}h2{font-size:18px;margin-top:24px;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td{padding:3px 12px 3px 0;vertical-align:top}td:first-child{color:#666}
.scans{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}img{max-width:100%;width:420px;border:1px solid #ccc}
fieldset{margin:16px 0;border:1px solid #ccc;border-radius:8px}button{font:inherit;padding:8px 16px;margin-top:8px}
.note{color:#666}.error{color:#b00020}
</style></head><body>
{{if .Message}}<h1>{{.Title}}</h1><p class="{{.Class}}" id="message">{{.Message}}</p>{{else}}{{with .Page}}
<h1>{{$.Title}}</h1>
<table id="case">
<tr><td>User</td><td>{{.User}}</td></tr>
<tr><td>Level</td><td>{{.Level}}</td></tr>
{{if .Ref}}<tr><td>Ref</td><td>{{.Ref}}</td></tr>{{end}}
<tr><td>Reasons</td><td id="reasons">{{range $i, $r := .Reasons}}{{if $i}}, {{end}}{{$r}}{{end}}</td></tr>
{{if .Owner}}<tr><td>Already verified</td><td id="owner">user {{.Owner}}</td></tr>{{end}}
<tr><td>Received</td><td>{{.Received.UTC.Format "2006-01-02 15:04 UTC"}}</td></tr>
</table>
{{range .Sections}}<section><h2>{{.Title}}</h2>
{{if .Fields}}<table>{{range .Fields}}<tr><td>{{.Name}}</td><td class="value">{{.Value}}</td></tr>{{end}}</table>{{end}}
{{if .Scans}}<div class="scans">{{range .Scans}}<figure><img alt="{{.Label}}" src="{{dataURL .}}"><figcaption>{{.Label}}</figcaption></figure>{{end}}</div>{{end}}
</section>{{end}}
<form method="post" action="/review/decide">
<input type="hidden" name="token" value="{{.FormToken}}">
<fieldset><legend>Approve</legend><p class="note">The user is verified.</p>
<button type="submit" name="action" value="approve" id="approve">Approve</button></fieldset>
<fieldset><legend>Reject</legend><p class="note">For good; the user is told a reviewer could not accept the documents.</p>
<select name="reason" id="reason">{{range .RejectReasons}}<option value="{{.}}">{{.}}</option>{{end}}</select>
<button type="submit" name="action" value="reject" id="reject">Reject</button></fieldset>
<fieldset><legend>Ask to fix</legend><p class="note">The user is asked to check what you tick and share again.</p>
{{range .Items}}<label><input type="checkbox" name="fix" value="{{.}}"> {{.}}</label><br>{{end}}
<button type="submit" name="action" value="fix" id="fix">Ask to fix</button></fieldset>
</form>{{end}}{{end}}
</body></html>`))

// reviewData is the review template's data.
type reviewData struct {
	Title, Message, Class, Nonce string
	Page                         *ReviewPage
}

// renderReview writes the review page (or a message) with a policy that
// allows its nonce'd style, data: images and a form to this server only.
func (s *Server) renderReview(w http.ResponseWriter, status int, d reviewData) {
	d.Nonce = newNonce()
	if d.Title == "" {
		d.Title = "Review"
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

// reviewRefusal answers a refused review link or form.
func (s *Server) reviewRefusal(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrForbidden):
		s.renderReview(w, http.StatusForbidden, reviewData{Title: "Not allowed", Class: "error",
			Message: "This link is not for an admin of this bot. Ask an admin to review the case."})
	case errors.Is(err, ErrNotFound):
		s.renderReview(w, http.StatusGone, reviewData{Title: "Link not valid", Class: "error",
			Message: "This review link is not valid: it was used already, it has expired, or the case was decided. Each link works once; the admin chat has the case."})
	default:
		s.log.Error("web: review", "err", err)
		s.renderReview(w, http.StatusServiceUnavailable, reviewData{Title: "Try again", Class: "error",
			Message: "The review cannot be shown or recorded right now. Try again in a minute."})
	}
}

func (s *Server) handleReview(w http.ResponseWriter, r *http.Request) {
	page, err := s.opts.Reviews.Open(r.Context(), r.PathValue("token"))
	if err != nil {
		s.reviewRefusal(w, err)
		return
	}
	s.renderReview(w, http.StatusOK, reviewData{Title: "Review of user " + strconv.FormatInt(page.User, 10), Page: &page})
}

func (s *Server) handleDecide(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxReviewForm)
	if err := r.ParseForm(); err != nil {
		s.renderReview(w, http.StatusBadRequest, reviewData{Title: "Bad form", Class: "error", Message: "The form could not be read; open the review link again."})
		return
	}
	f := r.PostForm
	action := f.Get("action")
	if action == "fix" && len(f["fix"]) == 0 {
		s.renderReview(w, http.StatusBadRequest, reviewData{Title: "Nothing to fix", Class: "error",
			Message: "Ask to fix needs at least one item ticked: go back, tick what the user must fix, and send again."})
		return
	}
	if err := s.opts.Reviews.Decide(r.Context(), f.Get("token"), action, f.Get("reason"), f["fix"]); err != nil {
		s.reviewRefusal(w, err)
		return
	}
	s.renderReview(w, http.StatusOK, reviewData{Title: "Decision recorded", Class: "note",
		Message: "Your decision is recorded. The user is told in the chat; the submission kept for the review is erased."})
}
