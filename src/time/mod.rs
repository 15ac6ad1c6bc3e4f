//! Valid time and transaction time.
//!
//! Valid time — when a fact held in the world — is written in EDTF (ISO 8601-2, level 1):
//! `1985`, `2007-02`, `2007-02-06`, `19XX`, `2004?`, intervals `2000/2004`, open ends
//! `1985/..` and unknown ends `1985/`. Parsing is the `edtf` crate's; this module adds what a
//! temporal database needs on top: the first and last day a partial date covers, so that a
//! year-precision end covers the whole year (`2000/2004` holds on 2004-12-31, not in 2005),
//! and filters that ask "did this hold at that point / during that interval?".
//!
//! Transaction time — when the knowledge base learned a fact — is a [`TxId`] and the UTC
//! [`Timestamp`] its transaction was recorded at.

pub mod packed;
mod timestamp;

use std::fmt;

pub use edtf::level_1::{Certainty, Date as EdtfDate, Precision, Season};
pub use timestamp::Timestamp;

use crate::error::TimeError;

/// A transaction number, assigned by the log: 1, 2, 3, … (0 means "before anything").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TxId(pub u64);

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TxId {
    /// The transaction after this one.
    pub fn next(self) -> TxId {
        TxId(self.0 + 1)
    }
}

/// A possibly partial calendar date (`1985`, `2007-02`, `2007-02-06`, `19XX`, `2004?` …).
///
/// Precision is kept as written: `1985` stays a year and is never turned into 1985-01-01.
/// [`Date::first_day`] and [`Date::last_day`] give the days it covers.
///
/// The days it covers are computed once, when it is made, since views compare them often.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    edtf: EdtfDate,
    first: Day,
    last: Day,
}

/// The Julian day number of a calendar day, used for comparisons between partial dates.
pub type Day = i32;

impl Date {
    /// Parses one EDTF level-1 date (not an interval, not a date-time).
    ///
    /// # Errors
    /// When the text is not an EDTF date, or names a day that does not exist.
    ///
    /// # Example
    /// ```
    /// use diplograph::time::Date;
    /// assert_eq!(Date::parse("2007-02").unwrap().to_string(), "2007-02");
    /// assert!(Date::parse("2007-02-30").is_err());
    /// assert!(Date::parse("Feb 2007").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Date, TimeError> {
        let parsed = EdtfDate::parse(text).map_err(|_| TimeError::BadDate {
            text: text.to_owned(),
        })?;
        Date::from_edtf(parsed).ok_or_else(|| TimeError::BadDate {
            text: text.to_owned(),
        })
    }

    /// Wraps an `edtf` date, refusing one whose days do not exist (`2007-02-30`).
    pub fn from_edtf(date: EdtfDate) -> Option<Date> {
        // A date is usable only when both ends of what it covers are real days.
        let precision = date.precision();
        Some(Date {
            edtf: date,
            first: first_day(precision)?,
            last: last_day(precision)?,
        })
    }

    /// A day-precision date.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        Date::from_precision(Precision::Day(year, month, day))
    }

    /// A year-precision date.
    pub fn from_year(year: i32) -> Option<Date> {
        Date::from_precision(Precision::Year(year))
    }

    /// A date from its components; `None` for components that name no date. (The `edtf`
    /// crate accepts some out-of-range components and panics on them later, so they are
    /// checked here first.)
    pub fn from_precision(precision: Precision) -> Option<Date> {
        let month_ok = |m: u32| (1..=12).contains(&m);
        let ok = match precision {
            Precision::Month(_, m) | Precision::DayOfMonth(_, m) => month_ok(m),
            Precision::Day(_, m, d) => month_ok(m) && (1..=31).contains(&d),
            _ => true,
        };
        if !ok {
            return None;
        }
        Date::from_edtf(EdtfDate::from_precision_opt(precision)?)
    }

    /// The same date with another qualifier (`?`, `~`, `%`); the days it covers stay.
    pub fn with_certainty(self, certainty: Certainty) -> Date {
        Date {
            edtf: self.edtf.and_certainty(certainty),
            ..self
        }
    }

    /// The underlying `edtf` date.
    pub fn edtf(&self) -> EdtfDate {
        self.edtf
    }

    /// How precise the date is, with its components.
    pub fn precision(&self) -> Precision {
        self.edtf.precision()
    }

    /// The date's qualifier: certain, uncertain (`?`), approximate (`~`) or both (`%`).
    pub fn certainty(&self) -> Certainty {
        self.edtf.certainty()
    }

    /// The first day this date covers (`2007` → 2007-01-01).
    pub fn first_day(&self) -> Day {
        self.first
    }

    /// The last day this date covers (`2007` → 2007-12-31, `2007-02` → 2007-02-28).
    pub fn last_day(&self) -> Day {
        self.last
    }
}

