package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
)

// templates holds the page template.
//
//go:embed templates/page.html
var templates embed.FS

// pageTemplate renders every page. html/template escapes each value for
// its context (text, attribute, URL).
var pageTemplate = template.Must(template.ParseFS(templates, "templates/page.html"))

// Tones of the badge at the top of a page.
const (
	toneInfo = "info"
	toneOK   = "ok"
	toneWarn = "warn"
)

// pageData is what templates/page.html renders. Every string is plain text
// (escaped by the template) except Link.
type pageData struct {
	Lang, Dir string
	Nonce     string // CSP nonce of the inline style and script
	Title     string // <title> and <h1>
	Tone      string // toneInfo, toneOK or toneWarn

	// Request page.
	Request       bool
	Asking        string
	Items         []scopeItem
	OpenLabel     string
	Link          template.URL // the Passport deep link, see requestPage
	Encrypted     string
	PrivacyURL    string
	PrivacyLabel  string
	PasswordTitle string
	PasswordNote  string
	FallbackTitle string
	Fallback      string

	// The brand at the top of every page: the business's name and logo
	// (Options.BotName, Options.Logo), when configured.
	Brand   string
	LogoURL string

	// The link's expiry: ExpiresBefore, the time and ExpiresAfter make one
	// sentence; the time is ExpiresClock, localized to the browser's time
	// zone by the page's script from ExpiresISO.
	ExpiresBefore, ExpiresClock, ExpiresAfter string
	ExpiresISO                                string

	// Continuing on another device: the QR code of the page's own URL
	// (shown on desktops only, decided by CSS), and the note on Telegram
	// Web.
	QR      template.HTML
	QRTitle string
	QRNote  string
	QRLabel string
	WebNote string

	// Other pages.
	Message   string
	BackURL   string
	BackLabel string
}

// scopeItem is one line of the list of requested data: the element's name
// and what is asked for on top (selfie, translation, native names).
type scopeItem struct {
	Name, Extra string
}

// handlePage serves GET /passport/{id}.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) {
		s.expiredPage(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), backendTimeout)
	defer cancel()
	req, err := s.backend.Request(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		s.expiredPage(w, r)
		return
	case err != nil:
		s.log.Error("web: request lookup failed", "request", idHash(id), "err", err)
		s.unavailablePage(w, r, http.StatusServiceUnavailable)
		return
	case !req.ExpiresAt.IsZero() && !s.now().Before(req.ExpiresAt):
		s.expiredPage(w, r)
		return
	}
	loc := s.localizer(req.Lang, r)
	scope, err := s.opts.Scope(req.Level)
	if err != nil {
		s.log.Error("web: no scope for the request's level", "request", idHash(id), "level", req.Level, "err", err)
		s.unavailablePage(w, r, http.StatusServiceUnavailable)
		return
	}
	form := passport.LinkResolve
	if isAndroid(r.UserAgent()) {
		form = passport.LinkAndroid
	}
	raw, err := passport.Link{
		BotID:       s.opts.BotID,
		Scope:       scope,
		PublicKey:   s.opts.PublicKeyPEM,
		Nonce:       req.Nonce,
		CallbackURL: s.callbackURL(id),
	}.URL(passport.WithLinkForm(form))
	if err != nil || !strings.HasPrefix(raw, "tg:") {
		// The errors of Link.URL name fields, never their values.
		s.log.Error("web: cannot build the passport link", "request", idHash(id), "level", req.Level, "err", err)
		s.unavailablePage(w, r, http.StatusInternalServerError)
		return
	}
	qrCode, err := qrSVG(PageURL(s.publicURL, id))
	if err != nil {
		// A request ID is short and the public URL checked: this does not
		// happen; the page works without the code.
		s.log.Error("web: cannot build the QR code", "request", idHash(id), "err", err)
	}
	bot := isolate(s.botName)
	d := pageData{
		Title:     loc.Text(i18n.MsgPageTitle, nil),
		Tone:      toneInfo,
		Request:   true,
		Asking:    loc.Text(i18n.MsgPageAsking, map[string]any{"Bot": bot}),
		Items:     scopeItems(loc, scope),
		OpenLabel: loc.Text(i18n.MsgPageOpenButton, nil),
		// html/template refuses URL schemes other than http, https and
		// mailto in href (it would write #ZgotmplZ) unless the value is a
		// template.URL. Marking raw as such is safe: it is exactly what
		// passport.Link.URL built after validating every field, a tg:
		// link (checked above) whose every parameter value is
		// percent-encoded, so it cannot carry a javascript: scheme, quotes
		// or markup; the template still escapes it for the attribute.
		Link:          template.URL(raw),
		Encrypted:     loc.Text(i18n.MsgPageEncrypted, map[string]any{"Bot": bot}),
		PrivacyURL:    s.opts.PrivacyPolicyURL,
		PrivacyLabel:  loc.Text(i18n.MsgPagePrivacy, nil),
		PasswordTitle: loc.Text(i18n.MsgPagePasswordTitle, nil),
		PasswordNote:  loc.Text(i18n.MsgStartPasswordNote, nil),
		FallbackTitle: loc.Text(i18n.MsgPageFallbackTitle, nil),
		Fallback:      loc.Text(i18n.MsgPageFallback, nil),
		QR:            qrCode,
		QRTitle:       loc.Text(i18n.MsgPageQRTitle, nil),
		QRNote:        loc.Text(i18n.MsgPageQRNote, nil),
		QRLabel:       loc.Text(i18n.MsgPageQRLabel, nil),
		WebNote:       loc.Text(i18n.MsgPageWebNote, nil),
	}
	if !req.ExpiresAt.IsZero() {
		d.ExpiresBefore, d.ExpiresClock, d.ExpiresAfter = s.expiryLine(loc, req.ExpiresAt)
		d.ExpiresISO = req.ExpiresAt.UTC().Format(time.RFC3339)
	}
	s.log.Debug("web: request page", "request", idHash(id), "lang", loc.Lang(), "android", form == passport.LinkAndroid)
	s.render(w, http.StatusOK, loc, d)
}

