//! Connection limits of the real binary: silent, drip-fed and idle sockets are closed on time
//! and cannot keep the server from answering, even at its descriptor limit; event streams are
//! exempt.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Node, TestDb, paths};

const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// What a loaded 2-core machine may add to a deadline.
const SLACK: Duration = Duration::from_millis(1500);

async fn node() -> (Node, TestDb) {
    let database = TestDb::sqlite();
    let node = Node::spawn_with_open_files(
        &database.url,
        &[
            "--header-timeout-secs",
            &HEADER_TIMEOUT.as_secs().to_string(),
            "--idle-timeout-secs",
            &IDLE_TIMEOUT.as_secs().to_string(),
        ],
        256,
    )
    .await;
    (node, database)
}

fn address(node: &Node) -> String {
    node.api.base.trim_start_matches("http://").to_owned()
}

/// Whether the server has closed the socket: a read gives end-of-file or an error at once.
async fn closed(socket: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(20), socket.read(&mut byte)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

/// Waits until the socket is closed by the server; returns how long that took.
async fn until_closed(socket: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut rest = Vec::new();
    match tokio::time::timeout(within, socket.read_to_end(&mut rest)).await {
        Ok(_) => started.elapsed(),
        Err(_) => panic!("the server kept the socket open past {within:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_cannot_starve_the_server() {
    let (node, _database) = node().await;
    let address = address(&node);
    // More silent connections than the node has descriptors.
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(TcpStream::connect(&address).await.unwrap());
    }
    let started = Instant::now();
    let health = node
        .api
        .client
        .get(node.api.url(paths::HEALTHZ))
        .send()
        .await
        .expect("answered");
    let waited = started.elapsed();
    assert_eq!(health.status(), 200);
    // At the cap a new connection takes a silent one's place: no wait for the header timeout.
    assert!(
        waited <= SLACK,
        "/healthz waited {waited:?} behind 300 silent sockets"
    );
    tokio::time::sleep(HEADER_TIMEOUT + SLACK).await;
    let mut open = 0;
    for socket in &mut silent {
        if !closed(socket).await {
            open += 1;
        }
    }
    assert_eq!(
        open, 0,
        "silent sockets still open after the header timeout"
    );
    eprintln!(
        "connections: /healthz answered in {waited:?} behind 300 silent sockets (limit 256 descriptors)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drip_fed_and_idle_connections_are_closed_on_time() {
    let (node, _database) = node().await;
    let address = address(&node);

    // A request head written a byte at a time never finishes within the header timeout.
    let mut drip = TcpStream::connect(&address).await.unwrap();
    let started = Instant::now();
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut cut_off = None;
    for byte in head {
        if drip.write_all(&[*byte]).await.is_err() || closed(&mut drip).await {
            cut_off = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cut_off = cut_off.expect("the drip-fed connection was closed");
    assert!(
        cut_off >= HEADER_TIMEOUT - Duration::from_millis(300) && cut_off <= HEADER_TIMEOUT + SLACK,
        "drip-fed head cut off after {cut_off:?}"
    );

    // A kept-alive connection outlives the header timeout while idle, up to the idle timeout.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 512];
    let n = idle.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    tokio::time::sleep(HEADER_TIMEOUT + Duration::from_millis(500)).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let n = idle.read(&mut answer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"),
        "a kept-alive connection is reusable past the header timeout"
    );
    let lasted = until_closed(&mut idle, IDLE_TIMEOUT + SLACK).await;
    assert!(
        lasted >= IDLE_TIMEOUT - Duration::from_millis(300),
        "closed after {lasted:?} idle, before the idle timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_outlive_the_idle_timeout() {
    let (node, _database) = node().await;
    let owner = node.api.signup("Acme").await;
    let mut tab = node.api.inbox_stream(&owner).await;
    tokio::time::sleep(IDLE_TIMEOUT + SLACK).await;
    node.api.set_availability(&owner, "away").await;
    let event = tab.next_of("operator.availability_changed").await;
    assert_eq!(event["availability"], "away");
}
