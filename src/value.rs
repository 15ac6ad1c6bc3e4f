//! Property values.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::event::Name;
use crate::time::Date;

/// A property value. Strings up to 23 bytes are stored inline; longer ones and lists are
/// shared (`Arc`), so that the graph and query results hold one copy.
#[derive(Clone, Debug)]
pub enum Value {
    /// No value; setting a property to null removes it for that valid time.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A finite 64-bit float.
    Float(f64),
    /// A Unicode string.
    Str(Name),
    /// A (possibly partial) EDTF date.
    Date(Date),
    /// A list of values.
    List(Arc<[Value]>),
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Name::new(s))
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this value can be a key of the property index (scalars other than floats).
    pub fn is_indexable(&self) -> bool {
        matches!(
            self,
            Value::Bool(_) | Value::Int(_) | Value::Str(_) | Value::Date(_)
        )
    }

    /// The type's name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Date(_) => "date",
            Value::List(_) => "list",
        }
    }

    /// Checks that the value can be stored and read back exactly: floats must be finite,
    /// also inside lists.
    ///
    /// # Errors
    /// A description of the first value that cannot be stored.
    pub fn check_storable(&self) -> Result<(), String> {
        match self {
            Value::Float(f) if !f.is_finite() => {
                Err(format!("expected a finite number, but found `{f}`"))
            }
            Value::List(items) => items.iter().try_for_each(Value::check_storable),
            _ => Ok(()),
        }
    }
}

/// Structural equality: `Int(1)` and `Float(1.0)` differ; floats compare by bits, so that a
/// value equals itself and can key a hash map. (The query language's `=` is looser.)
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Date(a), Value::Date(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Float(f) => f.to_bits().hash(state),
            Value::Str(s) => s.hash(state),
            Value::Date(d) => d.hash(state),
            Value::List(items) => items.hash(state),
        }
    }
}

impl fmt::Display for Value {
    /// Cypher-like literal syntax: strings quoted, dates as `date("2007-02")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x}")
                }
            }
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Date(d) => write!(f, "date(\"{d}\")"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Date> for Value {
    fn from(d: Date) -> Self {
        Value::Date(d)
    }
}
