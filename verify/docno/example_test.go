package docno_test

import (
	"fmt"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify/docno"
)

// Check numbers as users type them, against the issuing state's rule.
func Example() {
	set := docno.New()
	// Spain's DNI specimen, its control letter right and wrong.
	fmt.Println(set.Check("ES", passport.TypeIdentityCard, "99999999-R"))
	fmt.Println(set.Check("ES", passport.TypeIdentityCard, "99999999T"))
	// A German passport number copied with its MRZ check digit.
	fmt.Println(set.Check("DE", passport.TypePassport, "C01X00T478"))
	// No rule for British passports: the caller's general check applies.
	fmt.Println(set.Check("GB", passport.TypePassport, "123456789"))
	// Whose rule applies to a driving licence: residence first.
	fmt.Println(docno.IssuingCountries(passport.TypeDriverLicense, "de", "fr"))
	// Output:
	// valid
	// invalid
	// valid
	// unchecked
	// [FR DE]
}
