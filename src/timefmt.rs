//! Times cross the API as RFC 3339 text in UTC with millisecond precision.

use crate::domain::Millis;

pub fn now_millis() -> Millis {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since_epoch.as_millis() as Millis
}

pub mod rfc3339 {
    use time::OffsetDateTime;

    use crate::domain::Millis;

    /// Always `YYYY-MM-DDTHH:MM:SS.mmmZ`, so the text sorts like the time.
    pub fn format(ms: Millis) -> String {
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }

    /// An RFC 3339 instant (the ISO 8601 profile with a date, a time and an offset:
    /// `2026-01-05T09:30:00Z`, `2026-01-05T10:30:00.250+01:00`), to the millisecond.
    pub fn parse(text: &str) -> Option<Millis> {
        let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
        Millis::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
    }

    pub fn serialize<S: serde::Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*ms))
    }

    pub fn serialize_option<S: serde::Serializer>(
        ms: &Option<Millis>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => s.serialize_str(&format(*ms)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339::{format, parse};

    #[test]
    fn formats_utc_with_milliseconds() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(1_764_000_000_500), "2025-11-24T16:00:00.500Z");
        assert_eq!(format(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    }

    #[test]
    fn parses_instants_with_any_offset() {
        assert_eq!(parse("2025-11-24T16:00:00.500Z"), Some(1_764_000_000_500));
        assert_eq!(
            parse("2025-11-24T17:00:00.500+01:00"),
            Some(1_764_000_000_500)
        );
        assert_eq!(parse("2025-11-24T16:00:00z"), Some(1_764_000_000_000));
        for bad in [
            "2025-11-24",
            "2025-11-24T16:00:00",
            "yesterday",
            "",
            "2025-13-01T00:00:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
