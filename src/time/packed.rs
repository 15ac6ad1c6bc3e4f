//! Dates and valid-time bounds packed into a `u32` each: the binary wire format of dates,
//! and the compact form the graph stores.

use super::{Bound, Date, Day, Precision, Season};

/// The packed form of an open bound (`..`).
pub const BOUND_OPEN: u32 = 0;
/// The packed form of an unknown bound (empty in EDTF).
pub const BOUND_UNKNOWN: u32 = 1;

/// Packs a bound: open and unknown are 0 and 1, a date is [`pack_date`].
pub fn pack_bound(b: Bound) -> u32 {
    match b {
        Bound::Open => BOUND_OPEN,
        Bound::Unknown => BOUND_UNKNOWN,
        Bound::Date(d) => pack_date(d),
    }
}

/// Unpacks a bound; `None` for bits that name no bound.
pub fn unpack_bound(packed: u32) -> Option<Bound> {
    match packed {
        BOUND_OPEN => Some(Bound::Open),
        BOUND_UNKNOWN => Some(Bound::Unknown),
        p => unpack_date(p).map(Bound::Date),
    }
}

// Packed dates, 31 bits:
//   bits 16..=30  year + 10000 (EDTF level-1 years are -9999..=9999)
//   bits 12..=15  precision (see PRECISIONS)
//   bits  7..=11  month (1–12) or season (21–24), 0 when absent
//   bits  2..=6   day, 0 when absent
//   bits  0..=1   certainty
// The year offset keeps every packed date ≥ 0x10000, clear of the bound markers 0 and 1.
const YEAR_OFFSET: i32 = 10_000;

/// Packs a date into the `u32` that MessagePack records store.
pub fn pack_date(d: Date) -> u32 {
    let (code, year, month, day) = match d.precision() {
        Precision::Century(y) => (0, y, 0, 0),
        Precision::Decade(y) => (1, y, 0, 0),
        Precision::Year(y) => (2, y, 0, 0),
        Precision::Season(y, s) => (3, y, s as u32, 0),
        Precision::Month(y, m) => (4, y, m, 0),
        Precision::Day(y, m, dd) => (5, y, m, dd),
        Precision::MonthOfYear(y) => (6, y, 0, 0),
        Precision::DayOfYear(y) => (7, y, 0, 0),
        Precision::DayOfMonth(y, m) => (8, y, m, 0),
    };
    let year = u32::try_from(year + YEAR_OFFSET).unwrap_or(0);
    (year << 16) | (code << 12) | (month << 7) | (day << 2) | d.certainty() as u32
}

/// Unpacks a date; `None` for bits that name no real date.
pub fn unpack_date(packed: u32) -> Option<Date> {
    let (precision, certainty) = fields(packed)?;
    let date = Date::from_precision(precision)?.with_certainty(certainty);
    // Refuse bits the packing would not have produced (a round trip must be exact).
    (pack_date(date) == packed).then_some(date)
}

/// The first and last day of the date that [`pack_date`] packed as `packed`, without
/// making the date: what comparisons of dates look at (`Val::compare`).
pub(crate) fn packed_days(packed: u32) -> Option<(Day, Day)> {
    super::days_of(fields(packed)?.0)
}

/// Whether `packed` is a date of a day's precision (`2007-02-06`).
pub(crate) fn packed_is_day(packed: u32) -> bool {
    packed > BOUND_UNKNOWN && (packed >> 12) & 0xF == 5
}

/// The precision and certainty that the fields of `packed` name, if any.
fn fields(packed: u32) -> Option<(Precision, super::Certainty)> {
    let year = i32::try_from(packed >> 16).ok()? - YEAR_OFFSET;
    let code = (packed >> 12) & 0xF;
    let month = (packed >> 7) & 0x1F;
    let day = (packed >> 2) & 0x1F;
    let certainty = match packed & 0b11 {
        0 => super::Certainty::Certain,
        1 => super::Certainty::Uncertain,
        2 => super::Certainty::Approximate,
        _ => super::Certainty::ApproximateUncertain,
    };
    let season = |m| match m {
        21 => Some(Season::Spring),
        22 => Some(Season::Summer),
        23 => Some(Season::Autumn),
        24 => Some(Season::Winter),
        _ => None,
    };
    let precision = match code {
        0 => Precision::Century(year),
        1 => Precision::Decade(year),
        2 => Precision::Year(year),
        3 => Precision::Season(year, season(month)?),
        4 => Precision::Month(year, month),
        5 => Precision::Day(year, month, day),
        6 => Precision::MonthOfYear(year),
        7 => Precision::DayOfYear(year),
        8 => Precision::DayOfMonth(year, month),
        _ => return None,
    };
    Some((precision, certainty))
}

/// Dates of every precision and qualifier, negative years and both ends of the range: what
/// tests of packing go through.
#[cfg(test)]
pub(crate) const EVERY_PRECISION: &[&str] = &[
    "19XX",
    "-19XX",
    "198X",
    "-198X",
    "1985",
    "1985-21",
    "2019-24",
    "2007-02",
    "2008-02",
    "2007-02-06",
    "1931-XX",
    "1931-XX-XX",
    "1931-08-XX",
    "-0500",
    "0000",
    "9999-12-31%",
    "2004~",
    "2004-06?",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The days read from packed bits are those of the date packed, at every precision.
    #[test]
    fn packed_days_are_the_dates_days() {
        for text in EVERY_PRECISION {
            let d = Date::parse(text).unwrap();
            assert_eq!(
                packed_days(pack_date(d)),
                Some((d.first_day(), d.last_day())),
                "{text}"
            );
        }
    }
}
