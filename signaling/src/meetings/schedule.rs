//! Meeting times: local date-times in a named time zone, stored as UTC seconds plus the zone's name; weekly
//! occurrences keep their local wall-clock time across daylight-saving changes; the join window.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The default time zone of meetings.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Berlin";

const WEEK_SECS: i64 = 7 * 86400;

/// Parse a time zone name of the IANA database.
pub fn parse_tz(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// The regions whose zones the meeting form offers (the others in the IANA database are aliases kept for old
/// data, like `US/Eastern` or `Etc/GMT+1`; the server still accepts them).
const REGIONS: [&str; 10] =
    ["Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"];

/// The time zones to choose from: [`DEFAULT_TIME_ZONE`] first, then `UTC`, then the regional zones by name.
pub fn zone_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|n| *n != DEFAULT_TIME_ZONE && n.split_once('/').is_some_and(|(region, _)| REGIONS.contains(&region)))
        .collect();
    names.sort_unstable();
    let mut out = vec![DEFAULT_TIME_ZONE, "UTC"];
    out.extend(names);
    out
}

/// Parse `text` as a moment: RFC 3339 with an offset (`2026-11-24T10:00:00Z`), or a local date-time
/// (`2026-11-24T10:00`, as `<input type="datetime-local">` sends it) in `tz`. A local time that does not exist
/// (skipped by a daylight-saving change) is an error; an ambiguous one takes the earlier moment.
pub fn parse_moment(text: &str, tz: Tz) -> Result<DateTime<Utc>, &'static str> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| "expected a date and time like 2026-11-24T10:00")?;
    local_to_utc(naive, tz).ok_or("this local time does not exist (daylight-saving change)")
}

fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// `YYYY-MM-DDTHH:MM` in `tz`.
pub fn format_local(utc_secs: i64, tz: Tz) -> String {
    DateTime::from_timestamp(utc_secs, 0)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// RFC 3339 in UTC.
pub fn format_utc(utc_secs: i64) -> String {
    DateTime::from_timestamp(utc_secs, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
}

/// When a meeting takes place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub start_utc: i64,
    pub end_utc: i64,
    pub tz: Tz,
    pub weekly: bool,
    /// The last day (local) on which a weekly meeting may take place; `None`: no end.
    pub until: Option<NaiveDate>,
}

/// One occurrence, UTC seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub start: i64,
    pub end: i64,
}

impl Schedule {
    fn duration(&self) -> i64 {
        self.end_utc - self.start_utc
    }

    /// Occurrence `k` (0 = the first): the same local wall-clock time `k` weeks later. `None` past the end of
    /// the series, or on a day where that local time does not exist.
    pub fn occurrence(&self, k: i64) -> Option<Occurrence> {
        if k == 0 {
            return Some(Occurrence { start: self.start_utc, end: self.end_utc });
        }
        if !self.weekly || k < 0 {
            return None;
        }
        let first = DateTime::from_timestamp(self.start_utc, 0)?.with_timezone(&self.tz).naive_local();
        let local = first.checked_add_days(Days::new(7 * k as u64))?;
        if let Some(until) = self.until
            && local.date() > until
        {
            return None;
        }
        let start = local_to_utc(local, self.tz)?.timestamp();
        Some(Occurrence { start, end: start + self.duration() })
    }

    /// The first occurrence that has not ended at `now`, if any.
    pub fn next_after(&self, now: i64) -> Option<Occurrence> {
        if !self.weekly {
            return self.occurrence(0).filter(|o| o.end > now);
        }
        // Daylight saving moves occurrences by at most an hour: start one week before the estimate.
        let estimate = ((now - self.end_utc) / WEEK_SECS - 1).max(0);
        (estimate..estimate + 4).filter_map(|k| self.occurrence(k)).find(|o| o.end > now)
    }

    /// The end of the last occurrence, `None` for a series without end.
    pub fn last_end(&self) -> Option<i64> {
        if !self.weekly {
            return Some(self.end_utc);
        }
        let until = self.until?;
        let first = DateTime::from_timestamp(self.start_utc, 0)?.with_timezone(&self.tz).date_naive();
        let weeks = (until - first).num_days().div_euclid(7);
        (0..=weeks.max(0)).rev().find_map(|k| self.occurrence(k)).map(|o| o.end)
    }
}

