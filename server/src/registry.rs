//! The township's villages, people and devices, enrollment, and who reads what.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use massline_model::bundle::PUBLIC_KEY_BYTES;
use massline_model::protocol;
use massline_model::{PersonId, Principal, Role, Scope, VillageCode};
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::error::Error;

/// An enrolled device, as the server knows it on each call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The server's number for it.
    pub id: u64,
    /// The Automerge actor all its changes must carry.
    pub actor: Vec<u8>,
    /// Its person, role and village, as the registry says now.
    pub principal: Principal,
    /// The person's name.
    pub name: String,
    /// When it last called (unix seconds), as the registry says.
    pub last_seen_at: Option<i64>,
    /// The app version it last called with.
    pub app_version: Option<String>,
}

impl Device {
    /// Its person as the registry has them now, as a pull's answer names
    /// them to the device.
    pub fn person(&self, tx: &Transaction<'_>) -> Result<protocol::Person, rusqlite::Error> {
        let village_name = match &self.principal.village {
            Some(v) => tx
                .query_row(
                    "SELECT name FROM villages WHERE code = ?1",
                    params![v.as_str()],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(protocol::Person {
            principal: self.principal.clone(),
            name: self.name.clone(),
            village_name,
        })
    }
}

/// A person of the township, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Their id.
    pub id: PersonId,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their village; none for township officers.
    pub village: Option<VillageCode>,
}

/// An enrolled device, as listed for the township office.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRow {
    /// The device's number.
    pub id: u64,
    /// Its person's id.
    pub person: String,
    /// The name given at enrollment.
    pub name: String,
    /// When it enrolled (unix seconds).
    pub enrolled_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// When it last called the server: a push, a pull or a recovery call.
    pub last_seen_at: Option<i64>,
    /// The app version it last called with (`massline/0.1.0`).
    pub app_version: Option<String>,
}

/// How long an enrollment code stays valid unless the township office says
/// otherwise.
pub const DEFAULT_CODE_VALIDITY: Duration = Duration::from_secs(7 * 86_400);

/// The longest an enrollment code may stay valid: a code is a key to the
/// township's records, and one handed out long ago is one nobody watches.
pub const MAX_CODE_VALIDITY: Duration = Duration::from_secs(90 * 86_400);

/// Why an enrollment was refused. Each says what the person enrolling can do.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// No code has this secret.
    #[error(
        "enrollment code unknown: check that the whole code was copied, or ask the township office for a new one"
    )]
    UnknownCode,
    /// The code enrolled a device already (unix seconds).
    #[error(
        "enrollment code already used (on {}): a code enrols one device; ask the township office for a new one",
        when(*.0)
    )]
    UsedCode(i64),
    /// The code's time ran out (unix seconds).
    #[error(
        "enrollment code expired on {}: ask the township office for a new one",
        when(*.0)
    )]
    ExpiredCode(i64),
    /// What the device says of itself does not hold: its actor id is not
    /// 16 bytes or is taken, or its bundle key is not an Ed25519 public key.
    #[error("{0}")]
    BadDevice(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] rusqlite::Error),
    /// The server failed to read what the device is told (its scopes, the
    /// township, its village): the server's failure, not the attempt's.
    #[error(transparent)]
    Server(#[from] Error),
}