/// The first and last day a date of this precision covers.
pub(crate) fn days_of(precision: Precision) -> Option<(Day, Day)> {
    Some((first_day(precision)?, last_day(precision)?))
}

// Unspecified digits count away from zero: `19XX` is 1900–1999, `-19XX` is -1999 to -1900.
fn first_day(precision: Precision) -> Option<Day> {
    let (y, m, d) = match precision {
        Precision::Century(y) if y < 0 => (y.checked_sub(99)?, 1, 1),
        Precision::Decade(y) if y < 0 => (y.checked_sub(9)?, 1, 1),
        Precision::Century(y) | Precision::Decade(y) | Precision::Year(y) => (y, 1, 1),
        Precision::MonthOfYear(y) | Precision::DayOfYear(y) => (y, 1, 1),
        Precision::Season(y, s) => (y, season_months(s).0, 1),
        Precision::Month(y, m) | Precision::DayOfMonth(y, m) => (y, m, 1),
        Precision::Day(y, m, d) => (y, m, d),
    };
    julian_day(y, m, d)
}

fn last_day(precision: Precision) -> Option<Day> {
    let (y, m) = match precision {
        Precision::Century(y) | Precision::Decade(y) if y < 0 => (y, 12),
        Precision::Century(y) => (y.checked_add(99)?, 12),
        Precision::Decade(y) => (y.checked_add(9)?, 12),
        Precision::Year(y) | Precision::MonthOfYear(y) | Precision::DayOfYear(y) => (y, 12),
        Precision::Season(y, s) => {
            let (start, len) = season_months(s);
            let end = start + len - 1;
            if end > 12 {
                (y.checked_add(1)?, end - 12)
            } else {
                (y, end)
            }
        }
        Precision::Month(y, m) | Precision::DayOfMonth(y, m) => (y, m),
        Precision::Day(y, m, d) => return julian_day(y, m, d),
    };
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let last = time::util::days_in_month(month, y);
    julian_day(y, m, u32::from(last))
}

/// Seasons (EDTF codes 21–24) as meteorological seasons of the northern hemisphere:
/// spring March–May, summer June–August, autumn September–November, winter December to
/// February of the next year. Returned as (first month, number of months).
fn season_months(season: Season) -> (u32, u32) {
    match season {
        Season::Spring => (3, 3),
        Season::Summer => (6, 3),
        Season::Autumn => (9, 3),
        Season::Winter => (12, 3),
    }
}

fn julian_day(year: i32, month: u32, day: u32) -> Option<Day> {
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    Some(date.to_julian_day())
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.edtf)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.edtf)
    }
}

/// One end of a valid-time interval.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bound {
    /// `..`: open — the fact holds without limit on this side.
    Open,
    /// Empty in EDTF (`1985/`): the end is not known. Filters treat it as open.
    Unknown,
    /// A (possibly partial) date, inclusive at its own precision.
    Date(Date),
}

impl Bound {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Open => f.write_str(".."),
            Bound::Unknown => Ok(()),
            Bound::Date(d) => write!(f, "{d}"),
        }
    }
}

