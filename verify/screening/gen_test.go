package screening

import (
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// person is a synthetic list entry, written by the writers below in each
// format.
type person struct {
	id        string
	first     string
	last      string
	aliases   [][2]string // first, last
	dates     []Date
	countries []string // ISO codes
}

var syllables = strings.Fields("ka ri mo sa le na vo ti ro da mi ne go za lu be ta si po ha " +
	"ke mu ra do fi la no ve ru te gi bo ni ma so lo pe du ze ya")

var countryNamesForGen = map[string]string{
	"RU": "Russia", "IR": "Iran", "SY": "Syrian Arab Republic", "KP": "Korea, North",
	"DE": "Germany", "FR": "France", "UA": "Ukraine", "TR": "Turkey", "CN": "China", "VE": "Venezuela",
}

var genCountries = []string{"RU", "IR", "SY", "KP", "DE", "FR", "UA", "TR", "CN", "VE"}

// synthName makes a capitalized name of n syllables.
func synthName(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// synthPeople makes n people: first names from a small pool (common, as
// in real lists), last names of three or four syllables (mostly unique),
// one alias in three, dates of birth (a year only in one in five, none in
// one in ten), one or two countries or none.
func synthPeople(seed uint64, n int) []person {
	r := rand.New(rand.NewPCG(seed, 17))
	firsts := make([]string, 300)
	for i := range firsts {
		firsts[i] = synthName(r, 2+r.IntN(2))
	}
	out := make([]person, n)
	for i := range out {
		p := person{id: fmt.Sprintf("%d", 10000+i), first: firsts[r.IntN(len(firsts))], last: synthName(r, 3+r.IntN(2))}
		if r.IntN(3) == 0 {
			p.aliases = append(p.aliases, [2]string{firsts[r.IntN(len(firsts))], synthName(r, 3)})
		}
		switch k := r.IntN(10); {
		case k == 0:
		case k < 3:
			p.dates = []Date{{Year: 1940 + r.IntN(60)}}
		default:
			p.dates = []Date{{Year: 1940 + r.IntN(60), Month: 1 + r.IntN(12), Day: 1 + r.IntN(28)}}
		}
		for range r.IntN(3) {
			p.countries = append(p.countries, genCountries[r.IntN(len(genCountries))])
		}
		out[i] = p
	}
	return out
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

var ofacMonths = []string{"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// writeOFAC writes people as OFAC's sdn.xml, with one entity entry
// between them (which the parser skips).
func writeOFAC(w io.Writer, people []person) {
	fmt.Fprint(w, `<?xml version="1.0" standalone="yes"?>`+"\n"+`<sdnList xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML">`+"\n")
	fmt.Fprint(w, "<publshInformation><Publish_Date>12/01/2026</Publish_Date><Record_Count>1</Record_Count></publshInformation>\n")
	fmt.Fprint(w, "<sdnEntry><uid>1</uid><lastName>SYNTHETIC TRADING LLC</lastName><sdnType>Entity</sdnType><programList><program>SDGT</program></programList></sdnEntry>\n")
	for _, p := range people {
		fmt.Fprintf(w, "<sdnEntry>\n<uid>%s</uid>\n<firstName>%s</firstName>\n<lastName>%s</lastName>\n<sdnType>Individual</sdnType>\n<programList><program>RUSSIA-EO14024</program></programList>\n",
			p.id, xmlText(p.first), xmlText(strings.ToUpper(p.last)))
		if len(p.aliases) > 0 {
			fmt.Fprint(w, "<akaList>\n")
			for i, a := range p.aliases {
				fmt.Fprintf(w, "<aka><uid>%s%d</uid><type>a.k.a.</type><category>strong</category><lastName>%s</lastName><firstName>%s</firstName></aka>\n", p.id, i, xmlText(a[1]), xmlText(a[0]))
			}
			fmt.Fprint(w, "</akaList>\n")
		}
		if len(p.countries) > 0 {
			fmt.Fprint(w, "<nationalityList>")
			for _, c := range p.countries {
				fmt.Fprintf(w, "<nationality><uid>1</uid><country>%s</country><mainEntry>true</mainEntry></nationality>", xmlText(countryNamesForGen[c]))
			}
			fmt.Fprint(w, "</nationalityList>\n")
		}
		if len(p.dates) > 0 {
			fmt.Fprint(w, "<dateOfBirthList>")
			for _, d := range p.dates {
				s := fmt.Sprint(d.Year)
				if d.Day != 0 {
					s = fmt.Sprintf("%02d %s %d", d.Day, ofacMonths[d.Month], d.Year)
				}
				fmt.Fprintf(w, "<dateOfBirthItem><uid>1</uid><dateOfBirth>%s</dateOfBirth><mainEntry>true</mainEntry></dateOfBirthItem>", s)
			}
			fmt.Fprint(w, "</dateOfBirthList>\n")
		}
		fmt.Fprint(w, "</sdnEntry>\n")
	}
	fmt.Fprint(w, "</sdnList>\n")
}

// writeEU writes people as the EU consolidated list, with one enterprise.
func writeEU(w io.Writer, people []person) {
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2026-12-01T10:00:00.000+01:00" globalFileId="1">`+"\n")
	fmt.Fprint(w, `<sanctionEntity designationDate="2022-02-25" logicalId="1" euReferenceNumber="EU.1.1"><regulation regulationType="regulation" programme="RUS"/><subjectType code="enterprise" classificationCode="E"/><nameAlias wholeName="Synthetic Bank" logicalId="2" strong="true"/></sanctionEntity>`+"\n")
	for _, p := range people {
		fmt.Fprintf(w, `<sanctionEntity designationDate="2022-02-25" logicalId="%s" euReferenceNumber="EU.%s.1">`+"\n", p.id, p.id)
		fmt.Fprint(w, `<regulation regulationType="regulation" programme="RUS"><publicationUrl>https://eur-lex.europa.eu/</publicationUrl></regulation>`+"\n")
		fmt.Fprint(w, `<subjectType code="person" classificationCode="P"/>`+"\n")
		fmt.Fprintf(w, `<nameAlias firstName="%s" middleName="" lastName="%s" wholeName="%s %s" function="" gender="M" title="" nameLanguage="" strong="true" regulationLanguage="en" logicalId="1"/>`+"\n",
			xmlText(p.first), xmlText(p.last), xmlText(p.first), xmlText(p.last))
		for _, a := range p.aliases {
			fmt.Fprintf(w, `<nameAlias firstName="%s" lastName="%s" wholeName="" strong="true" logicalId="2"/>`+"\n", xmlText(a[0]), xmlText(a[1]))
		}
		for _, d := range p.dates {
			if d.Day != 0 {
				fmt.Fprintf(w, `<birthdate circa="false" calendarType="GREGORIAN" city="" birthdate="%s" dayOfMonth="%d" monthOfYear="%d" year="%d" countryIso2Code="00" logicalId="3"/>`+"\n", d, d.Day, d.Month, d.Year)
			} else {
				fmt.Fprintf(w, `<birthdate circa="false" calendarType="GREGORIAN" year="%d" countryIso2Code="00" logicalId="3"/>`+"\n", d.Year)
			}
		}
		for _, c := range p.countries {
			fmt.Fprintf(w, `<citizenship region="" countryIso2Code="%s" countryDescription="%s" logicalId="4"/>`+"\n", c, strings.ToUpper(countryNamesForGen[c]))
		}
		fmt.Fprint(w, "</sanctionEntity>\n")
	}
	fmt.Fprint(w, "</export>\n")
}

// writeUN writes people as the UN consolidated list, with one entity.
func writeUN(w io.Writer, people []person) {
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<CONSOLIDATED_LIST dateGenerated="2026-12-01T00:00:00">`+"\n<INDIVIDUALS>\n")
	for _, p := range people {
		fmt.Fprintf(w, "<INDIVIDUAL>\n<DATAID>%s</DATAID>\n<VERSIONNUM>1</VERSIONNUM>\n<FIRST_NAME>%s</FIRST_NAME>\n<SECOND_NAME>%s</SECOND_NAME>\n<UN_LIST_TYPE>DPRK</UN_LIST_TYPE>\n<REFERENCE_NUMBER>KPi.%s</REFERENCE_NUMBER>\n<LISTED_ON>2016-03-02</LISTED_ON>\n<COMMENTS1>synthetic</COMMENTS1>\n",
			p.id, xmlText(strings.ToUpper(p.first)), xmlText(strings.ToUpper(p.last)), p.id)
		if len(p.countries) > 0 {
			fmt.Fprint(w, "<NATIONALITY>")
			for _, c := range p.countries {
				fmt.Fprintf(w, "<VALUE>%s</VALUE>", xmlText(countryNamesForGen[c]))
			}
			fmt.Fprint(w, "</NATIONALITY>\n")
		}
		fmt.Fprint(w, "<LIST_TYPE><VALUE>UN List</VALUE></LIST_TYPE>\n")
		for _, a := range p.aliases {
			fmt.Fprintf(w, "<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>%s %s</ALIAS_NAME></INDIVIDUAL_ALIAS>\n", xmlText(a[0]), xmlText(a[1]))
		}
		fmt.Fprint(w, "<INDIVIDUAL_ADDRESS><COUNTRY>Nowhere</COUNTRY></INDIVIDUAL_ADDRESS>\n")
		for _, d := range p.dates {
			if d.Day != 0 {
				fmt.Fprintf(w, "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>%s</DATE></INDIVIDUAL_DATE_OF_BIRTH>\n", d)
			} else {
				fmt.Fprintf(w, "<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>%d</YEAR></INDIVIDUAL_DATE_OF_BIRTH>\n", d.Year)
			}
		}
		fmt.Fprint(w, "<INDIVIDUAL_PLACE_OF_BIRTH/>\n<INDIVIDUAL_DOCUMENT/>\n</INDIVIDUAL>\n")
	}
	fmt.Fprint(w, "</INDIVIDUALS>\n<ENTITIES>\n<ENTITY><DATAID>1</DATAID><FIRST_NAME>SYNTHETIC SHIPPING</FIRST_NAME></ENTITY>\n</ENTITIES>\n</CONSOLIDATED_LIST>\n")
}

// writeOpenSanctions writes people as targets.simple.csv, with one
// company row.
func writeOpenSanctions(w io.Writer, people []person) {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "schema", "name", "aliases", "birth_date", "countries", "addresses", "identifiers", "sanctions", "phones", "emails", "program_ids", "dataset", "first_seen", "last_seen", "last_change"})
	_ = cw.Write([]string{"NK-synthco", "Company", "Synthetic Holdings", "", "", "ru", "", "", "", "", "", "", "Synthetic", "2024-01-01T00:00:00", "2026-12-01T00:00:00", "2026-12-01T00:00:00"})
	for _, p := range people {
		var aliases, dates, countries []string
		for _, a := range p.aliases {
			aliases = append(aliases, a[0]+" "+a[1])
		}
		for _, d := range p.dates {
			dates = append(dates, d.String())
		}
		for _, c := range p.countries {
			countries = append(countries, strings.ToLower(c))
		}
		_ = cw.Write([]string{"NK-" + p.id, "Person", p.first + " " + p.last, strings.Join(aliases, ";"), strings.Join(dates, ";"),
			strings.Join(countries, ";"), "", "", "", "", "", "", "Synthetic", "2024-01-01T00:00:00", "2026-12-01T00:00:00", "2026-12-01T00:00:00"})
	}
	cw.Flush()
}

// writers writes people in each format.
var writers = map[Format]func(io.Writer, []person){
	FormatOFAC:          writeOFAC,
	FormatEU:            writeEU,
	FormatUN:            writeUN,
	FormatOpenSanctions: writeOpenSanctions,
}
