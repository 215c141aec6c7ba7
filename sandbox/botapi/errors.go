package botapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gotd/td/tgerr"
)

// apiError is an answer with "ok": false, shaped as the Bot API shapes
// it: the HTTP status is error_code.
type apiError struct {
	code        int
	description string
	retryAfter  int // 429 only
}

func (e *apiError) Error() string {
	return fmt.Sprintf("bot api: %d %s", e.code, e.description)
}

func badRequest(description string) *apiError {
	return &apiError{code: http.StatusBadRequest, description: "Bad Request: " + description}
}

func tooManyRequests(seconds int) *apiError {
	if seconds < 1 {
		seconds = 1
	}
	return &apiError{
		code:        http.StatusTooManyRequests,
		description: "Too Many Requests: retry after " + strconv.Itoa(seconds),
		retryAfter:  seconds,
	}
}

// The Bot API's own errors, with the descriptions Telegram's server gives.
var (
	errUnauthorized    = &apiError{code: http.StatusUnauthorized, description: "Unauthorized"}
	errNotFound        = &apiError{code: http.StatusNotFound, description: "Not Found"}
	errChatNotFound    = badRequest("chat not found")
	errTextEmpty       = badRequest("message text is empty")
	errNotModified     = badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	errEditNotFound    = badRequest("message to edit not found")
	errQueryInvalid    = badRequest("query is too old and response timeout expired or query ID is invalid")
	errFileIDInvalid   = badRequest("invalid file_id")
	errUserNotFound    = badRequest("user not found")
	errBlocked         = &apiError{code: http.StatusForbidden, description: "Forbidden: bot was blocked by the user"}
	errConflictPoll    = &apiError{code: http.StatusConflict, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
	errConflictWebhook = &apiError{code: http.StatusConflict, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	errInternal        = &apiError{code: http.StatusInternalServerError, description: "Internal Server Error"}
)

// fromMTProto turns the error of an MTProto call into the Bot API's
// answer: FLOOD_WAIT_X is 429 with retry_after X, the errors the Bot API
// words on its own get its words, other RPC errors are "Bad Request:" and
// the MTProto error type (as Telegram's server does), and anything else
// (the connection) is 500.
func fromMTProto(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	rpc, ok := tgerr.As(err)
	if !ok {
		return errInternal
	}
	switch rpc.Type {
	case "FLOOD_WAIT", "FLOOD_PREMIUM_WAIT":
		return tooManyRequests(rpc.Argument)
	case "PEER_ID_INVALID", "USER_ID_INVALID", "INPUT_USER_DEACTIVATED":
		return errChatNotFound
	case "MESSAGE_EMPTY":
		return errTextEmpty
	case "MESSAGE_NOT_MODIFIED":
		return errNotModified
	case "MESSAGE_ID_INVALID":
		return errEditNotFound
	case "QUERY_ID_INVALID":
		return errQueryInvalid
	case "USER_IS_BLOCKED":
		return errBlocked
	case "MESSAGE_TOO_LONG":
		return badRequest("message is too long")
	case "ACCESS_TOKEN_INVALID", "ACCESS_TOKEN_EXPIRED", "AUTH_KEY_UNREGISTERED", "SESSION_REVOKED", "USER_DEACTIVATED":
		return errUnauthorized
	}
	if rpc.Code >= 500 {
		return errInternal
	}
	return badRequest(rpc.Type)
}
