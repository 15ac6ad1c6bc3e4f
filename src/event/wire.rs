//! Versioned wire types: the only serialized form of events and transaction headers.
//!
//! Every stored record starts with one byte, its format version, followed by the record in
//! MessagePack (rmp-serde). Reading a record dispatches on that byte and upcasts older
//! versions to the current domain types, so logs written by older releases stay readable
//! (`tests/golden/` holds a log that must decode forever). The same wire types, through
//! serde_json, give the JSON Lines export: binary formats store dates and timestamps as
//! packed integers, human-readable ones as EDTF and RFC 3339 text.
//!
//! To change the format: add `v2` types and a `FORMAT_VERSION` bump, keep `v1` decoding,
//! and convert v1 records to the domain types as before. Bump the log's `LOG_FORMAT`
//! (`log/redb.rs`) too, and mark a file with it when it first stores a v2 record: a file's
//! format is what lets an older build refuse it instead of reading v2 records as damage.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use super::{Event, Name, Names, Props, Target, TxHeader, TxMeta};
use crate::time::packed::{pack_bound, pack_date, unpack_bound, unpack_date};
use crate::time::{Date, Timestamp, TxId, ValidTime};
use crate::value::Value;

/// The record format this build writes. It reads every version up to this one.
pub const FORMAT_VERSION: u8 = 1;

/// Encodes an event as a stored record: version byte, then MessagePack.
///
/// # Errors
/// When the encoder fails (it does not for well-formed events).
pub fn encode_event(event: &Event) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    encode_event_into(event, &mut out)?;
    Ok(out)
}

/// Appends an event's stored record (version byte, then MessagePack) to `out`, as
/// [`encode_event`] would return it. On an error, `out` may hold part of the record.
///
/// # Errors
/// When the encoder fails (it does not for well-formed events).
pub fn encode_event_into(event: &Event, out: &mut Vec<u8>) -> Result<(), String> {
    out.push(FORMAT_VERSION);
    rmp_serde::encode::write(out, &EventV1::from_domain(event)).map_err(|e| e.to_string())
}

/// Decodes a stored event record of any supported version.
///
/// # Errors
/// A description of what is wrong with the bytes.
pub fn decode_event(bytes: &[u8]) -> Result<Event, String> {
    match split_version(bytes)? {
        (1, body) => rmp_serde::from_slice::<EventV1<'_>>(body)
            .map_err(|e| format!("undecodable event record: {e}"))?
            .into_domain(),
        (v, _) => Err(unknown_version(v)),
    }
}

/// Encodes a transaction header (without its number, which is the record's key).
///
/// # Errors
/// When the encoder fails.
pub fn encode_header(header: &TxHeader) -> Result<Vec<u8>, String> {
    encode(&HeaderV1::from_domain(header))
}

/// Decodes a stored header record of any supported version.
///
/// # Errors
/// A description of what is wrong with the bytes.
pub fn decode_header(tx: TxId, bytes: &[u8]) -> Result<TxHeader, String> {
    match split_version(bytes)? {
        (1, body) => Ok(rmp_serde::from_slice::<HeaderV1<'_>>(body)
            .map_err(|e| format!("undecodable transaction header: {e}"))?
            .into_domain(tx)),
        (v, _) => Err(unknown_version(v)),
    }
}

fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, String> {
    let mut out = vec![FORMAT_VERSION];
    rmp_serde::encode::write(&mut out, record).map_err(|e| e.to_string())?;
    Ok(out)
}

fn split_version(bytes: &[u8]) -> Result<(u8, &[u8]), String> {
    bytes
        .split_first()
        .map(|(v, body)| (*v, body))
        .ok_or_else(|| "empty record".to_owned())
}

fn unknown_version(v: u8) -> String {
    format!("record format {v} is newer than this build reads (up to {FORMAT_VERSION})")
}

