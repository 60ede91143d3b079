//! The iCalendar invitation (RFC 5545) of a meeting: one VEVENT with local times in the meeting's time zone
//! (`TZID` plus a VTIMEZONE describing that zone's offsets and daylight-saving rules), an RRULE for weekly
//! series, and the links in the description.
//!
//! Written by hand: the format is small (escaping, CRLF, folding at 75 octets), and the crates we looked at do not
//! write VTIMEZONE components, without which weekly series drift by an hour at daylight-saving changes in
//! Outlook.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::{OffsetName, Tz};

use super::Meeting;

/// Links the invitation carries.
pub struct InviteLinks<'a> {
    pub staff: &'a str,
    pub guest: Option<&'a str>,
}

/// The `.ics` text.
pub fn invitation(meeting: &Meeting, links: &InviteLinks<'_>, host: &str) -> String {
    let tz = meeting.schedule.tz;
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line("PRODID:-//Plenum//Plenum meetings//EN");
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    vtimezone(&mut out, tz, meeting.schedule.start_utc);
    out.line("BEGIN:VEVENT");
    out.line(&format!("UID:{}@{}", meeting.id, host));
    out.line(&format!("DTSTAMP:{}", utc_stamp(meeting.updated_at)));
    out.line(&format!("SEQUENCE:{}", meeting.version.max(0)));
    out.line(&format!("DTSTART;TZID={}:{}", tz.name(), local_stamp(meeting.schedule.start_utc, tz)));
    out.line(&format!("DTEND;TZID={}:{}", tz.name(), local_stamp(meeting.schedule.end_utc, tz)));
    if meeting.schedule.weekly {
        match meeting.schedule.until {
            // UNTIL is inclusive; in UTC when DTSTART has a TZID (RFC 5545 3.3.10): the end of that local day.
            Some(until) => {
                let end_of_day = until.and_hms_opt(23, 59, 59).and_then(|t| tz.from_local_datetime(&t).earliest());
                match end_of_day {
                    Some(t) => out.line(&format!("RRULE:FREQ=WEEKLY;UNTIL={}", utc_stamp(t.timestamp()))),
                    None => out.line("RRULE:FREQ=WEEKLY"),
                }
            }
            None => out.line("RRULE:FREQ=WEEKLY"),
        }
    }
    out.line(&format!("SUMMARY:{}", escape(&meeting.title)));
    let mut description = meeting.description.clone();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&format!("Teilnehmen / Join (Konto / account): {}", links.staff));
    if let Some(guest) = links.guest {
        description.push_str(&format!("\nGäste / Guests: {guest}"));
    }
    out.line(&format!("DESCRIPTION:{}", escape(&description)));
    out.line(&format!("LOCATION:{}", escape(links.staff)));
    out.line(&format!("URL:{}", links.staff));
    if !meeting.owner.email.is_empty() {
        out.line(&format!("ORGANIZER;CN={}:mailto:{}", param(&meeting.owner.name), meeting.owner.email));
    }
    for email in &meeting.invitees {
        out.line(&format!("ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{email}"));
    }
    out.line("STATUS:CONFIRMED");
    out.line("TRANSP:OPAQUE");
    out.line("END:VEVENT");
    out.line("END:VCALENDAR");
    out.text
}

/// Content lines: CRLF-terminated, folded so that no line exceeds 75 octets (continuations start with a space).
#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    fn line(&mut self, line: &str) {
        let mut used = 0;
        for c in line.chars() {
            let len = c.len_utf8();
            if used + len > 75 {
                self.text.push_str("\r\n ");
                used = 1;
            }
            self.text.push(c);
            used += len;
        }
        self.text.push_str("\r\n");
    }
}

/// TEXT value escaping (RFC 5545 3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: quoted, without the characters a quoted value cannot hold.
fn param(text: &str) -> String {
    let clean: String = text.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{clean}\"")
}

fn utc_stamp(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0).unwrap_or_default().format("%Y%m%dT%H%M%SZ").to_string()
}

fn local_stamp(secs: i64, tz: Tz) -> String {
    DateTime::from_timestamp(secs, 0).unwrap_or_default().with_timezone(&tz).format("%Y%m%dT%H%M%S").to_string()
}

fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    format!("{sign}{:02}{:02}", abs / 3600, (abs % 3600) / 60)
}

/// A transition between two offsets of a zone.
struct Transition {
    /// The first moment of the new offset (UTC).
    at: DateTime<Utc>,
    from: i32,
    to: i32,
    name: String,
}