/// Whether someone may join at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinWindow {
    /// Open: this occurrence is on (or about to start).
    Open(Occurrence),
    /// Opens at this time (UTC seconds).
    NotYet { opens_at: i64, starts_at: i64 },
    /// Every occurrence is over.
    Over,
}

/// The join window at `now`: from `opens_before_secs` before an occurrence's start until its end.
pub fn join_window(schedule: &Schedule, opens_before_secs: i64, now: i64) -> JoinWindow {
    match schedule.next_after(now) {
        None => JoinWindow::Over,
        Some(o) if o.start - opens_before_secs <= now => JoinWindow::Open(o),
        Some(o) => JoinWindow::NotYet { opens_at: o.start - opens_before_secs, starts_at: o.start },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zone_list_starts_with_berlin_and_every_entry_parses() {
        let names = zone_names();
        assert_eq!(&names[..2], ["Europe/Berlin", "UTC"]);
        assert!(names.len() > 300, "{}", names.len());
        assert!(names.contains(&"America/New_York") && names.contains(&"Europe/Vienna"));
        assert!(!names.contains(&"US/Eastern"), "aliases are not offered");
        assert_eq!(names.iter().filter(|n| **n == "Europe/Berlin").count(), 1);
        assert!(names.iter().all(|n| parse_tz(n).is_some()));
        assert!(parse_tz("Mars/Olympus").is_none());
    }

    fn berlin() -> Tz {
        parse_tz(DEFAULT_TIME_ZONE).unwrap()
    }

    #[test]
    fn local_times_are_read_in_the_zone() {
        let t = parse_moment("2026-11-24T10:00", berlin()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-24T09:00:00+00:00", "CET is UTC+1");
        let t = parse_moment("2026-07-01T10:00", berlin()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-01T08:00:00+00:00", "CEST is UTC+2");
        let t = parse_moment("2026-07-01T10:00:00Z", berlin()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-01T10:00:00+00:00");
        assert!(parse_moment("2026-03-29T02:30", berlin()).is_err(), "skipped by DST");
        assert!(parse_moment("tomorrow", berlin()).is_err());
        assert_eq!(format_local(t.timestamp(), berlin()), "2026-07-01T12:00");
    }

    #[test]
    fn weekly_occurrences_keep_the_wall_clock_time_across_dst() {
        let tz = berlin();
        let start = parse_moment("2026-10-19T10:00", tz).unwrap().timestamp();
        let s = Schedule { start_utc: start, end_utc: start + 3600, tz, weekly: true, until: None };
        // 19 Oct is CEST (08:00 UTC); two weeks later, 2 Nov, is CET (09:00 UTC): still 10:00 local.
        let o2 = s.occurrence(2).unwrap();
        assert_eq!(format_local(o2.start, tz), "2026-11-02T10:00");
        assert_eq!(o2.start - start, 14 * 86400 + 3600);
        assert_eq!(s.next_after(o2.start + 10).unwrap(), o2);
        assert_eq!(s.next_after(o2.end).unwrap(), s.occurrence(3).unwrap());
        assert_eq!(s.last_end(), None);
    }

    #[test]
    fn series_end_and_single_meetings() {
        let tz = berlin();
        let start = parse_moment("2026-11-02T10:00", tz).unwrap().timestamp();
        let until = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
        let s = Schedule { start_utc: start, end_utc: start + 1800, tz, weekly: true, until: Some(until) };
        assert!(s.occurrence(2).is_some());
        assert!(s.occurrence(3).is_none());
        assert_eq!(s.last_end(), Some(s.occurrence(2).unwrap().end));
        assert_eq!(s.next_after(s.occurrence(2).unwrap().end), None);
        let single = Schedule { weekly: false, until: None, ..s };
        assert_eq!(single.last_end(), Some(start + 1800));
        assert!(single.occurrence(1).is_none());
    }

    #[test]
    fn join_window_opens_before_start_and_closes_at_the_end() {
        let s = Schedule { start_utc: 10_000, end_utc: 13_600, tz: berlin(), weekly: false, until: None };
        assert_eq!(join_window(&s, 900, 9_000), JoinWindow::NotYet { opens_at: 9_100, starts_at: 10_000 });
        assert!(matches!(join_window(&s, 900, 9_100), JoinWindow::Open(_)));
        assert!(matches!(join_window(&s, 900, 13_599), JoinWindow::Open(_)));
        assert_eq!(join_window(&s, 900, 13_600), JoinWindow::Over);
    }
}
