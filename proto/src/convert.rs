//! `massline.v1` messages to and from the model's plain sync messages, for
//! both edges: the device's transport and the server's services.

use massline_model::protocol::{Person, PullBatch, PullRequest, PushAck, Refusal, RefusalCode};
use massline_model::{PersonId, Principal, Role, VillageCode};

use crate::pb;

impl From<Role> for pb::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::Member => pb::Role::Member,
            Role::Cadre => pb::Role::Cadre,
            Role::Secretary => pb::Role::Secretary,
            Role::TownshipOfficer => pb::Role::TownshipOfficer,
        }
    }
}

/// A person as the wire carries them, without the township's name (which
/// the device learnt at enrollment).
pub fn identity(p: &Person) -> pb::Identity {
    pb::Identity {
        person_id: p.principal.person.to_string(),
        name: p.name.clone(),
        role: pb::Role::from(p.principal.role).into(),
        village: p
            .principal
            .village
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        village_name: p.village_name.clone(),
        township: String::new(),
    }
}

/// The person a wire identity names; `None` when its id, role or village
/// does not read.
pub fn person(i: &pb::Identity) -> Option<Person> {
    let village = match i.village.as_str() {
        "" => None,
        v => Some(VillageCode::new(v).ok()?),
    };
    Some(Person {
        principal: Principal {
            person: PersonId::new(&i.person_id).ok()?,
            role: role(i.role)?,
            village,
        },
        name: i.name.clone(),
        village_name: i.village_name.clone(),
    })
}

/// The role a wire value names; `None` for an unknown or unset one.
pub fn role(r: i32) -> Option<Role> {
    match pb::Role::try_from(r).ok()? {
        pb::Role::Member => Some(Role::Member),
        pb::Role::Cadre => Some(Role::Cadre),
        pb::Role::Secretary => Some(Role::Secretary),
        pb::Role::TownshipOfficer => Some(Role::TownshipOfficer),
        pb::Role::Unspecified => None,
    }
}

impl From<RefusalCode> for pb::RefusalCode {
    fn from(c: RefusalCode) -> Self {
        match c {
            RefusalCode::Malformed => pb::RefusalCode::Malformed,
            RefusalCode::WrongActor => pb::RefusalCode::WrongActor,
            RefusalCode::MissingDependency => pb::RefusalCode::MissingDependency,
            RefusalCode::DependsOnRefused => pb::RefusalCode::DependsOnRefused,
            RefusalCode::ForbiddenScope => pb::RefusalCode::ForbiddenScope,
            RefusalCode::InvalidRecord => pb::RefusalCode::InvalidRecord,
            RefusalCode::ImmutableField => pb::RefusalCode::ImmutableField,
            RefusalCode::Purged => pb::RefusalCode::Purged,
        }
    }
}

impl From<pb::RefusalCode> for RefusalCode {
    fn from(c: pb::RefusalCode) -> Self {
        use pb::RefusalCode as P;
        match c {
            P::Malformed | P::Unspecified => RefusalCode::Malformed,
            P::WrongActor => RefusalCode::WrongActor,
            P::MissingDependency => RefusalCode::MissingDependency,
            P::DependsOnRefused => RefusalCode::DependsOnRefused,
            P::ForbiddenScope => RefusalCode::ForbiddenScope,
            P::InvalidRecord => RefusalCode::InvalidRecord,
            P::ImmutableField => RefusalCode::ImmutableField,
            P::Purged => RefusalCode::Purged,
        }
    }
}

