//! The device's public face: open a store, enrol, record, list, sync.
//!
//! Every method takes and returns owned values and may be called from any
//! thread; a [`Client`] is shared behind an `Arc`. Every edit is durable in
//! SQLite before the call returns.

use std::path::Path;
use std::sync::Arc;

use automerge::ActorId;
use massline_proto::pb;
use rusqlite::{OptionalExtension, params};

use chrono::NaiveDate;

use crate::access::{Principal, Role, Scope};
use crate::bundle::SigningKey;
use crate::codes::Lang;
use crate::enrollment_code::EnrollmentCode;
use crate::error::Error;
use crate::ids::{DocId, PersonId, VillageCode};
use crate::judge::{self, Edit, Standing};
use crate::protocol::Seq;
use crate::record_doc::{self, Author, HistoryItem, NewChange, StoredRecord};
use crate::records::rules;
use crate::records::{
    self, Audience, DemandLink, PhaseEntry, PhaseStanding, PracticalThing, Record, RecordKind,
    Reference, ServiceChecklist, StudyCredit, ValidationError, Warning, Withdrawal,
    checklist_in_force,
};
use crate::store::documents::{self, RecordRow};
use crate::store::identity::{self, Identity, ServerPin};
use crate::store::outbox::{self, Refused};
use crate::store::references::StoreContext;
use crate::store::{Db, StoreKey, cursors};
use crate::sync::bundle;
use crate::sync::engine::SyncOptions;
use crate::sync::progress::{Progress, SyncProgress};
use crate::sync::transport::{self, Connection, SyncReport};
use crate::todo::{self, TodoItem};

/// Where the device stands.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub refused: Vec<Refused>,
    /// When a sync was last tried (unix seconds).
    pub last_attempt_at: Option<i64>,
    /// When a sync last succeeded (unix seconds).
    pub last_success_at: Option<i64>,
    /// Why the last sync failed, if it did.
    pub last_error: Option<String>,
    /// Each readable scope and where the device stands in it.
    pub cursors: Vec<(Scope, Seq)>,
}

/// A record that another record names, as this device holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The field that names it (`problem`, `opinions[2]`, `visit.visit`).
    pub field: String,
    /// The record named.
    pub id: DocId,
    /// How the named record stands.
    pub state: LinkState,
}

/// How a named record stands, as this device holds it.
///
/// A record stays linked to one withdrawn, or to a visit's demand another
/// record took up, when the two met after being made apart: a phone refuses
/// to make such a link where it sees the withdrawal or the demand taken, but
/// neither it nor the server can tell what a phone had seen when it was
/// offline, so such links are shown for what they are instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// On this device and not withdrawn.
    Current,
    /// Withdrawn as entered by mistake.
    Withdrawn(Withdrawal),
    /// The record says it was made of a visit's demand, but the demand names
    /// another record (or none): `Some` of the record it names.
    DemandTakenBy(Option<DocId>),
    /// Not on this device (a member does not hold cadre-only records).
    NotHere,
}

/// The device's store and its sync.
#[derive(Debug)]
pub struct Client {
    db: Arc<Db>,
    options: SyncOptions,
    /// One sync at a time from a store: the server allows a device only a
    /// few calls at once, and two syncs would push the same changes twice.
    syncing: tokio::sync::Mutex<()>,
    /// How far the running (or last) sync is.
    progress: Arc<Progress>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn role_from_pb(r: i32) -> Result<Role, Error> {
    massline_proto::convert::role(r)
        .ok_or_else(|| Error::Protocol(format!("unknown role {r}").into()))
}

impl Client {
    /// Opens the store at `path`, creating it on first use.
    pub fn open(path: impl AsRef<Path>) -> Result<Client, Error> {
        Self::open_store(path.as_ref(), None)
    }

