//! One `GET` over a connection of its own, for the harness's checks on the app (`/healthz`,
//! `/metrics`). It uses hyper's connection API, as the load generator's clients do, so the harness
//! has one HTTP client library; a pooled client would buy nothing for a request every 50 ms.
//!
//! It owns single requests; it must not drive load.

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::HOST;
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// `GET url` (plain `http://`), within `timeout` from connecting to the last byte; the status and
/// the body as text, or what went wrong in words.
pub(crate) async fn get(url: &str, timeout: Duration) -> Result<(StatusCode, String), String> {
    tokio::time::timeout(timeout, exchange(url))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())))
}

async fn exchange(url: &str) -> Result<(StatusCode, String), String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("{url}: only plain http:// is spoken here"));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("{url}: no host"))?
        .clone();
    let addr = format!(
        "{}:{}",
        authority.host(),
        authority.port_u16().unwrap_or(80)
    );
    let stream = TcpStream::connect(&addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    // The connection is driven beside the request and ends with it.
    let driver = tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::get(path)
        .header(HOST, authority.as_str())
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("{url}: {e}"))?;
    let answered = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{url}: reading the body: {e}"))?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
    .await;
    driver.abort();
    answered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_a_status_and_body_and_says_what_failed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            socket
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\ndown")
                .await
                .expect("write");
        });
        let answer = get(&format!("http://{addr}/healthz"), Duration::from_secs(2)).await;
        assert_eq!(
            answer,
            Ok((StatusCode::SERVICE_UNAVAILABLE, "down".to_owned()))
        );
        server.await.expect("server");
        // A port bound and not listened on refuses connections, and no other socket can take it
        // meanwhile, nor can the kernel give it to this connection's own end (which, on a port
        // nobody holds, connects the socket to itself).
        let unlistened = tokio::net::TcpSocket::new_v4().expect("socket");
        unlistened
            .bind("127.0.0.1:0".parse().expect("address"))
            .expect("bind");
        let closed = unlistened.local_addr().expect("addr");
        let refused = get(&format!("http://{closed}/healthz"), Duration::from_secs(2))
            .await
            .expect_err("nothing listens there");
        assert!(refused.contains("cannot connect"), "{refused}");
        let https = get("https://127.0.0.1:1/", Duration::from_secs(1))
            .await
            .expect_err("https is refused");
        assert!(https.contains("plain http"), "{https}");
    }
}
