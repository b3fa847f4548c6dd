//! The longest gap between two runs of a cron schedule, which is how late a backup may be before
//! `BackupHealthy` turns False. Five fields (minute hour day-of-month month day-of-week) with `*`,
//! numbers, ranges, lists and steps, or the `@hourly`/`@daily`/`@weekly`/`@monthly`/`@yearly`
//! macros. The period is measured by walking the runs of four reference years.

use std::time::Duration;

use chrono::{Datelike, NaiveDate};

/// The largest interval between consecutive runs, over four reference years (2025–2028, so leap
/// days and every weekday/date combination occur).
pub fn longest_gap(schedule: &str) -> Result<Duration, String> {
    let fields = Fields::parse(schedule)?;
    let times_of_day: Vec<i64> = (0..24_i64)
        .filter(|h| fields.hours[*h as usize])
        .flat_map(|h| {
            (0..60_i64)
                .filter(|m| fields.minutes[*m as usize])
                .map(move |m| h * 60 + m)
        })
        .collect();
    let mut day = NaiveDate::from_ymd_opt(2025, 1, 1).ok_or("reference date")?;
    let end = NaiveDate::from_ymd_opt(2029, 1, 1).ok_or("reference date")?;
    let mut index = 0_i64;
    let mut last: Option<i64> = None;
    let mut longest = 0_i64;
    while day < end {
        if fields.matches_day(&day) {
            for minute in &times_of_day {
                let at = index * 1440 + minute;
                if let Some(previous) = last {
                    longest = longest.max(at - previous);
                }
                last = Some(at);
            }
        }
        day = day.succ_opt().ok_or("reference date")?;
        index += 1;
    }
    if longest == 0 {
        return Err(format!(
            "the schedule {schedule:?} does not run at least twice in four years"
        ));
    }
    Ok(Duration::from_secs(longest as u64 * 60))
}

struct Fields {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    days_restricted: bool,
    weekdays_restricted: bool,
}

impl Fields {
    fn parse(schedule: &str) -> Result<Self, String> {
        let expanded = match schedule.trim() {
            "@hourly" => "0 * * * *",
            "@daily" | "@midnight" => "0 0 * * *",
            "@weekly" => "0 0 * * 0",
            "@monthly" => "0 0 1 * *",
            "@yearly" | "@annually" => "0 0 1 1 *",
            other => other,
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = parts[..] else {
            return Err(format!(
                "the schedule {schedule:?} must have five fields (minute hour day month weekday)"
            ));
        };
        let mut weekdays = field(weekday, 0, 7, "day-of-week")?;
        // 7 is Sunday too.
        if weekdays[7] {
            weekdays[0] = true;
        }
        Ok(Fields {
            minutes: field(minute, 0, 59, "minute")?,
            hours: field(hour, 0, 23, "hour")?,
            days: field(day, 1, 31, "day-of-month")?,
            months: field(month, 1, 12, "month")?,
            weekdays,
            days_restricted: !day.starts_with('*'),
            weekdays_restricted: !weekday.starts_with('*'),
        })
    }

    fn matches_day(&self, t: &NaiveDate) -> bool {
        let day = self.days[t.day() as usize];
        let weekday = self.weekdays[t.weekday().num_days_from_sunday() as usize];
        // Standard cron: when both day fields are restricted, either may match.
        let day_ok = match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => day || weekday,
            _ => day && weekday,
        };
        self.months[t.month() as usize] && day_ok
    }
}

/// A set over `0..=max` with the values of `min..=max` that `spec` selects.
fn field(spec: &str, min: u32, max: u32, name: &str) -> Result<Vec<bool>, String> {
    let bad = || format!("the {name} field {spec:?} is not valid");
    let mut set = vec![false; max as usize + 1];
    for item in spec.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().map_err(|_| bad())?),
            None => (item, 1),
        };
        if step == 0 {
            return Err(bad());
        }
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?)
        } else {
            let v: u32 = range.parse().map_err(|_| bad())?;
            (v, if item.contains('/') { max } else { v })
        };
        if low < min || high > max || low > high {
            return Err(bad());
        }
        for v in (low..=high).step_by(step as usize) {
            set[v as usize] = true;
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(schedule: &str) -> f64 {
        longest_gap(schedule).unwrap().as_secs_f64() / 3600.0
    }

    #[test]
    fn common_schedules_have_their_obvious_period() {
        assert_eq!(hours("0 3 * * *"), 24.0);
        assert_eq!(hours("@daily"), 24.0);
        assert_eq!(hours("@hourly"), 1.0);
        assert_eq!(hours("*/15 * * * *"), 0.25);
        assert_eq!(hours("0 */6 * * *"), 6.0);
        assert_eq!(hours("30 2 * * 0"), 168.0);
        assert_eq!(hours("0 3 * * 1-5"), 72.0);
    }

    #[test]
    fn irregular_schedules_report_their_longest_gap() {
        assert_eq!(hours("0 1,5 * * *"), 20.0);
        assert_eq!(hours("@monthly"), 31.0 * 24.0);
        assert_eq!(hours("@yearly"), 365.0 * 24.0);
    }

    #[test]
    fn bad_schedules_are_explained() {
        for bad in [
            "daily",
            "0 3 * *",
            "61 * * * *",
            "*/0 * * * *",
            "0 3 31 2 *",
            "a b c d e",
        ] {
            assert!(longest_gap(bad).is_err(), "{bad}");
        }
    }
}
