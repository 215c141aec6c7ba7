package config

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testImage encodes a small image with enc.
func testImage(t *testing.T, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, image.NewGray(image.Rect(0, 0, 64, 32))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const testSVG = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Acme -->
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>`

// web.brand: the name, and the logo file read, typed and size-checked by
// Load, with problems that say what is wrong and what to do.
func TestBrand(t *testing.T) {
	dir := t.TempDir()
	pngData := testImage(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) })
	jpegData := testImage(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) })
	files := map[string][]byte{
		"logo.png":     pngData,
		"logo.jpg":     jpegData,
		"logo.svg":     []byte(testSVG),
		"nons.svg":     []byte(`<svg viewBox="0 0 10 10"><rect width="10" height="10"/></svg>`),
		"logo.gif":     []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"notes.txt":    []byte("our logo is orange"),
		"broken.png":   append([]byte("\x89PNG\r\n\x1a\n"), "garbage"...),
		"html.svg":     []byte(`<html><body>hi</body></html>`),
		"big.png":      append(bytes.Clone(pngData), make([]byte, MaxLogoSize)...),
		"exactly.png":  append(bytes.Clone(pngData), make([]byte, MaxLogoSize-len(pngData))...),
		"sub/logo.png": pngData,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	load := func(t *testing.T, brand string) (*Config, []Problem) {
		t.Helper()
		p := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(p, []byte(level+"web:\n  brand:\n"+brand), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(p, WithEnv(noEnv))
		var cerr *Error
		if errors.As(err, &cerr) {
			return nil, cerr.Problems
		}
		if err != nil {
			t.Fatal(err)
		}
		return cfg, nil
	}

	for _, tc := range []struct {
		file, typ string
		data      []byte
	}{
		{"logo.png", "image/png", pngData},
		{"logo.jpg", "image/jpeg", jpegData},
		{"logo.svg", "image/svg+xml", []byte(testSVG)},
		{"sub/logo.png", "image/png", pngData},
		{filepath.Join(dir, "logo.png"), "image/png", pngData},
		{"exactly.png", "image/png", files["exactly.png"]},
	} {
		cfg, probs := load(t, "    name: \" Acme Bank \"\n    logo_file: "+tc.file+"\n")
		if probs != nil {
			t.Errorf("%s: %v", tc.file, probs)
			continue
		}
		b := cfg.Web.Brand
		if b.Name != "Acme Bank" || b.LogoType != tc.typ || !bytes.Equal(b.Logo, tc.data) {
			t.Errorf("%s: brand %q, logo %s of %d bytes", tc.file, b.Name, b.LogoType, len(b.Logo))
		}
		want := filepath.Join(dir, tc.file)
		if filepath.IsAbs(tc.file) {
			want = tc.file
		}
		if b.LogoFile != want {
			t.Errorf("logo_file = %q, want %q", b.LogoFile, want)
		}
	}

	for _, tc := range []struct {
		brand, path, msg string
	}{
		{"    logo_file: missing.png\n", "web.brand.logo_file", `missing.png" does not exist (a relative path starts at the config file's folder)`},
		{"    logo_file: sub\n", "web.brand.logo_file", `sub" is a folder: name the image file of the logo`},
		{"    logo_file: logo.gif\n", "web.brand.logo_file", `"logo.gif" is not a PNG, JPEG or SVG image`},
		{"    logo_file: notes.txt\n", "web.brand.logo_file", `"notes.txt" is not a PNG, JPEG or SVG image`},
		{"    logo_file: html.svg\n", "web.brand.logo_file", `"html.svg" is not a PNG, JPEG or SVG image`},
		{"    logo_file: broken.png\n", "web.brand.logo_file", `"broken.png" looks like a PNG image but cannot be read as one`},
		{"    logo_file: nons.svg\n", "web.brand.logo_file", `"nons.svg" is an SVG without xmlns="http://www.w3.org/2000/svg"`},
		{"    logo_file: big.png\n", "web.brand.logo_file", `big.png" is 129 KiB: a logo may be at most 128 KiB; make it smaller`},
		{"    name: " + strings.Repeat("Acme ", 14) + "\n", "web.brand.name", "is 69 characters long: the request page shows at most 64"},
		{"    name: \"Acme\\nBank\"\n", "web.brand.name", "must be one line of text"},
		{"    name: \"   \"\n", "web.brand.name", "is blank"},
	} {
		_, probs := load(t, tc.brand)
		if len(probs) != 1 || probs[0].Path != tc.path || !strings.Contains(probs[0].Message, tc.msg) {
			t.Errorf("%q: problems %v, want one at %s saying %q", tc.brand, probs, tc.path, tc.msg)
		}
	}

	// No brand: nothing set, and the summary says what the page shows.
	cfg, probs := load(t, "")
	if probs != nil || cfg.Web.Brand.Name != "" || cfg.Web.Brand.Logo != nil || cfg.Web.Brand.LogoType != "" {
		t.Fatalf("no brand: %+v %v", cfg.Web.Brand, probs)
	}
	if want := "Brand on the request page: the bot's @username (web.brand.name not set), no logo.\n"; !strings.Contains(cfg.Summary(), want) {
		t.Errorf("summary lacks %q:\n%s", want, cfg.Summary())
	}
	cfg, _ = load(t, "    name: Acme Bank\n    logo_file: logo.svg\n")
	if want := `Brand on the request page: "Acme Bank", logo ` + filepath.Join(dir, "logo.svg") + " (SVG, " + itoa(len(testSVG)) + " bytes).\n"; !strings.Contains(cfg.Summary(), want) {
		t.Errorf("summary lacks %q:\n%s", want, cfg.Summary())
	}

	// In Go: a logo given as bytes is checked the same way.
	c := Default()
	c.Levels = map[string]*Level{"basic": cfg.Levels["basic"]}
	c.Web.Brand = Brand{Name: "Acme", Logo: pngData}
	got, err := New(*c)
	if err != nil || got.Web.Brand.LogoType != "image/png" {
		t.Errorf("New with a PNG logo: %v, type %q", err, got.Web.Brand.LogoType)
	}
	c.Web.Brand = Brand{Logo: []byte("GIF89a")}
	if _, err := New(*c); err == nil || !strings.Contains(err.Error(), "web.brand.logo_file: the logo is not a PNG, JPEG or SVG image") {
		t.Errorf("New with a GIF logo: %v", err)
	}
}
