//! The sync messages as plain Rust, shared by the device and the server.
//!
//! The transports convert these to and from `massline.v1` at the edges.

use sha2::{Digest, Sha256};

use crate::access::Principal;
use crate::coded_enum;

/// Largest gRPC message the device and the server take from each other or
/// send: a packed message of at most [`crate::packing::MAX_MESSAGE_BYTES`]
/// compressed (zstd adds a few bytes per 128 KiB block to data it cannot
/// compress) in its protobuf envelope. Either side refuses a larger one
/// before reading it.
pub const MAX_GRPC_MESSAGE_BYTES: usize = crate::packing::MAX_MESSAGE_BYTES + (64 << 10);

/// A place in the server's numbering of accepted changes (every scope's
/// changes are numbered in one sequence): a device standing at `Seq(n)` in
/// a scope has received every change of it up to `n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One message of a push: a flushed piece of the call's packed stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushFrame {
    /// Compressed packed changes.
    pub frame: Vec<u8>,
    /// How many changes the piece holds.
    pub changes: u32,
    /// The number of the [`Dictionary`](crate::dictionary::Dictionary) the
    /// call's stream was compressed with, as the first message names it
    /// (later ones leave it 0, and the receiver reads it only there).
    pub dictionary: u32,
}

/// The server's answer to one push message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushAck {
    /// Changes now durably stored (including ones the server already had).
    pub accepted: u32,
    /// Changes refused, with reasons.
    pub refused: Vec<Refusal>,
}

coded_enum! {
    /// Why the server refused a change.
    pub enum RefusalCode as "refusal_code" {
        Malformed = "malformed", "无法解析的修改", "Not a readable change";
        WrongActor = "wrong_actor", "修改者不是本设备", "Written by another device's actor";
        MissingDependency = "missing_dependency", "缺少前序修改", "A change it depends on is missing";
        DependsOnRefused = "depends_on_refused", "前序修改已被拒绝", "A change it depends on was refused";
        ForbiddenScope = "forbidden_scope", "无权写入该范围", "Not allowed to write this scope";
        InvalidRecord = "invalid_record", "记录不符合要求", "The record would be invalid";
        ImmutableField = "immutable_field", "不可更改的内容", "Changes what may not change";
        Purged = "purged", "记录已被永久删除", "The record was purged for good";
    }
}

/// One refused change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Position of the change in its push message.
    pub index: u32,
    /// The reason's code.
    pub code: RefusalCode,
    /// The reason in plain words: which record, which field, why.
    pub reason: String,
}

/// What a device asks for when it pulls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullRequest {
    /// The cursor of every known scope not listed in `cursors`.
    pub common: u64,
    /// [`scopes_digest`] of the scopes the device knows.
    pub scopes_digest: u64,
    /// Scopes whose cursor is not `common`.
    pub cursors: Vec<(String, u64)>,
    /// zstd level asked for the answer (1 to 19; 0 leaves it to the server).
    pub compression: u32,
    /// The identity of the server that gave the device its cursors, if known.
    pub server: Option<ServerId>,
    /// Most uncompressed bytes of changes per answer message the device asks
    /// for (0 leaves it to the server; the server never sends more than its
    /// own size, and always at least one change per message): smaller after
    /// a link cut a pull short, so each message can get through.
    pub message_bytes: u32,
    /// The number of the newest [`Dictionary`](crate::dictionary::Dictionary)
    /// the device has (0: none); the server answers with the newest it has
    /// up to that one.
    pub dictionary: u32,
    /// [`person_digest`] of who the device's note says its person is; 0
    /// when it does not say (a device from before moves were sent).
    pub person_digest: u64,
}

/// Who a device's person is as the server has them now, sent in a pull's
/// answer with the scopes they may read when they were moved to another
/// role or village.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The person, their role and village.
    pub principal: Principal,
    /// Their name.
    pub name: String,
    /// Their village's name (empty for the township office).
    pub village_name: String,
}

/// A short digest of who a device's person is (id, role, village), so an
/// idle pull need not send it. Never 0, which says "not sent".
pub fn person_digest(p: &Principal) -> u64 {
    let village = p.village.as_ref().map_or("", |v| v.as_str());
    let d = scopes_digest([
        format!("person:{}", p.person).as_str(),
        format!("role:{}", p.role.code()).as_str(),
        format!("village:{village}").as_str(),
    ]);
    d.max(1)
}

/// A server's identity: random, made anew when it is restored from a backup.
pub type ServerId = [u8; 16];

/// Most changes one `Missing` call may name: 4,096 hashes are 128 KiB, and
/// as many indexed lookups on the server.
pub const MAX_MISSING_PER_CALL: usize = 4096;

/// One message of a pull.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullBatch {
    /// Compressed packed entries (may be empty).
    pub frame: Vec<u8>,
    /// How many entries the piece holds.
    pub entries: u32,
    /// Everything up to this sequence number has now been sent, in every scope.
    pub through: u64,
    /// When not empty: the device's scopes were out of date; these are the
    /// scopes it may read now, and it should ask again.
    pub scopes: Vec<String>,
    /// The last message of the call.
    pub done: bool,
    /// The server's identity, when the device named another or none.
    pub server: Option<ServerId>,
    /// The server lacks changes the device's cursors say it sent: the device
    /// lowers its cursors to `through`, asks again and sends its own changes
    /// the server lacks.
    pub reset: bool,
    /// Records of the device's scopes purged for good since its cursors, as
    /// sent (16 bytes each, at most [`MAX_PURGED_PER_MESSAGE`]; the device
    /// checks both): it deletes them, their changes and its outbox for them.
    pub purged: Vec<Vec<u8>>,
    /// The number of the [`Dictionary`](crate::dictionary::Dictionary) the
    /// call's stream is compressed with, on every message carrying a frame.
    pub dictionary: u32,
    /// Who the device's person is now, with `scopes`, when they were moved.
    pub person: Option<Person>,
}

/// Most purged records one pull message may name: 1,024 ids are 16 KiB. The
/// server starts a new message before it names more; a device refuses a
/// message naming more.
pub const MAX_PURGED_PER_MESSAGE: usize = 1024;

/// A short digest of a set of scope names, so an idle pull need not list them.
pub fn scopes_digest<'a>(scopes: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut names: Vec<&str> = scopes.into_iter().collect();
    names.sort_unstable();
    names.dedup();
    let mut h = Sha256::new();
    for n in names {
        h.update(n.as_bytes());
        h.update(b"\n");
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_order_and_sees_membership() {
        let a = scopes_digest(["v/a/shared", "v/a/cadre"]);
        assert_eq!(a, scopes_digest(["v/a/cadre", "v/a/shared"]));
        assert_ne!(a, scopes_digest(["v/a/cadre"]));
        assert_ne!(scopes_digest(["ab", "c"]), scopes_digest(["a", "bc"]));
    }
}
