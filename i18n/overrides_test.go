package i18n

import (
	"strings"
	"testing"
	"testing/fstest"
)

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

func TestOverrides(t *testing.T) {
	base, _ := newTestCatalog(t)
	c, log := newTestCatalog(t, WithOverrides(mapFS(map[string]string{
		"ru.yaml": `# admin texts
button.try_again: "Ещё раз"
result.fix_header:
  one: "Осталась {{.Count}} ошибка:"
  few: "Осталось {{.Count}} ошибки:"
  many: "Осталось {{.Count}} ошибок:"
  other: "Осталось {{.Count}} ошибки:"
problem.expired: "Документ «{{.Element}}» просрочен ({{.Date}})."
`,
		"pt-br.yaml":       "button.try_again: \"De novo\"\n",
		"de.yaml":          "",
		"README.md":        "not an override",
		".hidden.yaml":     "nonsense: [",
		"sub/ru.yaml":      "nonsense: [",
		"notes.txt":        "x",
		"fr.yaml.disabled": "nonsense: [",
	})))
	ru := c.Language("ru")
	if got := ru.Text(MsgButtonTryAgain, nil); got != "Ещё раз" {
		t.Errorf("ru override: %q", got)
	}
	if got := ru.Plural(MsgResultFixHeader, 3, nil); got != "Осталось 3 ошибки:" {
		t.Errorf("ru plural override: %q", got)
	}
	if got := ru.Problem("expired", "passport", "data.expiry_date", map[string]string{"date": "01.01.2001"}); got != "Документ «паспорт» просрочен (1 янв. 2001 г.)." {
		t.Errorf("ru problem override: %q", got)
	}
	if got := c.Language("pt-BR").Text(MsgButtonTryAgain, nil); got != "De novo" {
		t.Errorf("pt-br.yaml override: %q", got)
	}
	// Only those messages, only those languages.
	for _, lang := range c.Languages() {
		for _, s := range specs() {
			if s.plural != "" || strings.HasPrefix(s.id, "problem.") {
				continue
			}
			if (lang == "ru" || lang == "pt-BR") && s.id == MsgButtonTryAgain {
				continue
			}
			d := sampleData(s)
			if got, want := c.Language(lang).Text(s.id, d), base.Language(lang).Text(s.id, d); got != want {
				t.Errorf("%s: %s changed by overrides: %q, was %q", lang, s.id, got, want)
			}
		}
	}
	if got, want := c.Language("uk").Plural(MsgResultFixHeader, 3, nil), base.Language("uk").Plural(MsgResultFixHeader, 3, nil); got != want {
		t.Errorf("uk plural changed: %q", got)
	}
	if got, want := c.Language("en").Problem("expired", "passport", "data.expiry_date", map[string]string{"date": "01.01.2001"}),
		base.Language("en").Problem("expired", "passport", "data.expiry_date", map[string]string{"date": "01.01.2001"}); got != want {
		t.Errorf("en problem changed: %q", got)
	}
	if errs := log.take(); len(errs) > 0 {
		t.Errorf("reported %v", errs)
	}
}

