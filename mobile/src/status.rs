//! Who the device is, what it holds, and how sync went, as Kotlin sees them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use massline_core::record_doc::HistoryItem as CoreHistoryItem;
use massline_core::records::{
    StudyCredit as CoreStudyCredit, Warning as CoreWarning, Withdrawal as CoreWithdrawal,
};
use massline_core::store::documents::RecordRow as CoreRow;
use massline_core::store::identity::Identity as CoreIdentity;
use massline_core::{DocId, Status as CoreStatus, SyncReport as CoreReport};

use crate::error::MasslineError;
use crate::records::Record;

fn instant(unix_seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(unix_seconds).unwrap_or(0))
}

/// The enrolled person and the server the device syncs with.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Identity {
    /// The person's id.
    pub person_id: String,
    /// The person's name.
    pub name: String,
    /// Their role: a `role` code.
    pub role: String,
    /// Their village's code; `None` for a township officer.
    pub village: Option<String>,
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
            person_id: i.principal.person.to_string(),
            name: i.name,
            role: i.principal.role.code().into(),
            village: i.principal.village.map(|v| v.to_string()),
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
    /// The record's id (32 hex characters).
    pub id: String,
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

/// Who withdrew a record entered by mistake, when, and why.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Withdrawal {
    /// The person who withdrew it (person id).
    pub by: String,
    /// The day it was withdrawn.
    pub on: NaiveDate,
    /// Why, in plain words.
    pub reason: String,
}

impl From<CoreWithdrawal> for Withdrawal {
    fn from(w: CoreWithdrawal) -> Self {
        Withdrawal {
            by: w.by.to_string(),
            on: w.on,
            reason: w.reason,
        }
    }
}

/// One change of a record: who made it, when, and which fields it changed.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HistoryItem {
    /// The change's hash (hex).
    pub hash: String,
    /// The person it names as its author (checked by the server on receipt).
    pub by: Option<String>,
    /// When it was made, by the author's clock.
    pub time: SystemTime,
    /// The fields it changed; empty for the change that created the record.
    pub fields: Vec<String>,
}

impl From<CoreHistoryItem> for HistoryItem {
    fn from(h: CoreHistoryItem) -> Self {
        HistoryItem {
            hash: h.hash.to_string(),
            by: h.by.map(|p| p.to_string()),
            time: instant(h.time),
            fields: h.fields,
        }
    }
}

/// Study credited to a person by one record: their own entry, or a session
/// they attended.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct StudyCredit {
    /// The record that credits it.
    pub record_id: String,
    /// Who studied (person id).
    pub person: String,
    /// The day.
    pub date: NaiveDate,
    /// How long, in minutes.
    pub minutes: u32,
    /// What was studied: a `study_material` code.
    pub material: String,
    /// How: a `study_mode` code.
    pub mode: String,
}

impl From<(DocId, CoreStudyCredit)> for StudyCredit {
    fn from((id, c): (DocId, CoreStudyCredit)) -> Self {
        StudyCredit {
            record_id: id.to_hex(),
            person: c.person.to_string(),
            date: c.date,
            minutes: c.minutes,
            material: c.material.code().into(),
            mode: c.mode.code().into(),
        }
    }
}

/// Something the village is asked to keep but need not (3 to 5 practical things).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Warning {
    /// What it is about: a `record_kind` code such as `practical_thing`.
    pub about: String,
    /// What is wrong, in plain words.
    pub text: String,
}

impl From<CoreWarning> for Warning {
    fn from(w: CoreWarning) -> Self {
        Warning {
            about: w.about,
            text: w.text,
        }
    }
}

impl TryFrom<CoreRow> for RecordRow {
    type Error = MasslineError;

    fn try_from(r: CoreRow) -> Result<Self, MasslineError> {
        Ok(RecordRow {
            id: r.id.to_hex(),
            scope: r.scope,
            kind: r.kind,
            record: r.record.map(Record::try_from).transpose()?,
            problem: r.problem,
            withdrawn: r.withdrawn.map(Withdrawal::from),
            updated_at: instant(r.updated_at),
        })
    }
}

/// A local change the server refused, kept for the person to see.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RefusedChange {
    /// The record the change was for.
    pub record_id: String,
    /// The server's code for the reason.
    pub code: String,
    /// The server's reason, in plain words.
    pub reason: String,
}

/// A readable scope and the server sequence number the device stands at.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ScopeCursor {
    /// The scope's name.
    pub scope: String,
    /// The server sequence number.
    pub seq: u64,
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
            refused: s
                .refused
                .into_iter()
                .map(|r| RefusedChange {
                    record_id: r.doc.to_hex(),
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
                .map(|(scope, seq)| ScopeCursor { scope, seq })
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
    /// Ids of the records that the received changes changed on this device.
    pub changed: Vec<String>,
    /// The server's sequence number the device now stands at.
    pub through: u64,
    /// gRPC calls made.
    pub calls: u64,
    /// Bytes sent over the link (TLS and HTTP/2 included).
    pub link_sent: u64,
    /// Bytes received over the link (TLS and HTTP/2 included).
    pub link_received: u64,
    /// Wall time of the sync in milliseconds.
    pub millis: u64,
}

impl From<CoreReport> for SyncReport {
    fn from(r: CoreReport) -> Self {
        SyncReport {
            pushed: r.pushed,
            refused: r.refused,
            pulled: r.pulled,
            changed: r.changed.iter().map(|id| id.to_hex()).collect(),
            through: r.through,
            calls: r.calls,
            link_sent: r.link_sent,
            link_received: r.link_received,
            millis: r.millis,
        }
    }
}
