//! The web inbox in a real headless Chromium (Debian's `chromium` + `chromium-driver`) over
//! WebDriver: two operators in two browser sessions against the real server.
//!
//! With `SWITCHBOARD_SCREENSHOTS=DIR` the tests also save screenshots of the main pages, the
//! visitor panel and the widget on a shop's page, at 1440×900 and 390×844, to DIR (see README).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::common::{Db, Op, TestServer, free_port, identity, paths, user_hash};

/// A chromedriver process, killed when dropped.
pub(crate) struct ChromeDriver {
    child: Child,
    url: String,
    profiles: Vec<std::path::PathBuf>,
}

impl ChromeDriver {
    /// `None` (with the reason printed) when Chromium or chromedriver is missing outside CI;
    /// in CI that fails the test.
    pub(crate) async fn start() -> Option<ChromeDriver> {
        let found = |name: &str| {
            Command::new("which")
                .arg(name)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !found("chromedriver") || !found("chromium") {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI needs Debian's chromium and chromium-driver");
            }
            eprintln!(
                "SKIPPED: chromium or chromedriver is not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profiles: Vec::new(),
        })
    }

    /// A fresh browser with its own profile (cookies, storage).
    pub(crate) async fn session(&mut self) -> Client {
        let profile = std::env::temp_dir().join(format!(
            "switchboard-chromium-{}-{}",
            std::process::id(),
            free_port()
        ));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        self.profiles.push(profile);
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a WebDriver session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for profile in &self.profiles {
            let _ = std::fs::remove_dir_all(profile);
        }
    }
}

/// Chromium and a server on SQLite whose workspace Acme has Ana Lima (`ana@acme.test`,
/// `ana-password`) as its owner, signed in; `None` when Chromium is missing (outside CI).
async fn acme() -> Option<(ChromeDriver, TestServer, Op)> {
    let driver = ChromeDriver::start().await?;
    let s = TestServer::start(Db::Sqlite).await?;
    let (status, _) = s
        .signup_with(json!({"workspace_name": "Acme", "name": "Ana Lima", "email": "ana@acme.test", "password": "ana-password"}))
        .await;
    assert_eq!(status, 201);
    let ana = s.login("ana@acme.test", "ana-password").await;
    Some((driver, s, ana))
}