/// Unix seconds as a day and minute, UTC.
pub(crate) fn when(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(
        || unix.to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// The hash kept of a secret (codes, tokens): SHA-256.
pub(crate) fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0);
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A code's secret as typed, without dashes or case.
fn normalize_secret(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A setting of the server (township name, public address, TLS mode).
pub fn setting(tx: &Transaction<'_>, key: &str) -> Result<Option<String>, Error> {
    Ok(tx
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?)
}

/// Sets a setting.
pub fn set_setting(tx: &Transaction<'_>, key: &str, value: &str) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = ?2",
        params![key, value],
    )?;
    Ok(())
}

/// A server's identity: random, made when its database is, made anew when
/// it is restored from a backup. A device that finds it changed knows the
/// server may lack changes it acknowledged before.
pub type ServerId = [u8; 16];

/// This server's identity, made on first use.
pub fn server_id(tx: &Transaction<'_>) -> Result<ServerId, Error> {
    if let Some(id) = setting(tx, "server_id")?.and_then(|h| parse_server_id(&h)) {
        return Ok(id);
    }
    let id: ServerId = rand::random();
    set_setting(tx, "server_id", &massline_model::ids::hex_encode(&id))?;
    Ok(id)
}

fn parse_server_id(hex: &str) -> Option<ServerId> {
    let bytes = massline_model::ids::hex_decode(hex)?;
    bytes.try_into().ok()
}

/// The identity this server had when the backup it was restored from was
/// made, and how far its numbering of changes then went: devices that last
/// met that identity still hold everything up to there.
pub fn restored_from(tx: &Transaction<'_>) -> Result<Option<(ServerId, u64)>, Error> {
    let id = setting(tx, "restored_from")?.and_then(|h| parse_server_id(&h));
    let through = setting(tx, "restored_through")?.and_then(|t| t.parse().ok());
    Ok(id.zip(through))
}

/// The last number of the changes' sequence given: to a change, or to a
/// purge (see [`crate::purge`]), which takes a number of its own.
pub fn last_seq(tx: &Transaction<'_>) -> Result<i64, Error> {
    Ok(tx
        .prepare_cached(
            "SELECT max((SELECT coalesce(max(seq), 0) FROM changes),
                        (SELECT coalesce(max(seq), 0) FROM purges))",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Gives a restored database a new identity, noting the one it had and how
/// far its numbering went.
pub fn renew_server_id(tx: &Transaction<'_>) -> Result<ServerId, Error> {
    let old = server_id(tx)?;
    let through = last_seq(tx)?;
    set_setting(tx, "restored_from", &massline_model::ids::hex_encode(&old))?;
    set_setting(tx, "restored_through", &through.to_string())?;
    let id: ServerId = rand::random();
    set_setting(tx, "server_id", &massline_model::ids::hex_encode(&id))?;
    Ok(id)
}

/// The township's name.
pub fn township(tx: &Transaction<'_>) -> Result<String, Error> {
    Ok(setting(tx, "township")?.unwrap_or_else(|| "乡镇".to_string()))
}

/// Adds a village.
pub fn add_village(tx: &Transaction<'_>, code: &VillageCode, name: &str) -> Result<(), Error> {
    if name.trim().is_empty() {
        return Err(Error::Invalid("a village needs a name".into()));
    }
    let n = tx.execute(
        "INSERT OR IGNORE INTO villages (code, name, created_at) VALUES (?1, ?2, ?3)",
        params![code.as_str(), name, now()],
    )?;
    if n == 0 {
        return Err(Error::Invalid(format!("village {code} already exists")));
    }
    Ok(())
}

/// Every village: (code, name).
pub fn villages(tx: &Transaction<'_>) -> Result<Vec<(VillageCode, String)>, Error> {
    let mut stmt = tx.prepare_cached("SELECT code, name FROM villages ORDER BY code")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (code, name) = row?;
        if let Ok(code) = VillageCode::new(code) {
            out.push((code, name));
        }
    }
    Ok(out)
}

fn village_name(tx: &Transaction<'_>, code: &VillageCode) -> Result<Option<String>, Error> {
    Ok(tx
        .prepare_cached("SELECT name FROM villages WHERE code = ?1")?
        .query_row(params![code.as_str()], |r| r.get(0))
        .optional()?)
}

/// A township officer has no village; everyone else has an existing one.
fn check_role_village(
    tx: &Transaction<'_>,
    role: Role,
    village: Option<&VillageCode>,
) -> Result<(), Error> {
    match (role, village) {
        (Role::TownshipOfficer, Some(_)) => Err(Error::Invalid(
            "a township officer belongs to no village".into(),
        )),
        (Role::TownshipOfficer, None) => Ok(()),
        (_, None) => Err(Error::Invalid(format!("a {} needs --village", role.code()))),
        (_, Some(v)) => match village_name(tx, v)? {
            Some(_) => Ok(()),
            None => Err(Error::Invalid(format!("no village {v}: add it first"))),
        },
    }
}

/// Gives a person another role (and village). What they may read and
/// write follows at once: devices and dashboard sessions are checked
/// against the registry on every call.
pub fn set_role(
    tx: &Transaction<'_>,
    id: &PersonId,
    role: Role,
    village: Option<&VillageCode>,
) -> Result<(), Error> {
    check_role_village(tx, role, village)?;
    let n = tx.execute(
        "UPDATE people SET role = ?2, village = ?3 WHERE id = ?1",
        params![id.as_str(), role.code(), village.map(|v| v.as_str())],
    )?;
    if n == 0 {
        return Err(Error::Invalid(format!("no person {id}")));
    }
    Ok(())
}

/// Revokes a person who left or must no longer act: their devices are
/// revoked and their unused enrollment codes expire. Their records stay.
/// Returns how many devices were revoked.
pub fn revoke_person(tx: &Transaction<'_>, id: &PersonId) -> Result<usize, Error> {
    let now = now();
    let n = tx.execute(
        "UPDATE people SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id.as_str(), now],
    )?;
    if n == 0 {
        return Err(Error::Invalid(match person(tx, id)? {
            Some(_) => format!("person {id} is already revoked"),
            None => format!("no person {id}"),
        }));
    }
    tx.execute(
        "UPDATE enrollment_codes SET expires_at = min(expires_at, ?2)
         WHERE person = ?1 AND used_at IS NULL",
        params![id.as_str(), now],
    )?;
    Ok(tx.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE person = ?1 AND revoked_at IS NULL",
        params![id.as_str(), now],
    )?)
}

/// Adds a person; a township officer has no village, everyone else must have one.
pub fn add_person(
    tx: &Transaction<'_>,
    id: Option<PersonId>,
    name: &str,
    role: Role,
    village: Option<&VillageCode>,
) -> Result<PersonId, Error> {
    if name.trim().is_empty() {
        return Err(Error::Invalid("a person needs a name".into()));
    }
    check_role_village(tx, role, village)?;
    let id = match id {
        Some(id) => id,
        None => PersonId::new(base32(&rand::random::<[u8; 5]>()).to_ascii_lowercase())
            .map_err(Error::Invalid)?,
    };
    let n = tx.execute(
        "INSERT OR IGNORE INTO people (id, name, role, village, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.as_str(), name, role.code(), village.map(|v| v.as_str()), now()],
    )?;
    if n == 0 {
        return Err(Error::Invalid(format!("person {id} already exists")));
    }
    Ok(id)
}

fn person_from_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, Option<String>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_person(
    (id, name, role, village): (String, String, String, Option<String>),
) -> Option<Person> {
    Some(Person {
        id: PersonId::new(id).ok()?,
        name,
        role: role.parse().ok()?,
        village: match village {
            Some(v) => Some(VillageCode::new(v).ok()?),
            None => None,
        },
    })
}

/// People of one village, or of the whole township.
pub fn people(tx: &Transaction<'_>, village: Option<&VillageCode>) -> Result<Vec<Person>, Error> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, name, role, village FROM people
         WHERE (?1 IS NULL OR village = ?1) ORDER BY village, name",
    )?;
    let rows = stmt.query_map(params![village.map(|v| v.as_str())], person_from_row)?;
    let mut out = Vec::new();
    for r in rows {
        out.extend(to_person(r?));
    }
    Ok(out)
}

