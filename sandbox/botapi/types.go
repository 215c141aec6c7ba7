package botapi

import (
	"encoding/json"
	"regexp"
	"strconv"
	"unicode/utf16"

	"github.com/gotd/td/tg"
)

// The Bot API objects the server writes and reads
// (https://core.telegram.org/bots/api#available-types), with the fields it
// fills.

type apiUser struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
	// getMe only.
	CanJoinGroups           *bool `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages *bool `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   *bool `json:"supports_inline_queries,omitempty"`
}

type apiChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

type apiEntity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
}

type apiButton struct {
	Text         string `json:"text"`
	URL          string `json:"url,omitempty"`
	CallbackData string `json:"callback_data,omitempty"`
}

type apiMarkup struct {
	InlineKeyboard [][]apiButton `json:"inline_keyboard"`
}

type apiMessage struct {
	MessageID    int             `json:"message_id"`
	From         *apiUser        `json:"from,omitempty"`
	Chat         apiChat         `json:"chat"`
	Date         int             `json:"date"`
	EditDate     int             `json:"edit_date,omitempty"`
	Text         string          `json:"text,omitempty"`
	Entities     []apiEntity     `json:"entities,omitempty"`
	ReplyMarkup  *apiMarkup      `json:"reply_markup,omitempty"`
	PassportData json.RawMessage `json:"passport_data,omitempty"`
}

type apiCallbackQuery struct {
	ID           string      `json:"id"`
	From         apiUser     `json:"from"`
	Message      *apiMessage `json:"message,omitempty"`
	ChatInstance string      `json:"chat_instance"`
	Data         string      `json:"data,omitempty"`
}

type apiUpdate struct {
	UpdateID      int               `json:"update_id"`
	Message       *apiMessage       `json:"message,omitempty"`
	CallbackQuery *apiCallbackQuery `json:"callback_query,omitempty"`
}

type apiCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

type apiScope struct {
	Type   string          `json:"type"`
	ChatID json.RawMessage `json:"chat_id,omitempty"`
	UserID int64           `json:"user_id,omitempty"`
}

type apiFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int64  `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

type apiWebhookInfo struct {
	URL                  string `json:"url"`
	HasCustomCertificate bool   `json:"has_custom_certificate"`
	PendingUpdateCount   int    `json:"pending_update_count"`
	LastErrorDate        int64  `json:"last_error_date,omitempty"`
	LastErrorMessage     string `json:"last_error_message,omitempty"`
	MaxConnections       int    `json:"max_connections,omitempty"`
}

// userOf returns the Bot API User of an MTProto user.
func userOf(u *tg.User) apiUser {
	if u == nil {
		return apiUser{}
	}
	return apiUser{ID: u.ID, IsBot: u.Bot, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, LanguageCode: u.LangCode}
}

// chatOf returns the private chat with an MTProto user.
func chatOf(u *tg.User) apiChat {
	return apiChat{ID: u.ID, Type: "private", FirstName: u.FirstName, LastName: u.LastName, Username: u.Username}
}

// markupOf returns the Bot API form of an inline keyboard (nil for none).
func markupOf(m tg.ReplyMarkupClass) *apiMarkup {
	kb, ok := m.(*tg.ReplyInlineMarkup)
	if !ok || len(kb.Rows) == 0 {
		return nil
	}
	out := &apiMarkup{InlineKeyboard: make([][]apiButton, 0, len(kb.Rows))}
	for _, row := range kb.Rows {
		r := make([]apiButton, 0, len(row.Buttons))
		for _, b := range row.Buttons {
			ab := apiButton{Text: b.Text}
			switch t := b.Type.(type) {
			case *tg.InlineButtonTypeURL:
				ab.URL = t.URL
			case *tg.InlineButtonTypeCallback:
				ab.CallbackData = string(t.Data)
			}
			r = append(r, ab)
		}
		out.InlineKeyboard = append(out.InlineKeyboard, r)
	}
	return out
}

// tl returns the MTProto form of an inline keyboard, or a Bad Request
// naming what is wrong.
func (m *apiMarkup) tl() (*tg.ReplyInlineMarkup, error) {
	if m == nil || len(m.InlineKeyboard) == 0 {
		return nil, nil
	}
	out := &tg.ReplyInlineMarkup{}
	for _, row := range m.InlineKeyboard {
		r := tg.KeyboardInlineButtonRow{}
		for _, b := range row {
			var typ tg.InlineButtonTypeClass
			switch {
			case b.URL != "" && b.CallbackData != "":
				return nil, badRequest("can't parse inline keyboard button: only one of url and callback_data may be given")
			case b.URL != "":
				typ = &tg.InlineButtonTypeURL{URL: b.URL}
			case b.CallbackData != "":
				typ = &tg.InlineButtonTypeCallback{Data: []byte(b.CallbackData)}
			default:
				return nil, badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
			}
			r.Buttons = append(r.Buttons, tg.KeyboardInlineButton{Text: b.Text, Type: typ})
		}
		out.Rows = append(out.Rows, r)
	}
	return out, nil
}

// entitiesOf returns the Bot API entities of a message: those MTProto
// carries that the Bot API names alike, and a bot_command for every
// command in the text when the sender marked none (Telegram's server finds
// commands itself).
func entitiesOf(text string, in []tg.MessageEntityClass) []apiEntity {
	var out []apiEntity
	commands := false
	for _, e := range in {
		switch e := e.(type) {
		case *tg.MessageEntityBotCommand:
			commands = true
			out = append(out, apiEntity{Type: "bot_command", Offset: e.Offset, Length: e.Length})
		case *tg.MessageEntityURL:
			out = append(out, apiEntity{Type: "url", Offset: e.Offset, Length: e.Length})
		case *tg.MessageEntityTextURL:
			out = append(out, apiEntity{Type: "text_link", Offset: e.Offset, Length: e.Length, URL: e.URL})
		case *tg.MessageEntityBold:
			out = append(out, apiEntity{Type: "bold", Offset: e.Offset, Length: e.Length})
		case *tg.MessageEntityItalic:
			out = append(out, apiEntity{Type: "italic", Offset: e.Offset, Length: e.Length})
		case *tg.MessageEntityCode:
			out = append(out, apiEntity{Type: "code", Offset: e.Offset, Length: e.Length})
		}
	}
	if !commands {
		out = append(out, commandEntities(text)...)
	}
	return out
}

// commandRE matches a bot command: a slash, up to 32 letters, digits or
// underscores, and an optional @botname. commandEntities checks what
// surrounds it.
var commandRE = regexp.MustCompile(`/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?`)

// commandEntities finds the commands in text (each at the start or after
// white space, and followed by white space or the end), with offsets and
// lengths in UTF-16 code units as the Bot API counts them.
func commandEntities(text string) []apiEntity {
	var out []apiEntity
	for _, m := range commandRE.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		if start > 0 && !isSpace(text[start-1]) || end < len(text) && !isSpace(text[end]) {
			continue
		}
		out = append(out, apiEntity{Type: "bot_command", Offset: utf16Len(text[:start]), Length: utf16Len(text[start:end])})
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// queryIDString is a callback query ID as the Bot API writes it.
func queryIDString(id int64) string { return strconv.FormatInt(id, 10) }
