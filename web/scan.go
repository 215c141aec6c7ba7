package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/passport"
)

// scanPrefix is the path of the one-time scan links.
const scanPrefix = "/passport/scans/"

// ScanURL returns the one-time link of a scan token: publicURL
// (Options.PublicURL) + "/passport/scans/" + token.
func ScanURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + scanPrefix + token
}

// Scan is what a scan link leads to: the scan as the webhook event
// describes it, and where it is.
type Scan struct {
	// MIME, Size and SHA256 (hex) describe the decrypted content; the
	// answer's Content-Type, Content-Length and ScanSHA256Header.
	MIME   string
	Size   int64
	SHA256 string
	// File is the scan's location at Telegram and its file credentials.
	File passport.File
	// Record is what Scans.Restore needs to put the link back (opaque
	// here).
	Record any
}

// Scans is what the scan links need (Options.Scans). Its methods must be
// safe for concurrent use.
type Scans interface {
	// Ready reports whether scans can be downloaded now (Telegram is
	// connected). An error makes the link answer 503 with Retry-After,
	// before the link is used up.
	Ready(ctx context.Context) error
	// Take uses up the link of token and returns its scan: an error
	// wrapping ErrNotFound when the link is unknown, expired or already
	// used; any other error means the storage failed (503).
	Take(ctx context.Context, token string) (Scan, error)
	// Download writes the encrypted bytes of the Passport file f to w.
	Download(ctx context.Context, f *passport.File, w io.Writer) error
	// Restore puts back the link of token, used up by Take, when the
	// download failed before anything was sent: the link works again
	// until it would have expired.
	Restore(ctx context.Context, token string, sc Scan) error
}

// ScanSHA256Header carries the hex SHA-256 of a scan served by its link.
const ScanSHA256Header = "X-Kycbot-Sha256"

// Answers of the scan links.
const (
	scanGone = "This scan link expired or was already used: each link works once, for delivery.file_link_ttl after the delivery that carried it.\n" +
		"Fetch the scans as soon as the webhook event arrives. To get fresh links, have the event delivered again (answer it with a non-2xx status), or ask the user to verify again.\n"
	scanBusy   = "Scans cannot be fetched right now (the bot is starting or reconnecting to Telegram). The link still works: try again in a few seconds.\n"
	scanFailed = "The scan could not be fetched from Telegram, and this link is used up. Have the event delivered again (answer it with a non-2xx status) to get fresh links.\n"
	scanAgain  = "The scan could not be fetched from Telegram just now. The link still works: try again in a few seconds.\n"
	// scanRetryAfter is the Retry-After of a 503, in seconds.
	scanRetryAfter = "10"
	// scanWriteTimeout bounds the answer of one scan (download from
	// Telegram and decryption included), instead of the server's
	// writeTimeout: a 10 MB scan from a slow data center takes longer.
	scanWriteTimeout = 5 * time.Minute
)

// validToken reports whether token can be a scan link's token (base64url,
// 32 to 128 characters); anything else gets 404 without asking Scans.
func validToken(token string) bool { return len(token) >= 32 && validID(token) }

