package passport

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PersonalDetails is the data object of a personal_details element. Empty
// strings mean absent.
type PersonalDetails struct {
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	MiddleName string `json:"middle_name,omitempty"`
	// BirthDate is DD.MM.YYYY; see ParseDate.
	BirthDate string `json:"birth_date"`
	// Gender is "male" or "female".
	Gender string `json:"gender"`
	// CountryCode is the citizenship, ISO 3166-1 alpha-2.
	CountryCode string `json:"country_code"`
	// ResidenceCountryCode is the country of residence, ISO 3166-1 alpha-2.
	ResidenceCountryCode string `json:"residence_country_code"`
	// Native names, in the language of the country of residence (any script).
	FirstNameNative  string `json:"first_name_native,omitempty"`
	LastNameNative   string `json:"last_name_native,omitempty"`
	MiddleNameNative string `json:"middle_name_native,omitempty"`
}

// IdDocumentData is the data object of passport, driver_license,
// identity_card and internal_passport elements.
type IdDocumentData struct { //nolint:revive // Telegram's name.
	DocumentNo string `json:"document_no"`
	// ExpiryDate is DD.MM.YYYY, or empty when the document does not expire.
	ExpiryDate string `json:"expiry_date,omitempty"`
}

// ResidentialAddress is the data object of an address element.
type ResidentialAddress struct {
	StreetLine1 string `json:"street_line1"`
	StreetLine2 string `json:"street_line2,omitempty"`
	City        string `json:"city"`
	State       string `json:"state,omitempty"`
	// CountryCode is ISO 3166-1 alpha-2.
	CountryCode string `json:"country_code"`
	PostCode    string `json:"post_code"`
}

func (el *Element) needData(want func(ElementType) bool, what string) error {
	if !want(el.Type) {
		return fmt.Errorf("%w: %s element has no %s", ErrNotAllowed, el.Type, what)
	}
	if el.Fields == nil {
		return fmt.Errorf("%w: %s element: %v", ErrMalformed, el.Type, errNoData)
	}
	return nil
}

// PersonalDetails returns the typed data of a personal_details element.
func (el *Element) PersonalDetails() (PersonalDetails, error) {
	if err := el.needData(func(t ElementType) bool { return t == TypePersonalDetails }, "personal details"); err != nil {
		return PersonalDetails{}, err
	}
	f := el.Fields
	return PersonalDetails{
		FirstName: f["first_name"], LastName: f["last_name"], MiddleName: f["middle_name"],
		BirthDate: f["birth_date"], Gender: f["gender"],
		CountryCode: f["country_code"], ResidenceCountryCode: f["residence_country_code"],
		FirstNameNative: f["first_name_native"], LastNameNative: f["last_name_native"],
		MiddleNameNative: f["middle_name_native"],
	}, nil
}

// IdDocument returns the typed data of an identity document element.
func (el *Element) IdDocument() (IdDocumentData, error) { //nolint:revive // matches IdDocumentData.
	if err := el.needData(ElementType.IsIdentityDocument, "identity document data"); err != nil {
		return IdDocumentData{}, err
	}
	return IdDocumentData{DocumentNo: el.Fields["document_no"], ExpiryDate: el.Fields["expiry_date"]}, nil
}

// ResidentialAddress returns the typed data of an address element.
func (el *Element) ResidentialAddress() (ResidentialAddress, error) {
	if err := el.needData(func(t ElementType) bool { return t == TypeAddress }, "address"); err != nil {
		return ResidentialAddress{}, err
	}
	f := el.Fields
	return ResidentialAddress{
		StreetLine1: f["street_line1"], StreetLine2: f["street_line2"], City: f["city"],
		State: f["state"], CountryCode: f["country_code"], PostCode: f["post_code"],
	}, nil
}

// Date is a calendar date as Passport writes it (DD.MM.YYYY).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a Passport date, DD.MM.YYYY. Like TDLib it accepts a
// one-digit day or month. The date must exist (31.02 does not, 29.02 only in
// leap years).
func ParseDate(s string) (Date, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Date{}, fmt.Errorf("%w: date is not in DD.MM.YYYY form", ErrMalformed)
	}
	num := func(p string, minLen, maxLen int) (int, bool) {
		if len(p) < minLen || len(p) > maxLen {
			return 0, false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		n, err := strconv.Atoi(p)
		return n, err == nil
	}
	d, ok1 := num(parts[0], 1, 2)
	m, ok2 := num(parts[1], 1, 2)
	y, ok3 := num(parts[2], 4, 4)
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("%w: date is not in DD.MM.YYYY form", ErrMalformed)
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return Date{}, fmt.Errorf("%w: date does not exist in the calendar", ErrMalformed)
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String formats the date as DD.MM.YYYY.
func (d Date) String() string { return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year) }

// ISO formats the date as ISO 8601 does, YYYY-MM-DD.
func (d Date) ISO() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}
