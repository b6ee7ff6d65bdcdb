//! Dashboard accounts: passwords (argon2id hashes), one-time login links
//! and sessions, all in the server's database. Only hashes of link secrets
//! and session tokens are stored, as for devices' tokens.
//!
//! A session remembers the role and village it was opened with; it ends
//! when it expires, on logout, and, checked on every request, as soon as
//! its person is revoked or given another role or village.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use massline_model::{PersonId, Principal, Role, VillageCode};
use rusqlite::{OptionalExtension, Transaction, params};

use super::access;
use crate::error::Error;
use crate::registry::{self, hash, when};

/// A session ends this long after login, used or not.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// A session not used for this long ends.
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// A session's last use is written at most this often (every request
/// reads the session; not every one needs the writer).
pub const SESSION_TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// Most sessions one person keeps; a new login past this ends their
/// oldest, so logins cannot grow the table without bound.
pub const MAX_SESSIONS_PER_PERSON: usize = 10;

/// How long a login link stays valid unless the township office says otherwise.
pub const DEFAULT_LOGIN_LINK_VALIDITY: Duration = Duration::from_secs(24 * 3600);

/// The longest a login link may stay valid.
pub const MAX_LOGIN_LINK_VALIDITY: Duration = Duration::from_secs(7 * 86_400);

/// Fewest characters of a dashboard password.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Most bytes of a dashboard password (argon2 reads every byte).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// The argon2id settings: OWASP's first choice (19 MiB, two passes, one lane).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// A person who may use the dashboard, as the registry says now.
fn dashboard_person(tx: &Transaction<'_>, id: &PersonId) -> Result<Principal, Error> {
    let p = registry::person(tx, id)?.ok_or_else(|| Error::Invalid(format!("no person {id}")))?;
    if registry::revoked(tx, id)? {
        return Err(Error::Invalid(format!("person {id} is revoked")));
    }
    let who = Principal {
        person: p.id,
        role: p.role,
        village: p.village,
    };
    if !access::has_dashboard(&who) {
        return Err(Error::Invalid(format!(
            "a {} has no dashboard: only township officers, secretaries and cadres log in",
            who.role.code()
        )));
    }
    Ok(who)
}

/// The argon2id hash of a new password (PHC string form), once it is long
/// enough and not too long. Slow on purpose: hash before opening a write
/// transaction.
pub fn hash_password(password: &str) -> Result<String, Error> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::Invalid(format!(
            "a dashboard password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::Invalid(format!(
            "a dashboard password has at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Invalid(e.to_string()))?
        .to_string())
}

/// Whether `password` matches `stored` (a PHC string). Slow on purpose.
pub fn verify_password(stored: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(stored)
        .is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password matches, checked when a login names nobody with a
/// password, so such a login takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password(&random_token()).unwrap_or_else(|_| String::from("$argon2id$invalid"))
    })
}

/// Sets a person's dashboard password (`hash` from [`hash_password`]) and
/// ends their sessions.
pub fn set_password(tx: &Transaction<'_>, id: &PersonId, hash: &str) -> Result<(), Error> {
    dashboard_person(tx, id)?;
    tx.execute(
        "INSERT INTO web_passwords (person, hash, set_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (person) DO UPDATE SET hash = ?2, set_at = ?3",
        params![id.as_str(), hash, now()],
    )?;
    end_sessions_of(tx, id)?;
    Ok(())
}

/// The stored password hash of a person who may log in now.
pub fn password_of(tx: &Transaction<'_>, id: &PersonId) -> Result<Option<String>, Error> {
    if dashboard_person(tx, id).is_err() {
        return Ok(None);
    }
    Ok(tx
        .query_row(
            "SELECT hash FROM web_passwords WHERE person = ?1",
            params![id.as_str()],
            |r| r.get(0),
        )
        .optional()?)
}