// timeMark stands for the time in the expiry sentence while it is
// rendered, so that the page can wrap the time in a <time> element: a
// private-use character no text contains.
const timeMark = "\uE000"

// expiryLine returns the sentence saying until when the link works, around
// its time: "This link works until ", "12:30 UTC", " (about 30 minutes).".
// The count is minutes up to 90 minutes, then hours, rounded, at least 1.
func (s *Server) expiryLine(loc *i18n.Localizer, at time.Time) (before, clock, after string) {
	left := at.Sub(s.now())
	data := map[string]any{"Time": timeMark}
	var text string
	if left < 90*time.Minute {
		text = loc.Plural(i18n.MsgPageExpiresMinutes, max(1, int((left+30*time.Second)/time.Minute)), data)
	} else {
		text = loc.Plural(i18n.MsgPageExpiresHours, max(1, int((left+30*time.Minute)/time.Hour)), data)
	}
	before, after, found := strings.Cut(text, timeMark)
	if !found {
		// An admin's override without {{.Time}}: the sentence as it is.
		return text, "", ""
	}
	// For people who do not run the page's script (which shows the time
	// in the browser's zone): the server cannot know the user's zone, so
	// it says UTC, in the language's own time format and digits.
	return before, loc.Time(at), after
}

// MaxLogoSize is the size of the largest logo served (Options.Logo): 128
// KiB, plenty for a PNG of a few hundred pixels or an SVG.
const MaxLogoSize = 128 << 10

// logoTypes are the media types of the logos served.
var logoTypes = []string{"image/png", "image/jpeg", "image/svg+xml"}

// handleLogo serves GET /passport/logo: Options.Logo, cacheable (its URL
// on the pages changes with its content). An SVG logo is shown through
// <img>, where it runs nothing; opened on its own, its policy lets it run
// nothing either.
func (s *Server) handleLogo(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", s.opts.LogoType)
	h.Set("Content-Length", strconv.Itoa(len(s.opts.Logo)))
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	_, _ = w.Write(s.opts.Logo)
}

// scopeItems describes a scope in words, one item per element: the
// capitalized name ("Passport, driving licence or identity card") and the
// extras asked for with it.
func scopeItems(loc *i18n.Localizer, sc passport.Scope) []scopeItem {
	items := make([]scopeItem, 0, len(sc.Elements))
	for _, e := range sc.Elements {
		names := make([]string, len(e.Types))
		for i, t := range e.Types {
			names[i] = loc.Element(string(t))
		}
		it := scopeItem{Name: loc.Capitalize(loc.OrList(names...))}
		switch {
		case e.Selfie && e.Translation:
			it.Extra = loc.Text(i18n.MsgPageScopeSelfieTranslation, nil)
		case e.Selfie:
			it.Extra = loc.Text(i18n.MsgPageScopeSelfie, nil)
		case e.Translation:
			it.Extra = loc.Text(i18n.MsgPageScopeTranslation, nil)
		case e.NativeNames:
			it.Extra = loc.Text(i18n.MsgPageScopeNativeNames, nil)
		}
		items = append(items, it)
	}
	return items
}

// expiredPage answers 404 with the page for an unknown or expired request,
// in the browser's language.
func (s *Server) expiredPage(w http.ResponseWriter, r *http.Request) {
	loc := s.localizer("", r)
	s.render(w, http.StatusNotFound, loc, pageData{
		Title:     loc.Text(i18n.MsgPageExpiredTitle, nil),
		Tone:      toneWarn,
		Message:   loc.Text(i18n.MsgPageExpired, nil),
		BackURL:   s.backURL,
		BackLabel: loc.Text(i18n.MsgPageBackButton, nil),
	})
}

