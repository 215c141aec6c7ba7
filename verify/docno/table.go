package docno

import "github.com/kycbot/kycbot/passport"

// rows is the data table: per issuing country and document types, the
// forms a number takes and their check. Patterns apply to the normalized
// number (Normalize) and are anchored. A form without a check is a format
// only. Each row says where its rule comes from.
//
// Left out on purpose: driving licences (no state in the table publishes
// a licence number structure with a check digit that holds for every
// licence in circulation), Italy's codice fiscale (a tax code, not a
// document number), Brazil's CPF (the new national identity card carries
// it, but the state-issued RG cards still valid until 2032 have numbers
// of any length, 11 digits included, so an 11-digit number does not prove
// a CPF), and Latvia's personas kods (codes issued since 2017 carry no
// check digit).
func rows() []row {
	id, pp, ip := passport.TypeIdentityCard, passport.TypePassport, passport.TypeInternalPassport
	return []row{
		// Germany: the serial number of the identity card (since 2010) and
		// the passport (since 2007) is 9 characters of
		// 0-9 C F G H J K L M N P R T V W X Y Z (Personalausweisverordnung
		// Anhang 3; Passverordnung Anhang); the card prints it without the
		// MRZ check digit (ICAO 9303 7-3-1). Lenient: the temporary
		// documents use other alphabets.
		{"DE", types(id, pp), false, []form{
			{"serial number with its MRZ check digit", "[CFGHJKLMNPRTVWXYZ][0-9CFGHJKLMNPRTVWXYZ]{8}[0-9]", mrzDocumentNumber},
		}},
		// Netherlands: the document number is 9 characters, two letters,
		// six letters or digits, one digit, never the letter O (Rijksdienst
		// voor Identiteitsgegevens, "Documentnummer paspoort en
		// identiteitskaart", since 2014); the BSN printed on both passes
		// the elfproef (Wet algemene bepalingen burgerservicenummer).
		{"NL", types(id, pp), false, []form{
			{"document number with its MRZ check digit", "[A-NP-Z]{2}[0-9A-NP-Z]{6}[0-9]{2}", mrzDocumentNumber},
			{"burgerservicenummer", "[0-9]{9}", dutchBSN},
		}},
		// Spain: the DNI card carries the DNI number (8 digits and the
		// control letter) and the card's support number IDESP (3 letters, 6
		// digits); foreigners' cards the NIE (Real Decreto 1553/2005;
		// Ministerio del Interior, "Cálculo del dígito de control del
		// NIF/NIE"). Strict: every DNI card in circulation has these forms.
		// The DNI's leading zero is often left out: 7 digits are the same
		// number.
		{"ES", types(id), true, []form{
			{"DNI", "[0-9]{7,8}[A-Z]", spanishLetter},
			{"NIE", "[XYZ][0-9]{7}[A-Z]", spanishLetter},
			{"support number", "[A-Z]{3}[0-9]{6}", nil},
		}},
		// Spanish passports print the holder's DNI too.
		{"ES", types(pp), false, []form{
			{"DNI", "[0-9]{7,8}[A-Z]", spanishLetter},
		}},
		// Portugal: the Cartão de Cidadão number DDDDDDDD C AAT (AMA,
		// "Validação de Número de Documento do Cartão de Cidadão", v1.0,
		// 2009). Lenient: the older Bilhete de Identidade, valid for life
		// for some holders, has no such number.
		{"PT", types(id), false, []form{
			{"Cartão de Cidadão number", "[0-9]{7,8}[0-9][0-9A-Z]{2}[0-9]", portugueseCitizenCard},
		}},
		// Poland: the identity card series and number, 3 letters and 6
		// digits, the first digit a check digit (rozporządzenie MSWiA w
		// sprawie wzoru dowodu osobistego); the card also carries the PESEL
		// (ustawa o ewidencji ludności). Strict: every card since 2001.
		{"PL", types(id), true, []form{
			{"series and number", "[A-Z]{3}[0-9]{6}", polishIDCard},
			{"PESEL", "[0-9]{11}", pesel},
		}},
		// Belgium: the eID card number (12 digits, the last two the first
		// ten modulo 97) and the national register number (11 digits, 97
		// check) printed on the card and the passport (FOD Binnenlandse
		// Zaken; wet van 8 augustus 1983 tot regeling van een Rijksregister).
		{"BE", types(id, pp), false, []form{
			{"card number", "[0-9]{12}", belgianCardNumber},
			{"national register number", "[0-9]{11}", belgianNationalNumber},
		}},
		// Estonia: the isikukood on the identity card and the passport
		// (EVS 585:2007 "Isikukood"; Politsei- ja Piirivalveamet). The card
		// number itself (2 letters, 7 digits) has no public check digit.
		{"EE", types(id, pp), false, []form{
			{"isikukood", "[1-8][0-9]{10}", balticPersonalCode},
		}},
		// Lithuania: the asmens kodas on the identity card and the passport
		// (LST 1185 "Asmens kodas", the Estonian scheme; Gyventojų registro
		// įstatymas). Codes beginning with 9 (issued in exceptional cases)
		// are left unchecked.
		{"LT", types(id, pp), false, []form{
			{"asmens kodas", "[1-6][0-9]{10}", balticPersonalCode},
		}},
		// Finland: the henkilötunnus on the identity card and the passport
		// (Digi- ja väestötietovirasto; valtioneuvoston asetus 128/2010 as
		// amended in 2023: century signs + - A and the new Y X W V U, B C D
		// E F; the dash is dropped by normalization).
		{"FI", types(id, pp), false, []form{
			{"henkilötunnus", "[0-9]{6}[+A-FU-Y]?[0-9]{3}[0-9A-FHJ-NPR-Y]", finnishIdentityCode},
		}},
		// Sweden: the personnummer or samordningsnummer on the identity
		// card and the passport (Skatteverket, SKV 704; Luhn check digit).
		{"SE", types(id, pp), false, []form{
			{"personnummer", "([0-9]{2})?[0-9]{6}[+]?[0-9]{4}", swedishPersonalNumber},
		}},
		// China: the resident identity card carries the 18-character
		// citizen identity number (GB 11643-1999, ISO 7064 MOD 11-2).
		// Strict: the 15-digit first-generation cards lost validity in 2013.
		{"CN", types(id), true, []form{
			{"citizen identity number", "[0-9]{17}[0-9X]", chineseResidentID},
		}},
		// Türkiye: the T.C. kimlik numarası on the identity card and the
		// passport (Nüfus ve Vatandaşlık İşleri Genel Müdürlüğü).
		{"TR", types(id, pp), false, []form{
			{"T.C. kimlik numarası", "[0-9]{11}", turkishIdentityNumber},
		}},
		// India: the Aadhaar number, 12 digits, not beginning with 0 or 1,
		// the last a Verhoeff check digit (UIDAI, "Aadhaar number"; Aadhaar
		// (Enrolment and Update) Regulations 2016). Lenient: voter and
		// other cards have other numbers.
		{"IN", types(id), false, []form{
			{"Aadhaar number", "[2-9][0-9]{11}", verhoeff},
		}},
		// Russia: the internal passport's series (4 digits) and number (6
		// digits), the international passport's series (2) and number (7)
		// (Положение о паспорте гражданина Российской Федерации, approved by
		// the Government of the Russian Federation, first as No. 828 of
		// 8 July 1997; the description of the form of the passport for
		// travel abroad, МИД and МВД). No check digit.
		{"RU", types(ip), true, []form{{"series and number", "[0-9]{10}", nil}}},
		// Russians often share the internal passport as "passport": its
		// series and number are not wrong for a Russian passport either.
		{"RU", types(pp), true, []form{
			{"series and number", "[0-9]{9}", nil},
			{"internal passport series and number", "[0-9]{10}", nil},
		}},
	}
}

func types(t ...passport.ElementType) []passport.ElementType { return t }
