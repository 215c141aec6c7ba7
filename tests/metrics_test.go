package tests

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/tests/testkit"
)

// TestMetricsAfterSandboxRun: after a run with one user verified, one
// whose submission needs fixes (with two FLOOD_WAITs on
// users.setSecureValueErrors), one final rejection, a few commands and
// the webhook deliveries, /metrics, scraped over HTTP from the bot's web
// server as Prometheus does, exposes every series of docs/operations.md
// with the values the run produced, and no label value holds personal
// data.
func TestMetricsAfterSandboxRun(t *testing.T) {
	t.Parallel() // a few seconds of flood waits and deliveries: alongside the other parallel tests
	began := time.Now()
	clk := &testkit.Clock{}
	rcv := newReceiver(t, clk.Now)
	w := newWorld(t, worldOptions{clock: clk, configYAML: webhookConfig(rcv.srv.URL + "/kyc/webhook")})
	ctx := testContext(t)
	en := w.Bot().Catalog().Language("en")

	// Verified.
	happy := w.user("en", nil)
	w.verifyUser(ctx, happy, "")

	// Needs fixes: an expired licence and a selfie too small (as in
	// TestFixAndResubmitInRussian); Telegram answers FLOOD_WAIT_1 twice to
	// flagging them.
	const floodWaits = 2
	p := sandbox.SampleProfile("metrics-2047")
	dl := p[passport.TypeDriverLicense]
	dl.Fields["expiry_date"] = "01.01.2020"
	dl.Selfie = &sandbox.Scan{Text: "metrics/selfie", Width: 200, Height: 200}
	fixer := w.user("en", p)
	page, _ := w.request(ctx, fixer, "")
	before := w.Sandbox.Calls(tg.UsersSetSecureValueErrorsRequestTypeID)
	w.Sandbox.FloodWait(tg.UsersSetSecureValueErrorsRequestTypeID, 1, floodWaits)
	t.Cleanup(func() { w.Sandbox.FloodWait(tg.UsersSetSecureValueErrorsRequestTypeID, 0, 0) })
	w.share(ctx, fixer, page)
	if m := w.next(ctx, fixer); !strings.HasPrefix(m.Text, en.Plural(i18n.MsgResultFixHeader, 2, nil)) {
		t.Fatalf("the bot said %q, want the list of two problems", m.Text)
	}
	if calls := w.Sandbox.Calls(tg.UsersSetSecureValueErrorsRequestTypeID) - before; calls != floodWaits+1 {
		t.Fatalf("users.setSecureValueErrors called %d times, want %d (the flood waits, then the call)", calls, floodWaits+1)
	}

	// Final rejection: under the minimum age (as in TestFinalRejection).
	p = sandbox.SampleProfile("metrics-2048")
	p[passport.TypePersonalDetails].Fields["birth_date"] = time.Now().AddDate(-16, 0, 0).Format("02.01.2006")
	young := w.user("en", p)
	page, _ = w.request(ctx, young, "")
	w.share(ctx, young, page)
	if m, final := w.next(ctx, young), firstLine(w.text("en", i18n.MsgResultRejected, map[string]any{"Reason": "x"})); !strings.HasPrefix(m.Text, final) {
		t.Fatalf("the bot said %q, want the final rejection %q", m.Text, final)
	}

	// Commands besides the three /start: /help and plain text.
	for _, c := range []struct {
		u    *sandbox.SimUser
		text string
	}{{happy, "/help"}, {fixer, "hello there"}} {
		if err := c.u.Send(ctx, w.Account.ID, c.text); err != nil {
			t.Fatal(err)
		}
		if m := w.next(ctx, c.u); m.Text == "" {
			t.Fatalf("no answer to %q", c.text)
		}
	}

	// The webhook receives the verified, the needs-fix and the rejected
	// events.
	for _, ev := range []struct {
		user int64
		kind string
	}{{happy.User.ID, delivery.KindVerified}, {fixer.User.ID, delivery.KindNeedsFix}, {young.User.ID, delivery.KindRejected}} {
		rcv.wait(t, ctx, ev.kind+" delivered", func() bool { return rcv.ok[rcv.eventOfLocked(ev.user, ev.kind)] > 0 }, nil)
	}
	rcv.mu.Lock()
	received := 0 // the events the receiver answered 2xx
	for _, n := range rcv.ok {
		received += n
	}
	rcv.mu.Unlock()
	if received != 3 {
		t.Errorf("the receiver got %d events, want 3 (verified, needs fix, rejected)", received)
	}

	// The bot counts a delivery once the receiver's answer is read and the
	// handlers finish after their last message: scrape until it settled.
	// /metrics is on the private ops address (web.ops_listen), not the
	// public one.
	if res, err := http.Get("http://" + w.Info().WebAddr.String() + "/metrics"); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public address: %d, want 404", res.StatusCode)
	}
	url := "http://" + w.Info().OpsAddr.String() + "/metrics"
	fams := waitMetrics(t, ctx, url, func(f metricFamilies) string {
		if v := f.series(t, "kycbot_updates_in_flight")[""]; v != 0 {
			return fmt.Sprintf("%v update handlers in flight", v)
		}
		if v := f.series(t, "kycbot_outbox_entries")[`state="pending"`]; v != 0 {
			return fmt.Sprintf("%v outbox entries pending", v)
		}
		if v := f.series(t, "kycbot_deliveries_total")[`result="delivered"`]; v < float64(received) {
			return fmt.Sprintf("%v deliveries counted, the receiver got %d", v, received)
		}
		return ""
	})
	elapsed := time.Since(began)

	// Every series of docs/operations.md, with its type and labels.
	for _, s := range []struct {
		name   string
		typ    dto.MetricType
		labels []string
	}{
		{"kycbot_submissions_total", dto.MetricType_COUNTER, []string{"level", "outcome", "reason"}},
		{"kycbot_problems_total", dto.MetricType_COUNTER, []string{"code"}},
		{"kycbot_verdict_seconds", dto.MetricType_HISTOGRAM, nil},
		{"kycbot_deliveries_total", dto.MetricType_COUNTER, []string{"result"}},
		{"kycbot_outbox_entries", dto.MetricType_GAUGE, []string{"state"}},
		{"kycbot_telegram_rpc_errors_total", dto.MetricType_COUNTER, []string{"code", "method", "type"}},
		{"kycbot_updates_in_flight", dto.MetricType_GAUGE, nil},
		{"kycbot_commands_total", dto.MetricType_COUNTER, []string{"command"}},
	} {
		f, ok := fams[s.name]
		if !ok {
			t.Errorf("/metrics lacks %s", s.name)
			continue
		}
		if f.GetType() != s.typ {
			t.Errorf("%s is a %s, want a %s", s.name, f.GetType(), s.typ)
		}
		for _, m := range f.GetMetric() {
			var names []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
			}
			slices.Sort(names)
			if !slices.Equal(names, s.labels) {
				t.Errorf("%s has a series with the labels %v, want %v", s.name, names, s.labels)
			}
		}
	}

	// The values: every series of each family, exactly.
	level := w.Config.DefaultLevelName
	for _, tc := range []struct {
		name string
		want map[string]float64
	}{
		{"kycbot_submissions_total", map[string]float64{
			`level="` + level + `",outcome="verified",reason=""`:    1,
			`level="` + level + `",outcome="needs_fixes",reason=""`: 1,
			`level="` + level + `",outcome="rejected",reason=""`:    1,
		}},
		{"kycbot_problems_total", map[string]float64{
			`code="expired"`: 1, `code="image_too_small"`: 1, // the fixer
			`code="too_young"`: 1, // the rejected user
		}},
		{"kycbot_deliveries_total", map[string]float64{
			`result="delivered"`: float64(received), `result="retried"`: 0, `result="parked"`: 0,
		}},
		{"kycbot_outbox_entries", map[string]float64{`state="pending"`: 0, `state="parked"`: 0}},
		// Besides the login's AUTH_KEY_UNREGISTERED, checked below.
		{"kycbot_telegram_rpc_errors_total", map[string]float64{
			`code="420",method="users.setSecureValueErrors",type="FLOOD_WAIT"`: floodWaits,
		}},
		{"kycbot_updates_in_flight", map[string]float64{"": 0}},
		{"kycbot_commands_total", map[string]float64{`command="start"`: 3, `command="help"`: 1, `command="text"`: 1}},
	} {
		got := fams.series(t, tc.name)
		if tc.name == "kycbot_telegram_rpc_errors_total" {
			// A fresh session asks who it is before the login, twice at
			// once (gotd subscribing to updates, the bot checking its
			// authorization): one or both may get there before the login.
			const login = `code="401",method="users.getUsers",type="AUTH_KEY_UNREGISTERED"`
			if n := got[login]; n < 1 || n > 2 {
				t.Errorf("%s{%s} = %v, want 1 or 2 (the first login)", tc.name, login, n)
			}
			delete(got, login)
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s:\n got  %s\n want %s", tc.name, formatSeries(got), formatSeries(tc.want))
		}
	}

	// Time to verdict: one observation per verdict (verified, needs fixes,
	// rejected), the flood waits included, none longer than the test.
	const verdicts = 3
	if f, ok := fams["kycbot_verdict_seconds"]; ok && len(f.GetMetric()) == 1 {
		h := f.GetMetric()[0].GetHistogram()
		if n := h.GetSampleCount(); n != verdicts {
			t.Errorf("kycbot_verdict_seconds_count = %d, want %d (the verdicts)", n, verdicts)
		}
		if sum, low := h.GetSampleSum(), (floodWaits * time.Second).Seconds(); sum < low || sum >= elapsed.Seconds() {
			t.Errorf("kycbot_verdict_seconds_sum = %vs, want at least the %vs of flood waits and below the test's %vs", sum, low, elapsed.Seconds())
		}
		if b := h.GetBucket(); len(b) == 0 {
			t.Error("kycbot_verdict_seconds has no buckets")
		} else if last := b[len(b)-1]; last.GetCumulativeCount() != h.GetSampleCount() {
			t.Errorf("kycbot_verdict_seconds: the last bucket (le=%v) counts %d observations, not all %d", last.GetUpperBound(), last.GetCumulativeCount(), h.GetSampleCount())
		}
	} else {
		t.Errorf("kycbot_verdict_seconds: %d series, want one", len(f.GetMetric()))
	}

	// No label value of any series (go_* and process_* included) holds
	// personal data of the profiles.
	w.s.mu.Lock()
	personal := map[string]bool{}
	for _, p := range w.s.profiles {
		for _, v := range profileValues(p) {
			personal[v] = true
		}
	}
	w.s.mu.Unlock()
	if len(personal) == 0 {
		t.Fatal("no profile values: the personal data check would prove nothing")
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				for v := range personal {
					if strings.Contains(l.GetValue(), v) {
						t.Errorf("%s{%s=%q} holds the personal value %q", name, l.GetName(), l.GetValue(), v)
					}
				}
			}
		}
	}
}

