package i18n

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// locales holds the built-in catalogs, one YAML file per language; en.yaml
// is the source.
//
//go:embed locales/*.yaml
var locales embed.FS

// languages returns the supported languages (BCP 47 tags), English first.
func languages() []string {
	return []string{"en", "ru", "uk", "es", "pt-BR", "de", "fr", "tr", "fa", "ar"}
}

// Option configures New.
type Option func(*options)

type options struct {
	defaultLang string
	overrides   fs.FS
	onError     func(error)
}

// WithDefaultLanguage sets the language used when a user's Telegram
// language is not supported (default "en"). It must be one of
// Languages(); New fails otherwise.
func WithDefaultLanguage(tag string) Option {
	return func(o *options) { o.defaultLang = tag }
}

// WithOverrides adds the admin's override files: one YAML file per
// language in the root of fsys, named after the language (ru.yaml,
// pt-BR.yaml; .yml is accepted too), each a map of message ID to text, or
// to a map of plural forms (zero, one, two, few, many, other) for plural
// messages. Each message given replaces the built-in one for that language
// only. Other files, directories and dot files are ignored.
//
// New fails, naming the file (and the line and message ID where there is
// one), on a file for an unsupported language, an unknown message ID, a
// text that is empty or does not parse as a template, a template field the
// message does not provide, or plural forms that do not fit the language.
// Config passes os.DirFS(dir).
func WithOverrides(fsys fs.FS) Option {
	return func(o *options) { o.overrides = fsys }
}

// WithErrorHandler sets a function told about rendering problems that the
// user never sees: a message missing in a language (English was used), a
// missing plural form, missing template data, an unknown message ID,
// element, field or problem code. The errors name languages, message IDs
// and keys, never template data. By default they are dropped. fn must be
// safe for concurrent use.
func WithErrorHandler(fn func(error)) Option {
	return func(o *options) { o.onError = fn }
}

// Catalog holds the messages of every supported language. It is immutable
// after New and safe for concurrent use.
type Catalog struct {
	langs       []string
	defaultLang string
	bases       map[string]string // base language ("pt") -> supported tag ("pt-BR")
	specs       map[string]spec
	forms       map[string][]string // language -> plural forms it uses for integers
	localizers  map[string]*Localizer
	onError     func(error)
}

// New builds the catalog from the embedded catalogs and the options.
func New(opts ...Option) (*Catalog, error) {
	return newCatalog(locales, opts...)
}

// newCatalog builds a catalog from the built-in catalogs in builtin
// (locales/<lang>.yaml).
func newCatalog(builtin fs.FS, opts ...Option) (*Catalog, error) {
	o := options{defaultLang: "en"}
	for _, opt := range opts {
		opt(&o)
	}
	c := &Catalog{
		langs:      languages(),
		bases:      map[string]string{},
		specs:      map[string]spec{},
		localizers: map[string]*Localizer{},
		onError:    o.onError,
	}
	if c.onError == nil {
		c.onError = func(error) {}
	}
	for _, l := range c.langs {
		base, _ := language.Make(l).Base()
		if _, ok := c.bases[base.String()]; !ok {
			c.bases[base.String()] = l
		}
	}
	def, ok := c.canonical(o.defaultLang)
	if !ok {
		return nil, fmt.Errorf("i18n: default language %q is not supported (supported: %s)",
			o.defaultLang, strings.Join(c.langs, ", "))
	}
	c.defaultLang = def
	for _, s := range specs() {
		c.specs[s.id] = s
	}
	forms, err := pluralForms(c.langs)
	if err != nil {
		return nil, err
	}
	c.forms = forms

	messages := map[string]map[string]*goi18n.Message{}
	for _, l := range c.langs {
		name := "locales/" + l + ".yaml"
		data, err := fs.ReadFile(builtin, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: built-in catalog for %s: %w", l, err)
		}
		msgs, err := c.parseFile(name, data, l)
		if err != nil {
			return nil, fmt.Errorf("i18n: built-in catalog: %w", err)
		}
		messages[l] = msgs
	}
	if o.overrides != nil {
		if err := c.loadOverrides(o.overrides, messages); err != nil {
			return nil, err
		}
	}

	bundle := goi18n.NewBundle(language.English)
	for _, l := range c.langs {
		ids := make([]string, 0, len(messages[l]))
		for id := range messages[l] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		list := make([]*goi18n.Message, len(ids))
		for i, id := range ids {
			list[i] = messages[l][id]
		}
		if err := bundle.AddMessages(language.Make(l), list...); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", l, err)
		}
	}
	for _, l := range c.langs {
		c.localizers[l] = newLocalizer(c, l, goi18n.NewLocalizer(bundle, l))
	}
	return c, nil
}

// Languages returns the supported languages as BCP 47 tags, English first:
// en, ru, uk, es, pt-BR, de, fr, tr, fa, ar.
func (c *Catalog) Languages() []string { return slices.Clone(c.langs) }

// DefaultLanguage returns the language used for unsupported Telegram
// languages.
func (c *Catalog) DefaultLanguage() string { return c.defaultLang }

