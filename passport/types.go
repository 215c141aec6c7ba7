package passport

import (
	"fmt"

	"github.com/gotd/td/tg"
)

// ElementType names a Telegram Passport element, spelled as in the Bot API and
// in the credentials JSON ("personal_details", "driver_license", ...).
type ElementType string

// The thirteen element types of Telegram Passport.
const (
	TypePersonalDetails       ElementType = "personal_details"
	TypePassport              ElementType = "passport"
	TypeDriverLicense         ElementType = "driver_license"
	TypeIdentityCard          ElementType = "identity_card"
	TypeInternalPassport      ElementType = "internal_passport"
	TypeAddress               ElementType = "address"
	TypeUtilityBill           ElementType = "utility_bill"
	TypeBankStatement         ElementType = "bank_statement"
	TypeRentalAgreement       ElementType = "rental_agreement"
	TypePassportRegistration  ElementType = "passport_registration"
	TypeTemporaryRegistration ElementType = "temporary_registration"
	TypePhoneNumber           ElementType = "phone_number"
	TypeEmail                 ElementType = "email"
)

// ElementTypes lists every element type in a stable order.
func ElementTypes() []ElementType {
	return []ElementType{
		TypePersonalDetails, TypePassport, TypeDriverLicense, TypeIdentityCard, TypeInternalPassport,
		TypeAddress, TypeUtilityBill, TypeBankStatement, TypeRentalAgreement, TypePassportRegistration,
		TypeTemporaryRegistration, TypePhoneNumber, TypeEmail,
	}
}

// Valid reports whether t is one of the thirteen element types.
func (t ElementType) Valid() bool {
	_, ok := elementInfo[t]
	return ok
}

// String returns the Bot API name of the type.
func (t ElementType) String() string { return string(t) }

// IsIdentityDocument reports whether t is passport, driver_license,
// identity_card or internal_passport.
func (t ElementType) IsIdentityDocument() bool { return elementInfo[t].kind == kindIdentity }

// IsAddressDocument reports whether t is one of the five proof-of-address
// documents (utility_bill, bank_statement, rental_agreement,
// passport_registration, temporary_registration).
func (t ElementType) IsAddressDocument() bool { return elementInfo[t].kind == kindAddressDoc }

// HasData reports whether elements of type t carry an encrypted JSON data
// object (personal details, address and the four identity documents).
func (t ElementType) HasData() bool { return elementInfo[t].fields != nil }

// HasFrontSide reports whether t carries a front side scan.
func (t ElementType) HasFrontSide() bool { return t.IsIdentityDocument() }

// HasReverseSide reports whether t carries a reverse side scan
// (driver_license and identity_card only).
func (t ElementType) HasReverseSide() bool { return t == TypeDriverLicense || t == TypeIdentityCard }

// HasSelfie reports whether t may carry a selfie (the identity documents).
func (t ElementType) HasSelfie() bool { return t.IsIdentityDocument() }

// HasFiles reports whether t carries a list of scans (the address documents).
func (t ElementType) HasFiles() bool { return t.IsAddressDocument() }

// HasTranslation reports whether t may carry translation scans
// (identity and address documents).
func (t ElementType) HasTranslation() bool { return t.IsIdentityDocument() || t.IsAddressDocument() }

// IsPlain reports whether t arrives as plain text already verified by
// Telegram (phone_number, email).
func (t ElementType) IsPlain() bool { return t == TypePhoneNumber || t == TypeEmail }

// DataFields returns the JSON field names the element's data object may
// contain, in the order Telegram documents them, or nil for types without data.
func (t ElementType) DataFields() []string {
	f := elementInfo[t].fields
	if f == nil {
		return nil
	}
	return append([]string(nil), f...)
}

// HasDataField reports whether name is a data field of elements of type t.
func (t ElementType) HasDataField(name string) bool {
	for _, f := range elementInfo[t].fields {
		if f == name {
			return true
		}
	}
	return false
}

// TL returns the gotd constructor for the type.
func (t ElementType) TL() (tg.SecureValueTypeClass, error) {
	info, ok := elementInfo[t]
	if !ok {
		return nil, fmt.Errorf("%w: unknown element type %q", ErrMalformed, string(t))
	}
	return info.tl(), nil
}