    /// Opens the encrypted store at `path` with its key, creating it on first
    /// use. A wrong key, a store that is not encrypted, and a build without
    /// encryption (the `sqlcipher` feature) are each an [`Error::StoreKey`]
    /// saying so.
    pub fn open_with_key(path: impl AsRef<Path>, key: &StoreKey) -> Result<Client, Error> {
        Self::open_store(path.as_ref(), Some(key))
    }

    fn open_store(path: &Path, key: Option<&StoreKey>) -> Result<Client, Error> {
        Ok(Client {
            db: Arc::new(Db::open(path, key)?),
            options: SyncOptions::default(),
            syncing: tokio::sync::Mutex::new(()),
            progress: Arc::default(),
        })
    }

    /// Changes how sync batches and compresses.
    pub fn set_sync_options(&mut self, options: SyncOptions) {
        self.options = options;
    }

    /// Who this device is enrolled as, if it is.
    pub fn identity(&self) -> Result<Option<Identity>, Error> {
        self.db.read(identity::load)
    }

    fn enrolled(&self) -> Result<Identity, Error> {
        self.identity()?.ok_or(Error::NotEnrolled)
    }

    /// Enrols the device with the code from the township office. `address`
    /// overrides the server address in the code (the certificate pin still
    /// applies).
    pub async fn enroll(
        &self,
        code: &str,
        address: Option<&str>,
        device_name: &str,
    ) -> Result<Identity, Error> {
        if let Some(id) = self.identity()? {
            return Err(Error::AlreadyEnrolled(id.name));
        }
        let code: EnrollmentCode = code.parse()?;
        let address = address.unwrap_or(&code.address).to_string();
        let actor: [u8; 16] = rand::random();
        let signing = SigningKey::generate()?;
        let public = SigningKey::from_pkcs8(&signing)?.public_key();
        let conn = Connection::open(&address, code.pin).await?;
        let resp = conn
            .enroll(pb::EnrollRequest {
                code: code.secret.clone(),
                actor_id: actor.to_vec(),
                device_name: device_name.to_string(),
                bundle_public_key: public.to_vec(),
            })
            .await?;
        conn.remember_link(self.options.slow_link_connect);
        let who = resp
            .identity
            .ok_or_else(|| Error::Protocol("enrollment answer without identity".into()))?;
        let bad =
            |what: &str| Error::Protocol(format!("enrollment answer has a bad {what}").into());
        let identity = Identity {
            server: ServerPin {
                address,
                cert_sha256: code.pin.unwrap_or([0; 32]),
            },
            device_id: resp.device_id,
            device_token: resp.device_token,
            actor: ActorId::from(actor),
            principal: Principal {
                person: PersonId::new(who.person_id).map_err(|_| bad("person id"))?,
                role: role_from_pb(who.role)?,
                village: if who.village.is_empty() {
                    None
                } else {
                    Some(VillageCode::new(who.village).map_err(|_| bad("village"))?)
                },
            },
            name: who.name,
            village_name: (!who.village_name.is_empty()).then_some(who.village_name),
            township: who.township,
        };
        self.db.write(|tx| {
            identity::save(tx, &identity, now())?;
            identity::set_bundle_signing_key(tx, &signing)?;
            cursors::set_scopes(tx, &resp.readable_scopes)
        })?;
        Ok(identity)
    }

    /// Saves a new record and queues it for sync. `village` is needed only by
    /// a township officer, who has no village of their own.
    pub fn create(&self, record: Record, village: Option<VillageCode>) -> Result<DocId, Error> {
        record.validate()?;
        self.db
            .write(|tx| create_in(tx, &identity_of(tx)?, record, village))
    }

    /// Saves an edit: `base` is the record as the person read it, `new` as they
    /// left it. Only what they changed is written, on top of whatever reached
    /// the record meanwhile. Returns the record as it now stands.
    pub fn update(&self, id: &DocId, base: &Record, new: &Record) -> Result<Record, Error> {
        self.db.write(|tx| {
            let me = identity_of(tx)?;
            change_in(tx, &me, id, |doc, by| {
                record_doc::update(doc, by, base, new)
            })
        })
    }

