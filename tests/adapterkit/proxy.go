package adapterkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// recorder is a reverse proxy in front of the Bot API server that keeps
// the JSON of every update getUpdates answers with, as sent.
type recorder struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	seen  map[int64][]byte
}

func newRecorder(target string) (*recorder, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("adapterkit: the Bot API front's URL: %w", err)
	}
	r := &recorder{seen: map[int64][]byte{}}
	r.proxy = httputil.NewSingleHostReverseProxy(u)
	r.proxy.ModifyResponse = r.keep
	// A long poll the host bot gives up on (it stops) is no error to log.
	r.proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	return r, nil
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.proxy.ServeHTTP(w, req) }

// keep records the updates of a getUpdates answer and passes it on
// unchanged.
func (r *recorder) keep(resp *http.Response) error {
	if !strings.HasSuffix(strings.ToLower(resp.Request.URL.Path), "/getupdates") || resp.Header.Get("Content-Encoding") != "" {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return err
	}
	var answer struct {
		Result []json.RawMessage `json:"result"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, raw := range answer.Result {
		var id struct {
			UpdateID int64 `json:"update_id"`
		}
		if json.Unmarshal(raw, &id) == nil {
			r.seen[id.UpdateID] = bytes.Clone(raw)
		}
	}
	return nil
}

// passports returns the updates seen that carry Telegram Passport data,
// in the order of their IDs.
func (r *recorder) passports() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]int64, 0, len(r.seen))
	for id := range r.seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out [][]byte
	for _, id := range ids {
		var u struct {
			Message *struct {
				PassportData json.RawMessage `json:"passport_data"`
			} `json:"message"`
		}
		if json.Unmarshal(r.seen[id], &u) == nil && u.Message != nil && len(u.Message.PassportData) > 0 {
			out = append(out, r.seen[id])
		}
	}
	return out
}