// ElementTypeOf converts a gotd secure value type to an ElementType.
func ElementTypeOf(v tg.SecureValueTypeClass) (ElementType, error) {
	switch v.(type) {
	case *tg.SecureValueTypePersonalDetails:
		return TypePersonalDetails, nil
	case *tg.SecureValueTypePassport:
		return TypePassport, nil
	case *tg.SecureValueTypeDriverLicense:
		return TypeDriverLicense, nil
	case *tg.SecureValueTypeIdentityCard:
		return TypeIdentityCard, nil
	case *tg.SecureValueTypeInternalPassport:
		return TypeInternalPassport, nil
	case *tg.SecureValueTypeAddress:
		return TypeAddress, nil
	case *tg.SecureValueTypeUtilityBill:
		return TypeUtilityBill, nil
	case *tg.SecureValueTypeBankStatement:
		return TypeBankStatement, nil
	case *tg.SecureValueTypeRentalAgreement:
		return TypeRentalAgreement, nil
	case *tg.SecureValueTypePassportRegistration:
		return TypePassportRegistration, nil
	case *tg.SecureValueTypeTemporaryRegistration:
		return TypeTemporaryRegistration, nil
	case *tg.SecureValueTypePhone:
		return TypePhoneNumber, nil
	case *tg.SecureValueTypeEmail:
		return TypeEmail, nil
	case nil:
		return "", fmt.Errorf("%w: secure value without a type", ErrMalformed)
	default:
		return "", fmt.Errorf("%w: unknown secure value type %T", ErrMalformed, v)
	}
}

type elementKind int

const (
	kindPersonal elementKind = iota + 1
	kindIdentity
	kindAddress
	kindAddressDoc
	kindPlain
)

type typeInfo struct {
	kind   elementKind
	fields []string
	tl     func() tg.SecureValueTypeClass
}

var (
	personalFields = []string{
		"first_name", "last_name", "middle_name", "birth_date", "gender", "country_code",
		"residence_country_code", "first_name_native", "last_name_native", "middle_name_native",
	}
	documentFields = []string{"document_no", "expiry_date"}
	addressFields  = []string{"street_line1", "street_line2", "city", "state", "country_code", "post_code"}
)

// elementInfo is a read-only table; it is never written after package load.
var elementInfo = map[ElementType]typeInfo{
	TypePersonalDetails: {kindPersonal, personalFields, func() tg.SecureValueTypeClass { return &tg.SecureValueTypePersonalDetails{} }},
	TypePassport:        {kindIdentity, documentFields, func() tg.SecureValueTypeClass { return &tg.SecureValueTypePassport{} }},
	TypeDriverLicense:   {kindIdentity, documentFields, func() tg.SecureValueTypeClass { return &tg.SecureValueTypeDriverLicense{} }},
	TypeIdentityCard:    {kindIdentity, documentFields, func() tg.SecureValueTypeClass { return &tg.SecureValueTypeIdentityCard{} }},
	TypeInternalPassport: {kindIdentity, documentFields, func() tg.SecureValueTypeClass {
		return &tg.SecureValueTypeInternalPassport{}
	}},
	TypeAddress:         {kindAddress, addressFields, func() tg.SecureValueTypeClass { return &tg.SecureValueTypeAddress{} }},
	TypeUtilityBill:     {kindAddressDoc, nil, func() tg.SecureValueTypeClass { return &tg.SecureValueTypeUtilityBill{} }},
	TypeBankStatement:   {kindAddressDoc, nil, func() tg.SecureValueTypeClass { return &tg.SecureValueTypeBankStatement{} }},
	TypeRentalAgreement: {kindAddressDoc, nil, func() tg.SecureValueTypeClass { return &tg.SecureValueTypeRentalAgreement{} }},
	TypePassportRegistration: {kindAddressDoc, nil, func() tg.SecureValueTypeClass {
		return &tg.SecureValueTypePassportRegistration{}
	}},
	TypeTemporaryRegistration: {kindAddressDoc, nil, func() tg.SecureValueTypeClass {
		return &tg.SecureValueTypeTemporaryRegistration{}
	}},
	TypePhoneNumber: {kindPlain, nil, func() tg.SecureValueTypeClass { return &tg.SecureValueTypePhone{} }},
	TypeEmail:       {kindPlain, nil, func() tg.SecureValueTypeClass { return &tg.SecureValueTypeEmail{} }},
}