func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"unknown ID", map[string]string{"ru.yaml": "button.try_again: \"Ещё\"\nproblem.expird: \"x\"\n"},
			[]string{"ru.yaml", "line 2", `"problem.expird"`, "unknown message ID"}},
		{"unknown language", map[string]string{"xx.yaml": "button.try_again: \"x\"\n"},
			[]string{"xx.yaml", `unknown language "xx"`, "supported: en, ru, uk, es, pt-BR, de, fr, tr, fa, ar"}},
		{"regional variant", map[string]string{"en-US.yaml": "button.try_again: \"x\"\n"},
			[]string{"en-US.yaml", "unknown language", "did you mean en.yaml?"}},
		{"broken template", map[string]string{"ru.yaml": "problem.expired: \"Истёк {{.Date\"\n"},
			[]string{"ru.yaml", "line 1", `"problem.expired"`, "bad template"}},
		{"unknown function", map[string]string{"de.yaml": "problem.expired: \"{{upper .Date}}\"\n"},
			[]string{"de.yaml", `"problem.expired"`, "bad template", "upper"}},
		{"unknown field", map[string]string{"ru.yaml": "problem.expired: \"Истёк {{.Dat}}\"\n"},
			[]string{"ru.yaml", `"problem.expired"`, "template uses .Dat", ".Date"}},
		{"field of a message without data", map[string]string{"es.yaml": "button.try_again: \"{{.Name}}\"\n"},
			[]string{"es.yaml", "template uses .Name", "no template data"}},
		{"missing plural forms", map[string]string{"ru.yaml": "result.fix_header:\n  one: \"{{.Count}} ошибка\"\n  other: \"{{.Count}} ошибки\"\n"},
			[]string{"ru.yaml", `"result.fix_header"`, "missing plural forms for ru: few, many"}},
		{"unused plural form", map[string]string{"en.yaml": "result.fix_header:\n  zero: \"none\"\n  one: \"one\"\n  other: \"{{.Count}}\"\n"},
			[]string{"en.yaml", `plural form "zero" is never used in en`}},
		{"unknown plural form", map[string]string{"en.yaml": "result.fix_header:\n  single: \"one\"\n  other: \"{{.Count}}\"\n"},
			[]string{"en.yaml", `unknown plural form "single"`}},
		{"plural as text", map[string]string{"fr.yaml": "result.fix_header: \"Corrigez :\"\n"},
			[]string{"fr.yaml", "is a plural message", "one, many, other"}},
		{"text as plural", map[string]string{"fr.yaml": "button.try_again:\n  one: \"x\"\n  other: \"y\"\n"},
			[]string{"fr.yaml", "is not a plural message"}},
		{"empty text", map[string]string{"tr.yaml": "button.try_again: \"  \"\n"},
			[]string{"tr.yaml", `"button.try_again"`, "empty text"}},
		{"null text", map[string]string{"tr.yaml": "button.try_again:\n"},
			[]string{"tr.yaml", `"button.try_again"`, "expected a text"}},
		{"twice", map[string]string{"uk.yaml": "button.try_again: \"a\"\nbutton.try_again: \"b\"\n"},
			[]string{"uk.yaml", "line 2", "defined twice (first on line 1)"}},
		{"same language twice", map[string]string{"ru.yaml": "button.try_again: \"a\"\n", "ru.yml": "button.try_again: \"b\"\n"},
			[]string{"ru.yml", "already overridden by ru.yaml"}},
		{"not a map", map[string]string{"ar.yaml": "- a\n- b\n"},
			[]string{"ar.yaml", "expected a map of message ID to text"}},
		{"bad yaml", map[string]string{"fa.yaml": "button.try_again: [\n"},
			[]string{"fa.yaml"}},
		{"unknown field via $", map[string]string{"ru.yaml": "problem.expired: \"{{with .Date}}{{.}} {{$.Dat}}{{end}}\"\n"},
			[]string{"ru.yaml", "template uses .Dat"}},
		{"unknown field in range", map[string]string{"ru.yaml": "problem.expired: \"{{range .Dates}}{{.}}{{end}}\"\n"},
			[]string{"ru.yaml", "template uses .Dates"}},
		{"two bad files", map[string]string{"ru.yaml": "nope: \"x\"\n", "es.yaml": "nada: \"x\"\n"},
			[]string{"ru.yaml", `"nope"`, "es.yaml", `"nada"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(WithOverrides(mapFS(tt.files)))
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestOverrideTemplates accepts template logic that uses only known data,
// and falls back to English when an override fails while rendering.
func TestOverrideTemplates(t *testing.T) {
	c, log := newTestCatalog(t, WithOverrides(mapFS(map[string]string{
		"ru.yaml": `problem.expired: "{{with .Date}}Истёк {{.}}{{else}}Истёк{{end}} ({{$.Element}}){{if eq .Element \"паспорт\"}}!{{end}}"
problem.not_jpeg: "{{index .Part 99}}"
`,
	})))
	ru := c.Language("ru")
	if got := ru.Problem("expired", "passport", "data.expiry_date", map[string]string{"date": "01.01.2001"}); got != "Истёк 1 янв. 2001 г. (паспорт)!" {
		t.Errorf("override with logic: %q", got)
	}
	if errs := log.take(); len(errs) > 0 {
		t.Errorf("reported %v", errs)
	}
	want := c.Language("en").Problem("not_jpeg", "passport", "selfie", nil)
	if got := ru.Problem("not_jpeg", "passport", "selfie", nil); got != want {
		t.Errorf("failing override: %q, want the English %q", got, want)
	}
	if errs := log.take(); len(errs) == 0 || !strings.Contains(errs[0].Error(), "ru") {
		t.Errorf("failing override reported %v", errs)
	}
}
