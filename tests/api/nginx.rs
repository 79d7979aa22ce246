//! Debian's nginx in front of the real server, running the proxy part of `deploy/nginx.conf`
//! on plain HTTP loopback: sign-in, both event streams through the proxied WebSocket upgrade,
//! the server's own body limit, and the widget endpoints from two client addresses, each with
//! its own rate limit (the server trusts nginx's `X-Forwarded-For`, and nothing the client
//! says of itself).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::common::{Api, Db, Node, Socket, TestDb, free_port, paths};
use crate::kit::unique;

const NGINX: &str = "/usr/sbin/nginx";
const RATE_LIMIT: &str = "3";

/// nginx with its own prefix directory (config, pid, logs, temp files), stopped when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Nginx {
    /// `None` (with the reason printed) when nginx is not installed outside CI; in CI that
    /// fails the test.
    fn installed() -> bool {
        if Path::new(NGINX).exists() {
            return true;
        }
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI needs nginx (apt-get install nginx)");
        }
        eprintln!("SKIPPED: nginx is not installed (apt-get install nginx)");
        false
    }

    async fn start(upstream_port: u16) -> Nginx {
        let dir = std::env::temp_dir().join(format!("switchboard-nginx-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let config = config(&dir, port, upstream_port);
        std::fs::write(dir.join("nginx.conf"), config).unwrap();
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx { child, dir, port };
        nginx.wait_until_listening().await;
        nginx
    }

    async fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                self.error_log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The API through nginx, connecting from `client` (an address on loopback).
    fn api_from(&self, client: &str) -> Api {
        let client: IpAddr = client.parse().unwrap();
        Api {
            base: self.base(),
            client: reqwest::Client::builder()
                .local_address(client)
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, so the master stops its workers too (SIGKILL would orphan them).
        // SAFETY: kill has no preconditions; the pid is our child's, not yet reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The part of `deploy/nginx.conf` between `# BEGIN name` and `# END name`.
fn section<'a>(deployed: &'a str, name: &str) -> &'a str {
    let begin = format!("# BEGIN {name}\n");
    let start = deployed.find(&begin).expect("BEGIN marker") + begin.len();
    let end = deployed[start..]
        .find(&format!("# END {name}"))
        .expect("END marker");
    &deployed[start..start + end]
}

/// deploy/nginx.conf's upstream and proxy sections, unchanged but for the upstream's port,
/// in a server on plain HTTP loopback with everything nginx writes kept under `dir`.
fn config(dir: &Path, port: u16, upstream_port: u16) -> String {
    let deployed = include_str!("../../deploy/nginx.conf");
    let upstream = section(deployed, "upstream").replace(
        "server 127.0.0.1:8080;",
        &format!("server 127.0.0.1:{upstream_port};"),
    );
    let proxy = section(deployed, "proxy");
    let dir = dir.display();
    // As root the workers would switch to `nobody`, who cannot write the temp directory.
    // SAFETY: geteuid has no preconditions.
    let user = if unsafe { libc::geteuid() } == 0 {
        "user root;"
    } else {
        ""
    };
    format!(
        "{user}
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{upstream}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
{proxy}
    }}
}}
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_in_front_of_the_server() {
    if !Nginx::installed() {
        return;
    }
    let db = TestDb::create(Db::Sqlite).await.unwrap();
    let node = Node::spawn_with(
        &db.url,
        &[
            "--trusted-proxies",
            "127.0.0.1",
            "--widget-rate-limit",
            RATE_LIMIT,
        ],
    )
    .await;
    let upstream_port: u16 = node.api.base.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = Nginx::start(upstream_port).await;
    let (ana_side, visitor_a, visitor_b) = (
        nginx.api_from("127.0.0.1"),
        nginx.api_from("127.0.0.2"),
        nginx.api_from("127.0.0.3"),
    );

    // Sign up and sign in through nginx.
    ana_side
        .signup_with(json!({"workspace_name": "Acme", "name": "Ana", "email": "ana@acme.test", "password": "correct horse"}))
        .await;
    let ana = ana_side.login("ana@acme.test", "correct horse").await;
    let widget = ana_side.widget(&ana, "manual", &[]).await;

    // The inbox stream through nginx's WebSocket upgrade sees a chat start.
    let mut inbox = Socket::connect(&nginx.base(), paths::EVENTS, Some(&ana.token))
        .await
        .expect("the inbox stream upgrades through nginx");
    let chat = visitor_a.open_chat(&widget, "hello").await;
    let created = inbox.next_of("conversation.created").await;
    assert_eq!(created["conversation_id"], chat.id, "{created}");

    // And the visitor's stream sees the reply.
    let mut visitor = Socket::connect(
        &nginx.base(),
        &paths::visitor_events(&widget.key, &chat.token),
        None,
    )
    .await
    .expect("the visitor stream upgrades through nginx");
    ana_side.claim(&ana, chat.id).await;
    ana_side.reply(&ana, chat.id, "Hi, Ana here").await;
    // The AI's answer may come first.
    let reply = loop {
        let message = visitor.next_of("message.created").await;
        if message["message"]["author"] == "operator" {
            break message;
        }
    };
    assert_eq!(reply["message"]["body"], "Hi, Ana here", "{reply}");

    // The server's own 413 comes back, not an nginx page.
    let big = "x".repeat(200 * 1024);
    let (status, body) = ana_side
        .call(
            Method::POST,
            &paths::conversation_action(chat.id, "messages"),
            Some(&ana.token),
            Some(json!({"body": big})),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(body.get("error").is_some(), "the JSON error model: {body}");

    // 127.0.0.2 used one of its requests above; its limit runs out, 127.0.0.3's does not.
    // What the client says of itself changes nothing.
    let start = |api: &Api, spoof: Option<(&'static str, &'static str)>| {
        let mut request = api
            .client
            .request(Method::POST, api.url(&paths::visitor_chats(&widget.key)))
            .json(&json!({"body": "hello"}));
        if let Some((header, value)) = spoof {
            request = request.header(header, value);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(start(&visitor_a, None).await, 201);
    assert_eq!(start(&visitor_a, None).await, 201);
    assert_eq!(
        start(&visitor_a, None).await,
        429,
        "127.0.0.2's limit is spent"
    );
    assert_eq!(
        start(&visitor_a, Some(("Forwarded", "for=198.51.100.1"))).await,
        429,
        "a Forwarded header from the client is dropped"
    );
    assert_eq!(
        start(&visitor_a, Some(("X-Forwarded-For", "198.51.100.2"))).await,
        429,
        "an X-Forwarded-For from the client is replaced"
    );
    for _ in 0..3 {
        assert_eq!(
            start(&visitor_b, None).await,
            201,
            "127.0.0.3 has a limit of its own"
        );
    }
    assert_eq!(start(&visitor_b, None).await, 429);
    assert!(
        !nginx.error_log().contains("[emerg]"),
        "{}",
        nginx.error_log()
    );
}
