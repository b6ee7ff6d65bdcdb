//! The bodies of sync bundles ([`massline_model::bundle`]) to and from
//! `massline.v1` bytes: the same messages a push and a pull call carry.
//!
//! The bytes come from a file, and are read only after the bundle's tag
//! matched; prost checks every length inside against the bytes that remain
//! (at most [`massline_model::bundle::MAX_BUNDLE_BYTES`]), and the counts
//! are then held to the bundle's limits.

use massline_model::bundle::{BundleError, BundleReply, BundleRequest};
use massline_model::protocol::{PullBatch, PullRequest, PushAck, PushFrame};
use prost::Message;

use crate::pb;

/// A request's body as bytes.
pub fn encode_request(r: &BundleRequest) -> Vec<u8> {
    pb::BundleRequest {
        push: r
            .push
            .iter()
            .map(|f| pb::PushRequest {
                frame: f.frame.clone(),
                changes: f.changes,
                dictionary: f.dictionary,
            })
            .collect(),
        pull: Some(pb::PullRequest::from(r.pull.clone())),
    }
    .encode_to_vec()
}

/// A request's body from bytes, its counts within the limits.
pub fn decode_request(body: &[u8]) -> Result<BundleRequest, BundleError> {
    let m = pb::BundleRequest::decode(body).map_err(|e| BundleError::BadBody(e.to_string()))?;
    let r = BundleRequest {
        push: m
            .push
            .into_iter()
            .map(|p| PushFrame {
                frame: p.frame,
                changes: p.changes,
                dictionary: p.dictionary,
            })
            .collect(),
        pull: m.pull.map(PullRequest::from).unwrap_or_default(),
    };
    r.check()?;
    Ok(r)
}

/// A reply's body as bytes.
pub fn encode_reply(r: &BundleReply) -> Vec<u8> {
    pb::BundleReply {
        push: r.push.iter().cloned().map(pb::PushResponse::from).collect(),
        pull: r.pull.iter().cloned().map(pb::PullResponse::from).collect(),
    }
    .encode_to_vec()
}

/// A reply's body from bytes, its counts within the limits.
pub fn decode_reply(body: &[u8]) -> Result<BundleReply, BundleError> {
    let m = pb::BundleReply::decode(body).map_err(|e| BundleError::BadBody(e.to_string()))?;
    let r = BundleReply {
        push: m.push.into_iter().map(PushAck::from).collect(),
        pull: m.pull.into_iter().map(PullBatch::from).collect(),
    };
    r.check()?;
    Ok(r)
}
