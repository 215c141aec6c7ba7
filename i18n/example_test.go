package i18n_test

import (
	"fmt"
	"log"
	"testing/fstest"
	"time"

	"github.com/kycbot/kycbot/i18n"
)

func Example() {
	cat, err := i18n.New()
	if err != nil {
		log.Fatal(err)
	}
	// The user's Telegram app reports "pt-br"; Brazilian Portuguese it is.
	l := cat.Language(cat.Match("pt-br"))
	fmt.Println(l.Lang())
	fmt.Println(l.Text(i18n.MsgButtonTryAgain, nil))
	fmt.Println(l.Plural(i18n.MsgResultFixHeader, 2, nil))
	since := time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)
	fmt.Println(cat.Language("de-AT").Text(i18n.MsgStatusVerified, map[string]any{"Since": cat.Language("de").Date(since)}))
	// Output:
	// pt-BR
	// Tentar de novo
	// Corrija estes 2 problemas no Telegram Passport e envie seus documentos novamente:
	// Ihre Identität ist seit dem 01.02.2026 bestätigt.
}

func ExampleLocalizer_Date() {
	cat, err := i18n.New()
	if err != nil {
		log.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 6, 52, 0, 0, time.UTC)
	for _, lang := range []string{"en", "ru", "fa"} {
		l := cat.Language(lang)
		fmt.Println(l.Date(at), "|", l.DateTime(at))
	}
	// Output:
	// 5 Dec 2026 | 5 Dec 2026 at 06:52 UTC
	// 5 дек. 2026 г. | 5 дек. 2026 г. в 06:52 UTC
	// ۵ دسامبر ۲۰۲۶ | ۵ دسامبر ۲۰۲۶، ساعت ۶:۵۲ UTC
}

func ExampleLocalizer_Problem() {
	cat, err := i18n.New()
	if err != nil {
		log.Fatal(err)
	}
	params := map[string]string{"date": "01.01.2001"}
	fmt.Println(cat.Language("en").Problem("expired", "driver_license", "data.expiry_date", params))
	fmt.Println(cat.Language("ru").Problem("expired", "driver_license", "data.expiry_date", params))
	fmt.Println(cat.Language("en").Problem("image_too_small", "identity_card", "reverse_side", map[string]string{
		"min_width": "1000", "min_height": "700", "width": "640", "height": "480",
	}))
	fmt.Println(cat.Language("es").Problem("invalid_post_code", "address", "data.post_code", map[string]string{"country": "DE"}))
	// Output:
	// Your driving licence expired on 1 Jan 2001. Please add a valid one.
	// Водительское удостоверение: срок действия истёк 1 янв. 2001 г., пожалуйста, добавьте действующий документ.
	// Identity card, reverse side: the photo is too small (640×480). Please upload a photo of at least 1000×700 pixels.
	// Domicilio: el código postal no parece correcto para Alemania. Revísalo, por favor.
}

func ExampleWithOverrides() {
	// Config passes os.DirFS(dir); here a ru.yaml replaces one message.
	overrides := fstest.MapFS{"ru.yaml": {Data: []byte(`button.try_again: "Ещё раз"`)}}
	cat, err := i18n.New(i18n.WithOverrides(overrides))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cat.Language("ru").Text(i18n.MsgButtonTryAgain, nil))
	fmt.Println(cat.Language("uk").Text(i18n.MsgButtonTryAgain, nil))
	// Output:
	// Ещё раз
	// Спробувати знову
}
