//! What the device core reports that is not a record (who the device is,
//! its stored rows, sync status and reports, a record's history), as Kotlin
//! sees it. The records, withdrawals, study credits and warnings inside them
//! are the model's own types.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use massline_core::access::Role;
use massline_core::record_doc::HistoryItem as CoreHistoryItem;
use massline_core::records::{PhaseStanding, Record, StudyCredit, Withdrawal};
use massline_core::store::documents::RecordRow as CoreRow;
use massline_core::store::identity::Identity as CoreIdentity;
use massline_core::sync::link::Handshake;
use massline_core::{
    DocId, PersonId, Status as CoreStatus, SyncProgress as CoreProgress, SyncReport as CoreReport,
    VillageCode,
};

fn instant(unix_seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(unix_seconds).unwrap_or(0))
}

/// The enrolled person and the server the device syncs with.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Identity {
    /// The person's id.
    pub person_id: PersonId,
    /// The person's name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their village's code; `None` for a township officer.
    pub village: Option<VillageCode>,
    /// Their village's name.
    pub village_name: Option<String>,
    /// The township's name.
    pub township: String,
    /// `host:port` of the township server.
    pub server_address: String,
    /// The server's number for this device.
    pub device_id: u64,
}

impl From<CoreIdentity> for Identity {
    fn from(i: CoreIdentity) -> Self {
        Identity {
            person_id: i.principal.person,
            name: i.name,
            role: i.principal.role,
            village: i.principal.village,
            village_name: i.village_name,
            township: i.township,
            server_address: i.server.address,
            device_id: i.device_id,
        }
    }
}

/// A record as stored on the device.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RecordRow {
    /// The record's id.
    pub id: DocId,
    /// The scope its document is bound to (`v/dongcun/shared`).
    pub scope: String,
    /// Its kind: a `record_kind` code.
    pub kind: String,
    /// The record, or `None` if the document does not read as a valid record.
    pub record: Option<Record>,
    /// Why the document does not read as a record.
    pub problem: Option<String>,
    /// Who withdrew the record, when and why, if it was withdrawn.
    pub withdrawn: Option<Withdrawal>,
    /// When it last changed on this device.
    pub updated_at: SystemTime,
}

impl From<CoreRow> for RecordRow {
    fn from(r: CoreRow) -> Self {
        RecordRow {
            id: r.id,
            scope: r.scope.map(|s| s.to_string()).unwrap_or_default(),
            kind: r.kind.map(|k| k.code().to_string()).unwrap_or_default(),
            record: r.record,
            problem: r.problem,
            withdrawn: r.withdrawn,
            updated_at: instant(r.updated_at),
        }
    }
}

/// One change of a record: who made it, when, and which fields it changed.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HistoryItem {
    /// The change's hash (hex).
    pub hash: String,
    /// The person it names as its author (checked by the server on receipt).
    pub by: Option<PersonId>,
    /// When it was made, by the author's clock.
    pub time: SystemTime,
    /// The fields it changed; empty for the change that created the record.
    pub fields: Vec<String>,
}

impl From<CoreHistoryItem> for HistoryItem {
    fn from(h: CoreHistoryItem) -> Self {
        HistoryItem {
            hash: h.hash.to_string(),
            by: h.by,
            time: instant(h.time),
            fields: h.fields,
        }
    }
}

/// Study credited to a person by one record: their own entry, or a session
/// they attended.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CreditedStudy {
    /// The record that credits it.
    pub record_id: DocId,
    /// The study.
    pub credit: StudyCredit,
}

/// A local change the server refused, kept for the person to see.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RefusedChange {
    /// The record the change was for.
    pub record_id: DocId,
    /// The server's code for the reason.
    pub code: String,
    /// The server's reason, in plain words.
    pub reason: String,
}

/// Where one village stands in the campaign: its phase, and the phases it
/// is behind the township's plan in.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct VillageCampaign {
    /// The village's code.
    pub village: String,
    /// Its phase and the phases it is behind the plan in.
    pub standing: PhaseStanding,
}

impl From<massline_core::VillageStanding> for VillageCampaign {
    fn from(s: massline_core::VillageStanding) -> Self {
        VillageCampaign {
            village: s.village.to_string(),
            standing: s.standing,
        }
    }
}

/// A readable scope and the server sequence number the device stands at.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ScopeCursor {
    /// The scope's name.
    pub scope: String,
    /// The server sequence number.
    pub seq: u64,
}