    /// Edits a record as it stands now: `f` gets the current record to change.
    pub fn edit(
        &self,
        id: &DocId,
        f: impl FnOnce(&mut Record) -> Result<(), Error>,
    ) -> Result<Record, Error> {
        let current = self
            .get(id)?
            .record
            .ok_or_else(|| Error::NotFound(format!("{id} (it does not read as a record)")))?;
        let mut new = current.clone();
        f(&mut new)?;
        self.update(id, &current, &new)
    }

    /// Withdraws a record entered by mistake, giving the reason. It leaves the
    /// lists but stays in the store, with its history; the withdrawal syncs.
    pub fn withdraw(&self, id: &DocId, reason: &str) -> Result<(), Error> {
        self.db.write(|tx| {
            let me = identity_of(tx)?;
            let w = Withdrawal {
                by: me.principal.person.clone(),
                on: chrono::Local::now().date_naive(),
                reason: reason.to_string(),
            };
            change_in(tx, &me, id, |doc, by| record_doc::withdraw(doc, by, &w)).map(|_| ())
        })
    }

    /// Makes an opinion or a service request of a visit's demand, and links
    /// the demand to it, in one transaction. Returns the new record's id.
    pub fn make_from_demand(
        &self,
        visit: &DocId,
        demand: &str,
        mut record: Record,
    ) -> Result<DocId, Error> {
        let link = Some(DemandLink {
            visit: *visit,
            demand: demand.to_string(),
        });
        match &mut record {
            Record::Opinion(o) => o.visit = link,
            Record::ServiceRequest(s) => s.visit = link,
            other => {
                return Err(Error::InvalidRecord(ValidationError::new(
                    "kind",
                    format!(
                        "a demand becomes an opinion or a service request, not a {}",
                        other.kind()
                    ),
                )));
            }
        }
        record.validate()?;
        self.db.write(|tx| {
            let me = identity_of(tx)?;
            let village = match documents::get(tx, visit)?.and_then(|r| r.scope) {
                Some(scope) => match scope.village() {
                    Some(v) => v.clone(),
                    None => return Err(Error::NotFound(visit.to_hex())),
                },
                None => return Err(Error::NotFound(visit.to_hex())),
            };
            let is_opinion = matches!(record, Record::Opinion(_));
            let id = create_in(tx, &me, record, Some(village))?;
            change_in(tx, &me, visit, |doc, by| {
                let current = record_doc::read(doc)?.record;
                let mut new = current.clone();
                let Record::Visit(v) = &mut new else {
                    return Err(
                        ValidationError::new("visit", format!("{visit} is not a visit")).into(),
                    );
                };
                let d = v
                    .demands
                    .iter_mut()
                    .find(|d| d.id == demand)
                    .ok_or_else(|| {
                        ValidationError::new(
                            "visit.demand",
                            format!("the visit has no demand {demand}"),
                        )
                    })?;
                if is_opinion {
                    d.opinion = Some(id);
                } else {
                    d.service_request = Some(id);
                }
                record_doc::update(doc, by, &current, &new)
            })?;
            Ok(id)
        })
    }

    /// Every change of a record, oldest first: who, when, which fields.
    pub fn history(&self, id: &DocId) -> Result<Vec<HistoryItem>, Error> {
        self.db.read(|tx| {
            let stored = documents::stored(tx, id)?.ok_or_else(|| Error::NotFound(id.to_hex()))?;
            Ok(record_doc::history(&documents::load(&stored)?))
        })
    }

    /// One record.
    pub fn get(&self, id: &DocId) -> Result<RecordRow, Error> {
        self.db
            .read(|tx| documents::get(tx, id))?
            .ok_or_else(|| Error::NotFound(id.to_hex()))
    }

