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
    use super::rfc3339::format;

    #[test]
    fn formats_utc_with_milliseconds() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(1_764_000_000_500), "2025-11-24T16:00:00.500Z");
        assert_eq!(format(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    }
}