/// One person.
pub fn person(tx: &Transaction<'_>, id: &PersonId) -> Result<Option<Person>, Error> {
    // Cached: a push message asks for every person its records name.
    let row = tx
        .prepare_cached("SELECT id, name, role, village FROM people WHERE id = ?1")?
        .query_row(params![id.as_str()], person_from_row)
        .optional()?;
    Ok(row.and_then(to_person))
}

/// Whether a person was revoked.
pub fn revoked(tx: &Transaction<'_>, id: &PersonId) -> Result<bool, Error> {
    Ok(tx
        .query_row(
            "SELECT revoked_at IS NOT NULL FROM people WHERE id = ?1",
            params![id.as_str()],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// Makes a one-time enrollment code for a person, valid for `valid_for`
/// (at least a second, at most [`MAX_CODE_VALIDITY`]); returns its secret.
pub fn new_enrollment_code(
    tx: &Transaction<'_>,
    person_id: &PersonId,
    valid_for: Duration,
) -> Result<String, Error> {
    if valid_for < Duration::from_secs(1) || valid_for > MAX_CODE_VALIDITY {
        return Err(Error::Invalid(format!(
            "a code is valid for 1 second to {} days",
            MAX_CODE_VALIDITY.as_secs() / 86_400
        )));
    }
    if person(tx, person_id)?.is_none() {
        return Err(Error::Invalid(format!("no person {person_id}")));
    }
    if revoked(tx, person_id)? {
        return Err(Error::Invalid(format!("person {person_id} is revoked")));
    }
    let raw = base32(&rand::random::<[u8; 10]>());
    let secret = raw
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    let now = now();
    tx.execute(
        "INSERT INTO enrollment_codes (secret_hash, person, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            hash(&normalize_secret(&secret)),
            person_id.as_str(),
            now,
            now.saturating_add(i64::try_from(valid_for.as_secs()).unwrap_or(i64::MAX))
        ],
    )?;
    Ok(secret)
}

/// The person a code enrols, if the code is known, unused and still valid.
/// Reads only: a refused code never needs the writer.
pub fn code_person(tx: &Transaction<'_>, secret: &str) -> Result<String, EnrollError> {
    let row: Option<(String, Option<i64>, i64)> = tx
        .query_row(
            "SELECT person, used_at, expires_at FROM enrollment_codes WHERE secret_hash = ?1",
            params![hash(&normalize_secret(secret))],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match row {
        None => Err(EnrollError::UnknownCode),
        Some((_, Some(used_at), _)) => Err(EnrollError::UsedCode(used_at)),
        Some((_, None, expires_at)) if expires_at <= now() => {
            Err(EnrollError::ExpiredCode(expires_at))
        }
        Some((person, None, _)) => Ok(person),
    }
}

/// Exchanges a one-time code for a new device and its token. `bundle_key`
/// is the public half of the key the device signs its sync bundles with
/// (none from a device made before devices had one).
pub fn enroll(
    tx: &Transaction<'_>,
    secret: &str,
    actor: &[u8],
    device_name: &str,
    bundle_key: Option<&[u8; PUBLIC_KEY_BYTES]>,
) -> Result<(Device, String), EnrollError> {
    if actor.len() != 16 {
        return Err(EnrollError::BadDevice("actor_id must be 16 bytes".into()));
    }
    let person_id = code_person(tx, secret)?;
    let code_hash = hash(&normalize_secret(secret));
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM devices WHERE actor = ?1)",
        params![actor],
        |r| r.get(0),
    )?;
    if taken {
        return Err(EnrollError::BadDevice(
            "actor_id already belongs to another device".into(),
        ));
    }
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let name = if device_name.trim().is_empty() {
        "device"
    } else {
        device_name.trim()
    };
    tx.execute(
        "INSERT INTO devices (person, actor, token_hash, name, enrolled_at, bundle_public_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            person_id,
            actor,
            hash(&token),
            name.chars().take(100).collect::<String>(),
            now(),
            bundle_key.map(|k| &k[..]),
        ],
    )?;
    let device_id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE enrollment_codes SET used_at = ?2, device_id = ?3 WHERE secret_hash = ?1",
        params![code_hash, now(), device_id],
    )?;
    let device = device_by(tx, "d.id = ?1", params![device_id])?.ok_or(EnrollError::UnknownCode)?;
    Ok((device, token))
}

