//! The YAML of Django fixtures, as the `uzbekistan` package ships them: a list of records
//!
//! ```yaml
//! - model: uzbekistan.region
//!   pk: 1
//!   fields:
//!     name_uz: Andijon viloyati
//! ```
//!
//! Only this shape is read (a list of mappings with `model`, `pk` and a one-level `fields`
//! mapping of scalars); anything else is an error naming its line, so a changed file is noticed
//! rather than misread. Scalars may be plain, 'single-quoted' or "double-quoted".
use std::collections::BTreeMap;

use crate::RegistryError;

/// One record of a fixture file.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub model: String,
    pub pk: i64,
    /// Field values; YAML nulls (`null`, `~`, nothing) are `None`.
    pub fields: BTreeMap<String, Option<String>>,
    /// The line the record starts on (1-based).
    pub line: usize,
}

impl Record {
    /// A field that must be present and not null.
    pub fn text(&self, file: &str, key: &str) -> Result<&str, RegistryError> {
        match self.fields.get(key) {
            Some(Some(v)) if !v.trim().is_empty() => Ok(v.as_str()),
            _ => Err(RegistryError::at(
                file,
                self.line,
                format!("record pk {} has no {key:?}", self.pk),
            )),
        }
    }

    /// A field that must be a whole number.
    pub fn int(&self, file: &str, key: &str) -> Result<i64, RegistryError> {
        let v = self.text(file, key)?;
        v.parse().map_err(|_| {
            RegistryError::at(
                file,
                self.line,
                format!("record pk {}: {key} = {v:?} is not a whole number", self.pk),
            )
        })
    }
}

/// Reads a fixture file; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<Record>, RegistryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<Record> = Vec::new();
    let mut in_fields = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |m: String| RegistryError::at(file, line, m);
        let content = raw.trim_end();
        if content.trim().is_empty() || content.trim_start().starts_with('#') || content == "---" {
            continue;
        }
        let indent = content.len() - content.trim_start_matches(' ').len();
        let body = &content[indent..];
        if body.starts_with('\t') {
            return Err(err("tabs are not allowed for indentation in YAML".into()));
        }
        let (indent, body, new_record) = match body.strip_prefix("- ") {
            Some(rest) if indent == 0 => (2, rest.trim_start(), true),
            _ => (indent, body, false),
        };
        if new_record {
            out.push(Record {
                model: String::new(),
                pk: 0,
                fields: BTreeMap::new(),
                line,
            });
            in_fields = false;
        }
        let Some(rec) = out.last_mut() else {
            return Err(err(format!(
                "expected a list item (\"- model: ...\"), found {body:?}"
            )));
        };
        let (key, value) = split_key(body).ok_or_else(|| {
            err(format!(
                "expected \"key: value\", found {body:?} (only Django fixture records are read)"
            ))
        })?;
        match indent {
            2 => {
                in_fields = false;
                match key {
                    "model" => rec.model = scalar(value).map_err(&err)?.unwrap_or_default(),
                    "pk" => {
                        let v = scalar(value).map_err(&err)?.unwrap_or_default();
                        rec.pk = v
                            .parse()
                            .map_err(|_| err(format!("pk {v:?} is not a whole number")))?;
                    }
                    "fields" if value.is_empty() => in_fields = true,
                    "fields" => {
                        return Err(err(
                            "\"fields:\" must be followed by an indented mapping".into()
                        ));
                    }
                    other => {
                        return Err(err(format!(
                            "unexpected key {other:?} in a record (expected model, pk, fields)"
                        )));
                    }
                }
            }
            4 if in_fields => {
                let v = scalar(value).map_err(&err)?;
                if rec.fields.insert(key.to_owned(), v).is_some() {
                    return Err(err(format!("field {key:?} appears twice in one record")));
                }
            }
            _ => {
                return Err(err(format!(
                    "unexpected indentation of {indent} spaces (records use 2, their fields 4)"
                )));
            }
        }
    }
    for r in &out {
        if r.model.is_empty() {
            return Err(RegistryError::at(
                file,
                r.line,
                "a record has no model".into(),
            ));
        }
    }
    Ok(out)
}

fn split_key(body: &str) -> Option<(&str, &str)> {
    let (k, v) = body.split_once(':')?;
    let k = k.trim();
    if k.is_empty()
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return None;
    }
    if !(v.is_empty() || v.starts_with(' ')) {
        return None;
    }
    Some((k, v.trim()))
}

/// A scalar value: `None` for a YAML null.
fn scalar(v: &str) -> Result<Option<String>, String> {
    if v.is_empty() || v == "~" || v == "null" || v == "Null" || v == "NULL" {
        return Ok(None);
    }
    if let Some(inner) = v.strip_prefix('\'') {
        let inner = inner
            .strip_suffix('\'')
            .ok_or_else(|| format!("unterminated single-quoted value {v:?}"))?;
        return Ok(Some(inner.replace("''", "'")));
    }
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| format!("unterminated double-quoted value {v:?}"))?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let c = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("bad \\u escape in {v:?}"))?;
                    out.push(c);
                }
                other => return Err(format!("unsupported escape \\{other:?} in {v:?}")),
            }
        }
        return Ok(Some(out));
    }
    if v.starts_with(['[', '{', '&', '*', '!', '|', '>']) {
        return Err(format!(
            "the value {v:?} uses YAML that fixture records do not (flow, anchor, tag or block scalar)"
        ));
    }
    // A plain scalar ends at " #" (a comment).
    let v = v.split(" #").next().unwrap_or(v).trim_end();
    Ok(Some(v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records_with_plain_and_quoted_scalars() {
        let text = "- model: uzbekistan.region\n  pk: 14\n  fields:\n    name_uz: Mirzo Ulug'bek tumani\n    name_oz: 'Qo''qon'\n    name_ru: \"Город \\\"Ташкент\\\"\"\n    name_en: ~\n- model: uzbekistan.region\n  pk: 2\n  fields:\n    name_uz: Andijon # comment\n";
        let r = parse("t.yaml", text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].pk, 14);
        assert_eq!(r[0].model, "uzbekistan.region");
        assert_eq!(
            r[0].fields["name_uz"].as_deref(),
            Some("Mirzo Ulug'bek tumani")
        );
        assert_eq!(r[0].fields["name_oz"].as_deref(), Some("Qo'qon"));
        assert_eq!(r[0].fields["name_ru"].as_deref(), Some("Город \"Ташкент\""));
        assert_eq!(r[0].fields["name_en"], None);
        assert_eq!(r[1].fields["name_uz"].as_deref(), Some("Andijon"));
        assert_eq!(r[1].line, 8);
    }

    #[test]
    fn refuses_other_yaml_naming_the_line() {
        for (text, line, what) in [
            ("- model: x\n  pk: one\n", 2, "not a whole number"),
            (
                "- model: x\n  pk: 1\n  fields:\n      deep: 1\n",
                4,
                "indentation",
            ),
            ("- model: x\n  pk: 1\n  colour: red\n", 3, "unexpected key"),
            ("- model: x\n  fields:\n    a: [1, 2]\n", 3, "flow"),
            ("name: x\n", 1, "list item"),
            ("- model: x\n  fields:\n    a: 1\n    a: 2\n", 4, "twice"),
            ("- model: x\n  fields:\n    a: 'open\n", 3, "unterminated"),
        ] {
            let e = parse("f.yaml", text).unwrap_err().to_string();
            assert!(
                e.contains(&format!("f.yaml line {line}")) && e.contains(what),
                "{text:?}: {e}"
            );
        }
    }
}
