package config

import (
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

// TestDescribeSharpness: check-config says when the sharpness of scans is
// not checked, or checked against another minimum than the default.
func TestDescribeSharpness(t *testing.T) {
	scope := passport.NewScope(passport.Require(passport.TypePassport))
	v := func(n int) *int { return &n }
	for _, tt := range []struct {
		min  *int
		want string
	}{
		{nil, ""},
		{v(verify.DefaultMinSharpness), ""},
		{v(0), "The sharpness of scans is not checked."},
		{v(150), "Scans of a sharpness of at least 150 (default 60)."},
	} {
		p := verify.DefaultPolicy()
		p.Files.MinSharpness = tt.min
		got := DescribePolicy(p, scope)
		if tt.want == "" && strings.Contains(got, "sharpness") || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("min_sharpness %v: %q, want %q", tt.min, got, tt.want)
		}
	}
}