/// Why a login link does not log in. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No link has this secret.
    #[error("this login link is unknown: ask the township office for a new one")]
    Unknown,
    /// The link was used (unix seconds).
    #[error("this login link was already used (on {}): a link logs in once; ask the township office for a new one", when(*.0))]
    Used(i64),
    /// The link's time ran out (unix seconds).
    #[error("this login link expired on {}: ask the township office for a new one", when(*.0))]
    Expired(i64),
    /// Its person may not log in now.
    #[error("{0}")]
    Refused(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] Error),
}

impl From<rusqlite::Error> for LinkError {
    fn from(e: rusqlite::Error) -> Self {
        LinkError::Storage(e.into())
    }
}

/// Makes a one-time login link's secret for a person, valid for
/// `valid_for` (a second to [`MAX_LOGIN_LINK_VALIDITY`]).
pub fn new_login_link(
    tx: &Transaction<'_>,
    id: &PersonId,
    valid_for: Duration,
) -> Result<String, Error> {
    if valid_for < Duration::from_secs(1) || valid_for > MAX_LOGIN_LINK_VALIDITY {
        return Err(Error::Invalid(format!(
            "a login link is valid for 1 second to {} days",
            MAX_LOGIN_LINK_VALIDITY.as_secs() / 86_400
        )));
    }
    dashboard_person(tx, id)?;
    let secret = random_token();
    let now = now();
    tx.execute(
        "INSERT INTO web_login_links (secret_hash, person, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            hash(&secret),
            id.as_str(),
            now,
            now.saturating_add(secs(valid_for))
        ],
    )?;
    Ok(secret)
}

/// The person a login link logs in, if it is known, unused and valid.
/// Reads only: showing the link's page uses nothing up.
pub fn check_login_link(tx: &Transaction<'_>, secret: &str) -> Result<PersonId, LinkError> {
    let row: Option<(String, Option<i64>, i64)> = tx
        .query_row(
            "SELECT person, used_at, expires_at FROM web_login_links WHERE secret_hash = ?1",
            params![hash(secret)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match row {
        None => Err(LinkError::Unknown),
        Some((_, Some(used), _)) => Err(LinkError::Used(used)),
        Some((_, None, expires)) if expires <= now() => Err(LinkError::Expired(expires)),
        Some((person, None, _)) => PersonId::new(person).map_err(|_| LinkError::Unknown),
    }
}

/// Uses up a login link and opens a session for its person.
pub fn use_login_link(
    tx: &Transaction<'_>,
    secret: &str,
    lifetime: Duration,
) -> Result<NewSession, LinkError> {
    let person = check_login_link(tx, secret)?;
    tx.execute(
        "UPDATE web_login_links SET used_at = ?2 WHERE secret_hash = ?1",
        params![hash(secret), now()],
    )?;
    open_session(tx, &person, lifetime).map_err(|e| match e {
        Error::Invalid(reason) => LinkError::Refused(reason),
        e => LinkError::Storage(e),
    })
}

/// A session just opened: the cookie's token, and its CSRF token.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// The session cookie's value (only its hash is stored).
    pub token: String,
    /// The token every form of the session carries.
    pub csrf: String,
}

/// Opens a session for a person who may use the dashboard now, ending
/// their oldest past [`MAX_SESSIONS_PER_PERSON`].
pub fn open_session(
    tx: &Transaction<'_>,
    id: &PersonId,
    lifetime: Duration,
) -> Result<NewSession, Error> {
    let who = dashboard_person(tx, id)?;
    let now = now();
    tx.execute(
        "DELETE FROM web_sessions WHERE person = ?1 AND expires_at <= ?2",
        params![id.as_str(), now],
    )?;
    tx.execute(
        "DELETE FROM web_sessions WHERE token_hash IN (
             SELECT token_hash FROM web_sessions WHERE person = ?1
             ORDER BY created_at DESC LIMIT -1 OFFSET ?2)",
        params![
            id.as_str(),
            i64::try_from(MAX_SESSIONS_PER_PERSON - 1).unwrap_or(0)
        ],
    )?;
    let session = NewSession {
        token: random_token(),
        csrf: random_token(),
    };
    tx.execute(
        "INSERT INTO web_sessions (token_hash, person, role, village, csrf, created_at,
                                   expires_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)",
        params![
            hash(&session.token),
            id.as_str(),
            who.role.code(),
            who.village.as_ref().map(|v| v.as_str()),
            session.csrf,
            now,
            now.saturating_add(secs(lifetime))
        ],
    )?;
    Ok(session)
}

