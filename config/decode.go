package config

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// maxNodes bounds the nodes one decode visits, aliases included, so that a
// small file of nested aliases cannot make decoding explode.
const maxNodes = 100_000

// decoder fills Go values from YAML nodes strictly: unknown keys, wrong
// types and duplicate keys are problems, every one of them is collected,
// and only the keys present in the YAML change the value (so it decodes on
// top of defaults). Unlike yaml.Node.Decode it never writes into maps or
// slices shared with the value it started from.
type decoder struct {
	probs  []Problem
	budget int
	// base is the resolved top-level policy, the start of every level's
	// policy; nil until the top-level rules are decoded.
	base *verify.Policy
	// scopes records where the items of each scope were written, by the
	// path of the scope.
	scopes map[string]*scopeLayout
}

func newDecoder() *decoder {
	return &decoder{budget: maxNodes, scopes: map[string]*scopeLayout{}}
}

func (d *decoder) add(n *yaml.Node, path, format string, args ...any) {
	if len(d.probs) >= maxCollected {
		return
	}
	p := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.probs = append(d.probs, p)
}

// resolve follows aliases and charges the budget. It returns nil when the
// budget is spent (reported once).
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	d.budget--
	if d.budget < 0 {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names the kind of a node for messages, quoting short scalars.
// It must not be used for secrets.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "empty"
		case "!!bool":
			return n.Value
		case "!!int", "!!float":
			return fmt.Sprintf("the number %.40s", n.Value)
		}
		return fmt.Sprintf("the text %.40q", n.Value)
	}
	return "something else"
}

// describeKind is describe without the value, for secrets.
func describeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

// pair is one key/value of a mapping.
type pair struct {
	key, value *yaml.Node
	name       string
}

// pairs returns the entries of a mapping with scalar keys. Non-scalar keys,
// merge keys and duplicate keys are reported and left out.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.add(k, path, "a key must be a plain name, not %s", describeKind(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.add(k, path, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.add(k, joinPath(path, k.Value), "is set twice (first at line %d); keep one", first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{key: k, value: v, name: k.Value})
	}
	return out
}

// joinPath appends key to path with a dot.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

var (
	durationType = reflect.TypeFor[time.Duration]()
	scopeType    = reflect.TypeFor[passport.Scope]()
	levelPtrType = reflect.TypeFor[*Level]()
)

// decode sets v (settable) from n. A null node leaves v unchanged (the
// default or inherited value stays).
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	n = d.resolve(n)
	if n == nil || isNull(n) {
		return
	}
	switch v.Type() {
	case durationType:
		d.decodeDuration(n, path, v)
		return
	case scopeType:
		v.Set(reflect.ValueOf(d.decodeScope(n, path)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, path, v, nil)
	case reflect.Map:
		d.decodeMap(n, path, v)
	case reflect.Slice:
		d.decodeSlice(n, path, v)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if !v.IsNil() {
			p.Elem().Set(deepCopy(v.Elem()))
		}
		d.decode(n, path, p.Elem())
		v.Set(p)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.decodeInt(n, path, v)
	case reflect.Float64:
		d.decodeFloat(n, path, v)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.add(n, path, "must be true or false, not %s", describe(n))
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.add(n, path, "must be true or false")
			return
		}
		v.SetBool(b)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.add(n, path, "must be a single value, not %s", describeKind(n))
			return
		}
		v.SetString(n.Value)
	default:
		d.add(n, path, "cannot be set from YAML (unsupported type %s)", v.Type())
	}
}

func (d *decoder) decodeFloat(n *yaml.Node, path string, v reflect.Value) {
	var f float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.add(n, path, "must be a number such as 0.9, not %s", describe(n))
		return
	}
	v.SetFloat(f)
}

func (d *decoder) decodeInt(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.add(n, path, "must be a whole number, not %s", describe(n))
		return
	}
	var i int64
	if err := n.Decode(&i); err != nil {
		d.add(n, path, "must be a whole number, not %s", describe(n))
		return
	}
	if v.OverflowInt(i) {
		d.add(n, path, "%d is out of range", i)
		return
	}
	v.SetInt(i)
}

