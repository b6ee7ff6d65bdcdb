//! The device's store, as one object Kotlin holds: every method converts its
//! arguments, forwards to [`massline_core::Client`], and converts the answer.
//!
//! Threading: the object may be shared by any number of threads. Plain
//! methods run on the calling thread and touch only the local SQLite database
//! (milliseconds; still, not on Android's main thread). `enroll` and `sync`
//! are `suspend` functions in Kotlin: their network work runs on this
//! library's own tokio runtime, so the calling coroutine waits without
//! holding a thread.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use massline_core::records::{Record, Warning};
use massline_core::todo::TodoItem;
use massline_core::{Client, DocId, Lang, PersonId, RecordKind, StoreKey, VillageCode};
use tokio::runtime::Runtime;
use zeroize::Zeroize;

use crate::error::MasslineError;
use crate::status::{
    CreditedStudy, HistoryItem, Identity, RecordRow, Status, SyncProgress, SyncReport,
    VillageCampaign,
};

/// The runtime that carries enrollment and sync: two workers, made on first use.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("massline-sync")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the sync runtime: {e}"))
    })
}

/// Runs `work` on the runtime and waits for it without blocking a thread. A
/// panic in `work` is a panic here, which Kotlin sees as `InternalException`.
async fn on_runtime<T: Send + 'static>(
    work: impl Future<Output = Result<T, massline_core::Error>> + Send + 'static,
) -> Result<T, MasslineError> {
    match runtime().spawn(work).await {
        Ok(result) => Ok(result?),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn doc_id(id: &str) -> Result<DocId, MasslineError> {
    DocId::parse_hex(id).ok_or_else(|| MasslineError::NotFound {
        id: format!("{id} (a record id is 32 hex characters)"),
    })
}

/// The device's store of records, and its sync with the township server.
#[derive(uniffi::Object)]
pub struct Store {
    client: Arc<Client>,
}

#[uniffi::export]
impl Store {
    /// Opens the store at `path` (a file), creating it on first use. With
    /// `key` (32 random bytes the app keeps under the Android Keystore) the
    /// store is encrypted; that needs a library built with the `sqlcipher`
    /// feature, and a wrong or missing key is a `StoreKey` error.
    #[uniffi::constructor]
    pub fn open(path: String, key: Option<Vec<u8>>) -> Result<Arc<Store>, MasslineError> {
        let client = match key {
            Some(mut bytes) => {
                let key = StoreKey::from_bytes(&bytes);
                bytes.zeroize();
                Client::open_with_key(path, &key?)?
            }
            None => Client::open(path)?,
        };
        Ok(Arc::new(Store {
            client: Arc::new(client),
        }))
    }

    /// Who this device is enrolled as, if it is.
    pub fn identity(&self) -> Result<Option<Identity>, MasslineError> {
        Ok(self.client.identity()?.map(Identity::from))
    }

    /// Enrols the device with the code from the township office.
    /// `address_override` replaces the server address in the code (the
    /// certificate pin still applies).
    pub async fn enroll(
        &self,
        code: String,
        address_override: Option<String>,
        device_name: String,
    ) -> Result<Identity, MasslineError> {
        let client = self.client.clone();
        let identity = on_runtime(async move {
            client
                .enroll(&code, address_override.as_deref(), &device_name)
                .await
        })
        .await?;
        Ok(identity.into())
    }

    /// Saves a new record and queues it for sync; returns its id. `village`
    /// is needed only by a township officer, who has no village of their own.
    pub fn create(&self, record: Record, village: Option<String>) -> Result<String, MasslineError> {
        let village = village
            .map(|v| {
                VillageCode::new(v).map_err(|reason| MasslineError::InvalidRecord {
                    field: "village".into(),
                    reason,
                })
            })
            .transpose()?;
        Ok(self.client.create(record, village)?.to_hex())
    }

    /// Saves an edit: `base` is the record as the person read it, `new` as
    /// they left it. Only what they changed is written, on top of whatever
    /// reached the record meanwhile. Returns the record as it now stands.
    pub fn update(&self, id: String, base: Record, new: Record) -> Result<Record, MasslineError> {
        Ok(self.client.update(&doc_id(&id)?, &base, &new)?)
    }

    /// Withdraws a record entered by mistake, giving the reason. It leaves
    /// the lists but stays in the store, with its history; the withdrawal syncs.
    pub fn withdraw(&self, id: String, reason: String) -> Result<(), MasslineError> {
        Ok(self.client.withdraw(&doc_id(&id)?, &reason)?)
    }

    /// Makes an opinion or a service request of demand `demand` of visit
    /// `visit`, and links the two, in one transaction. Returns the new id.
    pub fn make_from_demand(
        &self,
        visit: String,
        demand: String,
        record: Record,
    ) -> Result<String, MasslineError> {
        let id = self
            .client
            .make_from_demand(&doc_id(&visit)?, &demand, record)?;
        Ok(id.to_hex())
    }

    /// Every change of a record, oldest first: who, when, which fields.
    pub fn history(&self, id: String) -> Result<Vec<HistoryItem>, MasslineError> {
        let items = self.client.history(&doc_id(&id)?)?;
        Ok(items.into_iter().map(HistoryItem::from).collect())
    }

    /// One record.
    pub fn get(&self, id: String) -> Result<RecordRow, MasslineError> {
        Ok(self.client.get(&doc_id(&id)?)?.into())
    }

    /// Records of one kind, or all, most recently changed first.
    pub fn list(&self, kind: Option<RecordKind>) -> Result<Vec<RecordRow>, MasslineError> {
        Ok(self
            .client
            .list(kind)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// As `list`, withdrawn records included.
    pub fn list_all(&self, kind: Option<RecordKind>) -> Result<Vec<RecordRow>, MasslineError> {
        Ok(self
            .client
            .list_all(kind)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The study credited to each person (or to `person`), newest first.
    pub fn study_log(&self, person: Option<String>) -> Result<Vec<CreditedStudy>, MasslineError> {
        let person = person
            .map(|p| {
                PersonId::new(p).map_err(|reason| MasslineError::InvalidRecord {
                    field: "person".into(),
                    reason,
                })
            })
            .transpose()?;
        let log = self.client.study_log(person.as_ref())?;
        Ok(log
            .into_iter()
            .map(|(record_id, credit)| CreditedStudy { record_id, credit })
            .collect())
    }

    /// What the village is asked to keep but need not (3 to 5 practical things).
    pub fn warnings(&self) -> Result<Vec<Warning>, MasslineError> {
        Ok(self.client.warnings()?)
    }

    /// This person's to-do list today, from the records on this device (no
    /// server needed), in `lang`: each item says why it is listed, names its
    /// record and has an id that stays the same while it stands.
    pub fn todo(&self, lang: Lang) -> Result<Vec<TodoItem>, MasslineError> {
        Ok(self.client.todo(chrono::Local::now().date_naive(), lang)?)
    }

    /// Where each village this device holds stands in the campaign today:
    /// the current phase, and the phases it is behind the township's plan in
    /// (the person's own village always; every village on a township
    /// officer's device).
    pub fn campaign(&self) -> Result<Vec<VillageCampaign>, MasslineError> {
        Ok(self
            .client
            .campaign(chrono::Local::now().date_naive())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The id of the record whose id is, or starts with, `prefix`.
    pub fn resolve(&self, prefix: String) -> Result<String, MasslineError> {
        Ok(self.client.resolve(&prefix)?.to_hex())
    }

    /// Syncs with the township server: pushes local changes, pulls what
    /// others made.
    pub async fn sync(&self) -> Result<SyncReport, MasslineError> {
        let client = self.client.clone();
        Ok(on_runtime(async move { client.sync().await }).await?.into())
    }

    /// A sync bundle for a place with no link: the changes the server has
    /// not acknowledged and what this device would pull, authenticated with
    /// its token, to hand to the township office as a file.
    pub fn export_bundle(&self) -> Result<Vec<u8>, MasslineError> {
        Ok(self.client.export_bundle()?.bytes)
    }

    /// Takes in the township's reply to the last exported bundle, as a sync
    /// would take its answers; a reply for another device or bundle, or
    /// changed on the way, is refused and changes nothing.
    pub fn import_bundle(&self, reply: Vec<u8>) -> Result<SyncReport, MasslineError> {
        Ok(self.client.import_bundle(&reply)?.into())
    }

    /// What is on the device and where sync stands.
    pub fn status(&self) -> Result<Status, MasslineError> {
        Ok(self.client.status()?.into())
    }

    /// How far the running sync is (or the last one got); cheap, callable
    /// from any thread while a sync runs.
    pub fn progress(&self) -> SyncProgress {
        self.client.progress().into()
    }
}

/// Largest sync bundle, in bytes, either way: an app reading one from a
/// stream reads at most one byte more.
#[uniffi::export]
pub fn max_bundle_bytes() -> u64 {
    massline_core::bundle::MAX_BUNDLE_BYTES as u64
}