/// The device matching `cond` (on `devices` as `d`), unless revoked, and its
/// person. Two lookups, each through a kept statement: joined with `people`
/// in one, SQLite prepared the statement again for every token it was given.
fn device_by(
    tx: &Transaction<'_>,
    cond: &str,
    p: impl rusqlite::Params,
) -> Result<Option<Device>, rusqlite::Error> {
    let row = tx
        .prepare_cached(&format!(
            "SELECT d.id, d.actor, d.person, d.last_seen_at, d.app_version
             FROM devices d WHERE d.revoked_at IS NULL AND {cond}"
        ))?
        .query_row(p, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .optional()?;
    let Some((id, actor, person, last_seen_at, app_version)) = row else {
        return Ok(None);
    };
    let person = tx
        .prepare_cached("SELECT id, name, role, village FROM people WHERE id = ?1")?
        .query_row(params![person], person_from_row)
        .optional()?
        .and_then(to_person);
    Ok(person.map(|person| Device {
        id: id as u64,
        actor,
        principal: Principal {
            person: person.id,
            role: person.role,
            village: person.village,
        },
        name: person.name,
        last_seen_at,
        app_version,
    }))
}

/// The name every dashboard's device is listed under.
pub const DASHBOARD_DEVICE_NAME: &str = "dashboard";

/// The device through which `person` acts from the dashboard: made on first
/// use (enrolled with a code of its own, under a new Automerge actor, its
/// token thrown away: no phone ever holds it) and marked as the dashboard's.
/// One per person: once revoked it stays revoked ([`Error::Revoked`]), as a
/// lost phone's does, rather than a new one being made.
pub fn dashboard_device(tx: &Transaction<'_>, person: &PersonId) -> Result<Device, Error> {
    let existing: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT id, revoked_at FROM devices WHERE person = ?1 AND dashboard = 1",
            params![person.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let id = match existing {
        Some((id, Some(_))) => return Err(Error::Revoked(id as u64)),
        Some((id, None)) => id as u64,
        None => {
            let code = new_enrollment_code(tx, person, Duration::from_secs(60))?;
            let actor = rand::random::<[u8; 16]>();
            let (device, _token) =
                enroll(tx, &code, &actor, DASHBOARD_DEVICE_NAME, None).map_err(|e| match e {
                    EnrollError::Storage(e) => Error::Storage(e),
                    EnrollError::Server(e) => e,
                    e => Error::Invalid(e.to_string()),
                })?;
            tx.execute(
                "UPDATE devices SET dashboard = 1 WHERE id = ?1",
                params![device.id as i64],
            )?;
            device.id
        }
    };
    device_by(tx, "d.id = ?1", params![id as i64])?.ok_or(Error::Revoked(id))
}

/// The device holding `token`, if it is enrolled and not revoked.
pub fn authenticate(tx: &Transaction<'_>, token: &str) -> Result<Option<Device>, Error> {
    Ok(device_by(tx, "d.token_hash = ?1", params![hash(token)])?)
}

/// What authenticates `device`'s sync bundles; `None` for a device never
/// enrolled.
#[derive(Debug)]
pub struct BundleKeys {
    /// The hash of its token, which keys the replies (and the requests of
    /// a device with no signing key).
    pub token_hash: Vec<u8>,
    /// The public half of the key it signs its requests with.
    pub public_key: Option<[u8; PUBLIC_KEY_BYTES]>,
    /// Whether it is revoked.
    pub revoked: bool,
}

/// What authenticates `device`'s sync bundles; `None` for a device never
/// enrolled.
pub fn bundle_keys(tx: &Transaction<'_>, device: u64) -> Result<Option<BundleKeys>, Error> {
    let row: Option<(Vec<u8>, Option<Vec<u8>>, bool)> = tx
        .query_row(
            "SELECT token_hash, bundle_public_key, revoked_at IS NOT NULL
             FROM devices WHERE id = ?1",
            params![device as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(token_hash, public_key, revoked)| {
        Ok(BundleKeys {
            token_hash,
            public_key: public_key
                .map(|k| {
                    k.try_into().map_err(|_| {
                        Error::Invalid(format!("device {device}'s stored bundle key is damaged"))
                    })
                })
                .transpose()?,
            revoked,
        })
    })
    .transpose()
}

/// The device numbered `device`, if it is enrolled and not revoked.
pub fn device(tx: &Transaction<'_>, device: u64) -> Result<Option<Device>, Error> {
    Ok(device_by(tx, "d.id = ?1", params![device as i64])?)
}

/// Whether `device` is still enrolled (not revoked): one lookup by key,
/// cheap enough to repeat for every message of a call.
pub fn enrolled(tx: &Transaction<'_>, device: u64) -> Result<bool, Error> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM devices WHERE id = ?1 AND revoked_at IS NULL")?
        .query_row(params![device as i64], |_| Ok(()))
        .optional()?
        .is_some())
}

/// How often a device's calls are noted, at most: an idle sync within this
/// many seconds of the last noted call writes nothing.
pub const SEEN_EVERY_SECONDS: i64 = 60;

/// Most characters of a device's app version kept from its `user-agent`.
pub const MAX_APP_VERSION_CHARS: usize = 40;

/// The app version in a call's `user-agent` (`massline/0.1.0 (android)
/// tonic/0.14.2` gives `massline/0.1.0`): its first word if it names
/// massline, cut to [`MAX_APP_VERSION_CHARS`], letters, digits and `./+-_`
/// only, since the township office reads it in a terminal.
pub fn app_version(user_agent: &str) -> Option<String> {
    let first = user_agent.split_whitespace().next()?;
    first.starts_with("massline/").then(|| {
        first
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "./+-_".contains(*c))
            .take(MAX_APP_VERSION_CHARS)
            .collect()
    })
}

/// Whether a call by `device` now, with `version`, should be noted: the
/// last noted call is [`SEEN_EVERY_SECONDS`] old or the version changed.
pub fn worth_noting(device: &Device, version: Option<&str>, now: i64) -> bool {
    device
        .last_seen_at
        .is_none_or(|t| now - t >= SEEN_EVERY_SECONDS)
        || (version.is_some() && version != device.app_version.as_deref())
}

/// Notes that a device called, and with which app version (kept if none).
pub fn called(tx: &Transaction<'_>, device: u64, version: Option<&str>) -> Result<(), Error> {
    tx.execute(
        "UPDATE devices SET last_seen_at = ?2, app_version = coalesce(?3, app_version)
         WHERE id = ?1",
        params![device as i64, now(), version],
    )?;
    Ok(())
}

/// Revokes a lost device: it is refused from its next call or push message
/// on, and a pull it has open stops (see [`enrolled`]).
pub fn revoke(tx: &Transaction<'_>, device: u64) -> Result<(), Error> {
    let n = tx.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![device as i64, now()],
    )?;
    if n == 0 {
        return Err(Error::Invalid(format!("no enrolled device {device}")));
    }
    Ok(())
}