// metricFamilies is a parsed scrape, by family name.
type metricFamilies map[string]*dto.MetricFamily

// series returns the value of each series of a family (counters and
// gauges) by its labels, sorted and written as in the text format
// (`code="420",method="..."`; "" without labels).
func (f metricFamilies) series(t testing.TB, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	fam, ok := f[name]
	if !ok {
		return out
	}
	for _, m := range fam.GetMetric() {
		var pairs []string
		for _, l := range m.GetLabel() {
			pairs = append(pairs, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		slices.Sort(pairs)
		key := strings.Join(pairs, ",")
		switch {
		case m.Counter != nil:
			out[key] = m.GetCounter().GetValue()
		case m.Gauge != nil:
			out[key] = m.GetGauge().GetValue()
		default:
			t.Fatalf("%s{%s} is neither a counter nor a gauge", name, key)
		}
	}
	return out
}

// formatSeries writes series sorted, one {labels} value after another.
func formatSeries(s map[string]float64) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		out = append(out, fmt.Sprintf("{%s} %v", k, s[k]))
	}
	if len(out) == 0 {
		return "(none)"
	}
	return strings.Join(out, "  ")
}

// scrapeMetrics GETs url as a Prometheus scraper asking for the text
// format, and parses the answer.
func scrapeMetrics(t testing.TB, ctx context.Context, url string) metricFamilies {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); expfmt.ResponseFormat(resp.Header).FormatType() != expfmt.TypeTextPlain {
		t.Fatalf("scrape %s: Content-Type %q, want the text format", url, ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: the answer does not parse: %v", url, err)
	}
	return fams
}

// waitMetrics scrapes url until settled returns "" (it returns why the
// metrics have not settled yet), and returns that scrape.
func waitMetrics(t testing.TB, ctx context.Context, url string, settled func(metricFamilies) string) metricFamilies {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		f := scrapeMetrics(t, ctx, url)
		why := settled(f)
		if why == "" {
			return f
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the metrics did not settle: %s", why)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