fn offset_at(tz: Tz, t: DateTime<Utc>) -> (i32, String) {
    let o = tz.offset_from_utc_datetime(&t.naive_utc());
    (o.fix().local_minus_utc(), o.abbreviation().unwrap_or("").to_owned())
}

/// The offset changes of `tz` during `year`, found by scanning days and then bisecting to the second.
fn transitions(tz: Tz, year: i32) -> Vec<Transition> {
    let Some(start) = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single() else { return Vec::new() };
    let mut found = Vec::new();
    let mut prev = start;
    let (mut prev_off, _) = offset_at(tz, prev);
    for day in 1..=366 {
        let t = start + Duration::days(day);
        let (off, _) = offset_at(tz, t);
        if off != prev_off {
            let (mut lo, mut hi) = (prev, t);
            while (hi - lo).num_seconds() > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid).0 == prev_off { lo = mid } else { hi = mid }
            }
            let (to, name) = offset_at(tz, hi);
            found.push(Transition { at: hi, from: prev_off, to, name });
            prev_off = off;
        }
        prev = t;
    }
    found
}

/// `BYDAY` for the weekday of `local`'s date within its month: `-1SU` for the last, else `2SU` etc.
fn by_day(local: NaiveDateTime) -> String {
    let day = local.day();
    let days_in_month = {
        let (y, m) = (local.year(), local.month());
        let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        chrono::NaiveDate::from_ymd_opt(next.0, next.1, 1)
            .and_then(|d| d.pred_opt())
            .map(|d| d.day())
            .unwrap_or(31)
    };
    let wd = match local.weekday() {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    };
    if day + 7 > days_in_month { format!("-1{wd}") } else { format!("{}{wd}", (day - 1) / 7 + 1) }
}

/// A VTIMEZONE for `tz`: its yearly rules as seen in the year of `around`, or one fixed offset.
fn vtimezone(out: &mut Lines, tz: Tz, around: i64) {
    let year = DateTime::from_timestamp(around, 0).unwrap_or_default().year();
    out.line("BEGIN:VTIMEZONE");
    out.line(&format!("TZID:{}", tz.name()));
    let changes = transitions(tz, year);
    if changes.is_empty() {
        let (off, name) = offset_at(tz, DateTime::from_timestamp(around, 0).unwrap_or_default());
        out.line("BEGIN:STANDARD");
        out.line("DTSTART:19700101T000000");
        out.line(&format!("TZOFFSETFROM:{}", offset_text(off)));
        out.line(&format!("TZOFFSETTO:{}", offset_text(off)));
        if !name.is_empty() {
            out.line(&format!("TZNAME:{name}"));
        }
        out.line("END:STANDARD");
    } else {
        for change in &changes {
            let kind = if change.to > change.from { "DAYLIGHT" } else { "STANDARD" };
            // DTSTART is the transition in the local time before it.
            let local = (change.at + Duration::seconds(i64::from(change.from))).naive_utc();
            out.line(&format!("BEGIN:{kind}"));
            out.line(&format!("DTSTART:{}", local.format("%Y%m%dT%H%M%S")));
            if changes.len() == 2 {
                out.line(&format!("RRULE:FREQ=YEARLY;BYMONTH={};BYDAY={}", local.month(), by_day(local)));
            }
            out.line(&format!("TZOFFSETFROM:{}", offset_text(change.from)));
            out.line(&format!("TZOFFSETTO:{}", offset_text(change.to)));
            if !change.name.is_empty() {
                out.line(&format!("TZNAME:{}", change.name));
            }
            out.line(&format!("END:{kind}"));
        }
    }
    out.line("END:VTIMEZONE");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_rules() {
        let mut out = Lines::default();
        vtimezone(&mut out, Tz::Europe__Berlin, 1_790_000_000);
        let text = out.text;
        assert!(text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST"), "{text}");
        assert!(text.contains("BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET"), "{text}");
    }

    #[test]
    fn utc_has_one_fixed_offset() {
        let mut out = Lines::default();
        vtimezone(&mut out, Tz::UTC, 1_790_000_000);
        assert!(out.text.contains("TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000"), "{}", out.text);
    }

    #[test]
    fn folding_and_escaping() {
        let mut out = Lines::default();
        let long = format!("SUMMARY:{}", escape(&"Größe, Länge; und\nmehr ".repeat(8)));
        out.line(&long);
        for line in out.text.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line:?}");
        }
        let unfolded = out.text.replace("\r\n ", "");
        assert_eq!(unfolded.strip_suffix("\r\n").unwrap(), long);
        assert!(long.contains("Größe\\, Länge\\; und\\nmehr"));
    }
}
