// Package i18n holds every text kycbot shows to people, in ten languages,
// and picks the language from the user's Telegram language. It renders what
// the other packages decided to say; it never decides what to say.
//
// # Catalogs
//
// The catalogs are embedded YAML files (locales/<lang>.yaml), one per
// language: en (the source), ru, uk, es, pt-BR, de, fr, tr, fa and ar. Each
// maps a message ID to a text, or, for plural messages, to its CLDR plural
// forms (zero, one, two, few, many, other: exactly the forms the language
// uses for whole numbers, plus other). Texts are Go templates
// ({{.Element}}) rendered by github.com/nicksnyder/go-i18n/v2, which also
// picks plural forms. The IDs are the Msg* constants (MessageIDs lists
// them); their comments name the template data each message uses.
//
// # Format of the texts
//
// Every text is plain text: no HTML, no Markdown, no emoji. Send chat
// messages without a parse mode; the request page puts texts through
// html/template, which escapes them. Plain text is also what
// users.setSecureValueErrors shows in the Telegram Passport form, where
// problem texts appear as they are. Lists (the requested documents, the
// problems to fix) are laid out by the caller, one item per line, with
// Localizer.Element, Localizer.OrList and Localizer.Capitalize for the
// names.
//
// Problem texts name the element they are about, so a list of problems in
// the chat stays clear. English writes the names into sentences ("Your
// driving licence expired on ..."); languages where a name would need
// another case or gender agreement start with the name as a label
// ("Водительское удостоверение: срок действия истёк ...") and quote field
// names as the app labels them. The Persian and Arabic texts start every
// line with a right-to-left letter or U+200F, so Telegram lays them out
// right to left even where a line begins with a command; every /command
// and @username in them follows U+200E (LEFT-TO-RIGHT MARK) and a space
// ("U+200E /verify"), so that the slash stays on the left of the word in
// right-to-left text and Telegram apps, which want a space (or the start
// of the text) before a command, still make it tappable. Text and Plural
// apply the same rule to what template data brings in (a command, a
// support username) through Localizer.ProtectLTR, which callers also use
// on text they put together from pieces.
//
// # Choosing the language
//
// New builds a Catalog; Catalog.Match maps Telegram's lang_code ("pt-br",
// "en-US", "zh-hans") to a supported language by base language, else to the
// default language (WithDefaultLanguage, "en" unless set).
// Catalog.Language returns the Localizer of a language.
//
// # Rendering
//
// Localizer.Text and Localizer.Plural render a message; Localizer.Problem
// renders the text of one verification problem from its verify code,
// element type, target and parameters, with localized element, field, scan
// and country names. None of them panics or returns an empty string: a
// message missing in a language falls back to English, then to its ID, and
// the cause goes to the error handler (WithErrorHandler), never into the
// text.
//
// # Dates and numbers
//
// Localizer.Date, Localizer.DateTime and Localizer.Day write dates and
// times as each language does, from CLDR data: the patterns and month
// names of github.com/go-playground/locales (generated from CLDR; British
// English for en), in the digits of the language's CLDR default numbering
// system as golang.org/x/text knows it: Persian digits (۰–۹) for fa,
// Arabic-Indic digits (٠–٩) for ar, Latin digits for the others. Every
// date a person reads goes through them: /status, the admin commands, the
// dates in problem texts. The calendar is the Gregorian one everywhere:
// the dates are those of documents, typed in that calendar in the
// Telegram Passport form.
//
// In Persian and Arabic, the integers of template data (counts, scan
// numbers) and the numbers of problem parameters (sizes, ages, days) are
// written in those digits too; strings are left as they are, so that user
// IDs and commands, which people type back, stay in Latin digits.
//
// # Overrides
//
// WithOverrides lets the admin replace single messages per language with
// files named <lang>.yaml (ru.yaml, pt-BR.yaml) holding the same kind of
// map as the catalogs:
//
//	problem.expired: "Срок действия документа «{{.Element}}» истёк {{.Date}}."
//	result.fix_header:
//	  one: "Исправьте {{.Count}} ошибку:"
//	  few: "Исправьте {{.Count}} ошибки:"
//	  many: "Исправьте {{.Count}} ошибок:"
//	  other: "Исправьте {{.Count}} ошибки:"
//
// New checks every override as strictly as the built-in catalogs and fails
// with the file, line and message ID of each mistake.
//
// A Catalog and its Localizers are immutable and safe for concurrent use.
// The package has no global state.
package i18n
