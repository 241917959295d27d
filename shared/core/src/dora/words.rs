//! DORA figures as people read them, on the report page and in the terminal alike.

use super::metrics::{Band, MIN_SAMPLE_FOR_BAND};

/// A duration given in hours, in the unit that reads best: minutes under an hour, hours under
/// two days, days and hours beyond (752.8 hours is "31 d 9 h", not a number to divide).
pub fn duration(hours: f64) -> String {
    if hours < 1.0 {
        return format!("{} min", (hours * 60.0).round());
    }
    if hours < 48.0 {
        return format!("{hours:.1} h");
    }
    let whole = hours.round() as u64;
    match whole % 24 {
        0 => format!("{} d", whole / 24),
        h => format!("{} d {h} h", whole / 24),
    }
}

/// A figure's band, or why it has none: no data, or too few issues to band.
pub fn band(band: Option<Band>, sample: usize) -> String {
    match band {
        Some(b) => format!("{b:?}").to_lowercase(),
        None if sample == 0 => "no data".into(),
        None => format!("too few to band (n = {sample}; at least {MIN_SAMPLE_FOR_BAND})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_minutes_hours_or_days_and_hours() {
        assert_eq!(duration(0.25), "15 min");
        assert_eq!(duration(3.24), "3.2 h");
        assert_eq!(duration(47.9), "47.9 h");
        assert_eq!(duration(752.8), "31 d 9 h");
        assert_eq!(duration(72.0), "3 d");
    }

    #[test]
    fn a_band_is_named_or_its_absence_explained() {
        assert_eq!(band(Some(Band::Elite), 9), "elite");
        assert_eq!(band(None, 0), "no data");
        assert_eq!(band(None, 2), "too few to band (n = 2; at least 5)");
    }
}
