package passport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ScopeVersion is the only scope version Telegram defines (the "v" key).
const ScopeVersion = 1

// Scope is the list of things a bot asks for in a Passport request. Every
// element must be provided by the user; an element naming several types is
// satisfied by any one of them.
//
// The zero Scope is empty and therefore not valid: Telegram answers an empty
// scope with SCOPE_EMPTY.
type Scope struct {
	// Elements in the order they are shown to the user.
	Elements []ScopeElement
}

// ScopeElement is one entry of a Scope: either a single element type
// (Types has length 1) or a one-of list (Types has two or more entries, the
// user chooses which one to provide).
//
// A one-of list of length 1 is simply a single type: it is encoded as one
// and compares equal to one. A one-of list must hold only identity documents
// (passport, driver_license, identity_card, internal_passport) or only
// address documents (utility_bill, bank_statement, rental_agreement,
// passport_registration, temporary_registration).
type ScopeElement struct {
	// Types are the acceptable element types; at least one.
	Types []ElementType
	// Selfie asks for a selfie holding the document ("s"). Allowed only
	// when every type is an identity document.
	Selfie bool
	// Translation asks for a certified English translation of the
	// document ("t"). Allowed only when every type is an identity or an
	// address document.
	Translation bool
	// NativeNames asks for the names in the language of the country of
	// residence as well ("n"). Allowed only for personal_details.
	NativeNames bool
}

// Require returns a scope element asking for exactly the type t, without
// selfie, translation or native names.
func Require(t ElementType) ScopeElement {
	return ScopeElement{Types: []ElementType{t}}
}

// RequireOneOf returns a scope element satisfied by any one of types (a
// one-of list). With a single argument it is the same as Require.
func RequireOneOf(types ...ElementType) ScopeElement {
	return ScopeElement{Types: append([]ElementType(nil), types...)}
}

// WithSelfie returns a copy of e that also asks for a selfie.
func (e ScopeElement) WithSelfie() ScopeElement {
	e.Types = append([]ElementType(nil), e.Types...)
	e.Selfie = true
	return e
}

// WithTranslation returns a copy of e that also asks for a translation.
func (e ScopeElement) WithTranslation() ScopeElement {
	e.Types = append([]ElementType(nil), e.Types...)
	e.Translation = true
	return e
}

// WithNativeNames returns a copy of e that also asks for native names.
func (e ScopeElement) WithNativeNames() ScopeElement {
	e.Types = append([]ElementType(nil), e.Types...)
	e.NativeNames = true
	return e
}

// IsOneOf reports whether e lets the user choose among several types.
func (e ScopeElement) IsOneOf() bool { return len(e.Types) > 1 }

// Has reports whether t is one of the types of e.
func (e ScopeElement) Has(t ElementType) bool {
	for _, x := range e.Types {
		if x == t {
			return true
		}
	}
	return false
}

// String describes e for humans, e.g. "one of passport/driver_license
// (selfie, translation)".
func (e ScopeElement) String() string {
	var b strings.Builder
	if len(e.Types) == 0 {
		b.WriteString("(no type)")
	}
	if len(e.Types) > 1 {
		b.WriteString("one of ")
	}
	for i, t := range e.Types {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(string(t))
	}
	var flags []string
	if e.Selfie {
		flags = append(flags, "selfie")
	}
	if e.Translation {
		flags = append(flags, "translation")
	}
	if e.NativeNames {
		flags = append(flags, "native names")
	}
	if len(flags) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(flags, ", "))
		b.WriteByte(')')
	}
	return b.String()
}

// NewScope returns a Scope of the given elements. It does not validate;
// call Validate or Encode.
func NewScope(elements ...ScopeElement) Scope {
	return Scope{Elements: append([]ScopeElement(nil), elements...)}
}

