//! The HTTP mode: one request per connection, a small page with its Content-Length

/// Largest request head accepted
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// The page served to every GET
pub(crate) const PAGE: &str = "<!DOCTYPE html>\n<html><head><title>tcp-engine</title></head>\n\
<body><h1>Hello from tcp-engine</h1>\n<p>This page came over a TUN device from a sans-IO \
TCP engine written in Rust.</p></body></html>\n";

/// The response to a request head (`None` while the head is incomplete)
pub(crate) fn respond(head: &[u8]) -> Option<Vec<u8>> {
    let end = head.windows(4).position(|w| w == b"\r\n\r\n");
    if end.is_none() && head.len() < MAX_HEAD {
        return None;
    }
    let line = head
        .split(|&b| b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim_end().to_owned())
        .unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body) = match (end, method) {
        (None, _) => (
            "431 Request Header Fields Too Large",
            "request head too large\n",
        ),
        (_, "GET" | "HEAD") if path.starts_with('/') => ("200 OK", PAGE),
        (_, "GET" | "HEAD") => ("400 Bad Request", "bad request\n"),
        _ => ("405 Method Not Allowed", "only GET and HEAD\n"),
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nServer: tcp-tun\r\nContent-Type: text/{}; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        if status.starts_with("200") {
            "html"
        } else {
            "plain"
        },
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(body.as_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: Option<Vec<u8>>) -> String {
        String::from_utf8(r.expect("complete")).unwrap()
    }

    #[test]
    fn get_gets_the_page_with_its_length() {
        assert_eq!(respond(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
        let r = text(respond(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(r.contains(&format!("Content-Length: {}\r\n", PAGE.len())));
        assert!(r.ends_with(PAGE));
    }

    #[test]
    fn other_requests_get_errors() {
        let head = text(respond(b"HEAD / HTTP/1.1\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n"));
        assert!(text(respond(b"POST / HTTP/1.1\r\n\r\n")).starts_with("HTTP/1.1 405"));
        assert!(text(respond(b"GET x HTTP/1.1\r\n\r\n")).starts_with("HTTP/1.1 400"));
        assert!(text(respond(&[b'a'; MAX_HEAD])).starts_with("HTTP/1.1 431"));
    }
}
