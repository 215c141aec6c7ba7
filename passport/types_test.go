package passport

import (
	"errors"
	"testing"
	"time"

	"github.com/gotd/td/tg"
)

func TestElementTypesMapToTL(t *testing.T) {
	if n := len(ElementTypes()); n != 13 {
		t.Fatalf("%d element types, want 13", n)
	}
	for _, typ := range ElementTypes() {
		tl, err := typ.TL()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ElementTypeOf(tl)
		if err != nil || back != typ {
			t.Errorf("%s -> %T -> %s, %v", typ, tl, back, err)
		}
	}
	if _, err := ElementType("selfie").TL(); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := ElementTypeOf(nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil type: %v", err)
	}
}

func TestElementTypeCapabilities(t *testing.T) {
	tests := []struct {
		typ                                         ElementType
		data, front, reverse, selfie, files, transl bool
		plain                                       bool
	}{
		{TypePersonalDetails, true, false, false, false, false, false, false},
		{TypePassport, true, true, false, true, false, true, false},
		{TypeDriverLicense, true, true, true, true, false, true, false},
		{TypeIdentityCard, true, true, true, true, false, true, false},
		{TypeInternalPassport, true, true, false, true, false, true, false},
		{TypeAddress, true, false, false, false, false, false, false},
		{TypeUtilityBill, false, false, false, false, true, true, false},
		{TypeBankStatement, false, false, false, false, true, true, false},
		{TypeRentalAgreement, false, false, false, false, true, true, false},
		{TypePassportRegistration, false, false, false, false, true, true, false},
		{TypeTemporaryRegistration, false, false, false, false, true, true, false},
		{TypePhoneNumber, false, false, false, false, false, false, true},
		{TypeEmail, false, false, false, false, false, false, true},
	}
	for _, tt := range tests {
		got := []bool{tt.typ.HasData(), tt.typ.HasFrontSide(), tt.typ.HasReverseSide(), tt.typ.HasSelfie(),
			tt.typ.HasFiles(), tt.typ.HasTranslation(), tt.typ.IsPlain()}
		want := []bool{tt.data, tt.front, tt.reverse, tt.selfie, tt.files, tt.transl, tt.plain}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s capability %d = %v, want %v", tt.typ, i, got[i], want[i])
			}
		}
	}
	if !TypeAddress.HasDataField("post_code") || TypeAddress.HasDataField("zip") || TypeEmail.HasDataField("email") {
		t.Error("HasDataField is wrong")
	}
	f := TypePassport.DataFields()
	f[0] = "changed"
	if TypePassport.DataFields()[0] != "document_no" {
		t.Error("DataFields exposes the internal table")
	}
	_ = tg.SecureValueTypePassport{}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"01.01.2001", Date{2001, time.January, 1}, true},
		{"29.02.2000", Date{2000, time.February, 29}, true},
		{"29.02.2024", Date{2024, time.February, 29}, true},
		{"29.02.1900", Date{}, false}, // not a leap year
		{"29.02.2023", Date{}, false},
		{"31.04.2020", Date{}, false},
		{"1.2.1990", Date{1990, time.February, 1}, true}, // TDLib accepts one digit
		{"00.01.2000", Date{}, false},
		{"01.13.2000", Date{}, false},
		{"01.01.99", Date{}, false},
		{"2000-01-01", Date{}, false},
		{"", Date{}, false},
		{"+1.01.2000", Date{}, false},
		{"01.01.20000", Date{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseDate(%q) error %v is not ErrMalformed", tt.in, err)
		}
		if err == nil && tt.in[0] != '1' && got.String() != tt.in {
			t.Errorf("String() = %s, want %s", got, tt.in)
		}
	}
	a, b := Date{2000, 1, 2}, Date{2000, 2, 1}
	if !a.Before(b) || b.Before(a) || a.Before(a) {
		t.Error("Before is wrong")
	}
	if DateOf(time.Date(2020, 3, 4, 23, 0, 0, 0, time.UTC)) != (Date{2020, 3, 4}) {
		t.Error("DateOf is wrong")
	}
}

func TestTypedAccessorsRefuseOtherTypes(t *testing.T) {
	el := Element{Type: TypeAddress, Fields: map[string]string{}}
	if _, err := el.PersonalDetails(); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("PersonalDetails on address: %v", err)
	}
	if _, err := el.IdDocument(); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("IdDocument on address: %v", err)
	}
	noData := Element{Type: TypePassport}
	if _, err := noData.IdDocument(); !errors.Is(err, ErrMalformed) {
		t.Errorf("IdDocument without data: %v", err)
	}
}