// handleScan serves a one-time scan link: it uses the link up, downloads
// the scan from Telegram and decrypts it into the answer as it arrives.
func (s *Server) handleScan(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	log := s.log.With(slog.String("link", idHash(token)))
	if r.Method == http.MethodHead {
		// A HEAD would use the link up for nothing.
		w.Header().Set("Allow", http.MethodGet)
		plain(w, http.StatusMethodNotAllowed, "GET only: a scan link works once.\n")
		return
	}
	if !validToken(token) {
		plain(w, http.StatusNotFound, scanGone)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), backendTimeout)
	err := s.opts.Scans.Ready(ctx)
	var sc Scan
	if err == nil {
		sc, err = s.opts.Scans.Take(ctx, token)
	}
	cancel()
	switch {
	case errors.Is(err, ErrNotFound):
		log.InfoContext(r.Context(), "web: scan link unknown, expired or used")
		plain(w, http.StatusNotFound, scanGone)
		return
	case err != nil:
		log.WarnContext(r.Context(), "web: scan link cannot be served now", slog.String("error", err.Error()))
		w.Header().Set("Retry-After", scanRetryAfter)
		plain(w, http.StatusServiceUnavailable, scanBusy)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(scanWriteTimeout))
	ctx, cancel = context.WithTimeout(r.Context(), scanWriteTimeout)
	defer cancel()
	out := &scanWriter{w: w, scan: sc, sum: sha256.New()}
	pr, pw := io.Pipe()
	dlErr := make(chan error, 1)
	go func() {
		err := s.opts.Scans.Download(ctx, &sc.File, pw)
		pw.CloseWithError(err) // nil closes with io.EOF
		dlErr <- err
	}()
	_, err = passport.DecryptFile(out, pr, sc.File.Credentials)
	_ = pr.CloseWithError(errors.New("decryption finished"))
	cancel()
	derr := <-dlErr
	if err == nil {
		log.InfoContext(r.Context(), "web: scan served", slog.Int64("bytes", out.n))
		return
	}
	downloadFailed := derr != nil && !errors.Is(derr, context.Canceled)
	if downloadFailed {
		err = fmt.Errorf("download: %w", derr)
	}
	// The cause names neither the scan nor its content.
	log.ErrorContext(r.Context(), "web: scan link used, but the scan could not be served", slog.Int64("bytes_sent", out.n), slog.String("error", err.Error()))
	if out.started {
		// Cut the connection: the client sees a body shorter than its
		// Content-Length, never a truncated scan taken for whole.
		panic(http.ErrAbortHandler)
	}
	if downloadFailed {
		// Nothing was sent: the link works again.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), backendTimeout)
		rerr := s.opts.Scans.Restore(rctx, token, sc)
		cancel()
		if rerr == nil {
			w.Header().Set("Retry-After", scanRetryAfter)
			plain(w, http.StatusServiceUnavailable, scanAgain)
			return
		}
		log.WarnContext(r.Context(), "web: scan link cannot be put back", slog.String("error", rerr.Error()))
	}
	plain(w, http.StatusBadGateway, scanFailed)
}

// scanWriter is the passport.Stager of a scan being served: it writes the
// decrypted bytes into the answer as they come (the headers with the
// first ones), hashing them, but holds the last byte back until Commit
// has checked the whole against the file's hash and the link's size and
// SHA-256: a scan that does not check out never arrives whole.
type scanWriter struct {
	w       http.ResponseWriter
	scan    Scan
	sum     hash.Hash
	n       int64 // bytes received
	last    []byte
	started bool
}

// Write implements io.Writer.
func (sw *scanWriter) Write(p []byte) (int, error) {
	if !sw.started {
		sw.started = true
		h := sw.w.Header()
		mime := sw.scan.MIME
		if mime == "" {
			mime = "application/octet-stream"
		}
		h.Set("Content-Type", mime)
		h.Set("Content-Length", strconv.FormatInt(sw.scan.Size, 10))
		h.Set(ScanSHA256Header, sw.scan.SHA256)
		sw.w.WriteHeader(http.StatusOK)
	}
	if sw.n+int64(len(p)) > sw.scan.Size {
		return 0, errors.New("the scan is larger than its link says")
	}
	sw.sum.Write(p)
	now := p
	if sw.n+int64(len(p)) == sw.scan.Size && len(p) > 0 {
		now, sw.last = p[:len(p)-1], p[len(p)-1:]
	}
	if _, err := sw.w.Write(now); err != nil {
		return 0, err
	}
	sw.n += int64(len(p))
	return len(p), nil
}

// Commit implements passport.Stager: the file's own hash was verified;
// the content must also be the one the event described. Then the last
// byte goes out.
func (sw *scanWriter) Commit() error {
	if sw.n != sw.scan.Size || hex.EncodeToString(sw.sum.Sum(nil)) != sw.scan.SHA256 {
		return errors.New("the scan differs from the one its link describes")
	}
	_, err := sw.w.Write(sw.last)
	return err
}

// Discard implements passport.Stager; handleScan cuts the answer.
func (sw *scanWriter) Discard() error { return nil }

// plain answers status with a short text.
func plain(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}
