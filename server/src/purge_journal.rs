//! The purge journal: every purge also kept in a file beside the database,
//! `purges.jsonl` (one JSON object a line, appended, never rewritten; 0600
//! like the other data files), so that a purge outlives the database it was
//! made in.
//!
//! A backup made before a purge holds the purged record; restored, it would
//! bring the record back, and devices meeting the restored server would pull
//! it again. The journal goes into every backup, a restore merges the
//! backup's journal with the one of the directory it replaces, and the
//! restore and every start of `serve` make again each purge the journal
//! holds and the database does not ([`crate::purge::reapply`]).
//!
//! A purge's line is written and made durable inside the purge's write
//! transaction, before it commits: a purge is never committed without its
//! line. A line whose transaction then failed to commit is a purge asked
//! for and not made; it is made at the next start, which is what the
//! villager asked. A line cut short by a crash (no newline at its end) was
//! never committed and is dropped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The journal's file in the data directory.
pub const FILE: &str = "purges.jsonl";

/// Most bytes of one line: an id, a kind, a scope, a person, a time and a
/// reason of at most [`crate::purge::MAX_REASON_BYTES`] (escaped, up to six
/// bytes a byte).
pub const MAX_LINE_BYTES: usize = 8 << 10;

/// Most bytes of the whole journal read at once (some 50,000 purges of the
/// longest reasons; a township makes a handful a year).
pub const MAX_JOURNAL_BYTES: u64 = 64 << 20;

/// One purge as the journal keeps it: what the audit log holds, nothing of
/// the record's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The record's id, 32 hex characters.
    pub id: String,
    /// Its kind's code.
    pub kind: String,
    /// Its scope (`v/dongcun/cadre`).
    pub scope: String,
    /// The township officer who purged it.
    pub by: String,
    /// When (Unix seconds).
    pub at: i64,
    /// Why.
    pub reason: String,
}

fn io_error(what: &str, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let what = format!("{what} {}", path.display());
    move |e| Error::Io(what, e)
}

/// Appends `line` to the journal of the data directory `dir` and makes it
/// durable (the file made 0600 if new, and its directory entry synced).
pub fn append(dir: &Path, line: &Line) -> Result<(), Error> {
    let path = dir.join(FILE);
    let mut text =
        serde_json::to_vec(line).map_err(|e| Error::internal("a purge journal line", e))?;
    text.push(b'\n');
    let existed = path.exists();
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(massline_files::PRIVATE_FILE_MODE);
    }
    let mut file = opts.open(&path).map_err(io_error("cannot open", &path))?;
    massline_files::private_file(&path).map_err(io_error("cannot make private", &path))?;
    // A line cut short by a crash was never committed: it goes.
    let whole = whole_length(&mut file).map_err(io_error("cannot read", &path))?;
    file.set_len(whole)
        .and_then(|()| file.seek(SeekFrom::Start(whole)))
        .and_then(|_| file.write_all(&text))
        .and_then(|()| file.sync_all())
        .map_err(io_error("cannot write", &path))?;
    if !existed {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error("cannot sync", dir))?;
    }
    Ok(())
}

/// The length of the file up to the end of its last whole line.
fn whole_length(file: &mut File) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let mut at = len;
    let mut buf = [0_u8; 4096];
    while at > 0 {
        let n = buf.len().min(usize::try_from(at).unwrap_or(buf.len()));
        file.seek(SeekFrom::Start(at - n as u64))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|b| *b == b'\n') {
            return Ok(at - n as u64 + i as u64 + 1);
        }
        at -= n as u64;
    }
    Ok(0)
}

/// The lines of the journal at `path` (none if it is missing). A last line
/// cut short is left out; any other line that is not a purge is an error
/// naming the file and the line.
pub fn read(path: &Path) -> Result<Vec<Line>, Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("cannot open", path)(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_JOURNAL_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error("cannot read", path))?;
    if bytes.len() as u64 > MAX_JOURNAL_BYTES {
        return Err(Error::Invalid(format!(
            "{} is larger than a purge journal may be ({MAX_JOURNAL_BYTES} bytes)",
            path.display()
        )));
    }
    parse(&bytes).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

/// The lines of a journal's bytes (see [`read`]).
pub fn parse(bytes: &[u8]) -> Result<Vec<Line>, String> {
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    for (n, raw) in bytes[..whole].split(|b| *b == b'\n').enumerate() {
        if raw.is_empty() {
            continue;
        }
        if raw.len() > MAX_LINE_BYTES {
            return Err(format!(
                "line {} is {} bytes, more than a purge's {MAX_LINE_BYTES}",
                n + 1,
                raw.len()
            ));
        }
        let line: Line =
            serde_json::from_slice(raw).map_err(|e| format!("line {} is no purge: {e}", n + 1))?;
        out.push(line);
    }
    Ok(out)
}

/// Writes `lines` as a new journal at `path` (0600), durably.
pub fn write_new(path: &Path, lines: &[Line]) -> Result<(), Error> {
    let mut text = Vec::new();
    for l in lines {
        serde_json::to_writer(&mut text, l).map_err(|e| Error::internal("a purge journal", e))?;
        text.push(b'\n');
    }
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(io_error("cannot remove", path)(e));
        }
        _ => {}
    }
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(massline_files::PRIVATE_FILE_MODE);
    }
    let mut file = opts.open(path).map_err(io_error("cannot make", path))?;
    file.write_all(&text)
        .and_then(|()| file.sync_all())
        .map_err(io_error("cannot write", path))
}

/// The purges of `first` and then those of `second` it lacks (by record),
/// each once, in that order.
pub fn merge(first: Vec<Line>, second: Vec<Line>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::with_capacity(first.len() + second.len());
    let mut seen = std::collections::HashSet::new();
    for l in first.into_iter().chain(second) {
        if seen.insert(l.id.clone()) {
            out.push(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str) -> Line {
        Line {
            id: id.into(),
            kind: "opinion".into(),
            scope: "v/dongcun/cadre".into(),
            by: "liu".into(),
            at: 1_700_000_000,
            reason: "本人申请删除".into(),
        }
    }

    #[test]
    fn lines_are_appended_and_read_back_and_a_torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), &line("a")).unwrap();
        let path = dir.path().join(FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // A crash in the middle of the next line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"id":"b","ki"#).unwrap();
        drop(f);
        assert_eq!(read(&path).unwrap(), vec![line("a")]);
        append(dir.path(), &line("c")).unwrap();
        assert_eq!(read(&path).unwrap(), vec![line("a"), line("c")]);
        // Its format, pinned.
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"id":"a","kind":"opinion","scope":"v/dongcun/cadre","by":"liu","at":1700000000,"reason":"本人申请删除"}"#
        );
    }

    #[test]
    fn a_damaged_line_is_named() {
        let e = parse(b"{\"id\":\"a\"}\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        assert_eq!(parse(b"").unwrap(), Vec::new());
    }

    #[test]
    fn merging_keeps_each_purge_once() {
        let merged = merge(vec![line("a"), line("b")], vec![line("b"), line("c")]);
        let ids: Vec<&str> = merged.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }
}