// Types returns every element type the scope mentions, in scope order,
// each once.
func (s Scope) Types() []ElementType {
	var out []ElementType
	seen := make(map[ElementType]bool)
	for _, e := range s.Elements {
		for _, t := range e.Types {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// Contains reports whether the scope mentions t, alone or in a one-of list:
// a user may send an element of type t.
func (s Scope) Contains(t ElementType) bool {
	_, ok := s.Element(t)
	return ok
}

// Requires reports whether the scope asks for t on its own (not as one
// choice of a one-of list): a submission without t is incomplete.
func (s Scope) Requires(t ElementType) bool {
	e, ok := s.Element(t)
	return ok && len(e.Types) == 1
}

// Element returns the first scope element mentioning t. In a valid scope
// there is at most one. Its flags say whether a selfie, a translation or
// native names were asked for along with t.
func (s Scope) Element(t ElementType) (ScopeElement, bool) {
	for _, e := range s.Elements {
		if e.Has(t) {
			return e, true
		}
	}
	return ScopeElement{}, false
}

// Missing returns the scope elements that none of the received types
// satisfies (nil when the submission covers the whole scope). It looks at
// types only; whether a requested selfie or translation is present is for
// the caller to check on the received elements.
func (s Scope) Missing(received []ElementType) []ScopeElement {
	got := make(map[ElementType]bool, len(received))
	for _, t := range received {
		got[t] = true
	}
	var out []ScopeElement
	for _, e := range s.Elements {
		ok := false
		for _, t := range e.Types {
			if got[t] {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, e)
		}
	}
	return out
}

// String describes the scope for humans, elements separated by "; ".
func (s Scope) String() string {
	parts := make([]string, len(s.Elements))
	for i, e := range s.Elements {
		parts[i] = e.String()
	}
	return strings.Join(parts, "; ")
}

// Validate checks the scope against the rules of the protocol and reports
// every problem at once (joined with errors.Join; test with errors.Is):
//
//   - the scope has at least one element (ErrNotAllowed);
//   - every element names at least one type, and every type is known
//     (ErrMalformed);
//   - each type appears at most once in the whole scope (ErrNotAllowed);
//   - a one-of list holds only identity documents or only address
//     documents (ErrNotAllowed);
//   - Selfie only where every type is passport, driver_license,
//     identity_card or internal_passport; Translation only where every type
//     is an identity or address document; NativeNames only on
//     personal_details (ErrNotAllowed).
func (s Scope) Validate() error {
	if len(s.Elements) == 0 {
		return fmt.Errorf("%w: the scope is empty (Telegram answers SCOPE_EMPTY): ask for at least one element", ErrNotAllowed)
	}
	var problems []error
	bad := func(sentinel error, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...))
	}
	firstSeen := make(map[ElementType]int) // type -> element number where first seen
	reported := make(map[ElementType]bool) // duplicate already reported
	for i, e := range s.Elements {
		n := i + 1
		if len(e.Types) == 0 {
			bad(ErrMalformed, "scope element %d names no type: give one type or a one-of list of identity or address documents", n)
			continue
		}
		known := true
		for _, t := range e.Types {
			if !t.Valid() {
				known = false
				bad(ErrMalformed, "scope element %d: unknown element type %.40q: use one of %s", n, string(t), typeNameList(ElementTypes()))
				continue
			}
			if first, dup := firstSeen[t]; dup {
				if !reported[t] {
					reported[t] = true
					if first == n {
						bad(ErrNotAllowed, "scope element %d lists %s more than once: name each type once", n, t)
					} else {
						bad(ErrNotAllowed, "%s is asked for in scope elements %d and %d: each type may appear only once in a scope, merge them into one element", t, first, n)
					}
				}
				continue
			}
			firstSeen[t] = n
		}
		if !known {
			continue // flag checks on unknown types would only add noise
		}
		if len(e.Types) > 1 {
			var ids, addrs, others []ElementType
			for _, t := range e.Types {
				switch {
				case t.IsIdentityDocument():
					ids = append(ids, t)
				case t.IsAddressDocument():
					addrs = append(addrs, t)
				default:
					others = append(others, t)
				}
			}
			switch {
			case len(others) > 0:
				bad(ErrNotAllowed, "scope element %d: a one-of list may hold only identity documents (%s) or only address documents (%s), not %s: ask for %s as separate elements",
					n, typeNameList(identityDocTypes()), typeNameList(addressDocTypes()), typeNameList(others), typeNameList(others))
			case len(ids) > 0 && len(addrs) > 0:
				bad(ErrNotAllowed, "scope element %d mixes identity documents (%s) with address documents (%s) in one one-of list: split it into two elements",
					n, typeNameList(ids), typeNameList(addrs))
			}
		}
		if e.Selfie {
			if no := typesWithout(e.Types, ElementType.HasSelfie); len(no) > 0 {
				bad(ErrNotAllowed, "scope element %d: a selfie cannot be asked for with %s (only with %s): remove the selfie flag or those types",
					n, typeNameList(no), typeNameList(identityDocTypes()))
			}
		}
		if e.Translation {
			if no := typesWithout(e.Types, ElementType.HasTranslation); len(no) > 0 {
				bad(ErrNotAllowed, "scope element %d: a translation cannot be asked for with %s (only with identity and address documents): remove the translation flag or those types",
					n, typeNameList(no))
			}
		}
		if e.NativeNames {
			if no := typesWithout(e.Types, func(t ElementType) bool { return t == TypePersonalDetails }); len(no) > 0 {
				bad(ErrNotAllowed, "scope element %d: native names exist only for personal_details, not for %s: remove the native names flag",
					n, typeNameList(no))
			}
		}
	}
	return errors.Join(problems...)
}

func typesWithout(ts []ElementType, ok func(ElementType) bool) []ElementType {
	var out []ElementType
	for _, t := range ts {
		if !ok(t) {
			out = append(out, t)
		}
	}
	return out
}

func typeNameList(ts []ElementType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func identityDocTypes() []ElementType {
	return []ElementType{TypePassport, TypeDriverLicense, TypeIdentityCard, TypeInternalPassport}
}

func addressDocTypes() []ElementType {
	return []ElementType{TypeUtilityBill, TypeBankStatement, TypeRentalAgreement, TypePassportRegistration, TypeTemporaryRegistration}
}

// Element name aliases of the compact scope form.
const (
	aliasIDDocument      = "idd"
	aliasAddressDocument = "add"
	nameIDDocument       = "id_document"
	nameAddressDocument  = "address_document"
)

// scopeAliases maps each element type to its short alias in the compact
// scope form. Read-only after package load.
var scopeAliases = map[ElementType]string{
	TypePersonalDetails:       "pd",
	TypePassport:              "pp",
	TypeDriverLicense:         "dl",
	TypeIdentityCard:          "ic",
	TypeInternalPassport:      "ip",
	TypeAddress:               "ad",
	TypeUtilityBill:           "ub",
	TypeBankStatement:         "bs",
	TypeRentalAgreement:       "ra",
	TypePassportRegistration:  "pr",
	TypeTemporaryRegistration: "tr",
	TypePhoneNumber:           "pn",
	TypeEmail:                 "em",
}

// scopeNames maps every accepted name (full name or alias) to the types it
// stands for. Read-only after package load.
var scopeNames = func() map[string][]ElementType {
	m := make(map[string][]ElementType, 2*len(scopeAliases)+4)
	for t, a := range scopeAliases {
		m[string(t)] = []ElementType{t}
		m[a] = []ElementType{t}
	}
	idd := []ElementType{TypePassport, TypeDriverLicense, TypeIdentityCard}
	add := []ElementType{TypeUtilityBill, TypeBankStatement, TypeRentalAgreement}
	m[nameIDDocument], m[aliasIDDocument] = idd, idd
	m[nameAddressDocument], m[aliasAddressDocument] = add, add
	return m
}()

// Alias returns the short name of t in the compact scope form ("pd", "pp",
// ...), or "" if t is not a known type.
func (t ElementType) Alias() string { return scopeAliases[t] }

// ParseElementName resolves a full type name ("passport") or its alias
// ("pp") to element types. The group names id_document (idd) and
// address_document (add) expand to passport, driver_license, identity_card
// and to utility_bill, bank_statement, rental_agreement respectively. Names
// are case-sensitive, as in the protocol. The result is a fresh slice.
func ParseElementName(name string) ([]ElementType, error) {
	return resolveElementName(name, "")
}

// resolveElementName is ParseElementName with the location of the name for
// the error message ("scope element 2: ").
func resolveElementName(name, where string) ([]ElementType, error) {
	ts, ok := scopeNames[name]
	if !ok {
		return nil, fmt.Errorf("%w: %sunknown element name %.40q: use a type name such as passport or its alias pp, or id_document (idd) / address_document (add)", ErrMalformed, where, name)
	}
	return append([]ElementType(nil), ts...), nil
}

// wireScope is the compact URI form written by MarshalJSON.
type wireScope struct {
	V int   `json:"v"`
	D []any `json:"d"`
}

// wireElement is an element object of the compact form.
type wireElement struct {
	T any `json:"_"`
	S int `json:"s,omitempty"`
	R int `json:"t,omitempty"`
	N int `json:"n,omitempty"`
}

func wireName(t ElementType) string {
	if a := t.Alias(); a != "" {
		return a
	}
	return string(t)
}

func (e ScopeElement) wire() any {
	var name any
	if len(e.Types) == 1 {
		name = wireName(e.Types[0])
	} else {
		names := make([]string, len(e.Types))
		for i, t := range e.Types {
			names[i] = wireName(t)
		}
		name = names
	}
	if !e.Selfie && !e.Translation && !e.NativeNames {
		if s, ok := name.(string); ok {
			return s
		}
	}
	w := wireElement{T: name}
	if e.Selfie {
		w.S = 1
	}
	if e.Translation {
		w.R = 1
	}
	if e.NativeNames {
		w.N = 1
	}
	return w
}

// MarshalJSON writes the compact URI form {"v":1,"d":[...]} using the short
// aliases: an element without flags is its alias ("pd"), otherwise an object
// such as {"_":"pp","s":1,"t":1} or {"_":["pp","dl","ic"],"s":1}.
//
// MarshalJSON does not validate (so that an invalid scope can still be
// logged); use Encode to validate and encode.
func (s Scope) MarshalJSON() ([]byte, error) {
	w := wireScope{V: ScopeVersion, D: make([]any, len(s.Elements))}
	for i, e := range s.Elements {
		w.D[i] = e.wire()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("passport: encode scope: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// UnmarshalJSON parses the compact form like ParseScope (validating it). It
// also accepts a JSON string holding the compact form, convenient in
// configuration files.
func (s *Scope) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return fmt.Errorf("%w: scope: %s", ErrMalformed, scopeJSONProblem(err))
		}
		b = []byte(str)
	}
	sc, err := parseScope(b)
	if err != nil {
		return err
	}
	*s = sc
	return nil
}

// Encode validates the scope and returns its compact URI form, the value of
// the scope parameter of the deep link (before URL encoding).
func (s Scope) Encode() (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	b, err := s.MarshalJSON()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// ParseScope parses the compact URI form of a scope, {"v":1,"d":[...]}, and
// validates it. Names may be aliases or full type names; idd and add (and
// id_document, address_document) expand to their one-of lists, also inside a
// one-of list. Flags "s", "t", "n" may be 1, 0, true, false or null.
// Unknown keys are ignored; known keys of the wrong JSON type are errors.
// A one-of list entry may be a name or an object {"_":name} without flags
// (flags belong on the list's own object).
//
// Errors wrap ErrMalformed (shape, unknown names) or ErrNotAllowed (rules of
// Validate); all problems of the same stage are reported together.
func ParseScope(s string) (Scope, error) {
	return parseScope([]byte(s))
}

func parseScope(b []byte) (Scope, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return Scope{}, fmt.Errorf("%w: scope: %s: want {\"v\":1,\"d\":[...]}", ErrMalformed, scopeJSONProblem(err))
	}
	if top == nil {
		return Scope{}, fmt.Errorf("%w: scope is null: want {\"v\":1,\"d\":[...]}", ErrMalformed)
	}
	var problems []error
	if raw, ok := top["v"]; !ok {
		problems = append(problems, fmt.Errorf("%w: scope has no version: add \"v\":1", ErrMalformed))
	} else {
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			problems = append(problems, fmt.Errorf("%w: scope version \"v\" must be the number 1", ErrMalformed))
		} else if v != ScopeVersion {
			problems = append(problems, fmt.Errorf("%w: scope version %g is not supported: use \"v\":1", ErrMalformed, v))
		}
	}
	var elems []json.RawMessage
	raw, ok := top["d"]
	if !ok {
		problems = append(problems, fmt.Errorf("%w: scope has no element list: add \"d\":[...]", ErrMalformed))
	} else if err := json.Unmarshal(raw, &elems); err != nil {
		problems = append(problems, fmt.Errorf("%w: scope \"d\" must be an array of elements", ErrMalformed))
	}
	if len(problems) > 0 {
		return Scope{}, errors.Join(problems...)
	}
	sc := Scope{Elements: make([]ScopeElement, 0, len(elems))}
	for i, r := range elems {
		e, err := parseScopeElement(r, fmt.Sprintf("scope element %d: ", i+1))
		if err != nil {
			problems = append(problems, err)
			continue
		}
		sc.Elements = append(sc.Elements, e)
	}
	if len(problems) > 0 {
		return Scope{}, errors.Join(problems...)
	}
	if err := sc.Validate(); err != nil {
		return Scope{}, err
	}
	return sc, nil
}

// jsonKind returns the kind of the JSON value starting raw: '"', '{', '[',
// 'n' (null), 't'/'f' (booleans), or '0' for numbers.
func jsonKind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '"', '{', '[', 'n', 't', 'f':
		return c
	default:
		return '0'
	}
}