/// Every device ever enrolled on a phone (not the dashboard's own), by person.
pub fn devices(tx: &Transaction<'_>) -> Result<Vec<DeviceRow>, Error> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, person, name, enrolled_at, revoked_at, last_seen_at, app_version
         FROM devices WHERE dashboard = 0 ORDER BY person, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DeviceRow {
            id: r.get::<_, i64>(0)? as u64,
            person: r.get(1)?,
            name: r.get(2)?,
            enrolled_at: r.get(3)?,
            revoked_at: r.get(4)?,
            last_seen_at: r.get(5)?,
            app_version: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every scope that exists in the township: the township's own records,
/// each village's shared and cadre-only records, and the study log of each
/// person of a village.
fn all_scopes(tx: &Transaction<'_>, village: Option<&VillageCode>) -> Result<Vec<Scope>, Error> {
    let mut out = vec![Scope::Township];
    for (v, _) in villages(tx)? {
        if village.is_some_and(|only| *only != v) {
            continue;
        }
        out.push(Scope::VillageShared(v.clone()));
        out.push(Scope::VillageCadre(v.clone()));
        for p in people(tx, Some(&v))? {
            out.push(Scope::MemberStudy {
                village: v.clone(),
                member: p.id,
            });
        }
    }
    Ok(out)
}

/// The scopes `who` may read, by the rules of `massline_model::access`.
pub fn readable_scopes(tx: &Transaction<'_>, who: &Principal) -> Result<Vec<Scope>, Error> {
    let mut scopes = all_scopes(tx, who.village.as_ref())?;
    scopes.retain(|s| who.can_read(s));
    Ok(scopes)
}

/// Whether a scope is the township's or names an existing village (and,
/// for a study log, a person of it).
pub fn scope_exists(tx: &Transaction<'_>, scope: &Scope) -> Result<bool, Error> {
    let Some(village) = scope.village() else {
        return Ok(true);
    };
    if village_name(tx, village)?.is_none() {
        return Ok(false);
    }
    Ok(match scope {
        Scope::MemberStudy { village, member } => {
            person(tx, member)?.is_some_and(|p| p.village.as_ref() == Some(village))
        }
        _ => true,
    })
}

/// The number of a scope, made on first use.
pub fn scope_id(tx: &Transaction<'_>, scope: &Scope) -> Result<i64, Error> {
    let name = scope.to_string();
    tx.prepare_cached("INSERT OR IGNORE INTO scopes (name, village) VALUES (?1, ?2)")?
        .execute(params![name, scope.village().map(VillageCode::as_str)])?;
    Ok(tx
        .prepare_cached("SELECT id FROM scopes WHERE name = ?1")?
        .query_row(params![name], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_version_is_the_massline_word_cut_and_cleaned() {
        assert_eq!(
            app_version("massline/0.1.0 (android) tonic/0.14.2").as_deref(),
            Some("massline/0.1.0")
        );
        assert_eq!(app_version("curl/8.0"), None);
        assert_eq!(app_version(""), None);
        let long = format!("massline/{}<b>;{}", "9".repeat(30), "x".repeat(30));
        let kept = app_version(&long).unwrap();
        assert_eq!(kept.chars().count(), MAX_APP_VERSION_CHARS);
        assert!(
            kept.chars()
                .all(|c| c.is_ascii_alphanumeric() || "./+-_".contains(c))
        );
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(&[0; 10]).len(), 16);
    }

    #[test]
    fn secrets_match_however_typed() {
        assert_eq!(normalize_secret("ab12-cd34 ef"), "AB12CD34EF");
    }
}
