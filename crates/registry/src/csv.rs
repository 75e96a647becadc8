//! CSV as spreadsheets write it (RFC 4180): fields separated by `,` (or `;`, which spreadsheets
//! in Russian and Uzbek locales write), `"quoted"` fields holding separators, newlines and `""`
//! for a quote, CRLF or LF line ends, an optional UTF-8 byte-order mark.

/// One record and the spreadsheet row it is (the header is row 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub row: usize,
    pub fields: Vec<String>,
}

/// A record that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvError {
    pub row: usize,
    pub message: String,
}

/// The separator the header line uses: `;` when it has semicolons and no commas, else `,`.
pub fn sniff_separator(text: &str) -> char {
    let header = text.lines().next().unwrap_or("");
    if header.contains(';') && !header.contains(',') {
        ';'
    } else {
        ','
    }
}

/// Splits `text` into records. Blank lines are skipped (they still count as rows).
pub fn parse(text: &str, sep: char) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut row = 1;
    while chars.peek().is_some() {
        let start_row = row;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        loop {
            let Some(c) = chars.next() else {
                if quoted {
                    return Err(CsvError {
                        row: start_row,
                        message: "a quoted field is not closed: a '\"' is missing".into(),
                    });
                }
                fields.push(std::mem::take(&mut field));
                break;
            };
            if quoted {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    '\n' => {
                        row += 1;
                        field.push('\n');
                    }
                    c => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                '"' => {
                    return Err(CsvError {
                        row: start_row,
                        message: "a '\"' inside an unquoted field; quote the whole field and double the inner quotes".into(),
                    });
                }
                c if c == sep => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    row += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                c if was_quoted && !c.is_whitespace() => {
                    return Err(CsvError {
                        row: start_row,
                        message: format!("text {c:?} after a quoted field's closing quote"),
                    });
                }
                c => {
                    if !was_quoted {
                        field.push(c);
                    }
                }
            }
        }
        if !(fields.len() == 1 && fields[0].trim().is_empty() && !was_quoted) {
            out.push(Record {
                row: start_row,
                fields,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_separators_and_newlines() {
        let text = "\u{feff}name,district,population\r\n\"Bog'i, shamol\",Chilonzor,1200\r\n\r\n\"Say \"\"hi\"\"\nthere\",2,\n";
        let r = parse(text, sniff_separator(text)).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].fields, ["name", "district", "population"]);
        assert_eq!(r[1].row, 2);
        assert_eq!(r[1].fields, ["Bog'i, shamol", "Chilonzor", "1200"]);
        assert_eq!(r[2].row, 4, "the blank line is row 3");
        assert_eq!(r[2].fields, ["Say \"hi\"\nthere", "2", ""]);
    }

    #[test]
    fn semicolons_are_sniffed() {
        let text = "name;district\nA;1\n";
        assert_eq!(sniff_separator(text), ';');
        assert_eq!(parse(text, ';').unwrap()[1].fields, ["A", "1"]);
    }

    #[test]
    fn broken_quotes_name_the_row() {
        let e = parse("a,b\n1,\"open\n2,3\n", ',').unwrap_err();
        assert_eq!(e.row, 2);
        assert!(e.message.contains("not closed"));
        let e = parse("a,b\nx\"y,1\n", ',').unwrap_err();
        assert_eq!(e.row, 2);
        let e = parse("a,b\n\"x\"y,1\n", ',').unwrap_err();
        assert!(e.message.contains("after a quoted field"), "{e:?}");
    }
}