/// Polls a JavaScript expression in the page until it is true.
pub(crate) async fn until(browser: &Client, what: &str, expression: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let value = browser
            .execute(&format!("return Boolean({expression});"), vec![])
            .await;
        if matches!(value, Ok(Value::Bool(true))) {
            return;
        }
        if Instant::now() > deadline {
            let text = browser
                .execute("return document.body.innerText", vec![])
                .await
                .unwrap_or_default();
            panic!("timed out waiting for {what} ({expression}); the page says:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(browser: &Client, css: &str) {
    // A live update may redraw the element between finding and clicking it: find it again.
    for attempt in 1.. {
        let element = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        match element.click().await {
            Ok(()) => return,
            Err(e) if attempt < 5 && e.to_string().contains("stale element") => continue,
            Err(e) => panic!("click {css}: {e}"),
        }
    }
}

async fn sign_in(browser: &Client, base: &str, email: &str, password: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    let email_field = browser
        .wait()
        .for_element(Locator::Css("input[name=email]"))
        .await
        .unwrap();
    email_field.send_keys(email).await.unwrap();
    browser
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    click(browser, "button[type=submit]").await;
    until(browser, "the inbox", "document.querySelector('#list')").await;
}

fn row_assignee(conversation: i64) -> String {
    format!(
        "document.querySelector('li[data-conversation=\"{conversation}\"] .row-assignee')?.dataset.assignee"
    )
}

pub(crate) async fn screenshot(browser: &Client, name: &str) {
    if let Ok(dir) = std::env::var("SWITCHBOARD_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        let png = browser.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_route_claim_pick_and_unassign_live() {
    let Some((mut driver, s, ana)) = acme().await else {
        return;
    };
    let bob_id = add_bob(&s, &ana).await.id;
    let widget = s.widget(&ana, "round_robin", &[bob_id]).await;

    let ana_tab = driver.session().await;
    let bob_tab = driver.session().await;
    sign_in(&ana_tab, &s.base, "ana@acme.test", "ana-password").await;
    sign_in(&bob_tab, &s.base, "bob@acme.test", "bob-password").await;
    click(&ana_tab, "button[data-filter=all]").await;

    // A handed-over chat lands in Bob's "Assigned to me", and Ana's Everyone row shows Bob,
    // without a reload.
    let chat = s.start_chat(&widget, "Where is my parcel?").await;
    s.handover(&widget, &chat).await;
    until(
        &bob_tab,
        "the routed chat in Bob's inbox",
        &format!("{} == '{bob_id}'", row_assignee(chat.id)),
    )
    .await;
    until(
        &ana_tab,
        "Bob on Ana's row",
        &format!("{} == '{bob_id}'", row_assignee(chat.id)),
    )
    .await;
    until(
        &bob_tab,
        "the count on Assigned to me",
        "document.querySelector('[data-count=mine]').textContent == '1'",
    )
    .await;
    screenshot(&ana_tab, "inbox").await;

    // Ana claims it through the chip; Bob's tab follows live.
    click(
        &ana_tab,
        &format!("li[data-conversation=\"{}\"] a", chat.id),
    )
    .await;
    until(
        &ana_tab,
        "the conversation",
        "document.querySelector('#assignee-name')?.textContent == 'Bob Stone'",
    )
    .await;
    until(&ana_tab, "the routing note", "document.querySelector('#timeline').innerText.includes('Routed to Bob Stone by round-robin')").await;
    // Bob's chat offers no Claim button; taking it from him, through the chip, names him and
    // asks first.
    let claim_button = ana_tab
        .execute(
            "return Boolean(document.querySelector('#claim-now'))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(claim_button, json!(false), "no Claim on a teammate's chat");
    click(&ana_tab, "#assignee-chip").await;
    click(&ana_tab, "#assignee-menu button[data-action=claim]").await;
    until(
        &ana_tab,
        "the confirmation naming Bob",
        "document.querySelector('dialog[open] #confirm-title')?.textContent == 'Take this chat from Bob Stone?'",
    )
    .await;
    click(&ana_tab, "dialog[open] [data-answer=confirm]").await;
    until(
        &ana_tab,
        "focus in the reply box, where the next action is",
        "document.activeElement?.id == 'reply'",
    )
    .await;
    until(
        &ana_tab,
        "Ana on the chip",
        "document.querySelector('#assignee-name').textContent == 'Ana Lima'",
    )
    .await;
    until(
        &bob_tab,
        "the chat leaving Bob's list",
        &format!(
            "!document.querySelector('li[data-conversation=\"{}\"]')",
            chat.id
        ),
    )
    .await;
    click(&bob_tab, "button[data-filter=all]").await;
    until(
        &bob_tab,
        "Ana on Bob's row",
        &format!("{} == '{}'", row_assignee(chat.id), ana.id),
    )
    .await;

    // Pick a teammate, then unassign.
    click(&ana_tab, "#assignee-chip").await;
    click(&ana_tab, &format!("button[data-pick=\"{bob_id}\"]")).await;
    until(
        &bob_tab,
        "Bob picked",
        &format!("{} == '{bob_id}'", row_assignee(chat.id)),
    )
    .await;
    click(&ana_tab, "#assignee-chip").await;
    click(&ana_tab, "button[data-action=unassign]").await;
    until(
        &bob_tab,
        "unassigned",
        &format!("{} == ''", row_assignee(chat.id)),
    )
    .await;
    until(
        &ana_tab,
        "the timeline",
        "document.querySelector('#timeline').innerText.includes('Unassigned by Ana Lima')",
    )
    .await;
    screenshot(&ana_tab, "conversation").await;

    // A claim that lost a race says who has it.
    click(
        &bob_tab,
        &format!("li[data-conversation=\"{}\"] a", chat.id),
    )
    .await;
    until(
        &bob_tab,
        "Bob's view",
        "document.querySelector('#assignee-name')?.textContent == 'Unassigned'",
    )
    .await;
    let (status, _) = s.claim(&ana, chat.id).await;
    assert_eq!(status, 200);
    // Bob clicks before his tab caught up: force the stale chip to claim as if unassigned.
    bob_tab
        .execute("document.querySelector('#assignee-chip').click();", vec![])
        .await
        .unwrap();
    let stale_claim = format!(
        "fetch('{}', {{method: 'POST', headers: {{'content-type': 'application/json'}}, body: JSON.stringify({{if_assignee_id: null}})}}).then(r => r.status)",
        paths::conversation_action(chat.id, "claim")
    );
    let status = bob_tab
        .execute(&format!("return await {stale_claim};"), vec![])
        .await
        .unwrap();
    assert_eq!(status, json!(409));
    until(
        &bob_tab,
        "Ana on Bob's chip",
        "document.querySelector('#assignee-name').textContent == 'Ana Lima'",
    )
    .await;

    // The Away toggle changes routing: away, Bob gets nothing; back, he does.
    click(&bob_tab, "button[data-availability=away]").await;
    until(&bob_tab, "the toggle", "document.querySelector('button[data-availability=away]').getAttribute('aria-pressed') == 'true'").await;
    let waiting = s.start_chat(&widget, "anyone?").await;
    let waiting_view = s.handover(&widget, &waiting).await;
    assert_eq!(waiting_view["assignee_name"], Value::Null, "Bob is away");
    click(&bob_tab, "button[data-availability=available]").await;
    until(&bob_tab, "the toggle", "document.querySelector('button[data-availability=available]').getAttribute('aria-pressed') == 'true'").await;
    let routed = s.start_chat(&widget, "hello again").await;
    let routed_view = s.handover(&widget, &routed).await;
    assert_eq!(
        routed_view["assignee_name"], "Bob Stone",
        "Bob is back in rotation"
    );

    // Visitor markup stays inert text.
    let xss = "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\"> hi";
    let evil = s.start_chat(&widget, xss).await;
    ana_tab
        .goto(&format!("{}/inbox/conversations/{}", s.base, evil.id))
        .await
        .unwrap();
    until(
        &ana_tab,
        "the message",
        "document.querySelector('#timeline li.visitor')",
    )
    .await;
    let shown = ana_tab
        .execute(
            "return document.querySelector('#timeline li.visitor').lastChild.textContent",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, json!(xss), "shown exactly as typed");
    let inert = ana_tab
        .execute("return window.__xss === undefined && !document.querySelector('#timeline img') && !document.querySelector('#timeline script')", vec![])
        .await
        .unwrap();
    assert_eq!(inert, json!(true));
    click(&ana_tab, "button[data-filter=all]").await;
    until(
        &ana_tab,
        "the row",
        &format!(
            "document.querySelector('li[data-conversation=\"{}\"]')",
            evil.id
        ),
    )
    .await;
    let nothing_injected = ana_tab
        .execute("return document.querySelectorAll('img, script:not([src])').length == 0 && window.__xss === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(
        nothing_injected,
        json!(true),
        "no markup from the visitor anywhere on the page"
    );

    // Routing settings, for the screenshot and a save through the form.
    ana_tab
        .goto(&format!("{}/widgets/{}", s.base, widget.id))
        .await
        .unwrap();
    until(
        &ana_tab,
        "the routing form",
        "document.querySelector('#routing-form')",
    )
    .await;
    click(&ana_tab, "input[value=lightest_load]").await;
    screenshot(&ana_tab, "routing").await;
    click(&ana_tab, "#routing-form button[type=submit]").await;
    until(
        &ana_tab,
        "saved",
        "document.querySelector('.notice')?.textContent == 'Routing saved.'",
    )
    .await;
    let (_, saved) = s.get_widget(&ana, widget.id).await;
    assert_eq!(saved["routing"]["mode"], "lightest_load");

    ana_tab.close().await.unwrap();
    bob_tab.close().await.unwrap();
}

/// A shop's page on another origin (a second loopback port) embedding the widget.
async fn host_page(server_base: &str, key: &str) -> String {
    host_page_with(server_base, key, "").await
}

/// The same, with more attributes on the script tag (our own values: no escaping needed).
/// Bob Stone, Ana's teammate, who signs in as bob@acme.test with bob-password.
async fn add_bob(s: &TestServer, ana: &Op) -> Op {
    let (status, bob) = s
        .create_operator(
            ana,
            json!({"name": "Bob Stone", "email": "bob@acme.test", "password": "bob-password"}),
        )
        .await;
    assert_eq!(status, 201, "{bob}");
    s.login("bob@acme.test", "bob-password").await
}

pub(crate) async fn host_page_with(server_base: &str, key: &str, attributes: &str) -> String {
    let html = format!(
        "<!doctype html><html><head><title>Shop</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body style=\"font-family:sans-serif;margin:0;padding:24px;background:#faf7f2\"><h1>Trail Shoe Co.</h1>\
         <p>Waterproof boots for every season.</p>\
         <script src=\"{server_base}/widget.js\" data-key=\"{key}\" {attributes} async></script></body></html>"
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(html) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

pub(crate) const WIDGET: &str = "document.getElementById('switchboard-widget')?.shadowRoot";

pub(crate) async fn widget_says(browser: &Client, text: &str) {
    let script = format!(
        "const r = {WIDGET}; r.querySelector('textarea').value = arguments[0]; r.querySelector('form').requestSubmit();"
    );
    browser.execute(&script, vec![json!(text)]).await.unwrap();
}

/// Runs `expression` inside the widget's shadow root (`r`) and returns its value.
pub(crate) async fn in_widget(browser: &Client, expression: &str) -> Value {
    browser
        .execute(&format!("const r = {WIDGET}; return {expression};"), vec![])
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_on_another_site_talks_to_the_ai_then_a_person() {
    let Some(mut driver) = ChromeDriver::start().await else {
        return;
    };
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let bob = add_bob(&s, &ana).await;
    let bob_id = bob.id;
    let widget = s.widget(&ana, "round_robin", &[bob_id]).await;
    s.add_article(
        &ana,
        widget.id,
        "Do you ship abroad?",
        "We ship to every EU country.",
    )
    .await;
    let shop = host_page(&s.base, &widget.key).await;
    let elsewhere = host_page(&s.base, &widget.key).await;
    let (status, _) = s.set_allowed_origins(&ana, widget.id, &[&shop]).await;
    assert_eq!(status, 200);

    let browser = driver.session().await;
    browser.goto(&shop).await.unwrap();
    until(
        &browser,
        "the launcher",
        &format!("{WIDGET}?.querySelector('.launcher')"),
    )
    .await;
    browser
        .execute(
            &format!("{WIDGET}.querySelector('.launcher').click()"),
            vec![],
        )
        .await
        .unwrap();
    until(
        &browser,
        "the open panel",
        &format!("!{WIDGET}.querySelector('.panel').hidden"),
    )
    .await;
    until(
        &browser,
        "the AI label",
        &format!("{WIDGET}.querySelector('.answering').textContent == ''"),
    )
    .await;
    widget_says(&browser, "Hi! Do you ship to Spain? <b>abroad</b>").await;
    until(&browser, "the AI's answer", &format!("[...{WIDGET}.querySelectorAll('li.ai')].some(li => li.textContent.includes('We ship to every EU country.'))")).await;
    until(&browser, "the visitor's own text, as text", &format!("[...{WIDGET}.querySelectorAll('li.visitor')].some(li => li.textContent.includes('<b>abroad</b>')) && !{WIDGET}.querySelector('li b')")).await;
    until(
        &browser,
        "who answers",
        &format!("{WIDGET}.querySelector('.answering').textContent == 'AI assistant'"),
    )
    .await;

    browser
        .execute(
            &format!("{WIDGET}.querySelector('button.handover').click()"),
            vec![],
        )
        .await
        .unwrap();
    until(
        &browser,
        "the routed teammate",
        &format!(
            "{WIDGET}.querySelector('.answering').textContent == \"You're chatting with Bob Stone\""
        ),
    )
    .await;
    let (_, mine) = s.conversations(&bob, "?view=mine").await;
    let chat_id = mine["items"][0]["id"].as_i64().expect("the chat is Bob's");
    let (status, _) = s
        .reply(&bob, chat_id, "Hi, Bob here. Yes, we ship to Spain!")
        .await;
    assert_eq!(status, 201);
    until(&browser, "Bob's reply, live", &format!("[...{WIDGET}.querySelectorAll('li.operator')].some(li => li.textContent.includes('Bob here') && li.textContent.includes('Bob Stone'))")).await;

    // The visitor comes back later: the chat is still there.
    browser.goto(&shop).await.unwrap();
    until(
        &browser,
        "the restored chat",
        &format!("{WIDGET}?.querySelectorAll('li').length >= 4"),
    )
    .await;

    // The same widget on a site that is not allowed is refused.
    browser.goto(&elsewhere).await.unwrap();
    until(
        &browser,
        "the launcher",
        &format!("{WIDGET}?.querySelector('.launcher')"),
    )
    .await;
    browser
        .execute(
            &format!("{WIDGET}.querySelector('.launcher').click()"),
            vec![],
        )
        .await
        .unwrap();
    widget_says(&browser, "hello from elsewhere").await;
    // In the visitor's words: not the server's advice to whoever runs the site.
    until(
        &browser,
        "the refusal",
        &format!(
            "{WIDGET}.querySelector('.error').textContent == \"Chat isn't available on this page right now.\""
        ),
    )
    .await;
    let (_, all) = s.conversations(&ana, "").await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        1,
        "nothing was created from the other site"
    );
    browser.close().await.unwrap();
}

/// The two sizes the inbox is judged at (SPEC 12).
pub(crate) const DESKTOP: (u32, u32) = (1440, 900);
pub(crate) const PHONE: (u32, u32) = (390, 844);

/// Resizes the window to `width`×`height` CSS pixels and waits until the page has.
pub(crate) async fn at_size(browser: &Client, (width, height): (u32, u32)) {
    browser.set_window_size(width, height).await.unwrap();
    // The window's outer size includes whatever the browser draws around the page.
    let inner: Value = browser
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await
        .unwrap();
    let (dw, dh) = (
        width as i64 - inner[0].as_i64().unwrap(),
        height as i64 - inner[1].as_i64().unwrap(),
    );
    if dw != 0 || dh != 0 {
        browser
            .set_window_size(width + dw as u32, height + dh as u32)
            .await
            .unwrap();
    }
    until(
        browser,
        "the window size",
        &format!("window.innerWidth == {width} && window.innerHeight == {height}"),
    )
    .await;
}

const CHROME_ON_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// The conversation view's visitor panel: who the visitor is, where they are, and their
/// earlier chats, beside the conversation on a desktop and behind "Details" on a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_shows_who_the_visitor_is() {
    let Some((mut driver, s, ana)) = acme().await else {
        return;
    };
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let secret = s.identity_secret(&ana, &widget).await;

    // A customer who chatted before, identified by the shop, with markup in their name.
    let name = "Dana <b>Reyes</b>";
    let start = json!({"body": "Do these boots come in 44?",
        "page": {"url": "https://shop.test/boots/trail-runner?size=44", "referrer": "https://search.test/?q=waterproof+boots"},
        "visitor": identity(&secret, "customer-881", Some(name), Some("dana@example.com"))});
    let (status, earlier) = s.visitor_start_from(&widget, start, CHROME_ON_MAC).await;
    assert_eq!(status, 201, "{earlier}");
    let earlier_id = earlier["conversation_id"].as_i64().unwrap();
    let token = earlier["visitor_token"].as_str().unwrap().to_owned();
    s.close(&ana, earlier_id).await;
    let (status, now) = s
        .visitor_start_from(
            &widget,
            json!({"body": "Hi again! Where is my order #5521?", "visitor_token": token, "handover": true,
                   "page": {"url": "https://shop.test/account/orders"}}),
            CHROME_ON_MAC,
        )
        .await;
    assert_eq!(status, 201, "{now}");
    let current = now["conversation_id"].as_i64().unwrap();
    // And someone the shop does not know, who gets a generated name.
    let anonymous = s.start_chat(&widget, "Do you ship to Norway?").await;
    s.handover(&widget, &anonymous).await;
    let generated = s.conversation(&ana, anonymous.id).await["visitor"]["display_name"].clone();

    let browser = driver.session().await;
    at_size(&browser, DESKTOP).await;
    sign_in(&browser, &s.base, "ana@acme.test", "ana-password").await;
    click(&browser, "button[data-filter=all]").await;
    until(
        &browser,
        "the rows' names",
        &format!(
            "document.querySelector('li[data-conversation=\"{current}\"] .visitor-name')?.textContent.startsWith({name:?}) \
             && document.querySelector('li[data-conversation=\"{}\"] .visitor-name')?.textContent == {generated}",
            anonymous.id
        ),
    )
    .await;
    click(&browser, &format!("li[data-conversation=\"{current}\"] a")).await;
    until(
        &browser,
        "the visitor panel",
        &format!("document.querySelector('#visitor-name')?.textContent == {name:?} && document.querySelector('#visitor-panel dl')"),
    )
    .await;
    let panel = browser
        .execute(
            "const p = document.querySelector('#visitor-panel'); const a = p.querySelector('dd a[target=_blank]'); \
             const c = document.querySelector('#conversation').getBoundingClientRect(); const r = p.getBoundingClientRect(); \
             return {text: p.innerText, verified: p.querySelector('#visitor-verified').textContent, href: a.getAttribute('href'), \
                     rel: a.rel, link: a.textContent, beside: r.left >= c.right && r.top < c.bottom && r.width >= 250, \
                     earlier: !!p.querySelector('a[href=\"/inbox/conversations/' + arguments[0] + '\"]'), \
                     markup: document.querySelectorAll('#app b').length, header: document.querySelector('#conversation h2').textContent};",
            vec![json!(earlier_id)],
        )
        .await
        .unwrap();
    assert_eq!(panel["verified"], "Verified", "{panel}");
    assert_eq!(panel["href"], "https://shop.test/account/orders", "{panel}");
    assert_eq!(panel["rel"], "noopener noreferrer", "{panel}");
    assert_eq!(panel["link"], "shop.test/account/orders", "{panel}");
    assert_eq!(panel["beside"], true, "side by side on a desktop: {panel}");
    assert_eq!(
        panel["earlier"], true,
        "the earlier chat is linked: {panel}"
    );
    assert_eq!(panel["markup"], 0, "the name is text, not markup: {panel}");
    assert!(
        panel["header"].as_str().unwrap().starts_with(name),
        "{panel}"
    );
    let text = panel["text"].as_str().unwrap();
    for shown in [
        "dana@example.com",
        "customer-881",
        "search.test/?q=waterproof+boots",
        "Chrome 126 on macOS",
        "This chat",
    ] {
        assert!(text.contains(shown), "{shown:?} in the panel:\n{text}");
    }
    screenshot(&browser, "visitor-panel-desktop").await;

    // The earlier chat is one click away.
    click(
        &browser,
        &format!("#visitor-panel a[href=\"/inbox/conversations/{earlier_id}\"]"),
    )
    .await;
    until(
        &browser,
        "the earlier chat",
        &format!("document.querySelector('#conversation')?.dataset.conversation == '{earlier_id}' && document.querySelector('#visitor-panel dl')"),
    )
    .await;

    // On a phone the panel waits behind "Details".
    at_size(&browser, PHONE).await;
    browser
        .goto(&format!("{}/inbox/conversations/{current}", s.base))
        .await
        .unwrap();
    until(
        &browser,
        "the conversation on a phone",
        "document.querySelector('#visitor-panel dl') && getComputedStyle(document.querySelector('#visitor-panel')).display == 'none'",
    )
    .await;
    browser
        .execute(
            "document.querySelector('#conversation').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&browser, "conversation-phone").await;
    click(&browser, "#details-toggle").await;
    until(
        &browser,
        "the details sheet",
        "(() => { const r = document.querySelector('#visitor-panel').getBoundingClientRect(); \
         return r.width >= 380 && r.left >= 0 && r.right <= window.innerWidth; })()",
    )
    .await;
    screenshot(&browser, "visitor-panel-phone").await;
    click(&browser, "#visitor-panel .close-details").await;
    until(
        &browser,
        "the sheet closed",
        "getComputedStyle(document.querySelector('#visitor-panel')).display == 'none'",
    )
    .await;

    // The widget's settings: greeting and identity verification.
    at_size(&browser, DESKTOP).await;
    browser
        .goto(&format!("{}/widgets/{}", s.base, widget.id))
        .await
        .unwrap();
    until(
        &browser,
        "the identity secret",
        "document.querySelector('#identity-secret-value')",
    )
    .await;
    browser
        .execute(
            "const f = document.querySelector('#greeting-form textarea'); f.value = 'Hi! Ask us about sizes, shipping or returns.';",
            vec![],
        )
        .await
        .unwrap();
    click(&browser, "#greeting-form button[type=submit]").await;
    until(
        &browser,
        "saved",
        "document.querySelector('.notice')?.textContent == 'Greeting saved.'",
    )
    .await;
    let (_, public) = s.public_widget(&widget).await;
    assert_eq!(
        public["greeting"],
        "Hi! Ask us about sizes, shipping or returns."
    );
    browser
        .execute(
            "document.querySelector('#greeting-form').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&browser, "widget-settings").await;
    browser.close().await.unwrap();
}

/// The widget as a visitor on a phone sees it, on the shop's own site: the greeting, a person
/// offered from the start, full screen, a limit shown before it is hit, and a clear end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_on_a_phone_greets_offers_a_person_and_says_when_closed() {
    let Some((mut driver, s, ana)) = acme().await else {
        return;
    };
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let greeting = "Hi! Ask us about sizes, shipping or returns.";
    let (status, _) = s
        .update_widget(&ana, widget.id, json!({"greeting": greeting}))
        .await;
    assert_eq!(status, 200);
    let secret = s.identity_secret(&ana, &widget).await;
    let signed_in = format!(
        "data-user-id=\"customer-7\" data-user-hash=\"{}\" data-name=\"Dana Reyes\" data-email=\"dana@example.com\"",
        user_hash(&secret, "customer-7")
    );
    let shop = host_page_with(&s.base, &widget.key, &signed_in).await;
    let (status, _) = s.set_allowed_origins(&ana, widget.id, &[&shop]).await;
    assert_eq!(status, 200);

    let browser = driver.session().await;
    at_size(&browser, PHONE).await;
    browser
        .goto(&format!("{shop}/?utm_source=mail"))
        .await
        .unwrap();
    until(
        &browser,
        "the launcher",
        &format!("{WIDGET}?.querySelector('.launcher svg')"),
    )
    .await;
    let launcher = in_widget(&browser, "r.querySelector('.launcher').textContent.trim()").await;
    assert_eq!(launcher, json!(""), "an icon, not an emoji");
    screenshot(&browser, "widget-phone-launcher").await;
    browser
        .execute(
            &format!("{WIDGET}.querySelector('.launcher').click()"),
            vec![],
        )
        .await
        .unwrap();
    until(
        &browser,
        "the greeting and a person on offer, full screen",
        &format!(
            "(() => {{ const r = {WIDGET}; const p = r.querySelector('.panel').getBoundingClientRect(); \
             return r.querySelector('li.greeting')?.textContent == {greeting:?} \
               && r.querySelector('button.handover').offsetParent !== null \
               && p.width == window.innerWidth && p.height == window.innerHeight; }})()"
        ),
    )
    .await;
    screenshot(&browser, "widget-phone-open").await;

    // A limit shown before it is hit, and nothing cut.
    let long = "a".repeat(9_500);
    browser
        .execute(
            &format!("const t = {WIDGET}.querySelector('textarea'); t.value = arguments[0]; t.dispatchEvent(new Event('input'));"),
            vec![json!(long)],
        )
        .await
        .unwrap();
    let counter = in_widget(&browser, "[r.querySelector('.counter').textContent, r.querySelector('.counter').hidden, r.querySelector('.send').disabled]").await;
    assert_eq!(counter, json!(["9,500 / 10,000", false, false]));
    browser
        .execute(
            &format!("const t = {WIDGET}.querySelector('textarea'); t.value += 'b'.repeat(501); t.dispatchEvent(new Event('input'));"),
            vec![],
        )
        .await
        .unwrap();
    let over = in_widget(&browser, "[r.querySelector('.counter').classList.contains('over'), r.querySelector('.send').disabled, r.querySelector('.error').textContent, [...r.querySelector('textarea').value].length]").await;
    assert_eq!(
        over,
        json!([
            true,
            true,
            "That message is too long. Please keep it under 10,000 characters.",
            10_001
        ])
    );
    browser
        .execute(
            &format!("const t = {WIDGET}.querySelector('textarea'); t.value = ''; t.dispatchEvent(new Event('input'));"),
            vec![],
        )
        .await
        .unwrap();

    // "Talk to a person" before writing: the first message goes straight to the team.
    browser
        .execute(
            &format!("{WIDGET}.querySelector('button.handover').click()"),
            vec![],
        )
        .await
        .unwrap();
    until(
        &browser,
        "the invitation",
        &format!("[...{WIDGET}.querySelectorAll('li.system')].some(li => li.textContent.includes('a person from our team will answer'))"),
    )
    .await;
    widget_says(&browser, "My boots arrived in the wrong size.").await;
    until(
        &browser,
        "a person on the way",
        &format!("{WIDGET}.querySelector('.answering').textContent == \"You're chatting with Ana Lima\" && {WIDGET}.querySelector('button.handover').hidden"),
    )
    .await;
    let (_, rows) = s.conversations(&ana, "?view=mine").await;
    let row = rows["items"][0].clone();
    assert_eq!(row["status"], "handed_off", "{row}");
    assert_eq!(
        row["visitor"]["display_name"], "Dana Reyes",
        "identified by the shop: {row}"
    );
    assert_eq!(row["visitor"]["verified"], true, "{row}");
    let chat = row["id"].as_i64().unwrap();
    let record = s
        .visitor_record(&ana, row["visitor_id"].as_i64().unwrap())
        .await
        .1;
    assert_eq!(
        record["current_url"],
        format!("{shop}/?utm_source=mail"),
        "{record}"
    );
    let conversation = s.conversation(&ana, chat).await;
    assert_eq!(
        conversation["messages"].as_array().unwrap().len(),
        2,
        "the visitor's message and the handover note, no AI answer: {conversation}"
    );
    s.reply(
        &ana,
        chat,
        "Sorry about that! I'll send the right pair today.",
    )
    .await;
    until(
        &browser,
        "Ana's reply",
        &format!("[...{WIDGET}.querySelectorAll('li.operator')].some(li => li.textContent.includes('right pair'))"),
    )
    .await;
    screenshot(&browser, "widget-phone-chat").await;

    // Closed: said plainly, with a way to start again.
    s.close(&ana, chat).await;
    until(
        &browser,
        "the closed chat",
        &format!("{WIDGET}.querySelector('.closed').offsetParent !== null && {WIDGET}.querySelector('form').hidden"),
    )
    .await;
    let closed = in_widget(&browser, "r.querySelector('.closed').innerText").await;
    assert!(
        closed.as_str().unwrap().contains("This chat was closed."),
        "{closed}"
    );
    screenshot(&browser, "widget-phone-closed").await;
    browser
        .execute(
            &format!("{WIDGET}.querySelector('.start-new').click()"),
            vec![],
        )
        .await
        .unwrap();
    until(
        &browser,
        "a fresh chat",
        &format!("!{WIDGET}.querySelector('form').hidden && {WIDGET}.querySelectorAll('li').length == 1 && {WIDGET}.querySelector('li.greeting')"),
    )
    .await;

    // The close button hides it; on a desktop it is a panel above the launcher.
    browser
        .execute(
            &format!("{WIDGET}.querySelector('button.close').click()"),
            vec![],
        )
        .await
        .unwrap();
    until(
        &browser,
        "closed panel",
        &format!("{WIDGET}.querySelector('.panel').hidden && {WIDGET}.querySelector('.launcher').getBoundingClientRect().width == 56"),
    )
    .await;
    at_size(&browser, DESKTOP).await;
    browser
        .execute(
            &format!("{WIDGET}.querySelector('.launcher').click()"),
            vec![],
        )
        .await
        .unwrap();
    until(
        &browser,
        "the desktop panel",
        &format!("(() => {{ const p = {WIDGET}.querySelector('.panel').getBoundingClientRect(); return p.width == 370 && p.right < window.innerWidth; }})()"),
    )
    .await;
    screenshot(&browser, "widget-desktop").await;
    browser.close().await.unwrap();
}

/// Types into a field, replacing what it held.
async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// The Teammates page does it all, at both sizes: invite (this server sends no email, so the
/// page shows the link), edit a capacity, deactivate with a confirmation (the teammate's chat
/// moves on) and reactivate; the invited person opens the link, chooses a password and lands
/// in the inbox; the profile changes one's name; a forgotten password gets a reset link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_is_run_from_the_teammates_page() {
    let Some((mut driver, s, ana)) = acme().await else {
        return;
    };
    let bob_id = add_bob(&s, &ana).await.id;
    let (_, dan) = s
        .create_operator(
            &ana,
            json!({"name": "Dan Okafor", "email": "dan@acme.test", "password": "dan-password", "role": "admin"}),
        )
        .await;
    let dan_id = dan["id"].as_i64().unwrap();
    let dan = s.login("dan@acme.test", "dan-password").await;
    s.set_availability(&dan, "away").await;
    s.update_operator(&ana, dan_id, json!({"capacity": 8}))
        .await;
    let widget = s.widget(&ana, "round_robin", &[bob_id, dan_id]).await;
    let chat = s.start_chat(&widget, "Where is my parcel?").await;
    assert_eq!(
        s.handover(&widget, &chat).await["assignee_name"],
        "Bob Stone"
    );
    let (status, _) = s
        .invite(&ana, "eve@acme.test", "Eve Martin", "operator")
        .await;
    assert_eq!(status, 201);

    let browser = driver.session().await;
    at_size(&browser, DESKTOP).await;
    sign_in(&browser, &s.base, "ana@acme.test", "ana-password").await;
    click(&browser, "nav a[href='/teammates']").await;
    until(
        &browser,
        "the team",
        "document.querySelectorAll('#team li').length == 3",
    )
    .await;
    until(&browser, "Eve's pending invitation", "document.querySelector('#invitations li[data-invitation]')?.innerText.includes('eve@acme.test')").await;

    // Invite Cleo as an admin: the page shows the link to pass on.
    fill(&browser, "#invite-form input[name=email]", "cleo@acme.test").await;
    fill(&browser, "#invite-form input[name=name]", "Cleo Park").await;
    browser
        .execute(
            "document.querySelector('#invite-form select[name=role]').value = 'admin';",
            vec![],
        )
        .await
        .unwrap();
    click(&browser, "#invite-form button[type=submit]").await;
    until(
        &browser,
        "the link",
        "document.querySelector('#invite-link')?.value.includes('/invite/')",
    )
    .await;
    until(
        &browser,
        "Cleo pending",
        "document.querySelectorAll('#invitations li[data-invitation]').length == 2",
    )
    .await;
    let link = browser
        .execute(
            "return document.querySelector('#invite-link').value",
            vec![],
        )
        .await
        .unwrap();
    let link = link.as_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("{}/invite/", s.base)), "{link}");

    // Bob's capacity, through his editor.
    click(&browser, &format!("button[data-edit='{bob_id}']")).await;
    fill(&browser, "[data-editor] input[name=capacity]", "4").await;
    screenshot(&browser, "teammates-editing-1440").await;
    click(&browser, "[data-editor] button[type=submit]").await;
    until(
        &browser,
        "Bob's capacity",
        &format!(
            "document.querySelector('[data-load=\"{bob_id}\"]')?.textContent.endsWith(' / 4')"
        ),
    )
    .await;
    screenshot(&browser, "teammates-1440").await;

    // Deactivating Bob asks first; then his chat goes to Dan... who is Away: it waits.
    click(&browser, &format!("button[data-deactivate='{bob_id}']")).await;
    until(
        &browser,
        "the confirmation",
        "document.querySelector('dialog[open]')?.innerText.includes('Deactivate Bob Stone?')",
    )
    .await;
    screenshot(&browser, "teammates-deactivate-1440").await;
    click(&browser, "dialog[open] [data-answer=confirm]").await;
    until(&browser, "Bob deactivated", &format!("document.querySelector('li[data-operator=\"{bob_id}\"] [data-state]')?.dataset.state == 'deactivated'")).await;
    let (_, team) = s.operators(&ana).await;
    let listed = team["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == bob_id)
        .unwrap()
        .clone();
    assert_eq!(
        (&listed["active"], &listed["capacity"]),
        (&json!(false), &json!(4))
    );
    let moved = s.conversation(&ana, chat.id).await;
    assert_eq!(moved["assignee_id"], Value::Null, "{moved}");
    assert_eq!(
        moved["assignment_events"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["reason"],
        "assignee_removed"
    );

    // Revoke Eve's invitation.
    browser
        .execute("[...document.querySelectorAll('#invitations li')].find(li => li.innerText.includes('eve@acme.test')).querySelector('[data-revoke]').click();", vec![])
        .await
        .unwrap();
    until(
        &browser,
        "Eve revoked",
        "document.querySelectorAll('#invitations li[data-invitation]').length == 1",
    )
    .await;

    // The phone-sized page, then Bob back.
    at_size(&browser, PHONE).await;
    browser.refresh().await.unwrap();
    until(
        &browser,
        "the team",
        "document.querySelectorAll('#team li').length == 3",
    )
    .await;
    screenshot(&browser, "teammates-390").await;
    click(&browser, &format!("button[data-reactivate='{bob_id}']")).await;
    until(
        &browser,
        "the confirmation",
        "document.querySelector('dialog[open]')",
    )
    .await;
    screenshot(&browser, "teammates-reactivate-390").await;
    click(&browser, "dialog[open] [data-answer=confirm]").await;
    until(&browser, "Bob back, Away", &format!("document.querySelector('li[data-operator=\"{bob_id}\"] [data-state]')?.dataset.state == 'away'")).await;

    // Cleo opens her link in a browser of her own, at both sizes, and joins.
    let cleo = driver.session().await;
    at_size(&cleo, PHONE).await;
    cleo.goto(&link).await.unwrap();
    until(
        &cleo,
        "the invitation",
        "document.querySelector('#accept-form')",
    )
    .await;
    until(
        &cleo,
        "what it is for",
        "document.querySelector('main h1').textContent == 'Join Acme on Switchboard'",
    )
    .await;
    screenshot(&cleo, "invite-390").await;
    at_size(&cleo, DESKTOP).await;
    screenshot(&cleo, "invite-1440").await;
    fill(&cleo, "#accept-form input[name=name]", "Cleo P.").await;
    fill(&cleo, "#accept-form input[name=password]", "cleo-password").await;
    click(&cleo, "#accept-form button[type=submit]").await;
    until(&cleo, "the inbox", "document.querySelector('#list')").await;
    until(
        &cleo,
        "signed in as Cleo",
        "document.querySelector('#me-name')?.textContent == 'Cleo P.'",
    )
    .await;
    let cleo_op = s.login("cleo@acme.test", "cleo-password").await;
    let (_, me) = s.me(&cleo_op).await;
    assert_eq!(
        (&me["name"], &me["role"]),
        (&json!("Cleo P."), &json!("admin"))
    );
    // The used link says so.
    cleo.goto(&link).await.unwrap();
    until(
        &cleo,
        "the dead link",
        "document.querySelector('main h1')?.textContent == 'This invitation link no longer works'",
    )
    .await;

    // Cleo renames herself under Settings → Profile; Ana's open Teammates page follows.
    at_size(&browser, DESKTOP).await;
    cleo.goto(&format!("{}/settings/profile", s.base))
        .await
        .unwrap();
    fill(&cleo, "#profile-form input[name=name]", "Cleo Park").await;
    click(&cleo, "#profile-form button[type=submit]").await;
    until(
        &cleo,
        "the new name",
        "document.querySelector('#me-name')?.textContent == 'Cleo Park'",
    )
    .await;
    screenshot(&cleo, "profile-1440").await;
    until(
        &browser,
        "Cleo renamed, live",
        &format!(
            "document.querySelector('li[data-operator=\"{}\"] strong')?.textContent == 'Cleo Park'",
            cleo_op.id
        ),
    )
    .await;
    cleo.close().await.unwrap();

    // A forgotten password: the sign-in page leads to the email form.
    let visitor = driver.session().await;
    at_size(&visitor, PHONE).await;
    visitor.goto(&format!("{}/login", s.base)).await.unwrap();
    click(&visitor, "#forgot-link").await;
    fill(&visitor, "#forgot-form input[name=email]", "bob@acme.test").await;
    click(&visitor, "#forgot-form button[type=submit]").await;
    until(
        &visitor,
        "check your email",
        "document.querySelector('#reset-sent')",
    )
    .await;
    screenshot(&visitor, "forgot-390").await;
    visitor
        .goto(&format!("{}/reset/not-a-real-token", s.base))
        .await
        .unwrap();
    fill(
        &visitor,
        "#reset-form input[name=password]",
        "whatever-password",
    )
    .await;
    click(&visitor, "#reset-form button[type=submit]").await;
    until(
        &visitor,
        "the dead link",
        "document.querySelector('main h1')?.textContent == 'This reset link no longer works'",
    )
    .await;
    visitor.close().await.unwrap();
    browser.close().await.unwrap();
}

/// WebDriver's key codes.
const ENTER: &str = "\u{E007}";
const SHIFT: &str = "\u{E008}";
const ARROW_DOWN: &str = "\u{E015}";
const ESCAPE: &str = "\u{E00C}";

async fn press(browser: &Client, css: &str, keys: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(keys)
        .await
        .unwrap();
}

async fn js(browser: &Client, script: &str) -> Value {
    browser
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn open_row(browser: &Client, conversation: i64) {
    click(
        browser,
        &format!("li[data-conversation=\"{conversation}\"] a"),
    )
    .await;
    until(
        browser,
        "the conversation",
        &format!("document.querySelector('#conversation')?.dataset.conversation == '{conversation}' && document.querySelector('#reply')"),
    )
    .await;
}

/// Issue 16, item by item: the inbox keeps work through live updates and a restart, speaks the
/// keyboard, tells AI chats from those waiting for a person, asks before taking a teammate's,
/// gets attention, tells the truth about push, works on a phone and sends a signed-out tab to
/// sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_keeps_work_through_live_updates_and_restarts() {
    let Some((mut driver, s, ana)) = acme().await else {
        return;
    };
    let bob = add_bob(&s, &ana).await;
    let bob_id = bob.id;
    let tab = driver.session().await;
    at_size(&tab, DESKTOP).await;
    sign_in(&tab, &s.base, "ana@acme.test", "ana-password").await;

    // First run: the empty inbox shows the three steps.
    until(
        &tab,
        "the first-run steps",
        "document.querySelectorAll('#first-run .steps li').length == 3 && !document.querySelector('#first-run .steps li').classList.contains('done')",
    )
    .await;
    screenshot(&tab, "first-run-1440").await;

    // 3. Creating a widget lands on that widget.
    click(&tab, "nav a[href='/widgets']").await;
    fill(&tab, "#widget-form input[name=name]", "Help centre").await;
    click(&tab, "#widget-form button[type=submit]").await;
    until(
        &tab,
        "the new widget's page",
        "document.querySelector('main h1')?.textContent == 'Help centre' && document.querySelector('#routing-form') && !document.body.innerText.includes('does not exist')",
    )
    .await;

    let widget = s.widget(&ana, "manual", &[]).await;
    let with_ai = s.start_chat(&widget, "What are your opening hours?").await;
    let waiting = s.start_chat(&widget, "I need a person please").await;
    s.handover(&widget, &waiting).await;
    let claimable = s.start_chat(&widget, "Can someone check my order?").await;
    s.handover(&widget, &claimable).await;

    // 4. Rows tell chats apart; the AI's chat has its own view, not counted in Unassigned.
    tab.goto(&format!("{}/inbox", s.base)).await.unwrap();
    click(&tab, "button[data-filter=unassigned]").await;
    until(
        &tab,
        "the counts",
        "document.querySelector('[data-count=unassigned]')?.textContent == '2' && document.querySelector('[data-count=ai]')?.textContent == '1'",
    )
    .await;
    until(
        &tab,
        "the waiting rows",
        &format!(
            "document.querySelectorAll('#rows li').length == 2 && !document.querySelector('li[data-conversation=\"{}\"]') \
             && document.querySelector('li[data-conversation=\"{}\"]').matches('.unread') \
             && document.querySelector('li[data-conversation=\"{}\"] .row-wait') \
             && document.querySelector('li[data-conversation=\"{}\"] .row-preview').textContent == 'I need a person please'",
            with_ai.id, waiting.id, waiting.id, waiting.id
        ),
    )
    .await;
    screenshot(&tab, "inbox-1440").await;
    click(&tab, "button[data-filter=ai]").await;
    until(
        &tab,
        "the AI view",
        &format!(
            "document.querySelectorAll('#rows li').length == 1 && document.querySelector('li[data-conversation=\"{}\"]')",
            with_ai.id
        ),
    )
    .await;

    // 8. An AI chat: "Hand to the team" and "Take it myself", no plain Claim.
    open_row(&tab, with_ai.id).await;
    until(
        &tab,
        "the AI chat's actions",
        "document.querySelector('#takeover')?.textContent == 'Hand to the team' && document.querySelector('#take-myself')?.textContent == 'Take it myself' && !document.querySelector('#claim-now')",
    )
    .await;
    screenshot(&tab, "conversation-ai-1440").await;

    // 1. A half-typed reply, keyboard focus and an open menu survive live messages.
    click(&tab, "button[data-filter=unassigned]").await;
    open_row(&tab, waiting.id).await;
    until(
        &tab,
        "the row marked read",
        &format!(
            "!document.querySelector('li[data-conversation=\"{}\"]').matches('.unread')",
            waiting.id
        ),
    )
    .await;
    press(&tab, "#reply", "Half-typed repl").await;
    let (status, _) = s
        .visitor_says(&widget, &waiting, "Hello? Anyone there?")
        .await;
    assert_eq!(status, 201);
    until(
        &tab,
        "the visitor's new message",
        "document.querySelector('#timeline').innerText.includes('Hello? Anyone there?')",
    )
    .await;
    assert_eq!(
        js(
            &tab,
            "return [document.querySelector('#reply').value, document.activeElement.id]"
        )
        .await,
        json!(["Half-typed repl", "reply"]),
        "the draft and the focus stayed"
    );
    click(&tab, "#assignee-chip").await;
    until(
        &tab,
        "the menu, focused",
        "!document.querySelector('#assignee-menu').hidden && document.activeElement.getAttribute('role') == 'menuitem'",
    )
    .await;
    let first = js(&tab, "return document.activeElement.textContent").await;
    tab.active_element()
        .await
        .unwrap()
        .send_keys(ARROW_DOWN)
        .await
        .unwrap();
    let second = js(&tab, "return document.activeElement.textContent").await;
    assert_ne!(first, second, "ArrowDown moves through the menu");
    s.visitor_says(&widget, &waiting, "Still waiting").await;
    until(
        &tab,
        "the second message",
        "document.querySelector('#timeline').innerText.includes('Still waiting')",
    )
    .await;
    assert_eq!(
        js(&tab, "return [document.querySelector('#assignee-menu').hidden, document.activeElement.textContent]").await,
        json!([false, second]),
        "the open menu and its focused item stayed"
    );
    screenshot(&tab, "conversation-menu-1440").await;
    tab.active_element()
        .await
        .unwrap()
        .send_keys(ESCAPE)
        .await
        .unwrap();
    until(
        &tab,
        "the menu closed, focus on the chip",
        "document.querySelector('#assignee-menu').hidden && document.activeElement.id == 'assignee-chip'",
    )
    .await;

    // Reading further up, a new message does not pull the view down: a button says it came.
    js(&tab, "const t = document.querySelector('#timeline'); t.style.flex = 'none'; t.style.height = '80px'; t.scrollTop = 0; return 0").await;
    s.visitor_says(&widget, &waiting, "One more thing").await;
    until(
        &tab,
        "New messages ↓",
        "!document.querySelector('#new-below').hidden && document.querySelector('#timeline').scrollTop == 0",
    )
    .await;
    click(&tab, "#new-below").await;
    until(
        &tab,
        "at the end",
        "document.querySelector('#new-below').hidden && document.querySelector('#timeline').scrollTop > 0",
    )
    .await;
    js(&tab, "const t = document.querySelector('#timeline'); t.style.flex = ''; t.style.height = ''; return 0").await;

    // Drafts are per conversation.
    open_row(&tab, claimable.id).await;
    assert_eq!(
        js(&tab, "return document.querySelector('#reply').value").await,
        json!("")
    );
    open_row(&tab, waiting.id).await;
    assert_eq!(
        js(&tab, "return document.querySelector('#reply').value").await,
        json!("Half-typed repl")
    );

    // 2. Length is shown before the limit; a send that fails keeps the text and says why.
    assert_eq!(
        js(&tab, "return document.querySelector('#reply').maxLength").await,
        json!(10000)
    );
    js(&tab, "const r = document.querySelector('#reply'); r.value = 'x'.repeat(9500); r.dispatchEvent(new Event('input')); return 0").await;
    until(
        &tab,
        "the counter",
        "document.querySelector('#reply-count').textContent == '9,500 / 10,000'",
    )
    .await;
    js(&tab, "const r = document.querySelector('#reply'); r.value = 'x'.repeat(20000); r.dispatchEvent(new Event('input')); return 0").await;
    click(&tab, "#send").await;
    until(
        &tab,
        "the reason",
        "document.querySelector('#reply-error').textContent.includes('at most 10,000') && document.querySelector('#reply').value.length == 20000",
    )
    .await;

    // 5. Enter sends, Shift+Enter adds a line.
    js(&tab, "const r = document.querySelector('#reply'); r.value = ''; r.dispatchEvent(new Event('input')); r.focus(); return 0").await;
    press(
        &tab,
        "#reply",
        &format!("Line one{SHIFT}{ENTER}\u{E000}line two"),
    )
    .await;
    assert_eq!(
        js(&tab, "return document.querySelector('#reply').value").await,
        json!("Line one\nline two"),
        "Shift+Enter is a new line, nothing sent"
    );
    press(&tab, "#reply", ENTER).await;
    until(
        &tab,
        "the reply sent with Enter",
        "[...document.querySelectorAll('#timeline li.operator')].some((li) => li.textContent.includes('Line one\\nline two')) && document.querySelector('#reply').value == ''",
    )
    .await;

    // 5. Claim from the keyboard; focus lands in the reply box. List navigation with j/k.
    open_row(&tab, claimable.id).await;
    js(&tab, "document.activeElement.blur(); return 0").await;
    press(&tab, "body", "c").await;
    until(
        &tab,
        "claimed with c, focus in the reply",
        "document.querySelector('#assignee-name')?.textContent == 'Ana Lima' && document.activeElement.id == 'reply' && !document.querySelector('#claim-now')",
    )
    .await;
    click(&tab, "button[data-filter=mine]").await;
    until(
        &tab,
        "my two chats",
        "document.querySelectorAll('#rows li').length == 2",
    )
    .await;
    js(&tab, "document.activeElement.blur(); return 0").await;
    let before = js(
        &tab,
        "return document.querySelector('#conversation').dataset.conversation",
    )
    .await;
    // The claimed chat is the older of the two: k goes up the list to the other.
    press(&tab, "body", "k").await;
    until(
        &tab,
        "the previous conversation",
        &format!("document.querySelector('#conversation')?.dataset.conversation != {before} && document.activeElement.dataset.row == document.querySelector('#conversation')?.dataset.conversation"),
    )
    .await;

    // In the list, ↓ moves focus to the next row without opening it; the list is one Tab stop.
    js(
        &tab,
        "document.querySelector('#rows a[data-row]').focus(); return 0",
    )
    .await;
    tab.active_element()
        .await
        .unwrap()
        .send_keys(ARROW_DOWN)
        .await
        .unwrap();
    assert_eq!(
        js(&tab, "const rows = [...document.querySelectorAll('#rows a[data-row]')]; return [rows.indexOf(document.activeElement), rows.filter((a) => a.tabIndex == 0).length]").await,
        json!([1, 1])
    );

    // 9. Away: on rows and the chip, with a word; one's own Away shows a banner.
    s.set_availability(&bob, "away").await;
    let (status, _) = s
        .set_assignee(
            &ana,
            claimable.id,
            Some(bob_id),
            crate::common::IfAssignee::Any,
        )
        .await;
    assert_eq!(status, 200);
    click(&tab, "button[data-filter=all]").await;
    until(
        &tab,
        "Bob away on the row",
        &format!(
            "document.querySelector('li[data-conversation=\"{}\"] .row-assignee .away-tag')?.textContent == 'Away'",
            claimable.id
        ),
    )
    .await;
    click(&tab, "[data-availability=away]").await;
    // With a chat open, Away asks whether to hand it back; unchecked, it stays Ana's.
    until(
        &tab,
        "the hand-back question",
        "document.querySelector('dialog[open]')?.innerText.includes('Hand my 1 open chat back to the team')",
    )
    .await;
    click(&tab, "dialog[open] #hand-back").await;
    click(&tab, "dialog[open] [data-answer=confirm]").await;
    until(
        &tab,
        "the Away banner",
        "document.querySelector('#away-banner:not([hidden])')?.textContent.includes('You are away — nothing will be routed to you.')",
    )
    .await;
    screenshot(&tab, "away-1440").await;
    click(&tab, "#away-banner [data-availability=available]").await;
    until(
        &tab,
        "Available again",
        "document.querySelector('#away-banner').hidden",
    )
    .await;

    // 10. Attention: an assignment to Bob reaches Bob's tab as a notice that links to the chat
    // and stays until used, and the tab title counts it.
    s.set_availability(&bob, "available").await;
    let bobs = driver.session().await;
    at_size(&bobs, DESKTOP).await;
    sign_in(&bobs, &s.base, "bob@acme.test", "bob-password").await;
    until(
        &bobs,
        "the title counting the chat assigned to Bob before he came",
        "document.title == '(1) Switchboard'",
    )
    .await;
    let (status, _) = s
        .set_assignee(
            &ana,
            waiting.id,
            Some(bob_id),
            crate::common::IfAssignee::Any,
        )
        .await;
    assert_eq!(status, 200);
    let notice = format!("#attention [data-assigned=\"{}\"]", waiting.id);
    until(
        &bobs,
        "the notice",
        &format!("document.querySelector('{notice} a')?.getAttribute('href') == '/inbox/conversations/{}' && document.title == '(2) Switchboard'", waiting.id),
    )
    .await;
    screenshot(&bobs, "attention-1440").await;
    // One click allows sound in this browser; it is remembered and plays from then on.
    click(&bobs, &format!("{notice} [data-allow-sound]")).await;
    until(
        &bobs,
        "sound allowed",
        "localStorage.getItem('switchboard.sound') == 'on' && document.documentElement.dataset.chimed == '1'",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(
        js(
            &bobs,
            &format!("return Boolean(document.querySelector('{notice}'))")
        )
        .await,
        json!(true),
        "still there after the old 6 s"
    );
    click(&bobs, &format!("{notice} a")).await;
    until(
        &bobs,
        "the chat, the notice gone, one unseen chat left in the title",
        &format!("document.querySelector('#conversation')?.dataset.conversation == '{}' && !document.querySelector('{notice}') && document.title == '(1) Switchboard'", waiting.id),
    )
    .await;

    // 10. Push: the setting says whether this browser is subscribed, whatever the account says.
    click(&bobs, "nav a[href='/settings/profile']").await;
    click(&bobs, "a[href='/settings/notifications']").await;
    until(
        &bobs,
        "the truth about this browser",
        "document.querySelector('#push-status')?.textContent == 'This browser is not subscribed.' && document.querySelector('#push-settings input[name=push]').checked",
    )
    .await;
    screenshot(&bobs, "notifications-1440").await;
    bobs.close().await.unwrap();

    // 6. On a phone: the list, then the tapped chat on the whole screen with its reply box,
    // and a way back.
    at_size(&tab, PHONE).await;
    tab.goto(&format!("{}/inbox", s.base)).await.unwrap();
    click(&tab, "button[data-filter=all]").await;
    until(
        &tab,
        "the rows",
        "document.querySelectorAll('#rows li').length == 3 && document.querySelector('#list').getBoundingClientRect().width == window.innerWidth",
    )
    .await;
    screenshot(&tab, "inbox-390").await;
    open_row(&tab, waiting.id).await;
    until(
        &tab,
        "the conversation on the whole screen",
        "(() => { const r = document.querySelector('#reply').getBoundingClientRect(); const c = document.querySelector('#conversation').getBoundingClientRect(); \
         return getComputedStyle(document.querySelector('#list')).display == 'none' && r.top >= 0 && r.bottom <= window.innerHeight && c.width == window.innerWidth \
         && document.documentElement.scrollWidth <= window.innerWidth; })()",
    )
    .await;
    screenshot(&tab, "conversation-390").await;
    click(&tab, "#back").await;
    until(
        &tab,
        "back on the list",
        "location.pathname == '/inbox' && getComputedStyle(document.querySelector('#list')).display != 'none' && getComputedStyle(document.querySelector('#conversation-box')).display == 'none'",
    )
    .await;

    // 7. A restart: the open chat and its draft stay, "Reconnecting…" says why sending fails,
    // and the stream comes back.
    at_size(&tab, DESKTOP).await;
    open_row(&tab, waiting.id).await;
    js(&tab, "const r = document.querySelector('#reply'); r.value = 'Written during the restart'; r.dispatchEvent(new Event('input')); return 0").await;
    let (s, ()) = tokio::join!(s.restart_after(Duration::from_secs(4)), async {
        until(
            &tab,
            "Reconnecting…",
            "document.querySelector('#connection:not([hidden])')?.textContent.startsWith('Reconnecting…')",
        )
        .await;
        screenshot(&tab, "reconnecting-1440").await;
        click(&tab, "#send").await;
        until(
            &tab,
            "the send refused in words",
            "document.querySelector('#reply-error').textContent.includes('cannot be reached') && document.querySelector('#reply').value == 'Written during the restart'",
        )
        .await;
    });
    until(
        &tab,
        "connected again",
        &format!("document.querySelector('#connection').hidden && document.querySelector('#conversation')?.dataset.conversation == '{}' && document.querySelector('#reply').value == 'Written during the restart'", waiting.id),
    )
    .await;
    s.visitor_says(&widget, &waiting, "Back after the restart")
        .await;
    until(
        &tab,
        "live again",
        "document.querySelector('#timeline').innerText.includes('Back after the restart')",
    )
    .await;

    // 7. Signed out in another tab: this one goes to sign-in instead of showing an error.
    js(&tab, "return fetch('/api/v1/session', {method: 'DELETE'}).then(() => document.querySelector('button[data-filter=mine]').click()).then(() => 0)").await;
    until(
        &tab,
        "the sign-in page",
        "location.pathname == '/login' && location.search.startsWith('?next=') && document.querySelector('input[name=password]')",
    )
    .await;
    tab.close().await.unwrap();
}

/// Sets a form control's value as a person would, so its `change` listeners run.
async fn set_control(browser: &Client, css: &str, value: &str) {
    browser
        .execute(
            "const e = document.querySelector(arguments[0]); \
             if (e.type === 'checkbox') e.checked = arguments[1] === 'on'; else e.value = arguments[1]; \
             e.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap();
}

/// Routing you can see (SPEC 9 and 10 in the inbox): the widget's timers saved and shown again,
/// a timer out of range refused under the form, the next-chat line following presence, "Why?"
/// on a routed assignment, Away with hand-back, and the Reports page at both sizes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_settings_why_away_and_the_report() {
    let Some((mut driver, s, ana)) = acme().await else {
        return;
    };
    let bob = s.add_operator(&ana, "Bob Stone").await;
    s.set_availability(&ana, "available").await;
    s.set_availability(&bob, "available").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    // Round-robin in join order: Ana, Bob, Ana; the next would be Bob's.
    let mut chats = Vec::new();
    for text in [
        "Where is my parcel?",
        "Can I change my address?",
        "Do you ship to Oslo?",
    ] {
        let chat = s.start_chat(&widget, text).await;
        s.handover(&widget, &chat).await;
        chats.push(chat);
    }
    let (status, _) = s
        .reply(&bob, chats[1].id, "Yes, tell me the new one.")
        .await;
    assert!((200..300).contains(&status));

    let browser = driver.session().await;
    at_size(&browser, DESKTOP).await;
    sign_in(&browser, &s.base, "ana@acme.test", "ana-password").await;
    browser
        .goto(&format!("{}/widgets/{}", s.base, widget.id))
        .await
        .unwrap();
    until(
        &browser,
        "the next-chat line naming Bob",
        "document.getElementById('routing-preview')?.textContent.startsWith('Next chat goes to Bob Stone, because: next after Ana Lima in join order')",
    )
    .await;

    // Bob turns Away elsewhere: the line follows without a reload.
    s.set_availability(&bob, "away").await;
    until(
        &browser,
        "the next-chat line naming Ana",
        "document.getElementById('routing-preview')?.textContent.startsWith('Next chat goes to Ana Lima')",
    )
    .await;

    // The timers: off at first; out of range is refused under the form with nothing lost.
    until(&browser, "the timers off", "!document.getElementById('reassign-on').checked && !document.querySelector('#reassign-timer .timer-off').hidden").await;
    set_control(&browser, "#reassign-on", "on").await;
    set_control(&browser, "#reassign-amount", "2").await;
    set_control(&browser, "#reassign-unit", "days").await;
    click(&browser, "#routing-form button[type=submit]").await;
    until(
        &browser,
        "the refusal under the form",
        "!document.querySelector('#routing-form .form-error').hidden && document.querySelector('#routing-form .form-error').textContent.length > 10 && document.getElementById('reassign-amount').value == '2'",
    )
    .await;
    set_control(&browser, "#reassign-amount", "3").await;
    set_control(&browser, "#reassign-unit", "minutes").await;
    set_control(&browser, "#auto_close-on", "on").await;
    set_control(&browser, "#auto_close-amount", "30").await;
    set_control(&browser, "#auto_close-unit", "minutes").await;
    click(&browser, "#routing-form button[type=submit]").await;
    until(
        &browser,
        "saved",
        "document.getElementById('flash').textContent.includes('Routing saved')",
    )
    .await;
    let (_, saved) = s.get_widget(&ana, widget.id).await;
    assert_eq!(saved["routing"]["reassign_after_secs"], 180, "{saved}");
    assert_eq!(saved["routing"]["auto_close_after_secs"], 1800, "{saved}");
    browser.refresh().await.unwrap();
    until(
        &browser,
        "the saved timers shown in minutes",
        "document.getElementById('reassign-amount')?.value == '3' && document.getElementById('reassign-unit').value == 'minutes' \
         && document.getElementById('auto_close-amount').value == '30' && document.getElementById('auto_close-unit').value == 'minutes' \
         && document.getElementById('routing-preview').textContent.startsWith('Next chat goes to Ana')",
    )
    .await;
    screenshot(&browser, "routing-settings-desktop").await;

    // Why? on the first chat: the rule and who was there.
    browser
        .goto(&format!("{}/inbox/conversations/{}", s.base, chats[0].id))
        .await
        .unwrap();
    click(&browser, "#timeline .why-button").await;
    until(
        &browser,
        "the decision behind Why?",
        "document.querySelector('#timeline .why-button').getAttribute('aria-expanded') == 'true' \
         && document.querySelector('#timeline .why:not([hidden]) .why-rule').textContent.includes('first in join order') \
         && document.querySelectorAll('#timeline .why:not([hidden]) [data-candidate]').length == 2",
    )
    .await;
    // A live event about the chat patches the timeline; the open Why? stays open.
    let (status, _) = s.reply(&ana, chats[0].id, "Let me look.").await;
    assert!((200..300).contains(&status));
    until(
        &browser,
        "the reply on screen",
        "document.getElementById('timeline').innerText.includes('Let me look.')",
    )
    .await;
    until(&browser, "Why? still open", "document.querySelector('#timeline .why-button').getAttribute('aria-expanded') == 'true' && !document.querySelector('#timeline .why').hidden").await;
    screenshot(&browser, "timeline-why-desktop").await;

    // Away, handing back the two chats Ana has: asked first, with the count.
    click(&browser, "#top button[data-availability=away]").await;
    until(
        &browser,
        "the hand-back question",
        "document.querySelector('dialog[open]')?.innerText.includes('Hand my 2 open chats back to the team')",
    )
    .await;
    click(&browser, "dialog[open] [data-answer=confirm]").await;
    until(
        &browser,
        "Away by hand",
        "document.querySelector('#top button[data-availability=away]').getAttribute('aria-pressed') == 'true' \
         && document.getElementById('away-why')?.textContent == 'by hand' && !document.getElementById('away-banner').hidden",
    )
    .await;
    let handed = s.conversation(&ana, chats[2].id).await;
    assert!(handed["assignee_id"].is_null(), "handed back: {handed}");
    screenshot(&browser, "away-desktop").await;
    // Bob comes back: the queue drains to him, and the timeline says so.
    s.set_availability(&bob, "available").await;
    until(
        &browser,
        "the move from the queue on the timeline",
        "[...document.querySelectorAll('#timeline li.assignment')].some(li => li.textContent.startsWith('Routed to Bob Stone from the queue after'))",
    )
    .await;

    // The report: a bar per teammate, the numbers in the table.
    browser.goto(&format!("{}/reports", s.base)).await.unwrap();
    until(
        &browser,
        "the bars",
        "document.querySelectorAll('#bars g.bar').length == 2 && document.querySelector('#report-table tr[data-operator]') \
         && document.querySelectorAll('#days g[data-day]').length == 7 && document.querySelectorAll('#waits g[data-day]').length == 7 && document.getElementById('bars').querySelector('desc').textContent == 'Ana Lima: 2; Bob Stone: 3'",
    )
    .await;
    let table: Value = js(
        &browser,
        "return document.getElementById('report-table').textContent",
    )
    .await;
    assert!(table.as_str().unwrap().contains("Round-robin"), "{table}");
    screenshot(&browser, "reports-desktop").await;
    click(&browser, "button[data-period='30']").await;
    until(
        &browser,
        "30 days",
        "document.querySelectorAll('#days g[data-day]').length == 30",
    )
    .await;
    at_size(&browser, PHONE).await;
    until(&browser, "the bars on a phone", "document.querySelectorAll('#bars g.bar').length == 2 && document.getElementById('bars').viewBox.baseVal.width < 390 && document.getElementById('days').viewBox.baseVal.width < 390").await;
    screenshot(&browser, "reports-phone").await;
    browser
        .goto(&format!("{}/widgets/{}", s.base, widget.id))
        .await
        .unwrap();
    until(
        &browser,
        "the settings on a phone",
        "document.getElementById('reassign-amount')?.value == '3'",
    )
    .await;
    screenshot(&browser, "routing-settings-phone").await;
    browser.close().await.unwrap();
}