// unavailablePage answers status with the "try again in a few minutes"
// page, in the browser's language.
func (s *Server) unavailablePage(w http.ResponseWriter, r *http.Request, status int) {
	loc := s.localizer("", r)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "60")
	}
	s.render(w, status, loc, pageData{
		Title:   loc.Text(i18n.MsgPageTitle, nil),
		Tone:    toneWarn,
		Message: loc.Text(i18n.MsgPageUnavailable, nil),
	})
}

// localizer returns the Localizer of lang, or, when lang is empty, of the
// first language of the Accept-Language header that the catalog supports,
// else of the catalog's default language.
func (s *Server) localizer(lang string, r *http.Request) *i18n.Localizer {
	if lang != "" {
		return s.cat.Language(lang)
	}
	return s.cat.Language(s.acceptLanguage(r.Header.Get("Accept-Language")))
}

// acceptLanguage picks the supported language of an Accept-Language header
// (by preference), or the default language. It is lenient: entries it
// cannot read are skipped rather than failing the whole header (Chrome, for
// one, can send "de;q=0.9;q=0.9").
func (s *Server) acceptLanguage(header string) string {
	def := s.cat.DefaultLanguage()
	if header == "" || len(header) > 1024 {
		return def
	}
	type pref struct {
		tag language.Tag
		q   float64
	}
	var prefs []pref
	for i, entry := range strings.Split(header, ",") {
		if i == 32 {
			break
		}
		code, params, _ := strings.Cut(entry, ";")
		t, err := language.Parse(strings.TrimSpace(code))
		if err != nil {
			continue // also "*"
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if !ok || strings.TrimSpace(k) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
			break // the first q counts
		}
		if q > 0 {
			prefs = append(prefs, pref{t, q})
		}
	}
	slices.SortStableFunc(prefs, func(a, b pref) int { return cmp.Compare(b.q, a.q) })
	for _, p := range prefs {
		base, conf := p.tag.Base()
		if conf == language.No {
			continue
		}
		m := s.cat.Match(p.tag.String())
		if mb, _ := language.Make(m).Base(); mb == base {
			return m
		}
	}
	return def
}

// isAndroid reports whether a User-Agent is an Android browser (which gets
// the tg:resolve spelling of the deep link).
func isAndroid(ua string) bool {
	return strings.Contains(strings.ToLower(ua), "android")
}

// isolate wraps a name in Unicode first-strong and pop isolates, so that a
// Latin "@name" keeps its order inside right-to-left text.
func isolate(s string) string { return "\u2068" + s + "\u2069" }

// newNonce returns a fresh CSP nonce: 16 random bytes, unpadded base64url
// (nothing html/template would escape).
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// cspFor returns the Content-Security-Policy of a page whose inline style
// and script carry nonce. Images: data: URLs (the empty favicon) and, when
// there is a logo, exactly the logo's URL (logoSrc); the QR code is inline
// SVG markup, which loads nothing.
func cspFor(nonce, logoSrc string) string {
	n := "'nonce-" + nonce + "'"
	img := "data:"
	if logoSrc != "" {
		img += " " + logoSrc
	}
	return "default-src 'none'; style-src " + n + "; script-src " + n +
		"; img-src " + img + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// baseCSP is the policy of responses that are not pages (health check,
// the mux's 404 and 405): nothing may load at all.
const baseCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// withBaseHeaders sets the security headers every response carries; pages
// replace the Content-Security-Policy with one holding their nonce.
func withBaseHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", baseCSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// render writes a page with its headers.
func (s *Server) render(w http.ResponseWriter, status int, loc *i18n.Localizer, d pageData) {
	d.Lang, d.Dir = loc.Lang(), loc.Dir()
	d.Nonce = newNonce()
	if s.opts.BotName != "" || s.logoURL != "" {
		d.Brand, d.LogoURL = s.botName, s.logoURL
	}
	var buf bytes.Buffer
	if err := s.tmpl.Execute(&buf, d); err != nil {
		s.log.Error("web: render page", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", cspFor(d.Nonce, s.logoSrc))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", d.Lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// handleHealth serves GET /healthz, the liveness check: 200 "ok" as long
// as the server answers. It asks the Backend nothing, so that a Redis
// outage does not get a healthy process restarted.
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// handleReady serves GET /readyz, the readiness check: 200 "ok" when
// Backend.Ready succeeds within readyTimeout, else 503 "unavailable" (the
// cause is logged, not shown).
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.backend.Ready(ctx); err != nil {
		s.log.Warn("web: not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("unavailable"))
		return
	}
	_, _ = w.Write([]byte("ok"))
}