    /// The records `id` names (people aside), each with how it stands: a
    /// record shown to a person shows its links to withdrawn records as such.
    pub fn links(&self, id: &DocId) -> Result<Vec<Link>, Error> {
        self.db.read(|tx| {
            let Some(record) = documents::get(tx, id)?.and_then(|r| r.record) else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for (field, reference) in record.references() {
                let Reference::Record(named, _) = reference else {
                    continue;
                };
                let state = match documents::get(tx, &named)? {
                    None => LinkState::NotHere,
                    Some(RecordRow {
                        withdrawn: Some(w), ..
                    }) => LinkState::Withdrawn(w),
                    Some(row) => demand_state(id, &record, &named, row.record.as_ref()),
                };
                out.push(Link {
                    field,
                    id: named,
                    state,
                });
            }
            Ok(out)
        })
    }

    /// Records of one kind, or all, most recently changed first; withdrawn
    /// records are left out.
    pub fn list(&self, kind: Option<RecordKind>) -> Result<Vec<RecordRow>, Error> {
        self.db.read(|tx| documents::list(tx, kind, false))
    }

    /// As [`Client::list`], withdrawn records included.
    pub fn list_all(&self, kind: Option<RecordKind>) -> Result<Vec<RecordRow>, Error> {
        self.db.read(|tx| documents::list(tx, kind, true))
    }

    /// The study credited to each person (or to one), newest first: their own
    /// entries and the study sessions they attended. Withdrawn records count
    /// for nothing.
    pub fn study_log(&self, person: Option<&PersonId>) -> Result<Vec<(DocId, StudyCredit)>, Error> {
        let mut out = Vec::new();
        for kind in [RecordKind::StudyEntry, RecordKind::StudySession] {
            for row in self.list(Some(kind))? {
                let Some(record) = &row.record else { continue };
                out.extend(
                    record
                        .study_credits()
                        .into_iter()
                        .filter(|c| person.is_none_or(|p| *p == c.person))
                        .map(|c| (row.id, c)),
                );
            }
        }
        out.sort_by(|a, b| b.1.date.cmp(&a.1.date).then(a.0.cmp(&b.0)));
        Ok(out)
    }

    /// What the village is asked to keep but need not: 3 to 5 practical things
    /// in each village this device holds records of.
    pub fn warnings(&self) -> Result<Vec<Warning>, Error> {
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        if let Some(v) = self.identity()?.and_then(|i| i.principal.village) {
            counts.insert(v.to_string(), 0);
        }
        for row in self.list(Some(RecordKind::PracticalThing))? {
            if let Some(v) = row.scope.as_ref().and_then(Scope::village) {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
        Ok(counts
            .iter()
            .filter_map(|(v, n)| PracticalThing::count_warning(v, *n))
            .collect())
    }

    /// This person's to-do list on `today`, from the records on this
    /// device (no server needed), labels in `lang`: see [`todo::todo`].
    pub fn todo(&self, today: NaiveDate, lang: Lang) -> Result<Vec<TodoItem>, Error> {
        let me = self.enrolled()?;
        let records: Vec<(DocId, Record)> = self
            .list(None)?
            .into_iter()
            .filter_map(|row| row.record.map(|r| (row.id, r)))
            .collect();
        Ok(todo::todo(&me.principal, &records, today, lang))
    }

    /// Where each village stands in the campaign on `today`, from the plan
    /// in force and the phase entries on this device (see
    /// [`records::standing`]): every village whose scopes the person reads
    /// (all, on a township officer's device).
    pub fn campaign(&self, today: NaiveDate) -> Result<Vec<VillageStanding>, Error> {
        let plans = self.list(Some(RecordKind::CampaignPlan))?;
        let plan = records::plan_in_force(plans.iter().filter_map(|row| match &row.record {
            Some(Record::CampaignPlan(p)) => Some((row.id, p)),
            _ => None,
        }));
        let mut entries: std::collections::BTreeMap<VillageCode, Vec<PhaseEntry>> =
            Default::default();
        // Every village the person reads, entries or none.
        for (scope, _) in self.status()?.cursors {
            if let Some(v) = scope.village() {
                entries.entry(v.clone()).or_default();
            }
        }
        for row in self.list(Some(RecordKind::PhaseEntry))? {
            if let (Some(Record::PhaseEntry(e)), Some(v)) =
                (row.record, row.scope.as_ref().and_then(Scope::village))
            {
                entries.entry(v.clone()).or_default().push(e);
            }
        }
        Ok(entries
            .into_iter()
            .map(|(village, e)| VillageStanding {
                standing: records::standing(
                    plan.map(|(_, p)| p),
                    &records::first_entries(&e),
                    today,
                ),
                village,
            })
            .collect())
    }

    /// The record whose id is, or starts with, `text`.
    pub fn resolve(&self, text: &str) -> Result<DocId, Error> {
        if let Some(id) = DocId::parse_hex(text) {
            return Ok(id);
        }
        let ids = self.db.read(|tx| documents::ids_with_prefix(tx, text))?;
        match ids.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::NotFound(text.to_string())),
            _ => Err(Error::NotFound(format!(
                "{text} is the start of {} record ids; give more of it",
                ids.len()
            ))),
        }
    }