/// When a fact held in the world: an interval of (possibly partial) dates, inclusive at both
/// ends at each end's own precision.
///
/// `ValidTime::ALWAYS` (`../..`) is the default for a fact given no valid time.
///
/// # Example
/// ```
/// use diplograph::time::{DayRange, ValidTime};
/// let t = ValidTime::parse("2000/2004").unwrap();
/// assert!(t.overlaps(DayRange::parse("2004-12-31").unwrap()));
/// assert!(!t.overlaps(DayRange::parse("2005").unwrap()));
/// assert!(ValidTime::parse("2004/2000").is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ValidTime {
    /// The first bound.
    pub from: Bound,
    /// The last bound.
    pub to: Bound,
}

impl Default for ValidTime {
    fn default() -> Self {
        ValidTime::ALWAYS
    }
}

impl ValidTime {
    /// Holds at every time (`../..`).
    pub const ALWAYS: ValidTime = ValidTime {
        from: Bound::Open,
        to: Bound::Open,
    };

    /// From a date on, open-ended (`2007-02-06/..`).
    pub fn since(date: Date) -> ValidTime {
        ValidTime {
            from: Bound::Date(date),
            to: Bound::Open,
        }
    }

    /// Builds an interval, refusing one that ends before it starts.
    ///
    /// # Errors
    /// `TimeError::Reversed` when `to` ends before `from` begins.
    pub fn new(from: Bound, to: Bound) -> Result<ValidTime, TimeError> {
        let t = ValidTime { from, to };
        if t.first_day() > t.last_day() {
            return Err(TimeError::Reversed {
                text: t.to_string(),
            });
        }
        Ok(t)
    }

    /// Parses EDTF: a single date (held during that whole date), or an interval with `/`,
    /// whose ends may be `..` (open) or empty (unknown). `..` alone and `../..` mean always.
    ///
    /// # Errors
    /// When the text is not EDTF, holds a date-time, or ends before it starts.
    pub fn parse(text: &str) -> Result<ValidTime, TimeError> {
        let (from, to) = parse_bounds(text)?;
        ValidTime::new(from, to)
    }

    /// Parses like [`ValidTime::parse`] but keeps an interval whose order is reversed: for
    /// reading stored facts, whose order was checked when they were written (and must stay
    /// readable if the rules for what covers which days are ever refined).
    ///
    /// # Errors
    /// When the text is not EDTF.
    pub fn parse_stored(text: &str) -> Result<ValidTime, TimeError> {
        let (from, to) = parse_bounds(text)?;
        Ok(ValidTime { from, to })
    }

    /// The first day covered, or `Day::MIN` when open or unknown.
    pub fn first_day(&self) -> Day {
        match self.from {
            Bound::Date(d) => d.first_day(),
            Bound::Open | Bound::Unknown => Day::MIN,
        }
    }

    /// The last day covered, or `Day::MAX` when open or unknown.
    pub fn last_day(&self) -> Day {
        match self.to {
            Bound::Date(d) => d.last_day(),
            Bound::Open | Bound::Unknown => Day::MAX,
        }
    }

    /// The days covered, as an inclusive range.
    pub fn days(&self) -> DayRange {
        DayRange {
            first: self.first_day(),
            last: self.last_day(),
        }
    }

    /// Whether the fact held at some day of `range`.
    pub fn overlaps(&self, range: DayRange) -> bool {
        self.first_day() <= range.last && self.last_day() >= range.first
    }

    /// This interval with its end replaced (what `END` does to a node or an edge).
    pub fn ended_at(&self, end: Date) -> ValidTime {
        ValidTime {
            from: self.from,
            to: Bound::Date(end),
        }
    }
}

impl fmt::Display for ValidTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Bound::Date(a), Bound::Date(b)) = (self.from, self.to)
            && a == b
        {
            return write!(f, "{a}");
        }
        self.from.write(f)?;
        f.write_str("/")?;
        self.to.write(f)
    }
}

/// The two bounds of an EDTF date or interval, in the order written.
fn parse_bounds(text: &str) -> Result<(Bound, Bound), TimeError> {
    let text = text.trim();
    if text == ".." || text == "../.." {
        return Ok((Bound::Open, Bound::Open));
    }
    let Some((a, b)) = text.split_once('/') else {
        let d = Date::parse(text)?;
        return Ok((Bound::Date(d), Bound::Date(d)));
    };
    let bound = |s: &str| match s {
        ".." => Ok(Bound::Open),
        "" => Ok(Bound::Unknown),
        s => Date::parse(s)
            .map(Bound::Date)
            .map_err(|_| TimeError::BadDate {
                text: text.to_owned(),
            }),
    };
    Ok((bound(a)?, bound(b)?))
}

