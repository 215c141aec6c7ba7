package adapterkit

import (
	"strings"
	"testing"

	"github.com/kycbot/kycbot/tests/testkit"
)

// TestOnlyTestsImport: the kit is for tests only.
func TestOnlyTestsImport(t *testing.T) {
	testkit.OnlyTestsImport(t, "github.com/kycbot/kycbot/tests/adapterkit")
}

// update is a Bot API update with Passport data, as a server sends it.
const update = `{"update_id":7,"message":{"message_id":3,"date":1700000000,
"from":{"id":1001,"is_bot":false,"first_name":"Ada","language_code":"en"},
"chat":{"id":1001,"type":"private","first_name":"Ada"},
"passport_data":{"data":[{"type":"passport","data":"ZGF0YQ==","hash":"aGFzaA==",
"front_side":{"file_id":"f1","file_unique_id":"u1","file_size":10,"file_date":1700000000},
"selfie":{"file_id":"f2","file_unique_id":"u2","file_size":11,"file_date":1700000000}},
{"type":"phone_number","phone_number":"15550001234","hash":"cGhvbmU="}],
"credentials":{"data":"Y3JlZHM=","hash":"Y2hhc2g=","secret":"c2VjcmV0"}}}}`

// TestSameUpdate: an update that kept all its Passport data passes,
// whatever the order of its keys and the fields kycbot does not read;
// one that lost or changed any of it does not.
func TestSameUpdate(t *testing.T) {
	for _, tc := range []struct {
		name, marshalled string
		ok               bool
	}{
		{"the same", update, true},
		{"other key order, a field more", strings.TrimSuffix(strings.Replace(update, `"update_id":7,`, ``, 1), "}") + `,"update_id":7,"edited_message":null}`, true},
		{"selfie lost", strings.Replace(update, `,
"selfie":{"file_id":"f2","file_unique_id":"u2","file_size":11,"file_date":1700000000}`, "", 1), false},
		{"element hash lost", strings.Replace(update, `"hash":"aGFzaA==",`, "", 1), false},
		{"credentials secret changed", strings.Replace(update, `c2VjcmV0`, `c2VjcmV1`, 1), false},
		{"file size changed", strings.Replace(update, `"file_size":10`, `"file_size":0`, 1), false},
		{"no passport data", `{"update_id":7,"message":{"message_id":3,"text":"hi"}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sameUpdate([]byte(update), []byte(tc.marshalled))
			if (err == nil) != tc.ok {
				t.Errorf("sameUpdate: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
