//! Where and how a visitor was last seen, and when a new sighting is worth a write: a widget
//! that polls or reconnects would otherwise write the visitor's row on every request.

use super::Millis;

/// How far the stored last-seen time may lag behind the truth.
pub const LAST_SEEN_GRANULARITY_MS: Millis = 60_000;

/// The page a visitor's widget runs on, as the widget reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub url: String,
    /// The page of another site that led here; `None` keeps the one already known.
    pub referrer: Option<String>,
}

/// What one visitor request tells about where the visitor is; `None` fields tell nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sighting {
    pub page: Option<Page>,
    pub user_agent: Option<String>,
}

/// What is stored of the visitor's last sighting.
#[derive(Debug, Clone, Copy)]
pub struct LastSeen<'a> {
    pub at: Millis,
    pub url: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

impl Sighting {
    /// Whether recording this sighting at `now` changes what is stored: a new page, referrer
    /// or browser, or a last-seen time older than the granularity.
    pub fn worth_recording(&self, last: LastSeen<'_>, now: Millis) -> bool {
        let differs = |new: Option<&str>, old: Option<&str>| new.is_some_and(|n| Some(n) != old);
        now - last.at >= LAST_SEEN_GRANULARITY_MS
            || self.page.as_ref().is_some_and(|page| {
                differs(Some(&page.url), last.url)
                    || differs(page.referrer.as_deref(), last.referrer)
            })
            || differs(self.user_agent.as_deref(), last.user_agent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAST: LastSeen<'static> = LastSeen {
        at: 1_000_000,
        url: Some("https://shop.test/a"),
        referrer: Some("https://search.test/"),
        user_agent: Some("Firefox/1"),
    };

    fn page(url: &str, referrer: Option<&str>) -> Option<Page> {
        Some(Page {
            url: url.into(),
            referrer: referrer.map(str::to_owned),
        })
    }

    #[test]
    fn the_same_sighting_within_a_minute_writes_nothing() {
        let same = Sighting {
            page: page("https://shop.test/a", None),
            user_agent: Some("Firefox/1".into()),
        };
        assert!(!same.worth_recording(LAST, LAST.at + 59_999));
        assert!(!Sighting::default().worth_recording(LAST, LAST.at + 1));
        assert!(same.worth_recording(LAST, LAST.at + LAST_SEEN_GRANULARITY_MS));
    }

    #[test]
    fn a_new_page_referrer_or_browser_is_written_at_once() {
        let now = LAST.at + 1;
        for sighting in [
            Sighting {
                page: page("https://shop.test/b", None),
                ..Sighting::default()
            },
            Sighting {
                page: page("https://shop.test/a", Some("https://mail.test/")),
                ..Sighting::default()
            },
            Sighting {
                user_agent: Some("Chrome/2".into()),
                ..Sighting::default()
            },
        ] {
            assert!(sighting.worth_recording(LAST, now), "{sighting:?}");
        }
    }
}
