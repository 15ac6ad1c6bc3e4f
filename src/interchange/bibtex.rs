//! A bibliography in: each BibTeX/BibLaTeX entry becomes a `Source` node, so that facts can
//! cite it by its key. Parsing is the `biblatex` crate's.
//!
//! A node gets the entry's key as its id and as its `key` property, and these properties
//! when the entry has them: `type` (article, book, …), `authors` (family names first, `; `
//! between people), `editors`, `year`, `date` (EDTF, when more precise than a year), `title`,
//! `venue` (journal, book or publisher, whichever the entry has), `volume`, `issue`, `pages`,
//! `doi`, `url`, `publisher`, `note`. A file is one transaction: all of it lands, or none.

use biblatex::{Bibliography, ChunksExt, Entry};

use crate::db::Database;
use crate::error::InterchangeError;
use crate::event::{Event, Name, Props, TxHeader, TxMeta};
use crate::log::Log;
use crate::time::{Date, ValidTime};
use crate::value::Value;

/// The `Source` nodes a bibliography describes, in file order.
///
/// # Errors
/// A syntax error, with its line; an entry without a key.
pub fn sources_from_bib(text: &str, file: &str) -> Result<Vec<Event>, InterchangeError> {
    let bib = Bibliography::parse(text).map_err(|e| InterchangeError::Line {
        file: file.to_owned(),
        line: line_of(text, e.span.start),
        detail: format!("not BibTeX: {}", e.kind),
    })?;
    Ok(bib.iter().map(source_event).collect())
}

/// Imports a bibliography as one transaction of `Source` nodes.
///
/// # Errors
/// As [`sources_from_bib`]; a key that a Source already has (nothing is written then).
pub fn import_bib<L: Log>(
    db: &mut Database<L>,
    text: &str,
    file: &str,
    meta: TxMeta,
) -> Result<TxHeader, InterchangeError> {
    let events = sources_from_bib(text, file)?;
    let headers = db.commit_batch([(meta, events)])?;
    headers
        .into_iter()
        .next()
        .ok_or_else(|| InterchangeError::Io {
            file: file.to_owned(),
            detail: "nothing was imported".into(),
        })
}

fn line_of(text: &str, offset: usize) -> u64 {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    before.matches('\n').count() as u64 + 1
}

fn field(entry: &Entry, name: &str) -> Option<String> {
    let value = entry.get(name)?.format_verbatim();
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    (!value.is_empty()).then_some(value)
}

fn people(entry: &Entry, name: &str) -> Option<String> {
    let persons = entry.get_as::<Vec<biblatex::Person>>(name).ok()?;
    if persons.is_empty() {
        return None;
    }
    let names: Vec<String> = persons
        .iter()
        .map(|p| {
            let family = [p.prefix.as_str(), p.name.as_str(), p.suffix.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            if p.given_name.is_empty() {
                family
            } else {
                format!("{family}, {}", p.given_name)
            }
        })
        .collect();
    Some(names.join("; "))
}

fn source_event(entry: &Entry) -> Event {
    let mut props: Props = vec![(Name::new("key"), Value::str(&entry.key))];
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            props.push((Name::new(k), v));
        }
    };
    let text = |s: Option<String>| s.map(|s| Value::Str(Name::new(s)));
    put(
        "type",
        Some(Value::str(
            &format!("{:?}", entry.entry_type).to_lowercase(),
        )),
    );
    put("authors", text(people(entry, "author")));
    put("editors", text(people(entry, "editor")));
    let date = field(entry, "date");
    let year = date
        .as_deref()
        .or(field(entry, "year").as_deref())
        .and_then(|d| d.get(..4).and_then(|y| y.parse::<i64>().ok()));
    put("year", year.map(Value::Int));
    // A date more precise than the year is kept, in EDTF.
    if let Some(d) = date.as_deref().filter(|d| d.len() > 4) {
        put("date", Date::parse(d).ok().map(Value::Date));
    }
    put("title", text(field(entry, "title")));
    let venue = [
        "journaltitle",
        "journal",
        "booktitle",
        "publisher",
        "institution",
    ]
    .iter()
    .find_map(|f| field(entry, f));
    put("venue", text(venue));
    put("volume", text(field(entry, "volume")));
    put(
        "issue",
        text(field(entry, "number").or(field(entry, "issue"))),
    );
    put(
        "pages",
        text(field(entry, "pages").map(|p| p.replace("--", "–"))),
    );
    put("doi", text(field(entry, "doi")));
    put("url", text(field(entry, "url")));
    put("publisher", text(field(entry, "publisher")));
    put("note", text(field(entry, "note")));
    Event::NodeAdded {
        id: Name::new(&entry.key),
        labels: [Name::new("Source")].into_iter().collect(),
        props,
        valid: ValidTime::ALWAYS,
        sources: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_becomes_a_source_node_with_its_fields() {
        let bib = r#"@article{chan2019,
  author = {Chan, Wai Yin and {{Bantenprov}}},
  title = {The soft power and paradiplomacy of {Hong Kong}},
  journaltitle = {Asian Education and Development Studies},
  date = {2019},
  volume = {8}, number = {2}, pages = {161--172},
  doi = {10.1108/AEDS-02-2018-0037},
}"#;
        let events = sources_from_bib(bib, "t.bib").unwrap();
        let Event::NodeAdded {
            id, labels, props, ..
        } = &events[0]
        else {
            panic!()
        };
        assert_eq!(id.as_str(), "chan2019");
        assert_eq!(labels[0].as_str(), "Source");
        let get = |k: &str| {
            props.iter().find(|(n, _)| n == k).map(|(_, v)| match v {
                Value::Str(s) => s.to_string(),
                other => other.to_string(),
            })
        };
        assert_eq!(get("key").as_deref(), Some("chan2019"));
        assert_eq!(get("year").as_deref(), Some("2019"));
        assert_eq!(get("pages").as_deref(), Some("161–172"));
        assert_eq!(
            get("venue").as_deref(),
            Some("Asian Education and Development Studies")
        );
        assert!(get("authors").unwrap().starts_with("Chan, Wai Yin; "));
        assert!(get("title").unwrap().contains("Hong Kong"));
    }

    #[test]
    fn broken_bibtex_names_its_line() {
        let e = sources_from_bib(
            "@article{a, title = {x}}\n\n@book{b, title = {unclosed\n",
            "r.bib",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("r.bib:"), "{text}");
    }
}
