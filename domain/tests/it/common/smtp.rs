//! A real SMTP server on 127.0.0.1 for the alert tests: it speaks enough of RFC 5321
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real client, keeps every message
//! it accepted, and refuses as many messages as the test tells it to.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message the server accepted.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), with quoted-printable soft breaks and
    /// escapes undone so that tests read its text.
    pub text: String,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub url: String,
    accepted: Arc<Mutex<Vec<Mail>>>,
    refuse: Arc<AtomicUsize>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let server = Self {
            url,
            accepted: Arc::default(),
            refuse: Arc::default(),
        };
        let shared = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(shared.clone().session(socket));
            }
        });
        server
    }

    /// The messages accepted so far.
    pub fn mail(&self) -> Vec<Mail> {
        self.accepted.lock().unwrap().clone()
    }

    /// Answers the next `count` messages with a temporary failure (451).
    pub fn refuse_next(&self, count: usize) {
        self.refuse.store(count, Ordering::SeqCst);
    }

    async fn session(self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        if !reply(&mut write, "220 gatehouse-test ESMTP\r\n").await {
            return;
        }
        let mut mail = Mail::default();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_owned();
            let upper = command.to_ascii_uppercase();
            let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                "250-gatehouse-test\r\n250 8BITMIME\r\n".to_owned()
            } else if upper.starts_with("MAIL FROM:") {
                mail = Mail {
                    from: command[10..].trim().to_owned(),
                    ..Mail::default()
                };
                "250 OK\r\n".to_owned()
            } else if upper.starts_with("RCPT TO:") {
                mail.to
                    .push(command[8..].trim().trim_matches(['<', '>']).to_owned());
                "250 OK\r\n".to_owned()
            } else if upper == "DATA" {
                if !reply(&mut write, "354 end with <CRLF>.<CRLF>\r\n").await {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let refused = self
                    .refuse
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                        left.checked_sub(1)
                    })
                    .is_ok();
                if refused {
                    "451 try again later\r\n".to_owned()
                } else {
                    mail.text = undo_quoted_printable(&data);
                    self.accepted
                        .lock()
                        .unwrap()
                        .push(std::mem::take(&mut mail));
                    "250 queued\r\n".to_owned()
                }
            } else if upper == "QUIT" {
                let _ = reply(&mut write, "221 bye\r\n").await;
                return;
            } else if upper == "RSET" || upper == "NOOP" {
                "250 OK\r\n".to_owned()
            } else {
                "502 not implemented\r\n".to_owned()
            };
            if !reply(&mut write, &answer).await {
                return;
            }
        }
    }
}

async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> bool {
    write.write_all(text.as_bytes()).await.is_ok()
}

/// Soft line breaks (`=` at a line's end) joined and `=XX` escapes decoded.
fn undo_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'='
            && index + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[index + 1..index + 3], 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