/// A live session, as a request sees it.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who is logged in, as the registry says now.
    pub who: Principal,
    /// Their name.
    pub name: String,
    /// The token every form of the session carries.
    pub csrf: String,
    /// Whether its last use should be written now.
    pub stale: bool,
}

/// The session of a cookie's token: `None` if there is none, or it expired
/// or went idle, or its person was revoked or changed role or village
/// since login (each of which also ends it, see [`end_session`]).
pub fn session(
    tx: &Transaction<'_>,
    token: &str,
    idle: Duration,
) -> Result<Option<Session>, Error> {
    type Row = (
        String,
        String,
        Option<String>,
        String,
        i64,
        i64,
        String,
        String,
        Option<String>,
        Option<i64>,
    );
    let row: Option<Row> = tx
        .prepare_cached(
            "SELECT s.person, s.role, s.village, s.csrf, s.expires_at, s.last_seen_at,
                    p.name, p.role, p.village, p.revoked_at
             FROM web_sessions s JOIN people p ON p.id = s.person
             WHERE s.token_hash = ?1",
        )?
        .query_row(params![hash(token)], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ))
        })
        .optional()?;
    let Some((person, role, village, csrf, expires, seen, name, now_role, now_village, revoked)) =
        row
    else {
        return Ok(None);
    };
    let now = now();
    if expires <= now
        || seen.saturating_add(secs(idle)) <= now
        || revoked.is_some()
        || role != now_role
        || village != now_village
    {
        return Ok(None);
    }
    let (Ok(person), Ok(role)) = (PersonId::new(person), role.parse::<Role>()) else {
        return Ok(None);
    };
    let village = match village.map(VillageCode::new).transpose() {
        Ok(v) => v,
        Err(_) => return Ok(None),
    };
    let who = Principal {
        person,
        role,
        village,
    };
    if !access::has_dashboard(&who) {
        return Ok(None);
    }
    Ok(Some(Session {
        who,
        name,
        csrf,
        stale: now.saturating_sub(seen) >= secs(SESSION_TOUCH_INTERVAL),
    }))
}

/// Notes that a session was used now.
pub fn touch(tx: &Transaction<'_>, token: &str) -> Result<(), Error> {
    tx.execute(
        "UPDATE web_sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
        params![hash(token), now()],
    )?;
    Ok(())
}

/// Ends one session (logout, or found ended).
pub fn end_session(tx: &Transaction<'_>, token: &str) -> Result<(), Error> {
    tx.execute(
        "DELETE FROM web_sessions WHERE token_hash = ?1",
        params![hash(token)],
    )?;
    Ok(())
}

/// Ends every session of a person and expires their unused login links
/// (they were revoked, or their role changed); returns how many sessions.
pub fn end_access(tx: &Transaction<'_>, id: &PersonId) -> Result<usize, Error> {
    tx.execute(
        "UPDATE web_login_links SET expires_at = min(expires_at, ?2)
         WHERE person = ?1 AND used_at IS NULL",
        params![id.as_str(), now()],
    )?;
    end_sessions_of(tx, id)
}

/// Ends every session of a person; returns how many.
pub fn end_sessions_of(tx: &Transaction<'_>, id: &PersonId) -> Result<usize, Error> {
    Ok(tx.execute(
        "DELETE FROM web_sessions WHERE person = ?1",
        params![id.as_str()],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves_and_keep_to_their_lengths() {
        let h = hash_password("correct horse battery").unwrap_or_else(|e| panic!("{e}"));
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterY"));
        assert!(!verify_password(dummy_hash(), ""));
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
