//! Input rules shared by the use cases. Each returns the cleaned value or a 400 that says
//! what to fix.

use super::{ServiceError, ServiceResult};
use crate::domain::CAPACITY_RANGE;

pub const MAX_MESSAGE_CHARS: usize = 10_000;
const MAX_NAME_CHARS: usize = 100;
const MAX_URL_CHARS: usize = 2_048;
const MAX_USER_ID_CHARS: usize = 255;
const MAX_GREETING_CHARS: usize = 500;
/// A longer `User-Agent` is cut here: it is the browser's text, not the visitor's input.
const MAX_USER_AGENT_CHARS: usize = 512;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 1024;

/// A display name: trimmed, 1 to 100 characters, no control characters.
pub fn name(field: &'static str, value: &str) -> ServiceResult<String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if is_blank(trimmed) || len > MAX_NAME_CHARS || trimmed.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "invalid_name",
            format!("{field} must be 1 to {MAX_NAME_CHARS} characters without control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An email address, lower-cased so that sign-in ignores case.
pub fn email(value: &str) -> ServiceResult<String> {
    let trimmed = value.trim().to_lowercase();
    let valid = trimmed.len() <= 254
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(trimmed.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@') && !domain.starts_with('.') && !domain.ends_with('.'));
    if !valid {
        return Err(ServiceError::invalid(
            "invalid_email",
            "email must be an address like ana@example.com",
        ));
    }
    Ok(trimmed)
}

pub fn password(value: &str) -> ServiceResult<()> {
    let len = value.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&len) {
        return Err(ServiceError::invalid(
            "invalid_password",
            format!("password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Seconds a widget timer may be: `reassign_after_secs` 10 s to a day, `auto_close_after_secs`
/// a minute to 30 days (SPEC 9). With `--allow-short-timers` (tests), either may be 1 s.
pub const REASSIGN_SECS: std::ops::RangeInclusive<i64> = 10..=86_400;
pub const AUTO_CLOSE_SECS: std::ops::RangeInclusive<i64> = 60..=2_592_000;

/// A widget timer: within `range` (its lower end 1 with `allow_short`), or None for off.
pub fn timer_secs(
    field: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
    allow_short: bool,
) -> ServiceResult<Option<i64>> {
    let lowest = if allow_short { 1 } else { *range.start() };
    match value {
        Some(n) if n < lowest || n > *range.end() => Err(ServiceError::invalid(
            "invalid_timer",
            format!(
                "{field} must be {lowest} to {} seconds, or null for off",
                range.end()
            ),
        )),
        other => Ok(other),
    }
}

/// A capacity: 1 to 1000 open chats, or None for no limit.
pub fn capacity(value: Option<i64>) -> ServiceResult<Option<i64>> {
    match value {
        Some(n) if !CAPACITY_RANGE.contains(&n) => Err(ServiceError::invalid(
            "invalid_capacity",
            format!(
                "capacity must be {} to {} open chats, or null for no limit",
                CAPACITY_RANGE.start(),
                CAPACITY_RANGE.end()
            ),
        )),
        other => Ok(other),
    }
}

/// A page address a widget reports: an absolute `http(s)` URL of at most 2,048 characters,
/// without spaces or control characters. Anything else (a `javascript:` URL included) is a 400,
/// so whatever the inbox shows as a link is a web page.
pub fn page_url(field: &'static str, value: &str) -> ServiceResult<String> {
    let lower = value.to_ascii_lowercase();
    let has_host = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    let valid = has_host
        && value.chars().count() <= MAX_URL_CHARS
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(ServiceError::invalid(
            "invalid_url",
            format!("{field} must be an http(s) URL of at most {MAX_URL_CHARS} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// The embedding site's id for its user: kept exactly as sent (the site's hash covers those
/// very characters), 1 to 255 characters, not blank, no control characters.
pub fn user_id(value: &str) -> ServiceResult<&str> {
    if is_blank(value)
        || value.chars().count() > MAX_USER_ID_CHARS
        || value.chars().any(char::is_control)
    {
        return Err(ServiceError::invalid(
            "invalid_user_id",
            format!(
                "visitor.user_id must be 1 to {MAX_USER_ID_CHARS} characters without control characters"
            ),
        ));
    }
    Ok(value)
}

/// What a widget says when it opens: trimmed, 1 to 500 characters. Line breaks are kept.
pub fn greeting(value: &str) -> ServiceResult<String> {
    let trimmed = value.trim();
    let bad_control = trimmed.chars().any(|c| c.is_control() && c != '\n');
    if is_blank(trimmed) || trimmed.chars().count() > MAX_GREETING_CHARS || bad_control {
        return Err(ServiceError::invalid(
            "invalid_greeting",
            format!("greeting must be 1 to {MAX_GREETING_CHARS} characters (null for the default)"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A browser's `User-Agent`, cut to a sensible length; nothing when empty.
pub fn user_agent(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.chars().take(MAX_USER_AGENT_CHARS).collect())
}

/// Characters that show nothing: whitespace and the invisible format characters (zero-width
/// space and joiners, word joiner, byte-order mark, soft hyphen, Hangul fillers, …).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// Whether a text shows nothing at all.
pub fn is_blank(value: &str) -> bool {
    value.chars().all(is_invisible)
}

/// A message body: kept exactly as written, but not blank (nothing visible) and not longer
/// than 10,000 characters.
pub fn message_body(value: &str) -> ServiceResult<()> {
    if is_blank(value) {
        return Err(ServiceError::invalid(
            "invalid_body",
            "body must not be empty",
        ));
    }
    if value.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ServiceError::invalid(
            "invalid_body",
            format!("body must be at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Ana ").unwrap(), "Ana");
        assert!(name("name", "   ").is_err());
        assert!(name("name", "\u{200B}").is_err());
        assert!(name("name", &"x".repeat(101)).is_err());
        assert!(name("name", "a\u{0}b").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email(" Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@example",
            "ana@@example.com",
            "a na@example.com",
            "ana@.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn capacities_are_bounded_or_unlimited() {
        assert_eq!(timer_secs("t", None, REASSIGN_SECS, false).unwrap(), None);
        assert_eq!(
            timer_secs("t", Some(10), REASSIGN_SECS, false).unwrap(),
            Some(10)
        );
        assert!(timer_secs("t", Some(9), REASSIGN_SECS, false).is_err());
        assert_eq!(
            timer_secs("t", Some(1), REASSIGN_SECS, true).unwrap(),
            Some(1)
        );
        assert!(timer_secs("t", Some(0), AUTO_CLOSE_SECS, true).is_err());
        assert!(timer_secs("t", Some(2_592_001), AUTO_CLOSE_SECS, true).is_err());
        assert_eq!(capacity(None).unwrap(), None);
        assert_eq!(capacity(Some(1)).unwrap(), Some(1));
        assert_eq!(capacity(Some(1000)).unwrap(), Some(1000));
        for bad in [0, -1, 1001, i64::MAX] {
            assert!(capacity(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_urls_are_web_addresses_that_fit() {
        assert!(page_url("page.url", "https://shop.test/cart?x=1#top").is_ok());
        assert!(page_url("page.url", "HTTP://shop.test").is_ok());
        let long = format!("https://shop.test/{}", "a".repeat(2_048 - 18));
        assert_eq!(long.len(), 2_048);
        assert!(page_url("page.url", &long).is_ok());
        for bad in [
            "",
            "shop.test",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://shop.test/a b",
            "https://shop.test/\u{0}",
            &format!("{long}a"),
        ] {
            assert!(page_url("page.url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_ids_are_kept_exactly() {
        assert_eq!(user_id(" u-1 ").unwrap(), " u-1 ");
        assert!(user_id("").is_err() && user_id(" ").is_err());
        assert!(user_id(&"x".repeat(256)).is_err());
        assert!(user_id("a\u{7}").is_err());
    }

    #[test]
    fn greetings_keep_lines_and_fit() {
        assert_eq!(greeting(" Hi!\nAsk away. ").unwrap(), "Hi!\nAsk away.");
        assert!(greeting("  ").is_err());
        assert!(greeting(&"x".repeat(501)).is_err());
        assert!(greeting("a\u{1b}b").is_err());
    }

    #[test]
    fn user_agents_are_cut_not_refused() {
        assert_eq!(user_agent(&"x".repeat(600)).unwrap().len(), 512);
        assert_eq!(user_agent("  "), None);
    }

    #[test]
    fn bodies_must_have_text_and_fit() {
        assert!(message_body("<b>hi</b>").is_ok());
        assert!(message_body(" \n ").is_err());
        assert!(message_body("\u{200B}\u{200B} \u{FEFF}").is_err());
        assert!(message_body("\u{200B}a").is_ok());
        assert!(message_body(&"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert!(message_body(&"é".repeat(MAX_MESSAGE_CHARS + 1)).is_err());
    }
}