/// How far the running sync is (or the last one got), for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    /// Whether a sync is running.
    pub running: bool,
    /// Local changes waiting to be sent when it started.
    pub to_send: u64,
    /// Of those, answered by the server so far.
    pub sent: u64,
    /// Changes taken in from the server so far.
    pub received: u64,
    /// Bytes sent over the link so far.
    pub bytes_sent: u64,
    /// Bytes received over the link so far.
    pub bytes_received: u64,
}

impl From<CoreProgress> for SyncProgress {
    fn from(p: CoreProgress) -> Self {
        SyncProgress {
            running: p.running,
            to_send: p.to_send,
            sent: p.sent,
            received: p.received,
            bytes_sent: p.bytes_sent,
            bytes_received: p.bytes_received,
        }
    }
}

/// What is on the device and where sync stands.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Status {
    /// The enrolled identity, if any.
    pub identity: Option<Identity>,
    /// Records on the device.
    pub records: u64,
    /// Local changes not yet acknowledged by the server.
    pub unsent: u64,
    /// Their bytes, before compression.
    pub unsent_bytes: u64,
    /// Local changes the server refused, with reasons.
    pub refused: Vec<RefusedChange>,
    /// When a sync was last tried.
    pub last_attempt_at: Option<SystemTime>,
    /// When a sync last succeeded.
    pub last_success_at: Option<SystemTime>,
    /// Why the last sync failed, if it did.
    pub last_error: Option<String>,
    /// Each readable scope and where the device stands in it.
    pub cursors: Vec<ScopeCursor>,
}

impl From<CoreStatus> for Status {
    fn from(s: CoreStatus) -> Self {
        Status {
            identity: s.identity.map(Identity::from),
            records: s.records,
            unsent: s.unsent,
            unsent_bytes: s.unsent_bytes,
            refused: s
                .refused
                .into_iter()
                .map(|r| RefusedChange {
                    record_id: r.doc,
                    code: r.code,
                    reason: r.reason,
                })
                .collect(),
            last_attempt_at: s.last_attempt_at.map(instant),
            last_success_at: s.last_success_at.map(instant),
            last_error: s.last_error,
            cursors: s
                .cursors
                .into_iter()
                .map(|(scope, seq)| ScopeCursor {
                    scope: scope.to_string(),
                    seq: seq.0,
                })
                .collect(),
        }
    }
}

/// What one sync did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Local changes the server stored.
    pub pushed: u64,
    /// Local changes the server refused (kept, with the reason, in `Status.refused`).
    pub refused: u64,
    /// Changes (or whole records) received from the server.
    pub pulled: u64,
    /// The records that the received changes changed on this device.
    pub changed: Vec<DocId>,
    /// The server's sequence number the device now stands at.
    pub through: u64,
    /// gRPC calls made.
    pub calls: u64,
    /// Bytes sent over the link (TLS and HTTP/2 included).
    pub link_sent: u64,
    /// Bytes received over the link (TLS and HTTP/2 included).
    pub link_received: u64,
    /// How the connection's TLS handshake went: `full` (the server sent its
    /// certificate), `resumed`, `early-data` (resumed, the first calls sent
    /// with the handshake) or `none` (no link).
    pub handshake: String,
    /// Whether the link was taken as slow (smaller messages, more
    /// compression).
    pub slow_link: bool,
    /// Wall time of the sync in milliseconds.
    pub millis: u64,
}

impl From<CoreReport> for SyncReport {
    fn from(r: CoreReport) -> Self {
        SyncReport {
            pushed: r.pushed,
            refused: r.refused,
            pulled: r.pulled,
            changed: r.changed,
            through: r.through.0,
            calls: r.calls,
            link_sent: r.link_sent,
            link_received: r.link_received,
            handshake: r.handshake.name().to_string(),
            slow_link: r.slow_link,
            millis: u64::try_from(r.took.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// A reply bundle taken in reads as a sync with no calls and no link.
impl From<massline_core::sync::bundle::Imported> for SyncReport {
    fn from(r: massline_core::sync::bundle::Imported) -> Self {
        SyncReport {
            pushed: r.pushed,
            refused: r.refused,
            pulled: r.pulled,
            changed: r.changed,
            through: r.through.0,
            calls: 0,
            link_sent: 0,
            link_received: 0,
            handshake: Handshake::None.name().to_string(),
            slow_link: false,
            millis: 0,
        }
    }
}
