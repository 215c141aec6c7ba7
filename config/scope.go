package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kycbot/kycbot/passport"
)

// Scope items in YAML:
//
//	- email                                   # a name or alias
//	- utility_bill: {translation: true}       # one type with flags
//	- one_of: [passport, idd]                 # a choice, flags beside it
//	  selfie: true

const keyOneOf = "one_of"

// scopeFlags are the flag keys of a scope item.
var scopeFlags = []string{"selfie", "translation", "native_names"}

// elementNames are the names ParseElementName accepts, full names first,
// used for suggestions.
var elementNames = func() []string {
	var names []string
	for _, t := range passport.ElementTypes() {
		names = append(names, string(t))
	}
	names = append(names, "id_document", "address_document")
	for _, t := range passport.ElementTypes() {
		names = append(names, t.Alias())
	}
	return append(names, "idd", "add")
}()

// scopeItem is one item of a scope with where its types and flags were
// written: in the file for a scope read from YAML, at the paths of its YAML
// form for a scope built in Go (nodes nil).
type scopeItem struct {
	elem     passport.ScopeElement
	path     string       // the item's path
	typePath string       // where to report type problems
	node     *yaml.Node   // the item
	typeNode *yaml.Node   // where to report type problems
	entries  []scopeEntry // each type of elem, in order, with its own position
	flags    map[string]flagPos
	bad      bool // a problem was reported
}

type scopeEntry struct {
	t    passport.ElementType
	path string
	node *yaml.Node
	via  string // the name it was written as, when a group expanded
}

type flagPos struct {
	path string
	node *yaml.Node
}

// scopeLayout is where the items of one scope were written in the file.
type scopeLayout struct {
	items   []*scopeItem // one per element of the decoded scope
	partial bool         // items that did not decode are left out
}

// decodeScope decodes a scope list into the elements that decode, and
// records where each was written (d.scopes) for the checks of the scope
// (checker.scope), which run on the decoded value as they do on a scope
// built in Go. Problems of form (unknown names, flags in the wrong place,
// values of the wrong type) are reported here, each at the item, entry or
// flag at fault.
func (d *decoder) decodeScope(n *yaml.Node, path string) passport.Scope {
	if n.Kind != yaml.SequenceNode {
		d.add(n, path, "must be a list of what to ask for, such as [personal_details, phone_number], not %s", describe(n))
		return passport.Scope{}
	}
	if len(n.Content) == 0 {
		d.add(n, path, "is empty (Telegram refuses an empty request): ask for at least one element, such as personal_details")
		return passport.Scope{}
	}
	lay := &scopeLayout{}
	sc := passport.Scope{}
	for i, raw := range n.Content {
		before := len(d.probs)
		it := d.scopeItem(raw, indexPath(path, i))
		if it == nil {
			lay.partial = true
			continue
		}
		it.bad = len(d.probs) > before
		it.elem.Types = make([]passport.ElementType, len(it.entries))
		for j, e := range it.entries {
			it.elem.Types[j] = e.t
		}
		lay.items = append(lay.items, it)
		sc.Elements = append(sc.Elements, it.elem)
	}
	d.scopes[path] = lay
	return sc
}

// goLayout places the elements of a scope built in Go at the paths of
// their YAML form: an element of one type at "scope[i]" with its flags at
// "scope[i].<type>.<flag>", a one-of list at "scope[i].one_of" with its
// types at "scope[i].one_of[j]" and its flags at "scope[i].<flag>".
func goLayout(path string, s passport.Scope) *scopeLayout {
	lay := &scopeLayout{}
	for i, e := range s.Elements {
		it := &scopeItem{elem: e, path: indexPath(path, i), flags: map[string]flagPos{}}
		it.typePath = it.path
		flagsAt := it.path
		if len(e.Types) == 1 {
			flagsAt = joinPath(it.path, string(e.Types[0]))
		} else {
			it.typePath = joinPath(it.path, keyOneOf)
		}
		for j, t := range e.Types {
			p := it.path
			if len(e.Types) > 1 {
				p = indexPath(it.typePath, j)
			}
			it.entries = append(it.entries, scopeEntry{t: t, path: p})
		}
		for _, f := range scopeFlags {
			if hasFlag(e, f) {
				it.flags[f] = flagPos{path: joinPath(flagsAt, f)}
			}
		}
		lay.items = append(lay.items, it)
	}
	return lay
}

// hasFlag reports whether flag f (one of scopeFlags) is set on e.
func hasFlag(e passport.ScopeElement, f string) bool {
	switch f {
	case "selfie":
		return e.Selfie
	case "translation":
		return e.Translation
	case "native_names":
		return e.NativeNames
	}
	return false
}

// withFlag returns e with flag f set.
func withFlag(e passport.ScopeElement, f string) passport.ScopeElement {
	switch f {
	case "selfie":
		e.Selfie = true
	case "translation":
		e.Translation = true
	case "native_names":
		e.NativeNames = true
	}
	return e
}