    /// Syncs with the township server: pushes local changes, pulls what others made.
    /// Syncs started while one runs wait for it, then run in turn.
    pub async fn sync(&self) -> Result<SyncReport, Error> {
        let _one_at_a_time = self.syncing.lock().await;
        let me = self.enrolled()?;
        let pin = (me.server.cert_sha256 != [0; 32]).then_some(me.server.cert_sha256);
        let attempt = now();
        let waiting = self.db.read(outbox::counts)?.unsent;
        self.progress.begin(waiting);
        let result = transport::sync(
            &self.db,
            &me.server.address,
            pin,
            &me.device_token,
            &self.options,
            &self.progress,
        )
        .await;
        self.progress.end();
        let error = result.as_ref().err().map(ToString::to_string);
        // When the device last tried and last got through, for the person
        // to see: a power cut may lose it, and the next sync writes it again.
        self.db.write_lazily(|tx| {
            tx.execute(
                "INSERT INTO sync_log (id, last_attempt_at, last_success_at, last_error)
                 VALUES (1, ?1, CASE WHEN ?2 IS NULL THEN ?1 END, ?2)
                 ON CONFLICT (id) DO UPDATE SET last_attempt_at = ?1,
                     last_success_at = CASE WHEN ?2 IS NULL THEN ?1 ELSE last_success_at END,
                     last_error = ?2",
                params![attempt, error],
            )?;
            Ok(())
        })?;
        result
    }

    /// Makes a sync bundle for a place with no link: the changes the server
    /// has not acknowledged and the pull this device would ask for,
    /// authenticated with the device's token. The device remembers it, so
    /// that [`Client::import_bundle`] takes the reply to it (and only that).
    pub fn export_bundle(&self) -> Result<bundle::Exported, Error> {
        self.enrolled()?;
        bundle::export(&self.db, now())
    }

    /// Takes in the township's reply to the last exported bundle, as a sync
    /// takes in a push's answers and a pull: acknowledged changes leave the
    /// outbox, refused ones are marked, others' changes are applied. A reply
    /// for another device or bundle, or changed on the way, is refused and
    /// changes nothing; importing it twice is harmless. `bytes` is at most
    /// [`massline_model::bundle::MAX_BUNDLE_BYTES`].
    pub fn import_bundle(&self, bytes: &[u8]) -> Result<bundle::Imported, Error> {
        bundle::import_reply(&self.db, bytes, now())
    }

    /// How far the running sync is (or the last one got), readable at any
    /// time from any thread while it runs.
    pub fn progress(&self) -> SyncProgress {
        self.progress.now()
    }