/// A transaction header, version 1.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct HeaderV1<'a> {
    /// When it was recorded.
    pub recorded_at: TimestampV1,
    /// Who wrote it.
    #[serde(borrow)]
    pub author: Option<Cow<'a, str>>,
    /// Why.
    #[serde(borrow)]
    pub message: Option<Cow<'a, str>>,
    /// How many events follow.
    pub event_count: u64,
}

impl<'a> HeaderV1<'a> {
    /// Borrows a domain header.
    pub fn from_domain(h: &'a TxHeader) -> Self {
        HeaderV1 {
            recorded_at: TimestampV1(h.recorded_at),
            author: h.meta.author.as_deref().map(Cow::Borrowed),
            message: h.meta.message.as_deref().map(Cow::Borrowed),
            event_count: h.event_count,
        }
    }

    /// Converts to the domain header of transaction `tx`.
    pub fn into_domain(self, tx: TxId) -> TxHeader {
        TxHeader {
            tx,
            recorded_at: self.recorded_at.0,
            meta: TxMeta {
                author: self.author.map(Cow::into_owned),
                message: self.message.map(Cow::into_owned),
            },
            event_count: self.event_count,
        }
    }
}

/// An event, version 1. Serialized externally tagged: `{"node_added": {..}}`.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum EventV1<'a> {
    NodeAdded {
        #[serde(borrow)]
        id: Cow<'a, str>,
        #[serde(borrow)]
        labels: Vec<Cow<'a, str>>,
        #[serde(borrow)]
        props: PropsV1<'a>,
        valid: ValidV1,
        #[serde(borrow)]
        sources: Vec<Cow<'a, str>>,
    },
    PropertiesSet {
        #[serde(borrow)]
        target: TargetV1<'a>,
        #[serde(borrow)]
        props: PropsV1<'a>,
        valid: ValidV1,
        #[serde(borrow)]
        sources: Vec<Cow<'a, str>>,
    },
    NodeEnded {
        #[serde(borrow)]
        id: Cow<'a, str>,
        end: DateV1,
        #[serde(borrow)]
        sources: Vec<Cow<'a, str>>,
    },
    EdgeAdded {
        #[serde(borrow)]
        id: Cow<'a, str>,
        #[serde(borrow)]
        rel_type: Cow<'a, str>,
        #[serde(borrow)]
        from: Cow<'a, str>,
        #[serde(borrow)]
        to: Cow<'a, str>,
        #[serde(borrow)]
        props: PropsV1<'a>,
        valid: ValidV1,
        #[serde(borrow)]
        sources: Vec<Cow<'a, str>>,
    },
    EdgeEnded {
        #[serde(borrow)]
        id: Cow<'a, str>,
        end: DateV1,
        #[serde(borrow)]
        sources: Vec<Cow<'a, str>>,
    },
    TxRetracted {
        tx: u64,
        #[serde(borrow)]
        reason: Cow<'a, str>,
    },
}

/// The target of a property change, version 1.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum TargetV1<'a> {
    Node(#[serde(borrow)] Cow<'a, str>),
    Edge(#[serde(borrow)] Cow<'a, str>),
}

fn borrow_all(items: &[Name]) -> Vec<Cow<'_, str>> {
    items.iter().map(|s| Cow::Borrowed(s.as_str())).collect()
}

fn own_all(items: Vec<Cow<'_, str>>) -> Names {
    items.iter().map(Name::new).collect()
}

