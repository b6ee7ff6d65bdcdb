//! unpack(pack(x)) == x for what devices and the server pack: changes
//! Automerge made (several records, each change depending on the one
//! before, so dependencies travel as back-references), whole documents, and
//! chunks that are not plain changes, in messages split anywhere, at zstd
//! levels 1 to 5, with and without the dictionary. The input is a script: each byte an action, its arguments
//! the bytes after it.
#![no_main]

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ROOT};
use libfuzzer_sys::fuzz_target;
use massline_core::DocId;
use massline_core::packing::{Dictionary, Entry, Packer, Unpacker};

const DOCS: usize = 3;

fuzz_target!(|data: &[u8]| {
    let mut script = data.iter().copied();
    let first = script.next().unwrap_or(0);
    let level = 1 + i32::from(first % 5);
    let dictionary = if first & 0x80 == 0 {
        Dictionary::None
    } else {
        Dictionary::NEWEST
    };
    let mut docs: Vec<Automerge> = (0..DOCS)
        .map(|i| Automerge::new().with_actor(ActorId::from([i as u8 + 1; 16])))
        .collect();
    let mut packer = Packer::with_dictionary(level, dictionary);
    let mut messages = Vec::new();
    let mut expected = Vec::new();
    while let Some(action) = script.next() {
        let arg = script.next().unwrap_or(0);
        let doc = &mut docs[usize::from(arg) % DOCS];
        match action % 4 {
            0 => {
                let key = format!("k{}", arg % 8);
                let value = i64::from(script.next().unwrap_or(0));
                let mut tx = doc.transaction();
                let _ = tx.put(ROOT, key, value);
                tx.commit_with(CommitOptions::default().with_message("{\"by\":\"p\"}"));
                let Some(c) = doc.get_last_local_change() else {
                    continue;
                };
                packer.push_change(c.raw_bytes());
                expected.push(Entry::Change {
                    hash: c.hash(),
                    bytes: c.raw_bytes().to_vec(),
                });
            }
            1 => {
                let len = usize::from(arg % 64);
                let mut blob: Vec<u8> = script.by_ref().take(len).collect();
                // Not a plain change chunk: those travel rebuilt, not as they are.
                if blob.starts_with(&massline_fuzz_seeds::MAGIC) {
                    blob[0] = 0;
                }
                packer.push_change(&blob);
                let hash = if blob.len() > 8 {
                    use sha2::Digest;
                    automerge::ChangeHash(sha2::Sha256::digest(&blob[8..]).into())
                } else {
                    automerge::ChangeHash([0; 32])
                };
                expected.push(Entry::Change { hash, bytes: blob });
            }
            2 => {
                let id = DocId::from_slice(&[arg; 16]).expect("16 bytes");
                let bytes = doc.save();
                packer.push_document(&id, &bytes);
                expected.push(Entry::Document { doc: id, bytes });
            }
            _ => messages.push(packer.flush()),
        }
    }
    messages.push(packer.flush());
    let mut unpacker = Unpacker::with_dictionary(dictionary);
    let mut got = Vec::new();
    for (frame, n) in messages {
        got.extend(unpacker.unpack(&frame, n).expect("what was packed unpacks"));
    }
    assert_eq!(got, expected);
});
