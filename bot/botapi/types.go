package botapi

import (
	"encoding/json"
	"fmt"
)

// The Bot API objects kycbot reads and writes, with the fields it uses
// (core.telegram.org/bots/api). Unknown fields are ignored.

// User is a Telegram user or bot.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// Chat is the chat a message belongs to.
type Chat struct {
	ID int64 `json:"id"`
	// Type is "private", "group", "supergroup" or "channel".
	Type string `json:"type"`
}

// Message is a message, with what kycbot reads of it.
type Message struct {
	MessageID int    `json:"message_id"`
	From      *User  `json:"from,omitempty"`
	Chat      Chat   `json:"chat"`
	Text      string `json:"text,omitempty"`
	// PassportData is the Telegram Passport data of a submission, as
	// Telegram sent it (passport.ParseBotAPI reads it).
	PassportData json.RawMessage `json:"passport_data,omitempty"`
}

// CallbackQuery is a tap on a callback button.
type CallbackQuery struct {
	ID      string   `json:"id"`
	From    User     `json:"from"`
	Message *Message `json:"message,omitempty"`
	Data    string   `json:"data,omitempty"`
}

// Update is an incoming update, with the kinds kycbot reads.
type Update struct {
	UpdateID      int64          `json:"update_id"`
	Message       *Message       `json:"message,omitempty"`
	CallbackQuery *CallbackQuery `json:"callback_query,omitempty"`
}

// InlineKeyboardButton is a button of an inline keyboard: a URL button or
// a callback button.
type InlineKeyboardButton struct {
	Text         string `json:"text"`
	URL          string `json:"url,omitempty"`
	CallbackData string `json:"callback_data,omitempty"`
}

// InlineKeyboardMarkup is an inline keyboard under a message.
type InlineKeyboardMarkup struct {
	InlineKeyboard [][]InlineKeyboardButton `json:"inline_keyboard"`
}

// SendMessageParams are the parameters of sendMessage.
type SendMessageParams struct {
	ChatID      int64                 `json:"chat_id"`
	Text        string                `json:"text"`
	ReplyMarkup *InlineKeyboardMarkup `json:"reply_markup,omitempty"`
}

// EditMessageTextParams are the parameters of editMessageText (of a
// message in a chat).
type EditMessageTextParams struct {
	ChatID      int64                 `json:"chat_id"`
	MessageID   int                   `json:"message_id"`
	Text        string                `json:"text"`
	ReplyMarkup *InlineKeyboardMarkup `json:"reply_markup,omitempty"`
}

// AnswerCallbackQueryParams are the parameters of answerCallbackQuery.
type AnswerCallbackQueryParams struct {
	CallbackQueryID string `json:"callback_query_id"`
	Text            string `json:"text,omitempty"`
}

// BotCommand is a command of the bot's menu.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// BotCommandScope is the scope of a command menu: Type "default", or
// "chat" with ChatID.
type BotCommandScope struct {
	Type   string `json:"type"`
	ChatID int64  `json:"chat_id,omitempty"`
}

// SetMyCommandsParams are the parameters of setMyCommands.
type SetMyCommandsParams struct {
	Commands     []BotCommand     `json:"commands"`
	Scope        *BotCommandScope `json:"scope,omitempty"`
	LanguageCode string           `json:"language_code,omitempty"`
}

// PassportElementError is one problem shown in the user's Telegram
// Passport form (setPassportDataErrors). Source says what it is about
// ("data", "front_side", "reverse_side", "selfie", "file", "files",
// "translation_file", "translation_files", "unspecified"), Type the
// element ("passport", "driver_license", ...); the hashes are base64, and
// only the fields of the source are sent (all of them, even when empty:
// the Bot API requires them).
type PassportElementError struct {
	Source      string   `json:"source"`
	Type        string   `json:"type"`
	FieldName   string   `json:"field_name,omitempty"`
	DataHash    string   `json:"data_hash,omitempty"`
	FileHash    string   `json:"file_hash,omitempty"`
	FileHashes  []string `json:"file_hashes,omitempty"`
	ElementHash string   `json:"element_hash,omitempty"`
	Message     string   `json:"message"`
}

// MarshalJSON writes the fields of e's source.
func (e PassportElementError) MarshalJSON() ([]byte, error) {
	out := map[string]any{"source": e.Source, "type": e.Type, "message": e.Message}
	switch e.Source {
	case "data":
		out["field_name"], out["data_hash"] = e.FieldName, e.DataHash
	case "front_side", "reverse_side", "selfie", "file", "translation_file":
		out["file_hash"] = e.FileHash
	case "files", "translation_files":
		hs := e.FileHashes
		if hs == nil {
			hs = []string{}
		}
		out["file_hashes"] = hs
	case "unspecified":
		out["element_hash"] = e.ElementHash
	default:
		return nil, fmt.Errorf("botapi: a passport element error of source %q: want data, front_side, reverse_side, selfie, file, files, translation_file, translation_files or unspecified", e.Source)
	}
	return json.Marshal(out)
}

// File is what getFile tells of a file: FilePath is where to download it
// (Client.DownloadFile).
type File struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int64  `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

// GetUpdatesParams are the parameters of getUpdates.
type GetUpdatesParams struct {
	Offset int64 `json:"offset,omitempty"`
	Limit  int   `json:"limit,omitempty"`
	// Timeout is the long poll's timeout in seconds.
	Timeout        int      `json:"timeout,omitempty"`
	AllowedUpdates []string `json:"allowed_updates,omitempty"`
}

// SetWebhookParams are the parameters of setWebhook.
type SetWebhookParams struct {
	URL                string   `json:"url"`
	SecretToken        string   `json:"secret_token,omitempty"`
	AllowedUpdates     []string `json:"allowed_updates,omitempty"`
	MaxConnections     int      `json:"max_connections,omitempty"`
	DropPendingUpdates bool     `json:"drop_pending_updates,omitempty"`
}
