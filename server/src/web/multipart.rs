//! Reading a `multipart/form-data` body (RFC 7578), the one form that
//! carries a file: the sync bundle the township office uploads.
//!
//! The body is already in memory and bounded (see [`super::session`]); this
//! only finds its parts. Everything about it is hostile: the boundary, the
//! parts' headers and their number are bounded, and a body that does not
//! read as a form is refused saying why, never guessed at.

use bytes::Bytes;

/// Most parts one form may have (the bundle form has two).
pub const MAX_PARTS: usize = 8;

/// Most bytes of one part's headers.
pub const MAX_PART_HEADER_BYTES: usize = 2 << 10;

/// Longest boundary RFC 2046 allows.
const MAX_BOUNDARY_BYTES: usize = 70;

/// One part of a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The field's name.
    pub name: String,
    /// The file's name, for a file.
    pub filename: Option<String>,
    /// Its bytes.
    pub body: Bytes,
}

/// A form's parts, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    /// The parts.
    pub parts: Vec<Part>,
}

impl Form {
    /// The first part named `name`.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// The first part named `name` as text.
    pub fn text(&self, name: &str) -> Option<String> {
        self.part(name)
            .and_then(|p| std::str::from_utf8(&p.body).ok())
            .map(str::to_string)
    }
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY_BYTES)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut at = 0;
    while at + needle.len() <= hay.len() {
        let i = hay[at..=hay.len() - needle.len()]
            .iter()
            .position(|b| *b == first)?;
        let start = at + i;
        if &hay[start..start + needle.len()] == needle {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

/// A parameter of a `Content-Disposition` header (`name="x"`).
fn param(header: &str, key: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
}

/// The parts of `body`, a form whose parts are separated by `boundary`.
pub fn parse(boundary: &str, body: Bytes) -> Result<Form, String> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let not_a_form = |why: &str| format!("the upload is not a form: {why}");
    let mut at = find(&body, delimiter).ok_or_else(|| not_a_form("no boundary"))? + delimiter.len();
    let mut form = Form::default();
    let mut next_delimiter = Vec::with_capacity(delimiter.len() + 2);
    next_delimiter.extend_from_slice(b"\r\n");
    next_delimiter.extend_from_slice(delimiter);
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok(form);
        }
        if !rest.starts_with(b"\r\n") {
            return Err(not_a_form("a boundary is not followed by a line end"));
        }
        if form.parts.len() == MAX_PARTS {
            return Err(not_a_form(&format!("more than {MAX_PARTS} parts")));
        }
        let start = at + 2;
        let head_len = find(
            &body[start..(start + MAX_PART_HEADER_BYTES + 4).min(body.len())],
            b"\r\n\r\n",
        )
        .ok_or_else(|| {
            not_a_form(&format!(
                "a part's headers do not end within {MAX_PART_HEADER_BYTES} bytes"
            ))
        })?;
        let head = std::str::from_utf8(&body[start..start + head_len])
            .map_err(|_| not_a_form("a part's headers are not UTF-8"))?;
        let disposition = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v.trim())
            .ok_or_else(|| not_a_form("a part has no Content-Disposition"))?;
        let name = param(disposition, "name").ok_or_else(|| not_a_form("a part has no name"))?;
        let filename = param(disposition, "filename");
        let content = start + head_len + 4;
        let end = content
            + find(&body[content..], &next_delimiter)
                .ok_or_else(|| not_a_form("a part does not end (the upload is cut short)"))?;
        form.parts.push(Part {
            name,
            filename,
            body: body.slice(content..end),
        });
        at = end + next_delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"z.bundle\"\r\n\
Content-Type: application/octet-stream\r\n\r\n\x00\r\n--Xy\x01\r\n--XyZ--\r\n";

    #[test]
    fn a_form_with_a_file_reads_as_its_parts() {
        let b = boundary("multipart/form-data; boundary=\"XyZ\"").unwrap();
        let form = parse(&b, Bytes::from_static(BODY)).unwrap();
        assert_eq!(form.text("csrf").as_deref(), Some("tok"));
        let file = form.part("bundle").unwrap();
        assert_eq!(file.filename.as_deref(), Some("z.bundle"));
        assert_eq!(&file.body[..], b"\x00\r\n--Xy\x01");
    }

    #[test]
    fn what_is_no_form_is_refused_saying_why() {
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "x".repeat(71))),
            None
        );
        for (body, says) in [
            (&b"nothing"[..], "no boundary"),
            (&BODY[..BODY.len() - 12], "cut short"),
            (
                b"--XyZ\r\nContent-Type: x\r\n\r\nv\r\n--XyZ--",
                "Content-Disposition",
            ),
            (
                b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--",
                "no name",
            ),
            (
                b"--XyZ\r\nContent-Disposition: form-data; name=a",
                "headers do not end",
            ),
        ] {
            let e = parse("XyZ", Bytes::copy_from_slice(body)).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        let many: Vec<u8> = (0..=MAX_PARTS)
            .flat_map(|_| b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n".to_vec())
            .chain(b"--XyZ--".to_vec())
            .collect();
        let e = parse("XyZ", Bytes::from(many)).unwrap_err();
        assert!(e.contains("more than"), "{e}");
    }
}
