package screening_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify/screening"
)

func Example() {
	dir, _ := os.MkdirTemp("", "screening")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "targets.simple.csv")
	_ = os.WriteFile(file, []byte("id,schema,name,aliases,birth_date,countries\n"+
		"NK-1,Person,Dmitriy Shcherbakov,Dima Shcherbakoff,1975-03-14,ru\n"), 0o600)

	s, err := screening.New(context.Background(),
		[]screening.List{{Name: "opensanctions", Format: screening.FormatOpenSanctions, File: file}},
		screening.WithThreshold(0.9), screening.WithBirthDateRule(screening.BirthDateRequiredMatch))
	if err != nil {
		fmt.Println(err)
		return
	}
	subject := screening.SubjectFromPersonalDetails(&passport.PersonalDetails{
		FirstName: "Dmitrii", LastName: "Shcherbakov",
		FirstNameNative: "Дмитрий", LastNameNative: "Щербаков",
		BirthDate: "14.03.1975", CountryCode: "RU",
	})
	for _, h := range s.Check(context.Background(), subject) {
		fmt.Println(h.Explain())
	}
	subject.BirthDate = screening.Date{Year: 1975, Month: 3, Day: 15}
	fmt.Println(len(s.Check(context.Background(), subject)), "hits with another birth date")
	// Output:
	// opensanctions entry NK-1: score 1.00; primary name "Dmitriy Shcherbakov" similar at 0.97; birth date same; nationality same
	// 0 hits with another birth date
}

func ExampleTokens() {
	fmt.Println(screening.Tokens("Юлия Щербакова"), screening.Tokens("Γιώργος"), screening.Tokens("José Ñúñez"))
	// Output: [iuliia shcherbakova] [giorgos] [jose nunez]
}

func ExampleKey() {
	fmt.Println(screening.Key("yuriy"), screening.Key("iurii"), screening.Key("alexander"), screening.Key("aleksandr"))
	// Output: ar ar alksndr alksndr
}

func ExampleCountryCode() {
	fmt.Println(screening.CountryCode("Russian Federation"), screening.CountryCode("Korea, North"), screening.CountryCode("de"))
	// Output: RU KP DE
}
