//! The single-message requests the server decodes: `massline.v1.PullRequest`
//! and `massline.v1.EnrollRequest`, read from the same bytes by prost; a
//! message decoded encodes back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use massline_proto::pb;
use prost::Message;

fn round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(m) = M::decode(data) {
        assert_eq!(M::decode(&m.encode_to_vec()[..]).ok(), Some(m));
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<pb::PullRequest>(data);
    round_trip::<pb::EnrollRequest>(data);
});
