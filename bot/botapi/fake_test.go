package botapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// testToken is the bot token of the fake Bot API.
const testToken = "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// fakeAPI is a Bot API server for the tests, written from the Bot API's
// documentation: it answers getMe, sendMessage (numbering the messages),
// getFile and the file downloads, getUpdates (long poll, offsets) and
// true to every other method, records each call, and answers a method
// with replies queued by fail.
type fakeAPI struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []apiCall
	queued  map[string][]string // method -> raw answers, in order (status in "status|body")
	lastMsg int
	files   map[string]string // file_id -> content (file path "files/<file_id>")
	updates []json.RawMessage // not confirmed yet
	nextUpd int64
	arrived chan struct{} // closed and renewed when an update arrives
	offsets []int64       // the offsets getUpdates was called with
}

// apiCall is one call the fake received.
type apiCall struct {
	Method string
	Params map[string]any
}

// JSON returns the params as JSON (stable key order).
func (c apiCall) JSON() string {
	b, _ := json.Marshal(c.Params)
	return string(b)
}

func newFakeAPI() *fakeAPI {
	f := &fakeAPI{queued: map[string][]string{}, files: map[string]string{}, nextUpd: 100, arrived: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *fakeAPI) Close() { f.srv.Close() }

// URL is the server's base URL (botapi.WithBaseURL).
func (f *fakeAPI) URL() string { return f.srv.URL }

// fail queues an answer for the next call of method: an HTTP status and
// a body.
func (f *fakeAPI) fail(method string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queued[method] = append(f.queued[method], fmt.Sprintf("%d|%s", status, body))
}

// failAPI queues a Bot API error for the next call of method.
func (f *fakeAPI) failAPI(method string, code int, description string, retryAfter int) {
	params := ""
	if retryAfter > 0 {
		params = fmt.Sprintf(`,"parameters":{"retry_after":%d}`, retryAfter)
	}
	f.fail(method, code, fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q%s}`, code, description, params))
}

// addFile makes a file downloadable by its file_id.
func (f *fakeAPI) addFile(fileID, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[fileID] = content
}

// push adds an update (its JSON without update_id) and returns its ID.
func (f *fakeAPI) push(update string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextUpd
	f.nextUpd++
	f.updates = append(f.updates, json.RawMessage(fmt.Sprintf(`{"update_id":%d,%s`, id, strings.TrimPrefix(update, "{"))))
	close(f.arrived)
	f.arrived = make(chan struct{})
	return id
}

// pending returns how many updates are not confirmed.
func (f *fakeAPI) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.updates)
}

// called returns the calls of method (all calls for "").
func (f *fakeAPI) called(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func ok(result string) string { return `{"ok":true,"result":` + result + `}` }

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if rest, isFile := strings.CutPrefix(r.URL.Path, "/file/bot"+testToken+"/files/"); isFile {
		f.mu.Lock()
		content, found := f.files[rest]
		f.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(content))
		return
	}
	method, found := strings.CutPrefix(r.URL.Path, "/bot"+testToken+"/")
	if !found {
		writeJSON(w, http.StatusUnauthorized, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	var params map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		writeJSON(w, http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: the parameters are not JSON"}`)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{Method: method, Params: params})
	if q := f.queued[method]; len(q) > 0 {
		f.queued[method] = q[1:]
		f.mu.Unlock()
		status, body, _ := strings.Cut(q[0], "|")
		var code int
		_, _ = fmt.Sscan(status, &code)
		writeJSON(w, code, body)
		return
	}
	switch method {
	case "getMe":
		f.mu.Unlock()
		writeJSON(w, 200, ok(`{"id":7000001,"is_bot":true,"first_name":"Acme","username":"acme_shop_bot"}`))
	case "sendMessage":
		f.lastMsg++
		id := f.lastMsg
		f.mu.Unlock()
		writeJSON(w, 200, ok(fmt.Sprintf(`{"message_id":%d,"chat":{"id":%s,"type":"private"},"text":"x"}`, id, params["chat_id"])))
	case "getFile":
		id, _ := params["file_id"].(string)
		_, found := f.files[id]
		f.mu.Unlock()
		if !found {
			writeJSON(w, 400, `{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}`)
			return
		}
		writeJSON(w, 200, ok(fmt.Sprintf(`{"file_id":%q,"file_unique_id":"u","file_path":"files/%s"}`, id, id)))
	case "getUpdates":
		f.getUpdates(w, r, params)
	default:
		f.mu.Unlock()
		writeJSON(w, 200, ok("true"))
	}
}

// getUpdates answers getUpdates, f.mu held: the updates from the offset
// on (dropping the ones before it), waiting up to the timeout for one.
func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, params map[string]any) {
	var offset, timeout, limit int64
	if n, isNum := params["offset"].(json.Number); isNum {
		offset, _ = n.Int64()
	}
	if n, isNum := params["timeout"].(json.Number); isNum {
		timeout, _ = n.Int64()
	}
	if n, isNum := params["limit"].(json.Number); isNum {
		limit, _ = n.Int64()
	}
	f.offsets = append(f.offsets, offset)
	deadline := time.After(time.Duration(timeout) * time.Second)
	for {
		var out []json.RawMessage
		kept := f.updates[:0]
		for _, u := range f.updates {
			var head struct {
				UpdateID int64 `json:"update_id"`
			}
			_ = json.Unmarshal(u, &head)
			if offset != 0 && head.UpdateID < offset {
				continue // confirmed
			}
			kept = append(kept, u)
			if limit == 0 || int64(len(out)) < limit {
				out = append(out, u)
			}
		}
		f.updates = kept
		if len(out) > 0 || timeout == 0 {
			f.mu.Unlock()
			b, _ := json.Marshal(out)
			if len(out) == 0 {
				b = []byte("[]")
			}
			writeJSON(w, 200, ok(string(b)))
			return
		}
		arrived := f.arrived
		f.mu.Unlock()
		select {
		case <-arrived:
		case <-deadline:
			timeout = 0
		case <-r.Context().Done():
			return
		}
		f.mu.Lock()
	}
}
