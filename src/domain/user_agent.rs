//! A browser's `User-Agent` in a few words ("Chrome 126 on macOS"), for the visitor panel. The
//! header is the browser's own claim: good enough to tell visitors apart, never a fact to rely
//! on.

/// Browser tokens, most specific first: Edge, Opera and Samsung Internet also say "Chrome",
/// and Chrome also says "Safari".
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("HeadlessChrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
];

/// Operating systems, most specific first: iPhones say "like Mac OS X", Android says "Linux".
const SYSTEMS: &[(&str, &str)] = &[
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
];

/// "Browser major-version on system", or as much of it as the header tells; `None` when it
/// names no browser or system this knows.
pub fn summary(user_agent: &str) -> Option<String> {
    let browser = browser(user_agent);
    let system = SYSTEMS
        .iter()
        .find(|(token, _)| user_agent.contains(token))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => Some(format!("{browser} on {system}")),
        (Some(browser), None) => Some(browser),
        (None, Some(system)) => Some(system.to_owned()),
        (None, None) => None,
    }
}

fn browser(user_agent: &str) -> Option<String> {
    let named = BROWSERS
        .iter()
        .find_map(|(token, name)| Some((*name, version_after(user_agent, token)?)));
    if let Some((name, version)) = named {
        return Some(format!("{name} {version}"));
    }
    // Safari says "Version/17.4 … Safari/605": its own version comes after "Version/".
    if user_agent.contains("Safari/") {
        return Some(match version_after(user_agent, "Version/") {
            Some(version) => format!("Safari {version}"),
            None => "Safari".to_owned(),
        });
    }
    None
}

/// The major version right after `token` ("Chrome/126.0.1" → "126"); `None` when `token` is
/// not there.
fn version_after<'a>(user_agent: &'a str, token: &str) -> Option<&'a str> {
    let rest = &user_agent[user_agent.find(token)? + token.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn common_browsers_in_a_few_words() {
        for (ua, expected) in [
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
                "Chrome 126 on macOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.67",
                "Edge 125 on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari 17 on iOS",
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
                "Firefox 127 on Linux",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36",
                "Chrome 126 on Android",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.224 Safari/537.36",
                "Chrome 120 on Linux",
            ),
        ] {
            assert_eq!(summary(ua).as_deref(), Some(expected), "{ua}");
        }
    }

    #[test]
    fn unknown_agents_say_nothing_or_what_they_can() {
        assert_eq!(summary("curl/8.5.0"), None);
        assert_eq!(summary(""), None);
        assert_eq!(summary("Something (Windows)").as_deref(), Some("Windows"));
        assert_eq!(summary("Chrome/").as_deref(), None);
    }
}
