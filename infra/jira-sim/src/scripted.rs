//! A scripted site, for tests of what the simulator never answers: redirects, echoed
//! credentials, oversized bodies, pages that do not advance. Every request on 127.0.0.1 is
//! answered, once its head is read, with the raw HTTP a function makes of that head.

use std::net::SocketAddr;

/// The raw HTTP answer to a request head (request line and headers), given the site's address.
pub type Answer = fn(&str, SocketAddr) -> String;

/// A site on 127.0.0.1 answering each request with what `answer` makes of its head (the
/// request line and headers); its base URL.
pub async fn serve(answer: Answer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                // The request head, read in full before anything is answered.
                let mut request = Vec::new();
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    if socket.readable().await.is_err() {
                        return;
                    }
                    let mut chunk = [0u8; 4096];
                    match socket.try_read(&mut chunk) {
                        Ok(0) => return,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                        Err(_) => return,
                    }
                }
                let reply = answer(&String::from_utf8_lossy(&request), addr);
                if socket.writable().await.is_ok() {
                    let _ = socket.try_write(reply.as_bytes());
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A complete answer with a JSON body, e.g. `json_reply("400 Bad Request", "{}")`.
pub fn json_reply(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}