/// An inclusive range of days: what a valid-time filter asks about.
///
/// `AS OF 2005` asks about the days of 2005: a fact that held at any of them is shown.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DayRange {
    /// First day, inclusive.
    pub first: Day,
    /// Last day, inclusive.
    pub last: Day,
}

impl DayRange {
    /// Every day.
    pub const ALL: DayRange = DayRange {
        first: Day::MIN,
        last: Day::MAX,
    };

    /// The days an EDTF date or interval covers.
    ///
    /// # Errors
    /// As [`ValidTime::parse`].
    pub fn parse(text: &str) -> Result<DayRange, TimeError> {
        Ok(ValidTime::parse(text)?.days())
    }

    /// The days one date covers.
    pub fn of(date: Date) -> DayRange {
        DayRange {
            first: date.first_day(),
            last: date.last_day(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Date::parse(text).unwrap().first_day()
    }

    #[test]
    fn precision_is_kept_and_year_covers_the_whole_year() {
        let d = Date::parse("1985").unwrap();
        assert_eq!(d.to_string(), "1985");
        assert_eq!(d.first_day(), day("1985-01-01"));
        assert_eq!(d.last_day(), day("1985-12-31"));
        let m = Date::parse("2024-02").unwrap();
        assert_eq!(m.last_day(), day("2024-02-29"));
    }

    #[test]
    fn year_interval_holds_on_last_day_and_not_after() {
        let t = ValidTime::parse("2000/2004").unwrap();
        assert!(t.overlaps(DayRange::parse("2004-12-31").unwrap()));
        assert!(!t.overlaps(DayRange::parse("2005-01-01").unwrap()));
        assert!(!t.overlaps(DayRange::parse("1999-12-31").unwrap()));
        assert_eq!(t.to_string(), "2000/2004");
    }

    #[test]
    fn open_and_unknown_ends_round_trip() {
        for text in [
            "1985/..",
            "../2004",
            "1985/",
            "/2004",
            "2007-02-06",
            "19XX",
            "2004?/2010~",
        ] {
            assert_eq!(ValidTime::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(ValidTime::parse("../..").unwrap(), ValidTime::ALWAYS);
        assert!(
            ValidTime::parse("1985/..")
                .unwrap()
                .overlaps(DayRange::parse("3000").unwrap())
        );
    }

    #[test]
    fn out_of_range_components_are_refused_not_panicked_on() {
        assert_eq!(Date::from_ymd(2000, 0, 1), None);
        assert_eq!(Date::from_ymd(2000, 13, 1), None);
        assert_eq!(Date::from_ymd(2000, 2, 30), None);
        assert_eq!(Date::from_precision(Precision::Month(2000, 20)), None);
        assert_eq!(Date::from_precision(Precision::DayOfMonth(2000, 0)), None);
    }

    #[test]
    fn bad_dates_are_refused() {
        for text in [
            "2007-02-30",
            "2007-13",
            "yesterday",
            "2004/2000",
            "2019-07-09T10:00:00Z",
            "",
        ] {
            assert!(ValidTime::parse(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn seasons_and_unspecified_digits_cover_their_days() {
        let winter = Date::parse("2019-24").unwrap();
        assert_eq!(winter.first_day(), day("2019-12-01"));
        assert_eq!(winter.last_day(), day("2020-02-29"));
        let century = Date::parse("19XX").unwrap();
        assert_eq!(century.last_day(), day("1999-12-31"));
        let bce = Date::parse("-19XX").unwrap();
        assert_eq!(bce.first_day(), day("-1999-01-01"));
        assert_eq!(bce.last_day(), day("-1900-12-31"));
        let decade = Date::parse("-190X").unwrap();
        assert_eq!(decade.first_day(), day("-1909-01-01"));
    }
}