func (d *decoder) decodeDuration(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.add(n, path, "must be a duration such as 30m or 24h, not %s", describeKind(n))
		return
	}
	dur, msg := parseDuration(n.Value)
	if msg != "" {
		d.add(n, path, "%s", msg)
		return
	}
	v.SetInt(int64(dur))
}

// parseDuration reads a Go duration ("90s", "30m", "1h30m") or whole days
// ("7d"). It returns a message for people when s is not one.
func parseDuration(s string) (time.Duration, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "is empty: write a duration such as 30m or 24h"
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Sprintf("%.40s has no unit: write %.20ss, %.20sm or %.20sh", s, s, s, s)
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 100_000 {
			return time.Duration(n) * 24 * time.Hour, ""
		}
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Sprintf("%.40q is not a duration: write a number with a unit, such as 90s, 30m, 1h30m, 24h or 7d", s)
	}
	return dur, ""
}

// structFields maps the yaml keys of struct type t to field indexes and
// lists the keys in field order.
func structFields(t reflect.Type) (map[string]int, []string) {
	idx := map[string]int{}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		idx[name] = i
		keys = append(keys, name)
	}
	return idx, keys
}

// decodeStruct decodes a mapping into struct v; keys in skip are accepted
// but left to the caller.
func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value, skip map[string]bool) {
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "must be a mapping of settings (key: value), not %s", describe(n))
		return
	}
	idx, keys := structFields(v.Type())
	for _, p := range d.pairs(n, path) {
		if skip[p.name] {
			continue
		}
		i, ok := idx[p.name]
		if !ok {
			d.unknownKey(p.key, path, keys)
			continue
		}
		d.decode(p.value, joinPath(path, p.name), v.Field(i))
	}
}

// unknownKey reports key k, which is not one of keys.
func (d *decoder) unknownKey(k *yaml.Node, path string, keys []string) {
	where := "here"
	if path != "" {
		where = "in " + path
	}
	hint := didYouMean(k.Value, keys)
	if hint == "" {
		hint = "; the keys " + where + " are " + andList(keys)
	}
	d.add(k, joinPath(path, k.Value), "unknown key %.40q%s", k.Value, hint)
}

// decodeMap decodes a mapping into map v, merging into (a copy of) the
// entries v already has: an entry present in YAML decodes on top of the
// existing entry of the same key.
func (d *decoder) decodeMap(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "must be a mapping (key: value), not %s", describe(n))
		return
	}
	t := v.Type()
	m := reflect.MakeMap(t)
	if !v.IsNil() {
		m = deepCopy(v)
	}
	for _, p := range d.pairs(n, path) {
		key, ok := d.mapKey(p, path, t.Key())
		if !ok {
			continue
		}
		elem := reflect.New(t.Elem()).Elem()
		if old := m.MapIndex(key); old.IsValid() {
			elem.Set(deepCopy(old))
		} else if t.Elem() == levelPtrType {
			elem.Set(reflect.ValueOf(d.newLevel(p.name)))
		}
		d.decode(p.value, joinPath(path, p.name), elem)
		m.SetMapIndex(key, elem)
	}
	v.Set(m)
}

// mapKey converts the key of p to a key of type kt: a string, or a whole
// number (such as the DC numbers of telegram.server.addresses).
func (d *decoder) mapKey(p pair, path string, kt reflect.Type) (reflect.Value, bool) {
	k := reflect.New(kt).Elem()
	switch kt.Kind() {
	case reflect.String:
		k.SetString(p.name)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(p.name, 10, 64)
		if err != nil || k.OverflowInt(i) {
			d.add(p.key, joinPath(path, p.name), "the key %.40q is not a whole number: the keys here are numbers", p.name)
			return k, false
		}
		k.SetInt(i)
	default:
		d.add(p.key, joinPath(path, p.name), "cannot be set from YAML (unsupported key type %s)", kt)
		return k, false
	}
	return k, true
}

