//! RFC 3339 timestamps, as syslog lines carry them, to and from Unix microseconds: enough of a
//! calendar to sort lines by when they happened and show them in UTC, without a date crate.

/// Unix microseconds of `2012-11-30T06:45:29.123456+00:00` (fraction optional, `Z` or an offset).
pub fn parse(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (hour, minute, second) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // 60 is a leap second; it sorts as the last instant of its minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        // RFC 5424 allows at most six digits: microseconds.
        if len == 0 || len > 6 {
            return None;
        }
        micros = digits(fraction, 0, len)? * 10_i64.pow(6 - len as u32);
        rest = &fraction[len..];
    }
    let offset_seconds = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (hours, minutes) = (digits(rest, 1, 2)?, digits(rest, 4, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
        - offset_seconds;
    Some(seconds * 1_000_000 + micros)
}

/// `2012-11-30 06:45:29.123` in UTC, to the millisecond.
pub fn format_utc(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let millis = micros.rem_euclid(1_000_000) / 1000;
    let (days, in_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{millis:03}",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

fn digits(b: &[u8], start: usize, len: usize) -> Option<i64> {
    let slice = b.get(start..start + len)?;
    slice.iter().try_fold(0_i64, |n, c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heroku_timestamps() {
        // `date -u -d 2012-11-30T06:45:29Z +%s` is 1354257929.
        assert_eq!(parse("2012-11-30T06:45:29+00:00"), Some(1_354_257_929_000_000));
        assert_eq!(parse("2012-11-30T06:45:29Z"), Some(1_354_257_929_000_000));
        assert_eq!(parse("2012-11-30T07:45:29.5+01:00"), Some(1_354_257_929_500_000));
        assert_eq!(parse("2012-11-29T22:45:29.123456-08:00"), Some(1_354_257_929_123_456));
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2024-02-29T12:00:00Z"), Some(1_709_208_000_000_000));
    }

    #[test]
    fn malformed_timestamps() {
        for bad in [
            "",
            "-",
            "2012-11-30",
            "2012-11-30T06:45:29",
            "2012-11-30 06:45:29Z",
            "2012-13-30T06:45:29Z",
            "2023-02-29T06:45:29Z",
            "2012-11-30T24:00:00Z",
            "2012-11-30T06:45:29.Z",
            "2012-11-30T06:45:29.1234567Z",
            "2012-11-30T06:45:29+0100",
            "2012-11-30T06:45:29+24:00",
            "2012-11-30T06:45:29Z trailing",
            "２012-11-30T06:45:29Z",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_in_utc_and_round_trips() {
        assert_eq!(format_utc(1_354_257_929_123_456), "2012-11-30 06:45:29.123");
        assert_eq!(format_utc(0), "1970-01-01 00:00:00.000");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59.999");
        for days in [-800_000, -1, 0, 59, 60, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
