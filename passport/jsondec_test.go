package passport

import (
	"errors"
	"strings"
	"testing"
)

// TestJSONErrorPaths checks that a decoding error names where in the
// document it is (the decoders build that path only when they fail) and
// never echoes the input.
func TestJSONErrorPaths(t *testing.T) {
	const h = "qv4TfMuqw2pPaHqvNSthSVVcN32cty1dFlHkCbzFZ2k="
	creds := `"credentials":{"data":"AA==","hash":"AA==","secret":"AA=="}`
	tests := []struct {
		name  string
		parse func(string) error
		json  string
		want  string
	}{
		{"bot api: file size", botAPIErr,
			`{"data":[{"type":"email","email":"a@b.c"},{"type":"passport","data":"AA==","front_side":{"file_id":"x","file_size":"SECRET"}}],` + creds + `}`,
			"data[1].front_side.file_size: want a number, got string"},
		{"bot api: files entry null", botAPIErr,
			`{"data":[{"type":"utility_bill","files":[{"file_id":"x"},null]}],` + creds + `}`,
			"data[0].files[1] is null"},
		{"bot api: translation entry", botAPIErr,
			`{"data":[{"type":"passport","translation":[{"file_id":7}]}],` + creds + `}`,
			"data[0].translation[0].file_id: want a string, got number"},
		{"bot api: element type", botAPIErr,
			`{"data":[{"type":["SECRET"]}],` + creds + `}`,
			"data[0].type: want a string, got array"},
		{"bot api: element data", botAPIErr,
			`{"data":[{"type":"address","data":"!!SECRET"}],` + creds + `}`,
			"data[0].data is not valid base64"},
		{"bot api: credentials secret", botAPIErr,
			`{"data":[],"credentials":{"data":"AA==","hash":"AA==","secret":5}}`,
			"credentials.secret: want a base64 string, got number"},
		{"bot api: data not an array", botAPIErr, `{"data":{}}`, "data: want an array, got object"},
		{"bot api: document", botAPIErr, `[]`, "PassportData: want an object, got array"},
		{"credentials: data secret", credentialsErr,
			`{"secure_data":{"passport":{"data":{"data_hash":"` + h + `","secret":"!!SECRET"}}}}`,
			"secure_data.passport.data.secret is not valid base64"},
		{"credentials: file entry null", credentialsErr,
			`{"secure_data":{"utility_bill":{"files":[{"file_hash":"` + h + `","secret":"` + h + `"},null]}}}`,
			"secure_data.utility_bill.files[1] is null"},
		{"credentials: selfie", credentialsErr,
			`{"secure_data":{"passport":{"selfie":{"file_hash":true}}}}`,
			"secure_data.passport.selfie.file_hash: want a base64 string, got bool"},
		{"credentials: translation", credentialsErr,
			`{"secure_data":{"passport":{"translation":[{"secret":"` + h + `"},{"secret":[]}]}}}`,
			"secure_data.passport.translation[1].secret: want a base64 string, got array"},
		{"credentials: nonce", credentialsErr, `{"nonce":5}`, "nonce: want a string, got number"},
		{"credentials: document", credentialsErr, `"SECRET"`, "credentials: want an object, got string"},
		{"data: field", fieldsErr, `{"first_name":"A","last_name":{"SECRET":1}}`, "data.last_name: want a string, got object"},
		{"data: unknown field", fieldsErr, `{"nickname":5}`, "data.nickname: want a string, got number"},
		{"data: empty key", fieldsErr, `{"":5}`, "data.: want a string, got number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.json)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("err = %q echoes the input", err)
			}
		})
	}
}

func botAPIErr(s string) error      { _, err := ParseBotAPI([]byte(s)); return err }
func credentialsErr(s string) error { _, err := ParseCredentials([]byte(s)); return err }
func fieldsErr(s string) error      { _, err := parseFields([]byte(s), 0); return err }

// TestBotAPIElementHash checks the element hash: decoded when it is
// base64, nil when it is placeholder text or null, refused when it is not
// a string.
func TestBotAPIElementHash(t *testing.T) {
	creds := `"credentials":{"data":"AA==","hash":"AA==","secret":"AA=="}`
	tests := []struct {
		hash string
		want []byte
		err  bool
	}{
		{`"AQID"`, []byte{1, 2, 3}, false},
		{`"not base64 at all"`, nil, false},
		{`""`, nil, false},
		{`null`, nil, false},
		{`7`, nil, true},
	}
	for _, tt := range tests {
		es, err := ParseBotAPI([]byte(`{"data":[{"type":"email","email":"a@b.c","hash":` + tt.hash + `},` +
			`{"type":"phone_number","phone_number":"1","hash":"BAU="}],` + creds + `}`))
		if tt.err {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("hash %s: err = %v, want ErrMalformed", tt.hash, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("hash %s: %v", tt.hash, err)
		}
		if got := es.Elements[0].Hash; string(got) != string(tt.want) || (tt.want == nil) != (got == nil) {
			t.Errorf("hash %s: got %v, want %v", tt.hash, got, tt.want)
		}
		// The next element's hash is its own, whatever the first one was.
		if got := es.Elements[1].Hash; string(got) != "\x04\x05" {
			t.Errorf("hash %s: the next element's hash is %v", tt.hash, got)
		}
	}
}
