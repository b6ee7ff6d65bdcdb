//! Reading the server's Prometheus endpoint (`serve --metrics ADDR`).

use std::io::{Read, Write};
use std::net::SocketAddr;

/// The body of `GET /metrics` at `addr`; panics unless it is a 200.
pub fn scrape(addr: SocketAddr) -> String {
    try_scrape(addr).unwrap()
}

/// [`scrape`], with the connection's failure (refused, reset, or closed
/// with no answer) as an error; panics on an answer that is not a 200.
pub fn try_scrape(addr: SocketAddr) -> std::io::Result<String> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    if out.is_empty() {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    assert!(
        out.starts_with("HTTP/1.1 200") || out.starts_with("HTTP/1.0 200"),
        "{out}"
    );
    Ok(out)
}

/// The value of the sample `name` (with its labels, as written) in `text`.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}