// parseScopeElement parses one element of "d"; where ("scope element 2: ")
// starts every error message after the sentinel.
func parseScopeElement(raw json.RawMessage, where string) (ScopeElement, error) {
	switch jsonKind(raw) {
	case '"':
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return ScopeElement{}, fmt.Errorf("%w: %s%s", ErrMalformed, where, scopeJSONProblem(err))
		}
		ts, err := resolveElementName(name, where)
		if err != nil {
			return ScopeElement{}, err
		}
		return ScopeElement{Types: ts}, nil
	case '{':
	default:
		return ScopeElement{}, fmt.Errorf("%w: %san element must be a name such as \"pd\" or an object such as {\"_\":\"pp\",\"s\":1}", ErrMalformed, where)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return ScopeElement{}, fmt.Errorf("%w: %s%s", ErrMalformed, where, scopeJSONProblem(err))
	}
	var e ScopeElement
	var problems []error
	for _, f := range []struct {
		key string
		dst *bool
	}{{"s", &e.Selfie}, {"t", &e.Translation}, {"n", &e.NativeNames}} {
		v, err := parseScopeFlag(obj, f.key, where)
		if err != nil {
			problems = append(problems, err)
		}
		*f.dst = v
	}
	nameRaw, ok := obj["_"]
	switch {
	case !ok:
		problems = append(problems, fmt.Errorf("%w: %selement object has no \"_\": give the type, e.g. {\"_\":\"pp\"}", ErrMalformed, where))
	case jsonKind(nameRaw) == '"':
		var name string
		if err := json.Unmarshal(nameRaw, &name); err != nil {
			problems = append(problems, fmt.Errorf("%w: %s\"_\": %s", ErrMalformed, where, scopeJSONProblem(err)))
			break
		}
		ts, err := resolveElementName(name, where)
		if err != nil {
			problems = append(problems, err)
			break
		}
		e.Types = ts
	case jsonKind(nameRaw) == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(nameRaw, &list); err != nil {
			problems = append(problems, fmt.Errorf("%w: %s\"_\": %s", ErrMalformed, where, scopeJSONProblem(err)))
			break
		}
		if len(list) == 0 {
			problems = append(problems, fmt.Errorf("%w: %sthe one-of list \"_\" is empty: name two or more documents", ErrMalformed, where))
			break
		}
		e.Types = []ElementType{}
		for j, item := range list {
			ts, err := parseOneOfEntry(item, fmt.Sprintf("%sone-of entry %d: ", where, j+1))
			if err != nil {
				problems = append(problems, err)
				continue
			}
			e.Types = append(e.Types, ts...)
		}
	default:
		problems = append(problems, fmt.Errorf("%w: %s\"_\" must be a name or a list of names", ErrMalformed, where))
	}
	if len(problems) > 0 {
		return ScopeElement{}, errors.Join(problems...)
	}
	return e, nil
}

