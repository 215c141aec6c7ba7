// Package screening screens a person against the watchlists a business
// supplies as files: the OFAC SDN list (sdn.xml), the EU consolidated
// financial sanctions list (XML), the UN Security Council consolidated
// list (XML) and OpenSanctions' targets.simple.csv export.
//
// Parse reads a list from its documented format as a stream (the XML
// token by token with encoding/xml, the CSV row by row with
// encoding/csv), so that memory stays bounded by one entry whatever the
// size of the file (and no more than 1 MiB may come without markup, which
// bounds what those decoders buffer); it keeps individuals only, with their names (the
// primary name and the aliases, Latin and original script), dates of
// birth (whole, year and month, or year only) and nationalities (as ISO
// 3166-1 codes; CountryCode maps the names the lists write). A file that
// does not follow its format is a *ParseError naming the file and the
// line, which never quotes the file's content.
//
// An Index matches a Subject (what the user's Telegram Passport says:
// SubjectFromPersonalDetails) against the entries. Names are normalized by
// Tokens (Unicode NFKD, marks removed, case folded, Cyrillic after ICAO
// Doc 9303, Greek after ELOT 743, Arabic and Persian consonants), compared
// word set to word set with Jaro-Winkler and a phonetic key (Key) that
// spellings of one name share; the date of birth and the nationality
// modify the score (BirthDateRule), and entries from the threshold up are
// Hits. The Index type's documentation gives the whole algorithm and its
// weights. An inverted index of the phonetic keys keeps one check against
// 50,000 entries cheaper than decrypting the submission
// (docs/performance.md has the numbers and the command).
//
// A Screener holds the lists of a configuration and keeps them current:
// Reload reads them all again (on SIGHUP), Refresh those whose file
// changed, Watch polls the files; a list that fails to parse keeps its
// previous version and the failure is logged. Check never waits for a
// load.
//
// A hit is a reason for a person to look, never a verdict: the caller
// sends the case to manual review. Hit.Explain says which entry, which of
// its names and why, for the reviewer; Hit.LogValue is what logs may show
// (the list, the entry's ID and the scores, no name). Nothing here logs a
// subject's name or date.
package screening
