package sandbox

import (
	"testing"
	"time"

	"github.com/gotd/contrib/middleware/floodwait"
	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/passport"
)

// Test 6: a FLOOD_WAIT is retried by gotd's floodwait middleware; files on
// a second DC download through FILE_MIGRATE; downloads can be slowed down.
func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 50*time.Second)
	sb := startSandbox(t, Options{FilesDC: 4})
	bot, key, pem := addTestBot(t, sb, "kyc_faults_bot")
	b := newTestBot(t, sb, bot, floodwait.NewSimpleWaiter().WithMaxRetries(5))
	b.start(ctx)

	profile := Profile{passport.TypeUtilityBill: {Files: []Scan{{Text: "f/bill-1"}, {Text: "f/bill-2"}}}}
	user, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000020"}, SimUserOptions{Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = user.Close() })
	if _, err := user.Start(ctx, "kyc_faults_bot", ""); err != nil {
		t.Fatal(err)
	}
	in, err := b.next(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// FLOOD_WAIT_1 twice: the middleware waits and retries.
	sb.FloodWait(tg.MessagesSendMessageRequestTypeID, 1, 2)
	before := sb.Calls(tg.MessagesSendMessageRequestTypeID)
	start := time.Now()
	if _, err := b.Sender().Answer(in.entities, in.update).Text(ctx, "hello after flood"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Fatalf("answered after %v: the flood waits were not honoured", waited)
	}
	if calls := sb.Calls(tg.MessagesSendMessageRequestTypeID) - before; calls != 3 {
		t.Fatalf("%d sendMessage calls, want 3 (two flood waits and the retry)", calls)
	}
	if m, err := user.WaitMessage(ctx, nil); err != nil || m.Text != "hello after flood" {
		t.Fatalf("user got %+v, %v", m, err)
	}

	// Files live on DC 4. The scope is a one-of (address_document): the
	// user provides the type the profile has.
	scope := passport.NewScope(passport.RequireOneOf(passport.TypeBankStatement, passport.TypeUtilityBill, passport.TypeRentalAgreement))
	if err := user.FillForm(ctx, passportLink(t, bot.ID, pem, "nonce-f", scope)); err != nil {
		t.Fatal(err)
	}
	sub, _, _ := submission(ctx, t, b, key)
	ub := sub.Element(passport.TypeUtilityBill)
	if ub == nil || len(ub.Files) != 2 {
		t.Fatalf("utility bill %+v", ub)
	}
	for _, f := range ub.Files {
		if f.DCID != 4 {
			t.Fatalf("file on DC %d, want 4", f.DCID)
		}
	}
	checkSubmission(ctx, t, b, sub, profile, scope)
	if sb.Calls(tg.AuthImportAuthorizationRequestTypeID) == 0 {
		t.Fatal("the bot did not import its authorization to DC 4")
	}

	// Slow network: 40 KB/s per connection.
	const bw = 40_000
	sb.SetBandwidth(bw)
	start = time.Now()
	download(ctx, t, b, &ub.Files[0])
	if min := time.Duration(float64(ub.Files[0].Size) / bw * 0.8 * float64(time.Second)); time.Since(start) < min {
		t.Fatalf("download of %d bytes took %v, want at least %v", ub.Files[0].Size, time.Since(start), min)
	}
	sb.SetBandwidth(0)
}