impl<'a> EventV1<'a> {
    /// Borrows a domain event.
    pub fn from_domain(e: &'a Event) -> Self {
        match e {
            Event::NodeAdded {
                id,
                labels,
                props,
                valid,
                sources,
            } => EventV1::NodeAdded {
                id: Cow::Borrowed(id),
                labels: borrow_all(labels),
                props: PropsV1::from_domain(props),
                valid: ValidV1(*valid),
                sources: borrow_all(sources),
            },
            Event::PropertiesSet {
                target,
                props,
                valid,
                sources,
            } => EventV1::PropertiesSet {
                target: match target {
                    Target::Node(id) => TargetV1::Node(Cow::Borrowed(id)),
                    Target::Edge(id) => TargetV1::Edge(Cow::Borrowed(id)),
                },
                props: PropsV1::from_domain(props),
                valid: ValidV1(*valid),
                sources: borrow_all(sources),
            },
            Event::NodeEnded { id, end, sources } => EventV1::NodeEnded {
                id: Cow::Borrowed(id),
                end: DateV1(*end),
                sources: borrow_all(sources),
            },
            Event::EdgeAdded {
                id,
                rel_type,
                from,
                to,
                props,
                valid,
                sources,
            } => EventV1::EdgeAdded {
                id: Cow::Borrowed(id),
                rel_type: Cow::Borrowed(rel_type),
                from: Cow::Borrowed(from),
                to: Cow::Borrowed(to),
                props: PropsV1::from_domain(props),
                valid: ValidV1(*valid),
                sources: borrow_all(sources),
            },
            Event::EdgeEnded { id, end, sources } => EventV1::EdgeEnded {
                id: Cow::Borrowed(id),
                end: DateV1(*end),
                sources: borrow_all(sources),
            },
            Event::TxRetracted { tx, reason } => EventV1::TxRetracted {
                tx: tx.0,
                reason: Cow::Borrowed(reason),
            },
        }
    }

    /// Converts to the domain event.
    ///
    /// # Errors
    /// Values the domain does not allow (none today: kept for later versions).
    pub fn into_domain(self) -> Result<Event, String> {
        Ok(match self {
            EventV1::NodeAdded {
                id,
                labels,
                props,
                valid,
                sources,
            } => Event::NodeAdded {
                id: Name::new(&id),
                labels: own_all(labels),
                props: props.into_domain(),
                valid: valid.0,
                sources: own_all(sources),
            },
            EventV1::PropertiesSet {
                target,
                props,
                valid,
                sources,
            } => Event::PropertiesSet {
                target: match target {
                    TargetV1::Node(id) => Target::Node(Name::new(&id)),
                    TargetV1::Edge(id) => Target::Edge(Name::new(&id)),
                },
                props: props.into_domain(),
                valid: valid.0,
                sources: own_all(sources),
            },
            EventV1::NodeEnded { id, end, sources } => Event::NodeEnded {
                id: Name::new(&id),
                end: end.0,
                sources: own_all(sources),
            },
            EventV1::EdgeAdded {
                id,
                rel_type,
                from,
                to,
                props,
                valid,
                sources,
            } => Event::EdgeAdded {
                id: Name::new(&id),
                rel_type: Name::new(&rel_type),
                from: Name::new(&from),
                to: Name::new(&to),
                props: props.into_domain(),
                valid: valid.0,
                sources: own_all(sources),
            },
            EventV1::EdgeEnded { id, end, sources } => Event::EdgeEnded {
                id: Name::new(&id),
                end: end.0,
                sources: own_all(sources),
            },
            EventV1::TxRetracted { tx, reason } => Event::TxRetracted {
                tx: TxId(tx),
                reason: reason.into_owned(),
            },
        })
    }
}

/// Properties, version 1: a map that keeps the order it was written in.
#[derive(Debug, PartialEq)]
pub struct PropsV1<'a>(pub Vec<(Cow<'a, str>, ValueV1<'a>)>);

impl<'a> PropsV1<'a> {
    fn from_domain(props: &'a Props) -> Self {
        PropsV1(
            props
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), ValueV1::Borrowed(v)))
                .collect(),
        )
    }

    fn into_domain(self) -> Props {
        self.0
            .into_iter()
            .map(|(k, v)| (Name::new(&k), v.into_value()))
            .collect()
    }
}

impl Serialize for PropsV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for PropsV1<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PropsVisitor;
        impl<'de> Visitor<'de> for PropsVisitor {
            type Value = PropsV1<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of properties")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(key) = map.next_key::<CowStr<'de>>()? {
                    let value = map.next_value::<ValueV1<'de>>()?;
                    out.push((key.0, value));
                }
                Ok(PropsV1(out))
            }
        }
        d.deserialize_map(PropsVisitor)
    }
}