// Match returns the supported language for a Telegram lang_code (an IETF
// language tag such as "en-US", "pt-br" or "zh-hans"): the supported
// language with the same base language ("en-US" -> "en", "pt" -> "pt-BR",
// "es-419" -> "es"), or the default language when there is none or the
// code is empty or malformed.
func (c *Catalog) Match(telegramLangCode string) string {
	if l, ok := c.matchBase(telegramLangCode); ok {
		return l
	}
	return c.defaultLang
}

// matchBase returns the supported language with the base language of code.
func (c *Catalog) matchBase(code string) (string, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), "_", "-")
	base, _, _ := strings.Cut(code, "-")
	if base == "" {
		return "", false
	}
	b, err := language.ParseBase(base)
	if err != nil {
		return "", false
	}
	l, ok := c.bases[b.String()]
	return l, ok
}

// Language returns the Localizer for a language: a tag from Languages(),
// or any code Match understands. It never returns nil.
func (c *Catalog) Language(tag string) *Localizer {
	if l, ok := c.localizers[tag]; ok {
		return l
	}
	return c.localizers[c.Match(tag)]
}

// canonical returns the supported tag spelled by s ("pt-br" -> "pt-BR").
func (c *Catalog) canonical(s string) (string, bool) {
	if slices.Contains(c.langs, s) {
		return s, true
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	if slices.Contains(c.langs, t.String()) {
		return t.String(), true
	}
	return "", false
}

// loadOverrides parses every override file and merges its messages.
func (c *Catalog) loadOverrides(fsys fs.FS, messages map[string]map[string]*goi18n.Message) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("i18n: overrides: %w", err)
	}
	var errs []error
	seen := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		ext := path.Ext(name)
		if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		stem := strings.TrimSuffix(name, ext)
		lang, ok := c.canonical(stem)
		if !ok {
			hint := ""
			if m, ok := c.matchBase(stem); ok {
				hint = fmt.Sprintf("; did you mean %s%s?", m, ext)
			}
			errs = append(errs, fmt.Errorf("i18n: overrides: %s: unknown language %q (supported: %s)%s",
				name, stem, strings.Join(c.langs, ", "), hint))
			continue
		}
		if prev, ok := seen[lang]; ok {
			errs = append(errs, fmt.Errorf("i18n: overrides: %s: language %s is already overridden by %s", name, lang, prev))
			continue
		}
		seen[lang] = name
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("i18n: overrides: %w", err))
			continue
		}
		msgs, err := c.parseFile(name, data, lang)
		if err != nil {
			errs = append(errs, fmt.Errorf("i18n: overrides: %w", err))
			continue
		}
		for id, m := range msgs {
			messages[lang][id] = m
		}
	}
	return errors.Join(errs...)
}

// parseFile parses one catalog or override file for lang and checks every
// message against its spec. Errors name the file, the line and the ID.
func (c *Catalog) parseFile(name string, data []byte, lang string) (map[string]*goi18n.Message, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := map[string]*goi18n.Message{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return out, nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: expected a map of message ID to text", name, root.Line)
	}
	var errs []error
	lines := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		id := k.Value
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: line %d: message %q: %s", name, k.Line, id, fmt.Sprintf(format, args...)))
		}
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("%s: line %d: a message ID must be a string", name, k.Line))
			continue
		}
		if prev, ok := lines[id]; ok {
			fail("defined twice (first on line %d)", prev)
			continue
		}
		lines[id] = k.Line
		sp, ok := c.specs[id]
		if !ok {
			fail("unknown message ID")
			continue
		}
		m, err := c.message(sp, v, lang)
		if err != nil {
			fail("%v", err)
			continue
		}
		out[id] = m
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// pluralFormNames are go-i18n's plural forms, in CLDR order.
func pluralFormNames() []string { return []string{"zero", "one", "two", "few", "many", "other"} }

// message builds a go-i18n message from a YAML value and checks it.
func (c *Catalog) message(sp spec, v *yaml.Node, lang string) (*goi18n.Message, error) {
	m := &goi18n.Message{ID: sp.id}
	allowed := map[string]bool{}
	for _, k := range sp.keys {
		allowed[strings.TrimSuffix(k, "?")] = true
	}
	if sp.plural != "" {
		allowed[sp.plural] = true
	}
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag != "!!null":
		if sp.plural != "" {
			return nil, fmt.Errorf("is a plural message: give its forms for %s (%s)",
				lang, strings.Join(c.requiredForms(lang), ", "))
		}
		if err := checkText(v.Value, allowed); err != nil {
			return nil, err
		}
		m.Other = v.Value
		return m, nil
	case v.Kind == yaml.MappingNode:
		if sp.plural == "" {
			return nil, errors.New("is not a plural message: give one text")
		}
		got := map[string]bool{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			fk, fv := v.Content[i], v.Content[i+1]
			form := fk.Value
			if !slices.Contains(pluralFormNames(), form) {
				return nil, fmt.Errorf("unknown plural form %q (forms: zero, one, two, few, many, other)", form)
			}
			if !slices.Contains(c.requiredForms(lang), form) {
				return nil, fmt.Errorf("plural form %q is never used in %s (it uses %s)",
					form, lang, strings.Join(c.requiredForms(lang), ", "))
			}
			if fv.Kind != yaml.ScalarNode || fv.Tag == "!!null" {
				return nil, fmt.Errorf("plural form %q: expected a text", form)
			}
			if err := checkText(fv.Value, allowed); err != nil {
				return nil, fmt.Errorf("plural form %q: %w", form, err)
			}
			got[form] = true
			setForm(m, form, fv.Value)
		}
		var missing []string
		for _, f := range c.requiredForms(lang) {
			if !got[f] {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("missing plural forms for %s: %s", lang, strings.Join(missing, ", "))
		}
		return m, nil
	default:
		return nil, errors.New("expected a text (or a map of plural forms)")
	}
}

