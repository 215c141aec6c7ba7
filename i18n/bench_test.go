package i18n

import "testing"

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProblem(b *testing.B) {
	c, err := New()
	if err != nil {
		b.Fatal(err)
	}
	l := c.Language("ru")
	params := map[string]string{"date": "15.03.2026", "min_days": "30"}
	for b.Loop() {
		l.Problem("expires_soon", "passport", "data.expiry_date", params)
	}
}