/// A string that borrows from the input when it can (no escapes), and owns it otherwise.
struct CowStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

/// A property value, version 1.
///
/// Encoded as the format's own null, boolean, integer, float, string and array; a date is a
/// one-entry map `{"date": ..}` (EDTF text in JSON, a packed integer in MessagePack).
#[derive(Debug, PartialEq)]
pub enum ValueV1<'a> {
    /// A domain value being written.
    Borrowed(&'a Value),
    /// A value read back, already converted.
    Read(Value),
}

impl ValueV1<'_> {
    fn into_value(self) -> Value {
        match self {
            ValueV1::Borrowed(v) => v.clone(),
            ValueV1::Read(v) => v,
        }
    }
}

struct ValueRef<'v>(&'v Value);

impl Serialize for ValueRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(x) => s.serialize_f64(*x),
            Value::Str(text) => s.serialize_str(text),
            Value::Date(d) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("date", &DateV1(*d))?;
                map.end()
            }
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(&ValueRef(item))?;
                }
                seq.end()
            }
        }
    }
}

impl Serialize for ValueV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ValueV1::Borrowed(v) => ValueRef(v).serialize(s),
            ValueV1::Read(v) => ValueRef(v).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ValueV1<'_> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(ValueV1::Read)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("integer {v} is out of the 64-bit signed range")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<ValueV1<'_>>()? {
            items.push(item.into_value());
        }
        Ok(Value::List(Arc::from(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let key = map.next_key::<CowStr<'de>>()?;
        match key.as_ref().map(|k| k.0.as_ref()) {
            Some("date") => {
                let date = map.next_value::<DateV1>()?;
                if map.next_key::<CowStr<'de>>()?.is_some() {
                    return Err(de::Error::custom("a date value has one entry, `date`"));
                }
                Ok(Value::Date(date.0))
            }
            _ => Err(de::Error::custom(
                "map values are not supported (only `{\"date\": ..}`)",
            )),
        }
    }
}

/// A UTC timestamp: RFC 3339 text in JSON, nanoseconds since the epoch in MessagePack.
#[derive(Debug, PartialEq, Clone, Copy)]
pub struct TimestampV1(pub Timestamp);

impl Serialize for TimestampV1 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(&self.0)
        } else {
            s.serialize_i64(self.0.unix_nanos())
        }
    }
}

impl<'de> Deserialize<'de> for TimestampV1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = CowStr::deserialize(d)?;
            Timestamp::parse(&text.0)
                .map(TimestampV1)
                .map_err(de::Error::custom)
        } else {
            i64::deserialize(d).map(|n| TimestampV1(Timestamp::from_unix_nanos(n)))
        }
    }
}

/// An EDTF date: its text in JSON, a packed `u32` in MessagePack (`time::packed`).
#[derive(Debug, PartialEq, Clone, Copy)]
pub struct DateV1(pub Date);

impl Serialize for DateV1 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(&self.0)
        } else {
            s.serialize_u32(pack_date(self.0))
        }
    }
}

impl<'de> Deserialize<'de> for DateV1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = CowStr::deserialize(d)?;
            Date::parse(&text.0).map(DateV1).map_err(de::Error::custom)
        } else {
            let packed = u32::deserialize(d)?;
            unpack_date(packed)
                .map(DateV1)
                .ok_or_else(|| de::Error::custom(format!("invalid packed date {packed:#x}")))
        }
    }
}

/// A valid time: EDTF text in JSON (`"2007-02-06/.."`), two packed bounds in MessagePack.
#[derive(Debug, PartialEq, Clone, Copy)]
pub struct ValidV1(pub ValidTime);

impl Serialize for ValidV1 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(&self.0)
        } else {
            let mut t = s.serialize_tuple(2)?;
            t.serialize_element(&pack_bound(self.0.from))?;
            t.serialize_element(&pack_bound(self.0.to))?;
            t.end()
        }
    }
}

