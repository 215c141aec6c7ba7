package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/kycbot/kycbot/i18n"
)

// handleCallback serves GET /passport/callback?r=<id>&tg_passport=...
// [&error=...], where the Telegram app returns after the Passport form. It
// records the outcome of a known request and always answers 200 with a page
// telling the user to go back to the chat.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("r")
	result := q.Get("tg_passport")
	switch result {
	case ResultSuccess, ResultCancel, ResultError:
	default:
		result = "" // missing or not Telegram's: nothing to record
	}

	var req Request
	known := false
	if validID(id) {
		ctx, cancel := context.WithTimeout(r.Context(), backendTimeout)
		var err error
		req, err = s.backend.Request(ctx, id)
		cancel()
		switch {
		case err == nil:
			known = true
		case errors.Is(err, ErrNotFound):
			s.log.Info("web: callback for an unknown or expired request", "request", idHash(id), "result", result)
		default:
			s.log.Error("web: request lookup failed", "request", idHash(id), "err", err)
		}
	}

	if known && result != "" {
		o := Outcome{RequestID: id, Result: result, At: s.now()}
		if result == ResultError {
			o.Error = CodeUnknown
			if code := q.Get("error"); knownCode(code) {
				o.Error = code
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), outcomeTimeout)
		err := s.backend.RecordOutcome(ctx, o)
		cancel()
		if err != nil {
			s.log.Error("web: cannot record the outcome", "request", idHash(id), "result", o.Result, "error_code", o.Error, "err", err)
		} else {
			level := slogLevel(o)
			s.log.Log(r.Context(), level, "web: passport outcome", "request", idHash(id), "result", o.Result, "error_code", o.Error)
		}
	}

	loc := s.localizer(req.Lang, r)
	d := pageData{BackURL: s.backURL, BackLabel: loc.Text(i18n.MsgPageBackButton, nil)}
	switch result {
	case ResultSuccess:
		d.Title, d.Tone = loc.Text(i18n.MsgPageCallbackSuccessTitle, nil), toneOK
		d.Message = loc.Text(i18n.MsgPageCallbackSuccess, nil)
	case ResultCancel:
		d.Title, d.Tone = loc.Text(i18n.MsgPageCallbackCancelTitle, nil), toneInfo
		d.Message = loc.Text(i18n.MsgPageCallbackCancel, nil)
	case ResultError:
		d.Title, d.Tone = loc.Text(i18n.MsgPageCallbackErrorTitle, nil), toneWarn
		d.Message = loc.Text(i18n.MsgPageCallbackError, nil)
	default:
		d.Title, d.Tone = loc.Text(i18n.MsgPageTitle, nil), toneInfo
		d.Message = loc.Text(i18n.MsgPageCallbackUnknown, nil)
	}
	s.render(w, http.StatusOK, loc, d)
}

// slogLevel is the log level of an outcome: Error for the codes that mean
// the bot is misconfigured (nobody can share data until an admin acts),
// Warn for other errors, Info otherwise.
func slogLevel(o Outcome) slog.Level {
	switch {
	case o.Result != ResultError:
		return slog.LevelInfo
	case o.Error == CodeBotInvalid || o.Error == CodePublicKeyRequired || o.Error == CodePublicKeyInvalid:
		return slog.LevelError
	default:
		return slog.LevelWarn
	}
}
