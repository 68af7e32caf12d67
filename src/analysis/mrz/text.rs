//! The machine-readable zone as text: its three ICAO 9303 formats, their fields and check digits.
//!
//! Hand-written: the check-digit rule is ten lines, and the fields this project reads (which field a
//! digit guards, the issuing state and document number it keys reuse on) are not what the `mrz`
//! crate exposes.

/// The ICAO 9303 formats of a machine-readable zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MrzFormat {
    /// ID-1 cards: three lines of 30 characters.
    Td1,
    /// ID-2 cards and visas: two lines of 36.
    Td2,
    /// Passport data pages (ID-3): two lines of 44.
    Td3,
}

impl MrzFormat {
    /// Every format, the reader tries each.
    pub const ALL: [MrzFormat; 3] = [MrzFormat::Td1, MrzFormat::Td2, MrzFormat::Td3];

    /// Lines and characters per line.
    pub fn shape(self) -> (usize, usize) {
        match self {
            MrzFormat::Td1 => (3, 30),
            MrzFormat::Td2 => (2, 36),
            MrzFormat::Td3 => (2, 44),
        }
    }

    /// Stable name (`td1`, `td2`, `td3`).
    pub fn as_str(self) -> &'static str {
        match self {
            MrzFormat::Td1 => "td1",
            MrzFormat::Td2 => "td2",
            MrzFormat::Td3 => "td3",
        }
    }

    /// What each position may hold, line after line, from the format's field layout: the reader
    /// only weighs characters a position can carry (a date holds digits, a state letters).
    pub fn alphabet(self) -> Vec<Alphabet> {
        let (lines, width) = self.shape();
        let mut kinds = vec![Alphabet::Any; lines * width];
        let mut set = |line: usize, from: usize, to: usize, kind: Alphabet| {
            kinds[line * width + from..line * width + to].iter_mut().for_each(|k| *k = kind);
        };
        match self {
            MrzFormat::Td1 => {
                set(0, 0, 5, Alphabet::Letters);
                set(0, 14, 15, Alphabet::Digits);
                set(1, 0, 7, Alphabet::Digits);
                set(1, 7, 8, Alphabet::Letters);
                set(1, 8, 15, Alphabet::Digits);
                set(1, 15, 18, Alphabet::Letters);
                set(1, 29, 30, Alphabet::Digits);
                set(2, 0, 30, Alphabet::Letters);
            }
            MrzFormat::Td2 | MrzFormat::Td3 => {
                let width = self.shape().1;
                set(0, 0, width, Alphabet::Letters);
                set(1, 9, 10, Alphabet::Digits);
                set(1, 10, 13, Alphabet::Letters);
                set(1, 13, 20, Alphabet::Digits);
                set(1, 20, 21, Alphabet::Letters);
                set(1, 21, 28, Alphabet::Digits);
                set(1, width - 1, width, Alphabet::Digits);
                if self == MrzFormat::Td3 {
                    set(1, 42, 43, Alphabet::Digits);
                }
            }
        }
        kinds
    }
}

/// The characters a position of the zone may hold (the filler `<` always may).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    /// Digits and the filler.
    Digits,
    /// Letters and the filler.
    Letters,
    /// Digits, letters and the filler.
    Any,
}

impl Alphabet {
    /// Whether `c` may stand at such a position.
    pub fn admits(self, c: char) -> bool {
        match self {
            Alphabet::Digits => c.is_ascii_digit() || c == '<',
            Alphabet::Letters => c.is_ascii_uppercase() || c == '<',
            Alphabet::Any => c.is_ascii_digit() || c.is_ascii_uppercase() || c == '<',
        }
    }
}

/// The ICAO 9303 check digit of `field`: weights 7, 3, 1 repeating over the character values
/// (digits as themselves, `A`–`Z` as 10–35, `<` as 0), modulo 10. `None` for a character outside
/// the MRZ alphabet.
pub fn check_digit(field: &str) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (index, c) in field.chars().enumerate() {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            '<' => 0,
            _ => return None,
        };
        sum += value * WEIGHTS[index % 3];
    }
    Some((sum % 10) as u8)
}

/// One check digit of a zone and what it guards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedField {
    /// Stable name: `document_number`, `birth_date`, `expiry_date`, `optional_data`, `composite`.
    pub field: &'static str,
    /// The digit printed in the zone (`<` for an empty optional field).
    pub printed: char,
    /// The digit the guarded characters give.
    pub computed: u8,
    /// Positions (line, column) of the guarded characters and of the digit itself.
    pub positions: Vec<(usize, usize)>,
}