impl From<PushAck> for pb::PushResponse {
    fn from(a: PushAck) -> Self {
        pb::PushResponse {
            accepted: a.accepted,
            refused: a
                .refused
                .into_iter()
                .map(|r| pb::Refusal {
                    index: r.index,
                    code: pb::RefusalCode::from(r.code).into(),
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

impl From<pb::PushResponse> for PushAck {
    fn from(a: pb::PushResponse) -> Self {
        PushAck {
            accepted: a.accepted,
            refused: a
                .refused
                .into_iter()
                .map(|r| Refusal {
                    index: r.index,
                    code: r.code().into(),
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

impl From<PullRequest> for pb::PullRequest {
    fn from(r: PullRequest) -> Self {
        pb::PullRequest {
            common: r.common,
            compression: r.compression,
            message_bytes: r.message_bytes,
            scopes_digest: r.scopes_digest,
            cursors: r
                .cursors
                .into_iter()
                .map(|(scope, seq)| pb::ScopeCursor { scope, seq })
                .collect(),
            server: r.server.map(Vec::from).unwrap_or_default(),
            dictionary: r.dictionary,
            person_digest: r.person_digest,
        }
    }
}

impl From<pb::PullRequest> for PullRequest {
    fn from(r: pb::PullRequest) -> Self {
        PullRequest {
            common: r.common,
            compression: r.compression,
            message_bytes: r.message_bytes,
            scopes_digest: r.scopes_digest,
            cursors: r.cursors.into_iter().map(|c| (c.scope, c.seq)).collect(),
            // Any other length names no server this one could have been.
            server: r.server.try_into().ok(),
            dictionary: r.dictionary,
            person_digest: r.person_digest,
        }
    }
}

impl From<PullBatch> for pb::PullResponse {
    fn from(b: PullBatch) -> Self {
        pb::PullResponse {
            frame: b.frame,
            entries: b.entries,
            through: b.through,
            scopes: b.scopes,
            done: b.done,
            server: b.server.map(Vec::from).unwrap_or_default(),
            reset: b.reset,
            purged: b.purged,
            dictionary: b.dictionary,
            identity: b.person.as_ref().map(identity),
        }
    }
}

impl From<pb::PullResponse> for PullBatch {
    fn from(m: pb::PullResponse) -> Self {
        PullBatch {
            frame: m.frame,
            entries: m.entries,
            through: m.through,
            scopes: m.scopes,
            done: m.done,
            server: m.server.try_into().ok(),
            reset: m.reset,
            purged: m.purged,
            dictionary: m.dictionary,
            person: m.identity.as_ref().and_then(person),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use massline_model::Coded;

    #[test]
    fn every_role_and_refusal_code_survives_the_wire() {
        for r in Role::all() {
            assert_eq!(role(pb::Role::from(*r).into()), Some(*r));
        }
        assert_eq!(role(0), None);
        for c in RefusalCode::all() {
            assert_eq!(RefusalCode::from(pb::RefusalCode::from(*c)), *c);
        }
    }

    #[test]
    fn pull_and_push_messages_survive_the_wire() {
        let req = PullRequest {
            common: 7,
            scopes_digest: 9,
            cursors: vec![("v/a/shared".into(), 3)],
            compression: 19,
            message_bytes: 4096,
            server: Some([4; 16]),
            dictionary: 1,
            person_digest: 11,
        };
        assert_eq!(PullRequest::from(pb::PullRequest::from(req.clone())), req);
        let batch = PullBatch {
            frame: vec![1, 2],
            entries: 2,
            through: 5,
            scopes: vec!["v/a/cadre".into()],
            done: true,
            server: Some([5; 16]),
            reset: true,
            purged: vec![vec![6; 16]],
            dictionary: 1,
            person: Some(Person {
                principal: Principal {
                    person: PersonId::new("li").unwrap_or_else(|e| panic!("{e}")),
                    role: Role::Member,
                    village: Some(VillageCode::new("dongcun").unwrap_or_else(|e| panic!("{e}"))),
                },
                name: "李委员".into(),
                village_name: "东村".into(),
            }),
        };
        assert_eq!(
            PullBatch::from(pb::PullResponse::from(batch.clone())),
            batch
        );
        let ack = PushAck {
            accepted: 3,
            refused: vec![Refusal {
                index: 1,
                code: RefusalCode::InvalidRecord,
                reason: "minutes".into(),
            }],
        };
        assert_eq!(PushAck::from(pb::PushResponse::from(ack.clone())), ack);
    }
}