// requiredForms returns the plural forms a plural message needs in lang:
// the forms integers take there, and "other".
func (c *Catalog) requiredForms(lang string) []string {
	var out []string
	for _, f := range pluralFormNames() {
		if f == "other" || slices.Contains(c.forms[lang], f) {
			out = append(out, f)
		}
	}
	return out
}

func setForm(m *goi18n.Message, form, text string) {
	switch form {
	case "zero":
		m.Zero = text
	case "one":
		m.One = text
	case "two":
		m.Two = text
	case "few":
		m.Few = text
	case "many":
		m.Many = text
	default:
		m.Other = text
	}
}

// checkText checks that a text is not empty, parses as a Go template and
// uses only the template data keys in allowed.
func checkText(src string, allowed map[string]bool) error {
	if strings.TrimSpace(src) == "" {
		return errors.New("empty text")
	}
	if !strings.Contains(src, "{{") {
		return nil
	}
	t, err := template.New("").Option("missingkey=default").Parse(src)
	if err != nil {
		return fmt.Errorf("bad template: %w", err)
	}
	var unknown []string
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			walkFields(tt.Tree.Root, func(name string) {
				if !allowed[name] && !slices.Contains(unknown, "."+name) {
					unknown = append(unknown, "."+name)
				}
			})
		}
	}
	if len(unknown) > 0 {
		known := make([]string, 0, len(allowed))
		for k := range allowed {
			known = append(known, "."+k)
		}
		slices.Sort(known)
		if len(known) == 0 {
			return fmt.Errorf("template uses %s, but this message has no template data", strings.Join(unknown, ", "))
		}
		return fmt.Errorf("template uses %s, but this message only has %s",
			strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return nil
}

// walkFields calls fn with the first name of every field of the template
// data in a template: {{.Name}} where dot is the data (outside range and
// with blocks, where dot changes) and {{$.Name}} anywhere.
func walkFields(n parse.Node, fn func(string)) { walk(n, true, fn) }

func walk(n parse.Node, dotIsData bool, fn func(string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, dotIsData, fn)
		}
	case *parse.ActionNode:
		walk(n.Pipe, dotIsData, fn)
	case *parse.IfNode:
		walk(n.Pipe, dotIsData, fn)
		walk(n.List, dotIsData, fn)
		walk(n.ElseList, dotIsData, fn)
	case *parse.RangeNode:
		walk(n.Pipe, dotIsData, fn)
		walk(n.List, false, fn)
		walk(n.ElseList, dotIsData, fn)
	case *parse.WithNode:
		walk(n.Pipe, dotIsData, fn)
		walk(n.List, false, fn)
		walk(n.ElseList, dotIsData, fn)
	case *parse.TemplateNode:
		walk(n.Pipe, dotIsData, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, cmd := range n.Cmds {
			walk(cmd, dotIsData, fn)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, dotIsData, fn)
		}
	case *parse.FieldNode:
		if dotIsData {
			fn(n.Ident[0])
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			fn(n.Ident[1])
		}
	case *parse.ChainNode:
		walk(n.Node, dotIsData, fn)
	}
}

// probeCounts are the counts used to learn which plural forms a language
// uses for integers.
func probeCounts() []int {
	counts := make([]int, 0, 210)
	for i := 0; i < 200; i++ {
		counts = append(counts, i)
	}
	return append(counts, 1000, 1001, 10000, 100000, 1000000, 1000001, 2000000, 10000000)
}

// pluralForms learns, from go-i18n itself, which plural forms each
// language uses for integers: a probe message with every form names the
// form it renders.
func pluralForms(langs []string) (map[string][]string, error) {
	b := goi18n.NewBundle(language.English)
	for _, l := range langs {
		probe := &goi18n.Message{ID: "probe", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
		if err := b.AddMessages(language.Make(l), probe); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", l, err)
		}
	}
	out := map[string][]string{}
	for _, l := range langs {
		loc := goi18n.NewLocalizer(b, l)
		seen := map[string]bool{}
		for _, n := range probeCounts() {
			form, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: "probe", PluralCount: n})
			if err != nil {
				return nil, fmt.Errorf("i18n: %s: plural rules: %w", l, err)
			}
			seen[form] = true
		}
		for _, f := range pluralFormNames() {
			if seen[f] {
				out[l] = append(out[l], f)
			}
		}
	}
	return out, nil
}