impl CheckedField {
    /// Whether the printed digit agrees with the computed one. An empty optional field may print
    /// `<` for its digit.
    pub fn passes(&self) -> bool {
        self.printed.to_digit(10) == Some(u32::from(self.computed))
            || (self.printed == '<' && self.computed == 0)
    }
}

/// A zone read as text, with its check digits computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrzText {
    /// Its format.
    pub format: MrzFormat,
    /// Its lines, each exactly as wide as the format says.
    pub lines: Vec<String>,
}

/// Text that is not a zone of any format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzTextError {
    /// The line count and widths fit no format.
    #[error("{lines} lines of {widths:?} characters fit no MRZ format")]
    Shape {
        /// How many lines.
        lines: usize,
        /// Their widths.
        widths: Vec<usize>,
    },
    /// A character outside `0-9`, `A-Z`, `<`.
    #[error("character {found:?} at line {line}, column {column} is not in the MRZ alphabet")]
    Character {
        /// The character.
        found: char,
        /// Its line, from 1.
        line: usize,
        /// Its column, from 1.
        column: usize,
    },
}

impl MrzText {
    /// Reads zone text, one line per line of the zone (surrounding blank lines and spaces ignored).
    pub fn parse(text: &str) -> Result<Self, MrzTextError> {
        let lines: Vec<String> =
            text.lines().map(|line| line.trim().to_owned()).filter(|line| !line.is_empty()).collect();
        let widths: Vec<usize> = lines.iter().map(|line| line.chars().count()).collect();
        let format = MrzFormat::ALL
            .into_iter()
            .find(|format| {
                let (count, width) = format.shape();
                lines.len() == count && widths.iter().all(|&w| w == width)
            })
            .ok_or(MrzTextError::Shape { lines: lines.len(), widths })?;
        for (line_index, line) in lines.iter().enumerate() {
            if let Some((column, found)) = line.chars().enumerate().find(|(_, c)| !Alphabet::Any.admits(*c)) {
                return Err(MrzTextError::Character { found, line: line_index + 1, column: column + 1 });
            }
        }
        Ok(MrzText { format, lines })
    }

    fn chars(&self, line: usize) -> Vec<char> {
        self.lines[line].chars().collect()
    }

    /// Characters `from..to` of `line`.
    fn slice(&self, line: usize, from: usize, to: usize) -> String {
        self.chars(line)[from..to].iter().collect()
    }

    /// The issuing state or organisation (three letters, fillers trimmed).
    pub fn issuing_state(&self) -> String {
        self.slice(0, 2, 5).trim_end_matches('<').to_owned()
    }

    /// The document number as printed, fillers trimmed; a TD1 number longer than nine characters
    /// continues in the optional data (ICAO 9303 part 5, note j).
    pub fn document_number(&self) -> String {
        let (line, from) = self.document_number_start();
        let (number, _) = self.document_number_span(line, from);
        number.iter().collect::<String>().replace('<', "")
    }

    fn document_number_start(&self) -> (usize, usize) {
        match self.format {
            MrzFormat::Td1 => (0, 5),
            MrzFormat::Td2 | MrzFormat::Td3 => (1, 0),
        }
    }

    /// The document number's characters and the column of its check digit.
    fn document_number_span(&self, line: usize, from: usize) -> (Vec<char>, usize) {
        let chars = self.chars(line);
        let mut number: Vec<char> = chars[from..from + 9].to_vec();
        let digit_at = from + 9;
        if self.format == MrzFormat::Td1 && chars[digit_at] == '<' {
            // Long number: the rest up to the first filler of the optional data, whose last
            // character is the check digit.
            let rest: Vec<char> = chars[digit_at + 1..].iter().copied().take_while(|&c| c != '<').collect();
            if rest.len() >= 2 {
                number.extend_from_slice(&rest[..rest.len() - 1]);
                return (number, digit_at + rest.len());
            }
        }
        (number, digit_at)
    }

