package screening_test

import (
	"slices"
	"testing"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/verify/screening"
)

// TestConfigFormats: the formats config accepts are the ones parsed here,
// and the defaults agree.
func TestConfigFormats(t *testing.T) {
	var ours []string
	for _, f := range screening.Formats() {
		ours = append(ours, string(f))
	}
	if !slices.Equal(ours, config.ScreeningFormats()) {
		t.Errorf("config.ScreeningFormats() = %v, screening.Formats() = %v", config.ScreeningFormats(), ours)
	}
	if config.DefaultScreeningThreshold != screening.DefaultThreshold ||
		config.ScreeningBirthDateRequired != string(screening.BirthDateRequiredMatch) ||
		config.ScreeningBirthDateModifier != string(screening.BirthDateModifier) {
		t.Error("config's screening defaults differ from the package's")
	}
}
