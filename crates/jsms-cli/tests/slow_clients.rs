//! Hostile clients on the network: a request whose headers never finish, a body that stops
//! arriving, and more stalled connections than the server allows are cut off, and service
//! comes back as soon as they are. The router runs in this process with short limits (one
//! second), so the test waits seconds, not minutes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::inproc::InProcess;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (or `within` passes); returns what came and
/// how long it took.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut buf = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut buf)).await {
        Ok(_) => Some((String::from_utf8_lossy(&buf).into_owned(), started.elapsed())),
        Err(_) => None,
    }
}

async fn healthz(addr: &str) -> bool {
    let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(addr)).await else {
        return false;
    };
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    until_closed(&mut s, Duration::from_secs(3))
        .await
        .is_some_and(|(text, _)| text.starts_with("HTTP/1.1 200"))
}

#[tokio::test]
async fn stalled_and_slow_clients_are_cut_off_and_cannot_exhaust_the_server() {
    let limits = jsms_server::Limits {
        header_read: Duration::from_secs(1),
        body_read: Duration::from_secs(1),
        max_connections: 8,
    };
    let s = InProcess::start_with(limits).await;
    let addr = s.url.trim_start_matches("http://").to_owned();
    assert!(healthz(&addr).await);

    // Headers that never finish: closed after the header timeout, not held forever.
    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let (_, took) = until_closed(&mut half, Duration::from_secs(10))
        .await
        .expect("a half-sent request is cut off");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // A body that stops arriving: refused (and the connection ended) after the body timeout.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/auth/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
    )
    .await
    .unwrap();
    let (answer, took) = until_closed(&mut slow, Duration::from_secs(10))
        .await
        .expect("a stalled body is cut off");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(!answer.starts_with("HTTP/1.1 2"), "{answer}");

    // More stalled connections than allowed: the extra ones are closed at once; once the
    // stalled ones time out, service is back.
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let mut c = TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        stalled.push(c);
    }
    // Let the server take the eight in (they are accepted in order).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut extra = TcpStream::connect(&addr).await.unwrap();
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (text, _) = until_closed(&mut extra, Duration::from_secs(3))
        .await
        .expect("the connection over the cap is closed at once");
    assert!(!text.starts_with("HTTP/1.1 200"), "{text}");
    let back = Instant::now();
    while !healthz(&addr).await {
        assert!(back.elapsed() < Duration::from_secs(8), "service did not come back");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(stalled);
}
