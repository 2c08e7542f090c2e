//! A real webhook receiver on 127.0.0.1 for the tests: it records every request (and
//! the connection it came on) and answers as the test tells it (a status, a delay, a
//! `Retry-After`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub webhook_id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// The sender's end of the connection: one per connection.
    pub peer: SocketAddr,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn event_type(&self) -> String {
        let body: serde_json::Value = serde_json::from_str(&self.body).unwrap();
        body["type"].as_str().unwrap().to_owned()
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub retry_after_seconds: Option<u64>,
    /// Bytes of body to answer with instead of the short text.
    pub body_bytes: Option<usize>,
    /// The exact body to answer with (any bytes, valid UTF-8 or not).
    pub raw_body: Option<&'static [u8]>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            delay: Duration::ZERO,
            retry_after_seconds: None,
            body_bytes: None,
            raw_body: None,
        }
    }
}

type Respond = dyn Fn(usize) -> Reply + Send + Sync;

pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    respond: Arc<Mutex<Arc<Respond>>>,
}

impl Receiver {
    /// Starts a receiver that answers 200 with a short text.
    pub async fn start() -> Self {
        Self::answering(|_| Reply::status(200)).await
    }

    /// Starts a receiver whose answer to the n-th request (0-based) `respond` decides.
    pub async fn answering(respond: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let respond: Arc<Mutex<Arc<Respond>>> = Arc::new(Mutex::new(Arc::new(respond)));
        let handler = {
            let received = Arc::clone(&received);
            let respond = Arc::clone(&respond);
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap, body: Bytes| {
                let received = Arc::clone(&received);
                let respond = Arc::clone(&respond);
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let index = {
                        let mut list = received.lock().unwrap();
                        list.push(Received {
                            webhook_id: header("webhook-id"),
                            timestamp: header("webhook-timestamp"),
                            signature: header("webhook-signature"),
                            body: String::from_utf8_lossy(&body).into_owned(),
                            peer,
                            at: std::time::Instant::now(),
                        });
                        list.len() - 1
                    };
                    let answer = respond.lock().unwrap().clone();
                    let reply = answer(index);
                    tokio::time::sleep(reply.delay).await;
                    let mut response_headers = HeaderMap::new();
                    if let Some(seconds) = reply.retry_after_seconds {
                        response_headers.insert("retry-after", seconds.into());
                    }
                    (
                        StatusCode::from_u16(reply.status).unwrap(),
                        response_headers,
                        match (reply.raw_body, reply.body_bytes) {
                            (Some(raw), _) => raw.to_vec(),
                            (None, Some(bytes)) => "x".repeat(bytes).into_bytes(),
                            (None, None) => format!("answered {}", reply.status).into_bytes(),
                        },
                    )
                }
            }
        };
        let app = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap()
        });
        Self {
            url: format!("http://{address}/hook"),
            received,
            respond,
        }
    }

    /// Changes how later requests are answered.
    pub fn answer_with(&self, respond: impl Fn(usize) -> Reply + Send + Sync + 'static) {
        *self.respond.lock().unwrap() = Arc::new(respond);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many connections the requests came on.
    #[allow(dead_code)]
    pub fn connections(&self) -> usize {
        let received = self.received.lock().unwrap();
        let peers: std::collections::HashSet<SocketAddr> =
            received.iter().map(|request| request.peer).collect();
        peers.len()
    }

    pub fn port(&self) -> u16 {
        self.url
            .trim_start_matches("http://127.0.0.1:")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// Verifies a Standard Webhooks signature header independently of the signer under
/// test: some `v1,` entry must be HMAC-SHA256 of `id.timestamp.body` under `secret`.
pub fn signature_verifies(secret: &str, received: &Received) -> bool {
    use base64::Engine as _;
    use hmac::Mac;
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let signed = format!(
        "{}.{}.{}",
        received.webhook_id, received.timestamp, received.body
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", engine.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|entry| entry == expected)
}