// newLevel returns a level whose policy starts from the top-level rules:
// the keys of the level's rules are decoded on top of it, and the result
// is the level's whole policy.
func (d *decoder) newLevel(name string) *Level {
	l := &Level{Name: name, Policy: verify.DefaultPolicy(), whole: true}
	if d.base != nil {
		l.Policy = deepCopy(reflect.ValueOf(*d.base)).Interface().(verify.Policy)
	}
	return l
}

// decodeSlice replaces slice v with the list n.
func (d *decoder) decodeSlice(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.add(n, path, "must be a list, not %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, indexPath(path, i), s.Index(i))
	}
	v.Set(s)
}

// deepCopy returns a copy of v that shares no map, slice or pointer with
// it.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(deepCopy(v.Elem()))
		return p
	case reflect.Slice:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(deepCopy(v.Index(i)))
		}
		return s
	case reflect.Map:
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			m.SetMapIndex(iter.Key(), deepCopy(iter.Value()))
		}
		return m
	case reflect.Struct:
		s := reflect.New(v.Type()).Elem()
		s.Set(v) // copies unexported fields as they are
		for i := range v.NumField() {
			if s.Field(i).CanSet() {
				s.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return s
	default:
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		return c
	}
}

// locate walks the tree from root along path ("a.b[2].c") and returns the
// position of the deepest node present, so that a problem about a setting
// left at its default points at its nearest parent. A scalar value is
// located at the value, a mapping or list at its key.
func locate(root *yaml.Node, path string) (line, col int) {
	n := root
	for n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil {
		return 0, 0
	}
	line, col = n.Line, n.Column
	if path == "" {
		return line, col
	}
	for _, seg := range splitPath(path) {
		key, next := child(n, seg)
		if next == nil {
			break
		}
		n = next
		target := next
		for i := 0; target.Kind == yaml.AliasNode && target.Alias != nil && i < 100; i++ {
			target = target.Alias
		}
		if key != nil && target.Kind != yaml.ScalarNode {
			line, col = key.Line, key.Column
		} else {
			line, col = next.Line, next.Column
		}
	}
	return line, col
}

// child returns the key (nil for a list item) and value of seg in n: the
// first entry of key seg.key of a mapping, or item seg.index of a list. The
// value is nil when there is none.
func child(n *yaml.Node, seg pathSeg) (key, value *yaml.Node) {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n == nil {
		return nil, nil
	}
	if seg.index >= 0 {
		if n.Kind == yaml.SequenceNode && seg.index < len(n.Content) {
			return nil, n.Content[seg.index]
		}
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == seg.key {
			return k, n.Content[i+1]
		}
	}
	return nil, nil
}

// pathSeg is a key (index -1) or an index of a path.
type pathSeg struct {
	key   string
	index int
}

// splitPath splits "a.b[2].c" into a, b, [2], c.
func splitPath(path string) []pathSeg {
	var out []pathSeg
	for part := range strings.SplitSeq(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, pathSeg{key: key, index: -1})
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil || i < 0 {
				break
			}
			out = append(out, pathSeg{index: i})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}

// Limits on the problems of one config: collected (to bound memory on
// hostile input) and reported (the first ones, by position).
const (
	maxCollected = 1000
	maxReported  = 100
)

// sortProblems orders problems by position, keeping the order in which
// they were found for problems at the same position, and drops exact
// duplicates.
func sortProblems(ps []Problem) []Problem {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	seen := map[Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// limitProblems keeps the first maxReported problems and says how many
// more there are.
func limitProblems(ps []Problem) []Problem {
	if len(ps) <= maxReported {
		return ps
	}
	more := len(ps) - maxReported
	what := fmt.Sprintf("and %d more problems", more)
	if len(ps) >= maxCollected {
		what = "and more problems"
	}
	return append(ps[:maxReported:maxReported], Problem{Message: what + "; fix these first"})
}
