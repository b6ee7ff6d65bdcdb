//! `massline.v1` messages to and from the plain sync messages.

use massline_core::Role;
use massline_core::sync::protocol::{PullBatch, PullRequest, PushAck, RefusalCode};
use massline_proto::pb;

pub fn role(r: Role) -> pb::Role {
    match r {
        Role::Member => pb::Role::Member,
        Role::Cadre => pb::Role::Cadre,
        Role::Secretary => pb::Role::Secretary,
        Role::TownshipOfficer => pb::Role::TownshipOfficer,
    }
}

fn refusal_code(c: RefusalCode) -> pb::RefusalCode {
    match c {
        RefusalCode::Malformed => pb::RefusalCode::Malformed,
        RefusalCode::WrongActor => pb::RefusalCode::WrongActor,
        RefusalCode::MissingDependency => pb::RefusalCode::MissingDependency,
        RefusalCode::DependsOnRefused => pb::RefusalCode::DependsOnRefused,
        RefusalCode::ForbiddenScope => pb::RefusalCode::ForbiddenScope,
        RefusalCode::InvalidRecord => pb::RefusalCode::InvalidRecord,
        RefusalCode::ImmutableField => pb::RefusalCode::ImmutableField,
    }
}

pub fn push_ack(a: PushAck) -> pb::PushResponse {
    pb::PushResponse {
        accepted: a.accepted,
        refused: a
            .refused
            .into_iter()
            .map(|r| pb::Refusal {
                index: r.index,
                code: refusal_code(r.code).into(),
                reason: r.reason,
            })
            .collect(),
    }
}

pub fn pull_request(r: pb::PullRequest) -> PullRequest {
    PullRequest {
        common: r.common,
        compression: r.compression,
        scopes_digest: r.scopes_digest,
        cursors: r.cursors.into_iter().map(|c| (c.scope, c.seq)).collect(),
    }
}

pub fn pull_batch(b: PullBatch) -> pb::PullResponse {
    pb::PullResponse {
        frame: b.frame,
        entries: b.entries,
        through: b.through,
        scopes: b.scopes,
        done: b.done,
    }
}
