package handlerstest_test

import (
	"testing"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/admin"
	"github.com/kycbot/kycbot/handlers/chat"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/tests/testkit"
)

// The fakes serve the steps' interfaces.
var (
	_ verification.Telegram = (*handlerstest.Telegram)(nil)
	_ chat.Telegram         = (*handlerstest.Telegram)(nil)
	_ admin.Telegram        = (*handlerstest.Telegram)(nil)
	_ verification.Telegram = handlerstest.PrintTelegram{}
	_ chat.Telegram         = handlerstest.PrintTelegram{}
	_ verification.Store    = (*handlerstest.Store)(nil)
	_ chat.Store            = (*handlerstest.Store)(nil)
	_ admin.Store           = (*handlerstest.Store)(nil)
	_ handlers.Observer     = (*handlerstest.Observer)(nil)
)

// TestOnlyTestsImport: handlerstest is test infrastructure; code that
// ships must not import it.
func TestOnlyTestsImport(t *testing.T) {
	testkit.OnlyTestsImport(t, "github.com/kycbot/kycbot/handlers/handlerstest")
}
