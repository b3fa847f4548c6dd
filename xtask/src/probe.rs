//! Readiness probes that speak just enough of each protocol to know the server really answers,
//! on std's TcpStream (no HTTP client dependency: xtask compiles in seconds on a fresh clone).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

fn connect(port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
    let stream =
        TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// An HTTP/1.0 GET on 127.0.0.1; returns the status code and body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    http_get_with_timeout(port, path, TIMEOUT)
}

pub fn http_get_with_timeout(
    port: u16,
    path: &str,
    timeout: Duration,
) -> std::io::Result<(u16, String)> {
    let mut stream = connect(port, timeout)?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: xtask\r\nAccept: */*\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Whether an HTTP GET answers 2xx.
pub fn http_ok(port: u16, path: &str) -> bool {
    matches!(http_get(port, path), Ok((200..=299, _)))
}

/// Redis: `PING` answered by `+PONG`.
pub fn redis_ping(port: u16) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = connect(port, TIMEOUT)?;
        stream.write_all(b"PING\r\n")?;
        let mut reply = [0_u8; 7];
        stream.read_exact(&mut reply)?;
        Ok(&reply == b"+PONG\r\n")
    };
    attempt().unwrap_or(false)
}

/// The MongoDB wire protocol: an OP_MSG `{ping: 1, $db: "admin"}` answered with `ok: 1.0`.
pub fn mongodb_ping(port: u16) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = connect(port, TIMEOUT)?;
        stream.write_all(&op_msg_ping())?;
        let mut header = [0_u8; 16];
        stream.read_exact(&mut header)?;
        let length = i32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let op_code = i32::from_le_bytes([header[12], header[13], header[14], header[15]]);
        let body_len = usize::try_from(length - 16).map_err(std::io::Error::other)?;
        if op_code != OP_MSG || body_len > 1 << 20 {
            return Ok(false);
        }
        let mut body = vec![0_u8; body_len];
        stream.read_exact(&mut body)?;
        // The reply document holds the double field `ok` (type 0x01) equal to 1.0.
        let mut ok_field = vec![0x01, b'o', b'k', 0];
        ok_field.extend_from_slice(&1.0_f64.to_le_bytes());
        Ok(body.windows(ok_field.len()).any(|w| w == ok_field))
    };
    attempt().unwrap_or(false)
}

const OP_MSG: i32 = 2013;

fn op_msg_ping() -> Vec<u8> {
    let mut doc = Vec::new();
    doc.extend_from_slice(&[0x10, b'p', b'i', b'n', b'g', 0]);
    doc.extend_from_slice(&1_i32.to_le_bytes());
    doc.extend_from_slice(&[0x02, b'$', b'd', b'b', 0]);
    doc.extend_from_slice(&6_i32.to_le_bytes());
    doc.extend_from_slice(b"admin\0");
    doc.push(0);
    let doc_len = (doc.len() + 4) as i32;

    let mut body = Vec::new();
    body.extend_from_slice(&0_u32.to_le_bytes()); // flag bits
    body.push(0); // section kind 0: the body document
    body.extend_from_slice(&doc_len.to_le_bytes());
    body.extend_from_slice(&doc);

    let mut msg = Vec::new();
    msg.extend_from_slice(&((body.len() + 16) as i32).to_le_bytes());
    msg.extend_from_slice(&1_i32.to_le_bytes()); // request id
    msg.extend_from_slice(&0_i32.to_le_bytes()); // response to
    msg.extend_from_slice(&OP_MSG.to_le_bytes());
    msg.extend_from_slice(&body);
    msg
}
