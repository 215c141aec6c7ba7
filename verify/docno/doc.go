// Package docno checks identity document numbers against the formats and
// check digits that issuing states publish.
//
// A Set (New) holds data tables, one row per issuing country and document
// type, each citing in a comment the publication its format and check
// digit come from: ICAO Doc 9303 for the 7-3-1 check digit of machine
// readable documents, and the issuing states' own rules for the national
// numbers their ID cards and passports carry (Spain's DNI and NIE letter,
// China's resident ID MOD 11-2, the Estonian and Lithuanian personal codes,
// the Finnish henkilötunnus, the Swedish personnummer, the Dutch BSN, the
// Belgian card and national register numbers, the Polish ID card series,
// the Portuguese Citizen Card, the German ID card and passport serial, the
// Turkish identity number, India's Aadhaar, Russia's passport series).
//
// Set.Check normalizes a number as the state prints it (spaces, dashes,
// dots and slashes dropped, letters upper-cased) and says whether it is
// Valid, Invalid or Unchecked. A row lists the forms a number may take on
// the document (the card's own number, the personal code printed beside
// it); a number in one of those forms must carry the right check digit
// (else Invalid). A strict row says Unrecognized of any other form; a
// lenient one leaves numbers of other forms Unchecked, because the state
// issues numbers the row does not describe (older or temporary documents,
// numbers without a published structure). A country or type without a row is always Unchecked: the
// caller keeps its general plausibility check and never refuses a number
// for want of a rule.
//
// Which country issued a document is the caller's choice (package verify
// takes it from Telegram Passport's personal details); IssuingCountries
// gives the order in which to try the citizenship and the residence for a
// document type.
//
// Nothing here logs or keeps a number, and Check never panics on any
// input. A Set is immutable and safe for concurrent use.
package docno
