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

// scopeItem is one decoded item with where its types and flags came from.
type scopeItem struct {
	elem     passport.ScopeElement
	path     string       // the item's path
	typePath string       // where to report type problems
	node     *yaml.Node   // the item
	typeNode *yaml.Node   // where to report type problems
	entries  []scopeEntry // each type with its own position
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

// decodeScope decodes and validates a scope list. Problems carry the path
// of the item, entry or flag at fault.
func (d *decoder) decodeScope(n *yaml.Node, path string) passport.Scope {
	if n.Kind != yaml.SequenceNode {
		d.add(n, path, "must be a list of what to ask for, such as [personal_details, phone_number], not %s", describe(n))
		return passport.Scope{}
	}
	if len(n.Content) == 0 {
		d.add(n, path, "is empty (Telegram refuses an empty request): ask for at least one element, such as personal_details")
		return passport.Scope{}
	}
	var items []*scopeItem
	for i, raw := range n.Content {
		before := len(d.probs)
		it := d.scopeItem(raw, indexPath(path, i))
		if it != nil {
			it.bad = len(d.probs) > before
			items = append(items, it)
		}
	}
	bad := len(items) < len(n.Content)
	// Each type once in the whole scope.
	firstAt := map[passport.ElementType]string{}
	for _, it := range items {
		inItem := map[passport.ElementType]bool{}
		var types []passport.ElementType
		for _, e := range it.entries {
			if inItem[e.t] {
				msg := fmt.Sprintf("%s is listed more than once in this list", e.t)
				if e.via != "" {
					msg = fmt.Sprintf("%s includes %s, which this list already has", e.via, e.t)
				}
				d.add(e.node, e.path, "%s; name each type once", msg)
				it.bad = true
				continue
			}
			inItem[e.t] = true
			if first, dup := firstAt[e.t]; dup {
				what := string(e.t)
				if e.via != "" {
					what = fmt.Sprintf("%s (in %s)", e.t, e.via)
				}
				d.add(e.node, e.path, "%s is already asked for at %s; each type may appear only once in a scope: merge them into one element", what, first)
				it.bad = true
				continue
			}
			firstAt[e.t] = it.path
			types = append(types, e.t)
		}
		it.elem.Types = types
	}
	// The protocol's rules, one item and one flag at a time so that each
	// problem lands on the right node.
	sc := passport.Scope{}
	for _, it := range items {
		if it.bad {
			bad = true
			continue
		}
		bare := passport.ScopeElement{Types: it.elem.Types}
		if err := passport.NewScope(bare).Validate(); err != nil {
			for _, msg := range scopeMessages(err) {
				d.add(it.typeNode, it.typePath, "%s", msg)
			}
			bad = true
			continue
		}
		for _, f := range scopeFlags {
			pos, ok := it.flags[f]
			if !ok {
				continue
			}
			one := bare
			switch f {
			case "selfie":
				one.Selfie = true
			case "translation":
				one.Translation = true
			case "native_names":
				one.NativeNames = true
			}
			if err := passport.NewScope(one).Validate(); err != nil {
				for _, msg := range scopeMessages(err) {
					d.add(pos.node, pos.path, "%s", msg)
				}
				bad = true
			}
		}
		sc.Elements = append(sc.Elements, it.elem)
	}
	if bad {
		return passport.Scope{}
	}
	if err := sc.Validate(); err != nil { // a safety net: the checks above cover the rules
		for _, msg := range scopeMessages(err) {
			d.add(n, path, "%s", msg)
		}
		return passport.Scope{}
	}
	return sc
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
	switch p.name {
	case "selfie":
		it.elem.Selfie = true
	case "translation":
		it.elem.Translation = true
	case "native_names":
		it.elem.NativeNames = true
	}
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
	what, kind := "an element type", "an element"
	if inOneOf {
		what, kind = "a document type", "a document"
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.add(n, path, "must be the name of %s, such as passport, not %s", kind, describe(n))
		return nil, false
	}
	ts, err := passport.ParseElementName(n.Value)
	if err != nil {
		hint := didYouMean(n.Value, elementNames)
		if hint == "" {
			hint = "; use one of " + strings.Join(elementNames[:len(passport.ElementTypes())+2], ", ") + " (or their short aliases)"
		}
		d.add(n, path, "%.40q is not %s%s", n.Value, what, hint)
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

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
