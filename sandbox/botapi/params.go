package botapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBody bounds a request body (the Bot API's own limit for files is
// far larger; the sandbox takes no uploads).
const maxBody = 1 << 20

// params are a request's parameters, as the Bot API takes them: from the
// query string, a form (urlencoded or multipart) or a JSON object. A
// value is kept as its text: a JSON string unquoted, any other JSON value
// (number, object, array) as written. An object or array given as a form
// value is JSON text, so both read the same.
type params map[string]string

// readParams reads the parameters of r: the query string first, then the
// body by its Content-Type.
func readParams(r *http.Request) (params, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p[k] = v[0]
		}
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, badRequest("can't read the request body")
	}
	if len(body) > maxBody {
		return nil, &apiError{code: http.StatusRequestEntityTooLarge, description: "Request Entity Too Large"}
	}
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		return p, parseJSONParams(body, p)
	case "multipart/form-data":
		return p, parseMultipart(body, ctParams["boundary"], p)
	default:
		// application/x-www-form-urlencoded, or no type at all.
		return p, parseFormParams(body, p)
	}
}

// parseFormParams adds the fields of a urlencoded form to p.
func parseFormParams(body []byte, p params) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return badRequest("can't parse the request body as a form")
	}
	for k, vs := range v {
		if len(vs) > 0 {
			p[k] = vs[0]
		}
	}
	return nil
}

// parseMultipart adds the text fields of a multipart form to p.
func parseMultipart(body []byte, boundary string, p params) error {
	if boundary == "" {
		return badRequest("multipart form without a boundary")
	}
	r := http.Request{Method: http.MethodPost, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
	r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	if err := r.ParseMultipartForm(maxBody); err != nil {
		return badRequest("can't parse the multipart form")
	}
	for k, vs := range r.MultipartForm.Value {
		if len(vs) > 0 {
			p[k] = vs[0]
		}
	}
	return nil
}

// parseJSONParams adds the members of a JSON object to p.
func parseJSONParams(body []byte, p params) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return badRequest("can't parse JSON object")
	}
	for k, raw := range obj {
		raw = bytes.TrimSpace(raw)
		switch {
		case bytes.Equal(raw, []byte("null")):
			continue
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return badRequest("can't parse JSON object")
			}
			p[k] = s
		default:
			p[k] = string(raw)
		}
	}
	return nil
}

// str returns a string parameter ("" when absent).
func (p params) str(name string) string { return p[name] }

// int64 returns an integer parameter; ok is false when it is absent.
func (p params) int64(name string) (v int64, ok bool, err error) {
	s, ok := p[name]
	if !ok || s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, true, badRequest(fmt.Sprintf("field %q must be an Integer", name))
	}
	return v, true, nil
}

// int returns an integer parameter, def when absent.
func (p params) int(name string, def int) (int, error) {
	v, ok, err := p.int64(name)
	if err != nil || !ok {
		return def, err
	}
	if v != int64(int32(v)) {
		return 0, badRequest(fmt.Sprintf("field %q is out of range", name))
	}
	return int(v), nil
}

// bool returns a boolean parameter (false when absent). The Bot API takes
// true/false, and 1/0 from forms.
func (p params) bool(name string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(p[name])) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, badRequest(fmt.Sprintf("field %q must be a Boolean", name))
}

// object decodes a JSON-serialized parameter into dst; ok is false when
// it is absent.
func (p params) object(name string, dst any) (ok bool, err error) {
	s, ok := p[name]
	if !ok || strings.TrimSpace(s) == "" {
		return false, nil
	}
	if err := json.Unmarshal([]byte(s), dst); err != nil {
		if name == "reply_markup" {
			name = "reply keyboard markup" // as Telegram words it
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return true, badRequest(fmt.Sprintf("can't parse %s: field %q has the wrong type", name, te.Field))
		}
		return true, badRequest(fmt.Sprintf("can't parse %s JSON object", name))
	}
	return true, nil
}
