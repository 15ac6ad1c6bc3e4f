//! UTC timestamps for transaction time.

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::TimeError;

/// A UTC instant with nanosecond resolution: when a transaction was recorded.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp {
    unix_nanos: i64,
}

impl Timestamp {
    /// Now, by the system clock.
    pub fn now() -> Timestamp {
        Timestamp::from_datetime(OffsetDateTime::now_utc())
    }

    /// From nanoseconds since 1970-01-01T00:00:00Z.
    pub fn from_unix_nanos(unix_nanos: i64) -> Timestamp {
        Timestamp { unix_nanos }
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub fn unix_nanos(&self) -> i64 {
        self.unix_nanos
    }

    fn from_datetime(dt: OffsetDateTime) -> Timestamp {
        // i64 nanoseconds reach the year 2262; clamp rather than wrap beyond.
        let nanos = dt
            .unix_timestamp_nanos()
            .clamp(i64::MIN.into(), i64::MAX.into());
        Timestamp {
            unix_nanos: nanos as i64,
        }
    }

    /// Parses RFC 3339 (`2026-11-28T09:44:41.123Z`); any offset is converted to UTC.
    ///
    /// # Errors
    /// When the text is not RFC 3339.
    pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
        let dt = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| TimeError::BadTimestamp {
            text: text.to_owned(),
            detail: e.to_string(),
        })?;
        let unix_nanos =
            i64::try_from(dt.unix_timestamp_nanos()).map_err(|_| TimeError::BadTimestamp {
                text: text.to_owned(),
                detail: "transaction times must lie between 1677 and 2262".to_owned(),
            })?;
        Ok(Timestamp { unix_nanos })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.unix_nanos))
            .map_err(|_| fmt::Error)?;
        let text = dt.format(&Rfc3339).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_to_the_nanosecond() {
        let t = Timestamp::from_unix_nanos(1_764_323_081_123_456_789);
        let text = t.to_string();
        assert_eq!(Timestamp::parse(&text).unwrap(), t);
        assert!(text.ends_with('Z'), "{text}");
        assert!(Timestamp::parse("28/11/2026").is_err());
        assert!(
            Timestamp::parse("9999-12-31T00:00:00Z").is_err(),
            "not clamped"
        );
    }
}
