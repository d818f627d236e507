use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn zone(name: &str) -> Tz {
    name.parse().unwrap()
}

/// Local wall-clock renderings of the next `n` fires after the local time `from`.
fn fires(text: &str, zone_name: &str, from: &str, n: usize) -> Vec<String> {
    let tz = zone(zone_name);
    let from_local = NaiveDateTime::parse_from_str(from, "%Y-%m-%d %H:%M").unwrap();
    let after = tz
        .from_local_datetime(&from_local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc);
    let schedule = Schedule::parse(text, tz, after.with_timezone(&tz).date_naive()).unwrap();
    schedule
        .upcoming(after, n)
        .iter()
        .map(|t| {
            t.with_timezone(&tz)
                .format("%a %Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .collect()
}

#[test]
fn fridays() {
    assert_eq!(
        fires("fridays 16:00", "Europe/Berlin", "2026-11-23 09:00", 2),
        ["Fri 2026-11-27 16:00 CET", "Fri 2026-12-04 16:00 CET"]
    );
    assert_eq!(
        fires(
            "every friday at 4pm",
            "Europe/Berlin",
            "2026-11-27 16:00",
            1
        ),
        ["Fri 2026-12-04 16:00 CET"],
        "strictly after: the fire at the start instant is not repeated"
    );
}

#[test]
fn weekdays() {
    assert_eq!(
        fires("weekdays 9:30", "America/New_York", "2026-11-27 10:00", 3),
        [
            "Mon 2026-11-30 09:30 EST",
            "Tue 2026-12-01 09:30 EST",
            "Wed 2026-12-02 09:30 EST"
        ]
    );
}

#[test]
fn every_two_weeks_counts_from_the_week_it_was_set() {
    // Set on Monday 23 Nov: this week's Thursday is week 0, then every other week.
    assert_eq!(
        fires(
            "every 2 weeks on thursday 15:00",
            "UTC",
            "2026-11-23 08:00",
            3
        ),
        [
            "Thu 2026-11-26 15:00 UTC",
            "Thu 2026-12-10 15:00 UTC",
            "Thu 2026-12-24 15:00 UTC"
        ]
    );
    assert_eq!(
        fires(
            "every other week on monday 10:00",
            "UTC",
            "2026-11-23 08:00",
            2
        ),
        ["Mon 2026-11-23 10:00 UTC", "Mon 2026-12-07 10:00 UTC"]
    );
}

#[test]
fn monthly_on_a_day() {
    assert_eq!(
        fires(
            "monthly on the 1st 10:00",
            "Europe/Berlin",
            "2026-11-23 09:00",
            3
        ),
        [
            "Tue 2026-12-01 10:00 CET",
            "Fri 2027-01-01 10:00 CET",
            "Mon 2027-02-01 10:00 CET"
        ]
    );
    assert_eq!(
        fires("monthly on the 31st 10:00", "UTC", "2027-01-01 00:00", 2),
        ["Sun 2027-01-31 10:00 UTC", "Wed 2027-03-31 10:00 UTC"],
        "months without a 31st are skipped, as cron does"
    );
}

#[test]
fn cron_expressions() {
    assert_eq!(
        fires("0 16 * * FRI", "UTC", "2026-11-23 00:00", 1),
        ["Fri 2026-11-27 16:00 UTC"]
    );
    assert_eq!(
        fires("30 8 * * 1-5", "Asia/Kolkata", "2026-11-28 00:00", 1),
        ["Mon 2026-11-30 08:30 IST"]
    );
}

#[test]
fn other_friendly_spellings() {
    assert_eq!(
        fires("daily 7:05", "UTC", "2026-11-23 08:00", 1),
        ["Tue 2026-11-24 07:05 UTC"]
    );
    assert_eq!(
        fires("mondays and thursdays 9:00", "UTC", "2026-11-23 10:00", 2),
        ["Thu 2026-11-26 09:00 UTC", "Mon 2026-11-30 09:00 UTC"]
    );
    assert_eq!(
        fires("weekly on tuesday 12am", "UTC", "2026-11-23 10:00", 1),
        ["Tue 2026-11-24 00:00 UTC"]
    );
}

#[test]
fn new_york_spring_forward_fires_once_at_the_next_valid_time() {
    // 14 March 2027: clocks jump from 02:00 to 03:00; 02:30 does not exist.
    assert_eq!(
        fires("30 2 * * *", "America/New_York", "2027-03-13 12:00", 3),
        [
            "Sun 2027-03-14 03:00 EDT",
            "Mon 2027-03-15 02:30 EDT",
            "Tue 2027-03-16 02:30 EDT"
        ]
    );
}

#[test]
fn new_york_fall_back_fires_once_not_twice() {
    // 1 November 2026: 01:00-02:00 happens twice.
    assert_eq!(
        fires("30 1 * * *", "America/New_York", "2026-10-31 12:00", 3),
        [
            "Sun 2026-11-01 01:30 EDT",
            "Mon 2026-11-02 01:30 EST",
            "Tue 2026-11-03 01:30 EST"
        ]
    );
}

#[test]
fn berlin_transitions() {
    // 28 March 2027: 02:00 → 03:00. 31 October 2027: 03:00 → 02:00.
    assert_eq!(
        fires("daily 2:30", "Europe/Berlin", "2027-03-27 12:00", 2),
        ["Sun 2027-03-28 03:00 CEST", "Mon 2027-03-29 02:30 CEST"]
    );
    assert_eq!(
        fires("daily 2:30", "Europe/Berlin", "2027-10-30 12:00", 2),
        ["Sun 2027-10-31 02:30 CEST", "Mon 2027-11-01 02:30 CET"]
    );
}

#[test]
fn a_half_hour_zone_with_daylight_saving() {
    // Adelaide is UTC+9:30 / +10:30; on 4 October 2026 02:00 jumps to 03:00.
    let tz = zone("Australia/Adelaide");
    let schedule = Schedule::parse("daily 2:15", tz, day("2026-10-01")).unwrap();
    let after = Utc.with_ymd_and_hms(2026, 10, 2, 0, 0, 0).unwrap();
    let utc: Vec<String> = schedule
        .upcoming(after, 3)
        .iter()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .collect();
    // 02:15 ACST = 16:45 UTC the day before; the skipped day fires at 03:00 ACDT = 16:30 UTC.
    assert_eq!(
        utc,
        ["2026-10-02 16:45", "2026-10-03 16:30", "2026-10-04 15:45"]
    );
}

#[test]
fn mistakes_are_explained() {
    let err = |text: &str| {
        Schedule::parse(text, zone("UTC"), day("2026-11-23"))
            .unwrap_err()
            .0
    };
    assert!(err("sometime soon").contains("couldn't read `sometime soon`"));
    assert!(err("fridays 25:00").contains("couldn't read"));
    assert!(err("0 16 * * FUNDAY").contains("not a valid cron expression"));
    assert!(err("0 9 30 2 *").contains("never happens"), "30 February");
    assert!(err("every 0 weeks on monday 9:00").contains("couldn't read"));
}

#[test]
fn restore_reads_the_zone_by_name() {
    let schedule = Schedule::restore("fridays 16:00", "Europe/Berlin", day("2026-11-23")).unwrap();
    assert_eq!(schedule.zone(), zone("Europe/Berlin"));
    assert_eq!(schedule.text(), "fridays 16:00");
    assert!(Schedule::restore("fridays 16:00", "Mars/Olympus", day("2026-11-23")).is_err());
}
