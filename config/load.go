package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest config file Load reads.
const MaxFileSize = 4 << 20

// Option changes how Load and Parse read a config.
type Option func(*options)

type options struct {
	lookupEnv func(string) (string, bool)
	baseDir   string
	listCheck func(ScreeningList) error
}

// WithEnv sets how environment variables are read (default os.LookupEnv;
// nil reads none). Tests pass a map lookup. A variable that is set but
// empty counts as not set.
func WithEnv(lookup func(string) (string, bool)) Option {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	return func(o *options) { o.lookupEnv = lookup }
}

// Environment variables that replace secrets of the file.
const (
	EnvAppHash       = "KYCBOT_APP_HASH"
	EnvBotToken      = "KYCBOT_BOT_TOKEN"
	EnvRedisPassword = "KYCBOT_REDIS_PASSWORD"
	EnvWebhookSecret = "KYCBOT_WEBHOOK_SECRET"
	// EnvPreviousWebhookSecret replaces delivery.previous_webhook_secret.
	EnvPreviousWebhookSecret = "KYCBOT_PREVIOUS_WEBHOOK_SECRET"
)

// Load reads and checks the config file at path (see Parse). Relative
// paths in the file (passport.private_key_file, redis.tls.ca_file,
// i18n.overrides_dir, web.brand.logo_file, screening.lists[].file) are
// resolved against the directory of path. Errors
// reading the file are returned as they are; problems of its content as an
// *Error.
func Load(path string, opts ...Option) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("config: %s is a directory, not a config file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config: %s is larger than %d MiB; is it the right file?", path, MaxFileSize>>20)
	}
	dir := filepath.Dir(path)
	return Parse(data, path, append(opts, func(o *options) { o.baseDir = dir })...)
}

// Parse reads and checks a config from data; filename is used in messages
// only ("config.yaml" when empty). Parsing is strict: unknown keys, values
// of the wrong type and invalid values are problems, and every problem is
// reported at once in an *Error (use errors.As), each with its YAML path
// and position. Secrets come from the environment when set there (see the
// Env constants), never appear in messages, and may be missing: see
// Config.Warnings and Config.RequireTelegram.
func Parse(data []byte, filename string, opts ...Option) (*Config, error) {
	o := options{lookupEnv: os.LookupEnv}
	for _, opt := range opts {
		opt(&o)
	}
	if filename == "" {
		filename = "config.yaml"
	}
	fail := func(ps []Problem) (*Config, error) {
		return nil, &Error{File: filename, Problems: limitProblems(sortProblems(ps))}
	}
	root, syntax := parseYAML(data)
	if syntax != nil {
		return fail([]Problem{*syntax})
	}
	cfg := Default()
	cfg.file = filename
	d := newDecoder()
	cfg.Levels = nil
	if root.Kind != yaml.MappingNode {
		d.add(root, "", "the config must be a mapping of sections (telegram:, passport:, levels:, ...), not %s", describe(root))
		return fail(d.probs)
	}
	// The top-level rules first: every level starts from them.
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "rules" {
			d.decode(root.Content[i+1], "rules", reflect.ValueOf(&cfg.Rules).Elem())
			break
		}
	}
	d.base = &cfg.Rules
	d.decodeStruct(root, "", reflect.ValueOf(cfg).Elem(), map[string]bool{"rules": true})
	if d.budget < 0 {
		return fail([]Problem{{Line: 1, Column: 1,
			Message: fmt.Sprintf("the file is too large or expands too many aliases (more than %d values); simplify it", maxNodes)}})
	}

	c := &checker{root: root, baseDir: o.baseDir, fromEnv: map[string]string{}, decoded: d.probs, probs: d.probs, scopes: d.scopes, listCheck: o.listCheck}
	for _, s := range []struct {
		path, env string
		dst       *Secret
	}{
		{"telegram.app_hash", EnvAppHash, &cfg.Telegram.AppHash},
		{"telegram.bot_token", EnvBotToken, &cfg.Telegram.BotToken},
		{"redis.password", EnvRedisPassword, &cfg.Redis.Password},
		{"delivery.webhook_secret", EnvWebhookSecret, &cfg.Delivery.WebhookSecret},
		{"delivery.previous_webhook_secret", EnvPreviousWebhookSecret, &cfg.Delivery.PreviousWebhookSecret},
	} {
		if v, ok := o.lookupEnv(s.env); ok && v != "" {
			*s.dst = Secret(v)
			c.fromEnv[s.path] = s.env
		}
	}
	c.settle(cfg)
	if len(c.probs) > 0 {
		return fail(c.probs)
	}
	cfg.warnings = sortProblems(c.warns)
	cfg.missing = sortProblems(c.missing)
	cfg.nowhere = c.nowhere
	if o.baseDir != "" {
		paths := []*string{&cfg.Passport.PrivateKeyFile, &cfg.Redis.TLS.CAFile, &cfg.I18n.OverridesDir, &cfg.Web.Brand.LogoFile}
		for i := range cfg.Passport.PreviousPrivateKeyFiles {
			paths = append(paths, &cfg.Passport.PreviousPrivateKeyFiles[i])
		}
		for _, p := range paths {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(o.baseDir, *p)
			}
		}
	}
	return cfg, nil
}

// parseYAML parses data into its root node. An empty document is an empty
// mapping. It returns a problem for syntax errors and multi-document files.
func parseYAML(data []byte) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}, nil
	}
	if err != nil {
		return nil, syntaxProblem(data, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &Problem{Line: next.Line, Column: next.Column,
			Message: "the file holds more than one YAML document (---); kycbot reads one: merge them or remove the extra ---"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxProblem(data, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}, nil
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: root.Line, Column: root.Column}, nil
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a YAML parser error into a problem with a line.
func syntaxProblem(data []byte, err error) *Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		// The parser's line is sometimes one off (it counts some marks
		// from 0), so prefer the line found by re-parsing.
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if l := firstFailingLine(data, err.Error()); l > 0 {
		line = l
	}
	msg = oneLine(msg)
	p := &Problem{Line: line, Message: "invalid YAML: " + msg}
	if line > 0 {
		lines := bytes.Split(data, []byte("\n"))
		for _, l := range []int{line, line - 1} { // the parser may name the line before
			if l >= 1 && l <= len(lines) {
				text := lines[l-1]
				indent := text[:len(text)-len(bytes.TrimLeft(text, " \t"))]
				if bytes.ContainsRune(indent, '\t') {
					p.Line = l
					p.Message = "invalid YAML: a tab indents this line; YAML indents with spaces only"
					break
				}
			}
		}
	}
	return p
}

// firstFailingLine finds the line of a YAML error: the first line whose
// prefix of the file fails with the same error. Only for
// files of up to 1,000 lines and 32 KiB; 0 when not found.
func firstFailingLine(data []byte, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 1000 || len(data) > 32<<10 {
		return 0
	}
	var prefix []byte
	for i, l := range lines {
		prefix = append(prefix, l...)
		var n yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(prefix))
		if err := dec.Decode(&n); err != nil && err.Error() == msg {
			return i + 1
		}
	}
	return 0
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