impl<'de> Deserialize<'de> for ValidV1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = CowStr::deserialize(d)?;
            ValidTime::parse_stored(&text.0)
                .map(ValidV1)
                .map_err(de::Error::custom)
        } else {
            let (a, b) = <(u32, u32)>::deserialize(d)?;
            let bad = || de::Error::custom(format!("invalid packed valid time ({a:#x}, {b:#x})"));
            let from = unpack_bound(a).ok_or_else(bad)?;
            let to = unpack_bound(b).ok_or_else(bad)?;
            // Order was checked when the fact was written; reading does not re-check it.
            Ok(ValidV1(ValidTime { from, to }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_events() -> Vec<Event> {
        vec![
            Event::NodeAdded {
                id: Name::new("banten"),
                labels: smallvec::smallvec!["Actor".into()],
                props: vec![
                    ("name".into(), Value::str("Banten")),
                    (
                        "founded".into(),
                        Value::Date(Date::parse("2000-10").unwrap()),
                    ),
                    ("n".into(), Value::Int(-3)),
                    ("x".into(), Value::Float(0.5)),
                    (
                        "tags".into(),
                        Value::List(Arc::from(vec![Value::Bool(true), Value::Null])),
                    ),
                ],
                valid: ValidTime::parse("2000/..").unwrap(),
                sources: smallvec::smallvec!["syuryansyah2024".into()],
            },
            Event::PropertiesSet {
                target: Target::Edge(Name::new("e\"1")),
                props: vec![("stage".into(), Value::str("MoU \u{1F600}"))],
                valid: ValidTime::parse("2010?/2012-24").unwrap(),
                sources: Names::new(),
            },
            Event::NodeEnded {
                id: Name::new("x"),
                end: Date::parse("19XX").unwrap(),
                sources: Names::new(),
            },
            Event::TxRetracted {
                tx: TxId(4),
                reason: "typo".into(),
            },
        ]
    }

    #[test]
    fn events_round_trip_through_msgpack_and_json() {
        for e in sample_events() {
            let bytes = encode_event(&e).unwrap();
            assert_eq!(bytes[0], FORMAT_VERSION);
            assert_eq!(decode_event(&bytes).unwrap(), e);
            let json = serde_json::to_string(&EventV1::from_domain(&e)).unwrap();
            let back: EventV1<'_> = serde_json::from_str(&json).unwrap();
            assert_eq!(back.into_domain().unwrap(), e, "{json}");
        }
    }

    #[test]
    fn every_precision_packs_exactly() {
        for text in crate::time::packed::EVERY_PRECISION {
            let d = Date::parse(text).unwrap();
            assert_eq!(unpack_date(pack_date(d)), Some(d), "{text}");
        }
        assert_eq!(unpack_date(0x7FFF_FFFF), None);
        assert_eq!(
            unpack_date(pack_date(Date::parse("2007-02-06").unwrap()) + (25 << 2)),
            None
        );
    }

    #[test]
    fn packed_dates_with_impossible_components_are_refused() {
        // Month 13..=20 and 25..=31, day 0 or 13+ months: the edtf crate would panic later.
        for (code, month, day) in [
            (4, 13, 0),
            (4, 25, 0),
            (5, 0, 1),
            (5, 14, 3),
            (8, 0, 0),
            (5, 2, 31),
        ] {
            let packed = ((2000 + 10_000) << 16) | (code << 12) | (month << 7) | (day << 2);
            assert_eq!(
                unpack_date(packed),
                None,
                "code {code} month {month} day {day}"
            );
        }
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let good = encode_event(&sample_events()[0]).unwrap();
        assert!(decode_event(&[]).is_err());
        assert!(decode_event(&[9, 1, 2]).unwrap_err().contains("newer"));
        for cut in 0..good.len() {
            assert!(decode_event(&good[..cut]).is_err());
        }
        let mut flipped = good.clone();
        for i in 1..flipped.len() {
            flipped[i] ^= 0xFF;
            let _ = decode_event(&flipped); // must not panic
            flipped[i] ^= 0xFF;
        }
    }
}
