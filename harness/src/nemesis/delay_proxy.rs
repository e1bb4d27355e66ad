//! A TCP proxy that delivers every byte `latency` after it arrived, in both directions, without
//! limiting throughput: each direction queues chunks with their due time and a writer sends each
//! one when it falls due. Its own connections to the upstream carry a socket mark so that the
//! redirect rule sending traffic into the proxy lets them through.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The mark on the proxy's upstream sockets (`"fd"` in ASCII, with a tag byte).
pub(super) const UPSTREAM_MARK: u32 = 0x6664_0001;

/// Chunks read but not yet delivered, per direction; a full queue stops reading, as a full
/// socket buffer would.
const QUEUE_CHUNKS: usize = 256;
const CHUNK_BYTES: usize = 16 * 1024;

/// A running proxy. Dropping it closes its listener and every connection through it.
#[derive(Debug)]
pub(super) struct DelayProxy {
    port: u16,
    accept: tokio::task::JoinHandle<()>,
}

impl DelayProxy {
    /// Listens on a free loopback port and forwards each connection to `upstream`, from sockets
    /// carrying `mark` if given (setting a mark needs `CAP_NET_ADMIN`).
    pub(super) async fn start(
        upstream: SocketAddr,
        latency: Duration,
        mark: Option<u32>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let accept = tokio::spawn(async move {
            // Owned by the accept loop, so aborting it aborts every connection too.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((client, _)) => {
                            connections.spawn(forward(client, upstream, latency, mark));
                        }
                        Err(e) => tracing::warn!(error = %e, "delay proxy: accept failed"),
                    },
                    Some(_) = connections.join_next() => {}
                }
            }
        });
        Ok(Self { port, accept })
    }

    /// The loopback port it listens on.
    pub(super) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn connect_marked(upstream: SocketAddr, mark: Option<u32>) -> io::Result<TcpStream> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(upstream),
        socket2::Type::STREAM,
        None,
    )?;
    if let Some(mark) = mark {
        socket.set_mark(mark)?;
    }
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    TcpSocket::from_std_stream(socket.into())
        .connect(upstream)
        .await
}

async fn forward(client: TcpStream, upstream: SocketAddr, latency: Duration, mark: Option<u32>) {
    let server = match connect_marked(upstream, mark).await {
        Ok(server) => server,
        Err(e) => {
            tracing::warn!(%upstream, error = %e, "delay proxy: cannot reach the node");
            return;
        }
    };
    // Both directions stop as soon as one fails, which closes both sockets.
    let _ = client.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let _ = tokio::try_join!(
        delayed_copy(client_read, server_write, latency),
        delayed_copy(server_read, client_write, latency),
    );
}

/// Copies `from` to `to`, each chunk `latency` after it was read; passes the end of stream on
/// the same way.
async fn delayed_copy(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    latency: Duration,
) -> io::Result<()> {
    let (queue, mut due) = mpsc::channel::<(Instant, Option<Vec<u8>>)>(QUEUE_CHUNKS);
    let read = async move {
        let mut buf = vec![0; CHUNK_BYTES];
        loop {
            let n = from.read(&mut buf).await?;
            let chunk = (n > 0).then(|| buf[..n].to_vec());
            if queue.send((Instant::now() + latency, chunk)).await.is_err() || n == 0 {
                return Ok::<_, io::Error>(());
            }
        }
    };
    let write = async move {
        while let Some((at, chunk)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            match chunk {
                Some(bytes) => to.write_all(&bytes).await?,
                None => return to.shutdown().await,
            }
        }
        Ok(())
    };
    tokio::try_join!(read, write).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = conn.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_round_trip_takes_the_latency_twice_and_keeps_every_byte() {
        let latency = Duration::from_millis(40);
        let proxy = DelayProxy::start(echo_server().await, latency, None)
            .await
            .unwrap();
        let mut conn = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let started = Instant::now();
        let (mut r, mut w) = conn.split();
        let send = async {
            w.write_all(&message).await.unwrap();
            w.shutdown().await.unwrap();
        };
        let mut echoed = Vec::new();
        let receive = r.read_to_end(&mut echoed);
        let (_, received) = tokio::join!(send, receive);
        received.unwrap();
        assert_eq!(echoed, message);
        // A lower bound only: the proxy can never deliver sooner than it was told to.
        assert!(started.elapsed() >= latency * 2, "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn dropping_the_proxy_closes_its_connections() {
        let proxy = DelayProxy::start(echo_server().await, Duration::from_millis(1), None)
            .await
            .unwrap();
        let mut conn = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        conn.write_all(b"ping").await.unwrap();
        let mut buf = [0; 4];
        conn.read_exact(&mut buf).await.unwrap();
        drop(proxy);
        let mut rest = Vec::new();
        let closed = conn.read_to_end(&mut rest).await;
        assert!(closed.is_err() || rest.is_empty(), "{closed:?}");
    }
}
