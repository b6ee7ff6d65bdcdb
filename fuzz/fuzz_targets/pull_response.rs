//! The messages of one pull call as the phone takes them before it opens its
//! store: each piece a `massline.v1.PullResponse` as a server (honest or
//! not) sent it, decoded by prost and by the phone's `PullDecoder`
//! (unpacking, the change limits, first changes read as records).
#![no_main]

use libfuzzer_sys::fuzz_target;
use massline_core::protocol::PullBatch;
use massline_core::sync::engine::PullDecoder;
use massline_proto::pb;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let mut decoder = PullDecoder::default();
    for piece in massline_fuzz_seeds::pieces(data) {
        let Ok(m) = pb::PullResponse::decode(piece) else {
            return;
        };
        let batch = PullBatch::from(m);
        if decoder.decode(batch).is_err() {
            return;
        }
    }
});