// scope checks the scope s of a level at path, whether it was read from
// the file or built in Go: every element names known types, each type is
// asked for once in the whole scope, and the one-of lists and flags are
// ones Telegram accepts. Each problem names the item, type or flag at
// fault (see goLayout for a scope built in Go).
func (c *checker) scope(path string, s passport.Scope) {
	lay := c.scopes[path]
	if lay == nil || len(lay.items) != len(s.Elements) {
		lay = goLayout(path, s)
	}
	bad := lay.partial
	// Known types, each once in the whole scope.
	firstAt := map[passport.ElementType]string{}
	for i, it := range lay.items {
		e := s.Elements[i]
		if len(e.Types) == 0 {
			c.addAt(it.node, it.path, "names no element type: give one type, or a one-of list of identity or address documents")
			it.bad = true
		}
		inItem := map[passport.ElementType]bool{}
		for j, t := range e.Types {
			en := scopeEntry{t: t, path: it.path, node: it.node}
			if j < len(it.entries) {
				en = it.entries[j]
			}
			if !t.Valid() {
				c.addAt(en.node, en.path, "%s", unknownElement(string(t), len(e.Types) > 1))
				it.bad = true
				continue
			}
			if inItem[t] {
				msg := fmt.Sprintf("%s is listed more than once in this list", t)
				if en.via != "" {
					msg = fmt.Sprintf("%s includes %s, which this list already has", en.via, t)
				}
				c.addAt(en.node, en.path, "%s; name each type once", msg)
				it.bad = true
				continue
			}
			inItem[t] = true
			if first, dup := firstAt[t]; dup {
				what := string(t)
				if en.via != "" {
					what = fmt.Sprintf("%s (in %s)", t, en.via)
				}
				c.addAt(en.node, en.path, "%s is already asked for at %s; each type may appear only once in a scope: merge them into one element", what, first)
				it.bad = true
				continue
			}
			firstAt[t] = it.path
		}
	}
	// The protocol's rules, one item and one flag at a time so that each
	// problem lands on the right node.
	for i, it := range lay.items {
		if it.bad {
			bad = true
			continue
		}
		e := s.Elements[i]
		bare := passport.ScopeElement{Types: e.Types}
		if err := passport.NewScope(bare).Validate(); err != nil {
			for _, msg := range scopeMessages(err) {
				c.addAt(it.typeNode, it.typePath, "%s", msg)
			}
			bad = true
			continue
		}
		for _, f := range scopeFlags {
			if !hasFlag(e, f) {
				continue
			}
			pos, ok := it.flags[f]
			if !ok {
				pos = flagPos{path: joinPath(it.path, f)}
			}
			if err := passport.NewScope(withFlag(bare, f)).Validate(); err != nil {
				for _, msg := range scopeMessages(err) {
					c.addAt(pos.node, pos.path, "%s", msg)
				}
				bad = true
			}
		}
	}
	if bad {
		return
	}
	if err := s.Validate(); err != nil { // a safety net: the checks above cover the rules
		for _, msg := range scopeMessages(err) {
			c.add(path, "%s", msg)
		}
	}
}

var scopeElementPrefix = regexp.MustCompile(`^scope element \d+:? `)

// scopeMessages turns the errors of passport.Scope.Validate into messages
// without the sentinel and the element number (the path says which).
func scopeMessages(err error) []string {
	var out []string
	for line := range strings.SplitSeq(err.Error(), "\n") {
		for _, s := range []error{passport.ErrNotAllowed, passport.ErrMalformed} {
			line = strings.TrimPrefix(line, s.Error()+": ")
		}
		line = scopeElementPrefix.ReplaceAllString(line, "")
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// scopeItem decodes one item of a scope list; nil after a problem.
func (d *decoder) scopeItem(raw *yaml.Node, path string) *scopeItem {
	n := d.resolve(raw)
	if n == nil {
		return nil
	}
	it := &scopeItem{path: path, node: n, typePath: path, typeNode: n, flags: map[string]flagPos{}}
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			d.add(n, path, "is empty: name an element such as passport, or remove the dash")
			return nil
		}
		es, ok := d.elementName(n, path, false)
		if !ok {
			return nil
		}
		it.entries = es
		return it
	case yaml.MappingNode:
	default:
		d.add(n, path, "must be an element name (such as passport), a name with flags (passport: {selfie: true}) or a choice (one_of: [passport, identity_card]), not %s", describe(n))
		return nil
	}
	ps := d.pairs(n, path)
	hasOneOf := false
	for _, p := range ps {
		if p.name == keyOneOf {
			hasOneOf = true
		}
	}
	if hasOneOf {
		return d.oneOfItem(it, ps)
	}
	switch {
	case len(ps) == 0:
		d.add(n, path, "is an empty mapping: name an element such as passport")
		return nil
	case len(ps) > 1:
		var flags []string
		var types []string
		for _, p := range ps {
			if isFlag(p.name) {
				flags = append(flags, p.name)
			} else {
				types = append(types, p.name)
			}
		}
		if len(types) == 1 && len(flags) > 0 {
			d.add(n, path, "put the flags inside the element, indented under it: %s: {%s: true}", truncate(types[0]), flags[0])
		} else {
			d.add(n, path, "names %d things; an item is one element (passport: {selfie: true}) or a choice (one_of: [...]): use one item per element", len(ps))
		}
		return nil
	}
	p := ps[0]
	if isFlag(p.name) {
		d.add(p.key, path, "%s needs an element: write passport: {%s: true}, or one_of: [...] with %s beside it", p.name, p.name, p.name)
		return nil
	}
	es, ok := d.elementName(p.key, path, false)
	if !ok {
		return nil
	}
	it.entries = es
	it.typeNode = p.key
	flagsPath := joinPath(path, p.name)
	d.scopeFlags(p.value, flagsPath, it)
	return it
}

