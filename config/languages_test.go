package config_test

import (
	"slices"
	"testing"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
)

// config cannot import i18n, so it keeps its own list of languages; this
// test keeps the two in step.
func TestLanguagesMatchCatalogs(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	got, want := config.Languages(), cat.Languages()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("config.Languages() = %v, the i18n catalogs have %v", got, want)
	}
}