// parseOneOfEntry parses one entry of a one-of list: a name, or an object
// {"_":name} (the form the official JS SDK writes for full-form entries)
// whose flags, if any, must be off.
func parseOneOfEntry(raw json.RawMessage, where string) ([]ElementType, error) {
	switch jsonKind(raw) {
	case '"':
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, fmt.Errorf("%w: %s%s", ErrMalformed, where, scopeJSONProblem(err))
		}
		return resolveElementName(name, where)
	case '{':
	default:
		return nil, fmt.Errorf("%w: %sa one-of entry must be a name such as \"pp\"", ErrMalformed, where)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%w: %s%s", ErrMalformed, where, scopeJSONProblem(err))
	}
	var problems []error
	for _, key := range []string{"s", "t", "n"} {
		v, err := parseScopeFlag(obj, key, where)
		if err != nil {
			problems = append(problems, err)
		} else if v {
			problems = append(problems, fmt.Errorf("%w: %sflag %q on an entry of a one-of list: put it on the list's object instead, e.g. {\"_\":[\"pp\",\"dl\"],%q:1}", ErrNotAllowed, where, key, key))
		}
	}
	nameRaw, ok := obj["_"]
	var ts []ElementType
	switch {
	case !ok:
		problems = append(problems, fmt.Errorf("%w: %sone-of entry object has no \"_\"", ErrMalformed, where))
	case jsonKind(nameRaw) != '"':
		problems = append(problems, fmt.Errorf("%w: %sone-of entries cannot nest lists: \"_\" must be a name", ErrMalformed, where))
	default:
		var name string
		if err := json.Unmarshal(nameRaw, &name); err != nil {
			problems = append(problems, fmt.Errorf("%w: %s\"_\": %s", ErrMalformed, where, scopeJSONProblem(err)))
			break
		}
		var err error
		if ts, err = resolveElementName(name, where); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return ts, nil
}

// parseScopeFlag reads flag key of obj: absent, null, 0 and false are
// false; 1 and true are true; anything else is an error.
func parseScopeFlag(obj map[string]json.RawMessage, key, where string) (bool, error) {
	raw, ok := obj[key]
	if !ok {
		return false, nil
	}
	switch string(bytes.TrimSpace(raw)) {
	case "1", "true":
		return true, nil
	case "0", "false", "null":
		return false, nil
	default:
		return false, fmt.Errorf("%w: %sflag %q must be 1, 0, true or false", ErrMalformed, where, key)
	}
}

// scopeJSONProblem describes a JSON error without echoing the input.
func scopeJSONProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("wrong JSON type (%s, want %s)", typ.Value, typ.Type)
	default:
		return "invalid JSON"
	}
}
