package verification_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/passport"
)

func TestValidUntil(t *testing.T) {
	doc := func(typ passport.ElementType, expiry string) passport.Element {
		return passport.Element{Type: typ, Fields: map[string]string{"document_no": "X1", "expiry_date": expiry}}
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	at := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		els    []passport.Element
		period time.Duration
		want   time.Time
	}{
		{"one passport", []passport.Element{doc(passport.TypePassport, "01.02.2031")}, 0, day(2031, 2, 1)},
		{"the earliest document wins", []passport.Element{doc(passport.TypePassport, "01.02.2031"), doc(passport.TypeDriverLicense, "15.06.2029")}, 0, day(2029, 6, 15)},
		{"no expiry date", []passport.Element{doc(passport.TypeIdentityCard, "")}, 0, time.Time{}},
		{"a malformed date is not a validity", []passport.Element{doc(passport.TypeInternalPassport, "2031-02-01")}, 0, time.Time{}},
		{"personal details do not count", []passport.Element{{Type: passport.TypePersonalDetails, Fields: map[string]string{"expiry_date": "01.01.2020"}}}, 0, time.Time{}},
		{"no elements", nil, 0, time.Time{}},
		{"the re-verification period ends first", []passport.Element{doc(passport.TypePassport, "01.02.2031")}, 365 * 24 * time.Hour, at.Add(365 * 24 * time.Hour)},
		{"the document ends first", []passport.Element{doc(passport.TypePassport, "01.02.2027")}, 2 * 365 * 24 * time.Hour, day(2027, 2, 1)},
		{"a period without documents", nil, time.Hour, at.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verification.ValidUntil(&passport.Submission{Elements: tt.els}, at, tt.period); !got.Equal(tt.want) {
				t.Fatalf("ValidUntil = %v, want %v", got, tt.want)
			}
		})
	}
	if got := verification.ValidUntil(nil, at, 0); !got.IsZero() {
		t.Fatalf("ValidUntil(nil, at, 0) = %v, want zero", got)
	}
}

func ExampleValidUntil() {
	sub := &passport.Submission{Elements: []passport.Element{
		{Type: passport.TypePassport, Fields: map[string]string{"document_no": "C01X00T47", "expiry_date": "01.01.2031"}},
		{Type: passport.TypeDriverLicense, Fields: map[string]string{"document_no": "B072RRE2I55", "expiry_date": "30.06.2028"}},
	}}
	fmt.Println(verification.ValidUntil(sub, time.Now(), 0).Format(time.DateOnly))
	// Output: 2028-06-30
}
