package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
)

// writeSanctions writes an OpenSanctions targets.simple.csv of filler
// people and the rows given ("id,schema,name,aliases,birth_date,countries").
func writeSanctions(t *testing.T, file string, rows ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,schema,name,aliases,birth_date,countries\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "NK-F%d,Person,Velmor%d Quastrin%d,,19%02d-01-%02d,fr\n", i, i, i, 40+i%60, 1+i%28)
	}
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// screenedProfile is a sample profile with the person's Latin names and
// date of birth (DD.MM.YYYY), and native names only when given.
func screenedProfile(seed, first, last, birth string, native ...string) sandbox.Profile {
	p := sandbox.SampleProfile(seed)
	f := p[passport.TypePersonalDetails].Fields
	f["first_name"], f["last_name"], f["birth_date"] = first, last, birth
	for _, k := range []string{"middle_name", "first_name_native", "middle_name_native", "last_name_native"} {
		delete(f, k)
	}
	if len(native) == 2 {
		f["first_name_native"], f["last_name_native"] = native[0], native[1]
	}
	return p
}

// TestScreening: with screening.lists, a user whose name is a
// transliteration of a list entry's, with the same date of birth, goes to
// manual review (told so; the admin's review request names the reason,
// and the review page explains the hit); the same name with another date
// of birth is verified. A list file changed on disk while the bot runs is
// read again (screening.poll_interval), and a Reload (what SIGHUP does)
// with another list file puts it in force.
func TestScreening(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	ctx := testContext(t)
	admin := w.admin(ctx)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.csv")
	writeSanctions(t, first, "NK-DS71,Person,Dmitrii Shcherbakov,,1971-03-14,", "NK-IS66,Person,Ivan Sydorenko,,1966-05-05,")
	w.restartWith(ctx, func(c *config.Config) {
		c.Screening = config.Screening{Lists: []config.ScreeningList{{Name: "os", Format: "opensanctions_csv", File: first}},
			Threshold: config.DefaultScreeningThreshold, BirthDate: config.ScreeningBirthDateRequired, PollInterval: time.Second}
	})

	verified := func(u *sandbox.SimUser) {
		t.Helper()
		w.verifyUser(ctx, u, "")
		if st := w.status(ctx, u.User.ID); st.State != store.StateVerified {
			t.Errorf("status %+v, want verified", st)
		}
	}
	reviewed := func(u *sandbox.SimUser) string {
		t.Helper()
		var request string
		link := sendToReview(t, ctx, w, u, admin, "en", &request)
		if st := w.status(ctx, u.User.ID); !slices.Equal(st.Codes, []string{"screening"}) {
			t.Errorf("status %+v, want review for screening", st)
		}
		if !strings.Contains(request, "screening") {
			t.Errorf("the admin's review request %q does not say screening", request)
		}
		return link
	}

	// The same date of birth: review; the page explains the hit.
	link := reviewed(w.user("en", screenedProfile("77101001", "Dmitriy", "Shcherbakov", "14.03.1971")))
	page := getPage(t, ctx, link)
	for _, want := range []string{`id="screening"`, "NK-DS71", "Dmitrii Shcherbakov", "1.00"} {
		if !strings.Contains(page, want) {
			t.Errorf("the review page lacks %q", want)
		}
	}
	if !strings.Contains(page, "Dmitriy") {
		t.Errorf("the review page does not show the user's data")
	}
	// Another date of birth: verified.
	verified(w.user("en", screenedProfile("77101002", "Dmitriy", "Shcherbakov", "15.03.1971")))

	// The file changes on disk: read again within the poll interval.
	olga := screenedProfile("77101003", "Olga", "Kuznetsova", "02.07.1985", "Ольга", "Кузнецова")
	writeSanctions(t, first, "NK-DS71,Person,Dmitrii Shcherbakov,,1971-03-14,", "NK-IS66,Person,Ivan Sydorenko,,1966-05-05,",
		"NK-OK85,Person,Olga Kuznetsova,Ольга Кузнецова,1985-07-02,ru")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(w.logs.String(), `"entries":2003`) {
		if time.Now().After(deadline) {
			t.Fatal("the changed list file was not read again")
		}
		time.Sleep(100 * time.Millisecond)
	}
	reviewed(w.user("en", olga))

	// Reload with another list file: in force at once, the first list's
	// entries gone (Ivan Sydorenko, on the first list only, is verified;
	// the people screened before are duplicates now).
	second := filepath.Join(dir, "second.csv")
	writeSanctions(t, second, "NK-SI80,Person,Sergei Ivanov,,1980-01-01,")
	c := *w.Bot().Config()
	c.Screening.Lists = []config.ScreeningList{{Name: "os2", Format: "opensanctions_csv", File: second}}
	if err := w.Bot().Reload(ctx, &c); err != nil {
		t.Fatal(err)
	}
	reviewed(w.user("en", screenedProfile("77101004", "Sergey", "Ivanov", "01.01.1980")))
	verified(w.user("en", screenedProfile("77101005", "Ivan", "Sidorenko", "05.05.1966")))
}

// getPage returns the body of a GET of url (the review page, which
// spends its link).
func getPage(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}