    /// What is on the device and where sync stands.
    pub fn status(&self) -> Result<Status, Error> {
        self.db.read(|tx| {
            let outbox::Counts {
                unsent,
                unsent_bytes,
                ..
            } = outbox::counts(tx)?;
            let log: Option<(Option<i64>, Option<i64>, Option<String>)> = tx
                .query_row(
                    "SELECT last_attempt_at, last_success_at, last_error FROM sync_log WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (last_attempt_at, last_success_at, last_error) = log.unwrap_or_default();
            Ok(Status {
                identity: identity::load(tx)?,
                records: documents::count(tx)?,
                unsent,
                unsent_bytes,
                refused: outbox::refused(tx)?,
                last_attempt_at,
                last_success_at,
                last_error,
                cursors: cursors::known(tx)?,
            })
        })
    }
}

/// How the visit `named` by a record made of one of its demands stands: the
/// demand names the record back, or another one.
fn demand_state(id: &DocId, record: &Record, named: &DocId, visit: Option<&Record>) -> LinkState {
    let (link, opinion) = match record {
        Record::Opinion(o) => (o.visit.as_ref(), true),
        Record::ServiceRequest(s) => (s.visit.as_ref(), false),
        _ => (None, false),
    };
    let (Some(link), Some(Record::Visit(v))) = (link, visit) else {
        return LinkState::Current;
    };
    if link.visit != *named {
        return LinkState::Current;
    }
    let taken = v.demand(&link.demand).and_then(|d| {
        if opinion {
            d.opinion
        } else {
            d.service_request
        }
    });
    if taken == Some(*id) {
        LinkState::Current
    } else {
        LinkState::DemandTakenBy(taken)
    }
}

fn identity_of(tx: &rusqlite::Transaction<'_>) -> Result<Identity, Error> {
    identity::load(tx)?.ok_or(Error::NotEnrolled)
}

/// Stores a document's new change and queues it for the server.
fn store_change(
    tx: &rusqlite::Transaction<'_>,
    id: &DocId,
    doc: &automerge::Automerge,
    previous: Option<&documents::StoredDoc>,
    change: &NewChange,
) -> Result<(), Error> {
    documents::put(tx, id, doc, previous, &change.bytes, 1, now())?;
    documents::index_change(tx, &change.hash, id)?;
    outbox::add(tx, &change.hash, id, &change.bytes, now())
}

/// Makes, checks and stores a new record, within `tx`.
fn create_in(
    tx: &rusqlite::Transaction<'_>,
    me: &Identity,
    record: Record,
    village: Option<VillageCode>,
) -> Result<DocId, Error> {
    // A township record's scope is the township's, whoever makes it; the
    // township office issues a kind villages also keep (a notice) to every
    // village from its own scope when it names no village.
    let scope = if record.kind().audience() == Audience::Township {
        Scope::Township
    } else {
        match village {
            Some(v) => record.home_scope(&v),
            None if me.principal.role == Role::TownshipOfficer
                && record.kind().township_issues() =>
            {
                Scope::Township
            }
            None => record.home_scope(me.home_village()?),
        }
    };
    me.check_can_write(&scope)?;
    let record = with_checklist(tx, record)?;
    let serial = identity::take_serial(tx)?;
    let (id, mut doc, change) = record_doc::create(&author(me), &scope, serial, &record)?;
    let edit = judged_here(&mut doc, &Standing::default())?;
    check(tx, me, id, &edit)?;
    store_change(tx, &id, &doc, None, &change)?;
    take_up_opinions(tx, me, None, &edit.made.record)?;
    Ok(id)
}

/// A service request made with no checklist of its own starts from the
/// township's checklist in force for its matter (一次性告知: the villager is
/// told everything at once), as the store holds it.
fn with_checklist(tx: &rusqlite::Transaction<'_>, mut record: Record) -> Result<Record, Error> {
    if let Record::ServiceRequest(r) = &mut record
        && r.checklist.is_empty()
    {
        let lists: Vec<ServiceChecklist> =
            documents::list(tx, Some(RecordKind::ServiceChecklist), false)?
                .into_iter()
                .filter_map(|row| match row.record {
                    Some(Record::ServiceChecklist(c)) => Some(c),
                    _ => None,
                })
                .collect();
        if let Some(c) = checklist_in_force(r.matter, &lists) {
            r.checklist = c.items.clone();
        }
    }
    Ok(record)
}

/// Where one village stands in the campaign (see [`Client::campaign`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VillageStanding {
    /// The village.
    pub village: VillageCode,
    /// Its phase and the phases it is behind the plan in.
    pub standing: PhaseStanding,
}

/// Applies `write` to a stored record's document, checks the result against
/// the rules, and stores the change, within `tx`. Returns the record as it
/// then stands.
fn change_in(
    tx: &rusqlite::Transaction<'_>,
    me: &Identity,
    id: &DocId,
    write: impl FnOnce(
        &mut automerge::Automerge,
        &Author<'_>,
    ) -> Result<(StoredRecord, Option<NewChange>), record_doc::RecordDocError>,
) -> Result<Record, Error> {
    let stored = documents::stored(tx, id)?.ok_or_else(|| Error::NotFound(id.to_hex()))?;
    let mut doc = documents::load(&stored)?;
    let standing = Standing::of(&doc)?;
    let Some(current) = &standing.record else {
        return Err(Error::NotFound(format!(
            "{id} (it does not read as a record)"
        )));
    };
    me.check_can_write(&current.scope)?;
    let (_, change) = write(&mut doc, &author(me))?;
    let edit = match &change {
        Some(_) => judged_here(&mut doc, &standing)?,
        None => Edit::unchanged(current.clone(), standing.creator.clone()),
    };
    check(tx, me, *id, &edit)?;
    if let Some(change) = change {
        store_change(tx, id, &doc, Some(&stored), &change)?;
        take_up_opinions(tx, me, Some(&current.record), &edit.made.record)?;
    }
    Ok(edit.into_merged().record)
}

/// Marks the opinions a problem newly names taken up
/// ([`Problem::takes_up`](crate::records::Problem::takes_up)), in the same
/// transaction; those this person may not write (a township officer's, in
/// the village's cadre-only records) or that are not here stay as they are.
fn take_up_opinions(
    tx: &rusqlite::Transaction<'_>,
    me: &Identity,
    seen: Option<&Record>,
    made: &Record,
) -> Result<(), Error> {
    let Record::Problem(problem) = made else {
        return Ok(());
    };
    let seen = match seen {
        Some(Record::Problem(s)) => Some(s),
        _ => None,
    };
    for id in problem.takes_up(seen) {
        let Some(row) = documents::get(tx, &id)? else {
            continue;
        };
        let (Some(scope), Some(Record::Opinion(opinion)), None) =
            (&row.scope, &row.record, &row.withdrawn)
        else {
            continue;
        };
        if me.check_can_write(scope).is_err() {
            continue;
        }
        let mut taken = opinion.clone();
        taken.take_up();
        if taken != *opinion {
            let (base, new) = (Record::Opinion(opinion.clone()), Record::Opinion(taken));
            change_in(tx, me, &id, |doc, by| {
                record_doc::update(doc, by, &base, &new)
            })?;
        }
    }
    Ok(())
}

/// The device's person, writing now with the device's actor.
fn author(me: &Identity) -> Author<'_> {
    Author {
        actor: &me.actor,
        person: &me.principal.person,
        time: now(),
    }
}

/// The change just made on `doc` (which stood as `standing`), as the server
/// will judge it.
fn judged_here(doc: &mut automerge::Automerge, standing: &Standing) -> Result<Edit, Error> {
    let change = doc
        .get_last_local_change()
        .ok_or_else(|| Error::Storage("the change just made is not in its document".into()))?;
    Ok(judge::apply(doc, standing, change, Vec::new)?.edit?)
}

/// Holds an edit to the record rules, answered from the store and the roster.
fn check(
    tx: &rusqlite::Transaction<'_>,
    me: &Identity,
    id: DocId,
    edit: &Edit,
) -> Result<(), Error> {
    rules::check(&edit.change(id, &me.principal), &StoreContext::new(tx, me)?)
        .map_err(|b| Error::InvalidRecord(b.into()))
}