    /// Every check digit of the zone, in reading order.
    pub fn checked_fields(&self) -> Vec<CheckedField> {
        let field = |name: &'static str, spans: &[(usize, usize, usize)], digit: (usize, usize)| {
            let guarded: String = spans.iter().map(|&(line, from, to)| self.slice(line, from, to)).collect();
            let mut positions: Vec<(usize, usize)> =
                spans.iter().flat_map(|&(line, from, to)| (from..to).map(move |c| (line, c))).collect();
            positions.push(digit);
            CheckedField {
                field: name,
                printed: self.chars(digit.0)[digit.1],
                computed: check_digit(&guarded).expect("parsed text holds only MRZ characters"),
                positions,
            }
        };
        let (number_line, number_from) = self.document_number_start();
        let (_, number_digit) = self.document_number_span(number_line, number_from);
        let number = field(
            "document_number",
            &[(number_line, number_from, number_digit)],
            (number_line, number_digit),
        );
        match self.format {
            MrzFormat::Td1 => vec![
                number,
                field("birth_date", &[(1, 0, 6)], (1, 6)),
                field("expiry_date", &[(1, 8, 14)], (1, 14)),
                field("composite", &[(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)], (1, 29)),
            ],
            MrzFormat::Td2 => vec![
                number,
                field("birth_date", &[(1, 13, 19)], (1, 19)),
                field("expiry_date", &[(1, 21, 27)], (1, 27)),
                field("composite", &[(1, 0, 10), (1, 13, 20), (1, 21, 35)], (1, 35)),
            ],
            MrzFormat::Td3 => vec![
                number,
                field("birth_date", &[(1, 13, 19)], (1, 19)),
                field("expiry_date", &[(1, 21, 27)], (1, 27)),
                field("optional_data", &[(1, 28, 42)], (1, 42)),
                field("composite", &[(1, 0, 10), (1, 13, 20), (1, 21, 43)], (1, 43)),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specimens of ICAO Doc 9303 (8th edition): part 4 (TD3), part 5 (TD1), part 6 (TD2).
    const ICAO_TD1: &str =
        "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";
    const ICAO_TD2: &str = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6";
    const ICAO_TD3: &str =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    #[test]
    fn check_digits_follow_the_icao_rule() {
        assert_eq!(check_digit("D23145890"), Some(7));
        assert_eq!(check_digit("L898902C3"), Some(6));
        assert_eq!(check_digit("740812"), Some(2));
        assert_eq!(check_digit("<<<<<<"), Some(0));
        assert_eq!(check_digit("a"), None);
    }

    #[test]
    fn the_icao_specimens_pass_every_check_digit() {
        for (text, format, fields) in
            [(ICAO_TD1, MrzFormat::Td1, 4), (ICAO_TD2, MrzFormat::Td2, 4), (ICAO_TD3, MrzFormat::Td3, 5)]
        {
            let mrz = MrzText::parse(text).unwrap();
            assert_eq!(mrz.format, format);
            let checked = mrz.checked_fields();
            assert_eq!(checked.len(), fields);
            assert!(checked.iter().all(CheckedField::passes), "{format:?}: {checked:?}");
            assert_eq!(mrz.issuing_state(), "UTO");
        }
        assert_eq!(MrzText::parse(ICAO_TD3).unwrap().document_number(), "L898902C3");
        assert_eq!(MrzText::parse(ICAO_TD1).unwrap().document_number(), "D23145890");
    }

    #[test]
    fn one_altered_digit_fails_its_field_and_the_composite() {
        let altered = ICAO_TD3.replace("7408122", "7409122");
        let failing: Vec<&str> = MrzText::parse(&altered)
            .unwrap()
            .checked_fields()
            .into_iter()
            .filter(|field| !field.passes())
            .map(|field| field.field)
            .collect();
        assert_eq!(failing, ["birth_date", "composite"]);
    }

    #[test]
    fn a_long_td1_document_number_continues_in_the_optional_data() {
        // ICAO 9303 part 5's example of a 12-character number: D23145890 + 734, check digit 9.
        let number = "D23145890734";
        let digit = check_digit(number).unwrap();
        let line1 = format!("I<UTOD23145890<734{digit}<<<<<<<<<<<");
        let line2 = "7408122F1204159UTO<<<<<<<<<<<0";
        let mut mrz = MrzText::parse(&format!("{line1}\n{line2}\nERIKSSON<<ANNA<MARIA<<<<<<<<<<")).unwrap();
        assert_eq!(mrz.document_number(), number);
        let composite = mrz.checked_fields().pop().unwrap();
        mrz.lines[1].replace_range(29..30, &composite.computed.to_string());
        assert!(mrz.checked_fields().iter().all(CheckedField::passes));
    }

    #[test]
    fn text_of_no_format_is_refused_with_its_shape() {
        assert!(matches!(MrzText::parse("ABC\nDEF"), Err(MrzTextError::Shape { lines: 2, .. })));
        let lower = ICAO_TD2.replacen('I', "i", 1);
        assert_eq!(MrzText::parse(&lower), Err(MrzTextError::Character { found: 'i', line: 1, column: 1 }));
    }
}
