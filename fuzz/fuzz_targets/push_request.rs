//! The messages of one push call as the server takes them before it opens
//! its database: each piece a `massline.v1.PushRequest` as the device sent
//! it, decoded by prost (and encoding back to the same message), unpacked in
//! the call's stream (against the dictionary its first piece names, as the
//! server reads it), and prepared (`ingest::prepare`: the change limits,
//! Automerge's parser, first changes read as records).
#![no_main]

use libfuzzer_sys::fuzz_target;
use massline_core::packing::Unpacker;
use massline_proto::pb;
use massline_server::ingest;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let mut unpacker: Option<Unpacker> = None;
    for piece in massline_fuzz_seeds::pieces(data) {
        let Ok(m) = pb::PushRequest::decode(piece) else {
            return;
        };
        assert_eq!(
            pb::PushRequest::decode(&m.encode_to_vec()[..]).ok(),
            Some(m.clone())
        );
        if unpacker.is_none() {
            let Ok(u) = Unpacker::for_number(m.dictionary) else {
                return;
            };
            unpacker = Some(u);
        }
        let Some(unpacker) = unpacker.as_mut() else {
            return;
        };
        let Ok(entries) = unpacker.unpack(&m.frame, m.changes) else {
            return;
        };
        let n = entries.len();
        assert_eq!(ingest::prepare(entries).len(), n);
    }
});
