//! Builders shared by the integration tests.
#![allow(dead_code)]

use diplograph::event::{Event, Name, Props, Target, TxMeta};
use diplograph::time::{Date, TxId, ValidTime};
use diplograph::value::Value;

pub fn meta(message: &str) -> TxMeta {
    TxMeta {
        author: Some("test".into()),
        message: Some(message.into()),
    }
}

pub fn valid(text: &str) -> ValidTime {
    ValidTime::parse(text).expect("test valid time")
}

pub fn date(text: &str) -> Date {
    Date::parse(text).expect("test date")
}

pub fn props(items: &[(&str, Value)]) -> Props {
    items
        .iter()
        .map(|(k, v)| (Name::new(k), v.clone()))
        .collect()
}

pub fn source(key: &str) -> Event {
    Event::NodeAdded {
        id: Name::new(key),
        labels: vec!["Source".into()].into(),
        props: props(&[("key", Value::str(key))]),
        valid: ValidTime::ALWAYS,
        sources: vec![].into(),
    }
}

pub fn node(id: &str, label: &str, p: &[(&str, Value)], v: &str, sources: &[&str]) -> Event {
    Event::NodeAdded {
        id: Name::new(id),
        labels: vec![label.into()].into(),
        props: props(p),
        valid: valid(v),
        sources: sources.iter().map(Name::new).collect(),
    }
}

pub fn edge(id: &str, t: &str, from: &str, to: &str, v: &str, sources: &[&str]) -> Event {
    Event::EdgeAdded {
        id: Name::new(id),
        rel_type: t.into(),
        from: Name::new(from),
        to: Name::new(to),
        props: vec![],
        valid: valid(v),
        sources: sources.iter().map(Name::new).collect(),
    }
}

pub fn set_node(id: &str, p: &[(&str, Value)], v: &str, sources: &[&str]) -> Event {
    Event::PropertiesSet {
        target: Target::Node(Name::new(id)),
        props: props(p),
        valid: valid(v),
        sources: sources.iter().map(Name::new).collect(),
    }
}

pub fn end_node(id: &str, d: &str) -> Event {
    Event::NodeEnded {
        id: Name::new(id),
        end: date(d),
        sources: vec![].into(),
    }
}

pub fn end_edge(id: &str, d: &str) -> Event {
    Event::EdgeEnded {
        id: Name::new(id),
        end: date(d),
        sources: vec![].into(),
    }
}

pub fn retract(tx: u64, reason: &str) -> Event {
    Event::TxRetracted {
        tx: TxId(tx),
        reason: reason.into(),
    }
}