// oneOfItem decodes an item with a one_of key.
func (d *decoder) oneOfItem(it *scopeItem, ps []pair) *scopeItem {
	ok := true
	for _, p := range ps {
		if p.name == keyOneOf {
			it.typePath = joinPath(it.path, keyOneOf)
			list := d.resolve(p.value)
			if list == nil {
				return nil
			}
			it.typeNode = list
			if list.Kind != yaml.SequenceNode {
				d.add(list, it.typePath, "must be a list of documents the user chooses from, such as [passport, identity_card], not %s", describe(list))
				ok = false
				continue
			}
			if len(list.Content) == 0 {
				d.add(list, it.typePath, "is empty: name two or more documents the user may choose from")
				ok = false
				continue
			}
			for j, raw := range list.Content {
				e := d.resolve(raw)
				if e == nil {
					return nil
				}
				es, good := d.elementName(e, indexPath(it.typePath, j), true)
				if !good {
					ok = false
					continue
				}
				it.entries = append(it.entries, es...)
			}
			continue
		}
		if !isFlag(p.name) {
			d.unknownKey(p.key, it.path, append([]string{keyOneOf}, scopeFlags...))
			ok = false
			continue
		}
		if !d.scopeFlag(p, joinPath(it.path, p.name), it) {
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return it
}

// scopeFlags decodes the flags mapping of a one-type item (nil allowed).
func (d *decoder) scopeFlags(raw *yaml.Node, path string, it *scopeItem) {
	n := d.resolve(raw)
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "must be flags such as {selfie: true, translation: true}, not %s", describe(n))
		return
	}
	for _, p := range d.pairs(n, path) {
		if !isFlag(p.name) {
			d.unknownKey(p.key, path, scopeFlags)
			continue
		}
		d.scopeFlag(p, joinPath(path, p.name), it)
	}
}

// scopeFlag decodes one flag; false after a problem.
func (d *decoder) scopeFlag(p pair, path string, it *scopeItem) bool {
	v := d.resolve(p.value)
	if v == nil {
		return false
	}
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		d.add(v, path, "must be true or false, not %s", describe(v))
		return false
	}
	if b, err := strconv.ParseBool(strings.ToLower(v.Value)); err != nil || !b {
		return err == nil
	}
	it.elem = withFlag(it.elem, p.name)
	it.flags[p.name] = flagPos{path: path, node: p.key}
	return true
}

func isFlag(s string) bool {
	for _, f := range scopeFlags {
		if s == f {
			return true
		}
	}
	return false
}

// elementName resolves the scalar n to element types.
func (d *decoder) elementName(n *yaml.Node, path string, inOneOf bool) ([]scopeEntry, bool) {
	kind := "an element"
	if inOneOf {
		kind = "a document"
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.add(n, path, "must be the name of %s, such as passport, not %s", kind, describe(n))
		return nil, false
	}
	ts, err := passport.ParseElementName(n.Value)
	if err != nil {
		d.add(n, path, "%s", unknownElement(n.Value, inOneOf))
		return nil, false
	}
	via := ""
	if len(ts) > 1 {
		via = n.Value
	}
	es := make([]scopeEntry, len(ts))
	for i, t := range ts {
		es[i] = scopeEntry{t: t, path: path, node: n, via: via}
	}
	return es, true
}

// unknownElement says that name is not an element type (in a one-of list:
// a document type), suggesting the closest name.
func unknownElement(name string, inOneOf bool) string {
	what := "an element type"
	if inOneOf {
		what = "a document type"
	}
	hint := didYouMean(name, elementNames)
	if hint == "" {
		hint = "; use one of " + strings.Join(elementNames[:len(passport.ElementTypes())+2], ", ") + " (or their short aliases)"
	}
	return fmt.Sprintf("%.40q is not %s%s", name, what, hint)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
