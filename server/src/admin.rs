//! The township office's commands on the server's data directory: villages,
//! people, enrollment codes, devices, a record's history, the typed rows.
//! They work while the server runs.

use std::path::Path;
use std::time::Duration;

use massline_model::enrollment_code::EnrollmentCode;
use massline_model::record_doc;
use massline_model::records::field_label;
use massline_model::{DocId, Lang, PersonId, Role, VillageCode};
use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::Error;
use crate::web::accounts;
use crate::{documents, registry, rows};

/// Purges record `id` for good (see [`crate::purge`]) on behalf of `by`, a
/// township officer; says what was purged.
pub fn purge(db: &Db, id: &str, by: &str, reason: &str) -> Result<String, Error> {
    let id = DocId::parse_hex(id)
        .ok_or_else(|| Error::Invalid(format!("`{id}` is not a 32-character record id")))?;
    let by = PersonId::new(by).map_err(Error::Invalid)?;
    let now = chrono::Utc::now().timestamp();
    let done = crate::purge::purge(db, &id, &by, reason, now).map_err(|e| match e {
        crate::purge::PurgeError::Storage(e) => e,
        refused => Error::Invalid(refused.to_string()),
    })?;
    Ok(format!(
        "record {} ({}, {}) purged by {}",
        done.id,
        done.kind.code(),
        done.scope,
        done.by
    ))
}

/// Opens the data directory's database, creating both if needed.
pub fn open(dir: &Path) -> Result<Db, Error> {
    Db::open(dir)
}

/// Names the township.
pub fn set_township(db: &Db, name: &str) -> Result<(), Error> {
    if name.trim().is_empty() {
        return Err(Error::Invalid("the township needs a name".into()));
    }
    db.write(|tx| registry::set_setting(tx, "township", name.trim()))
}

/// Makes a one-time enrollment code for a person. The code carries the
/// server's address (`address`, or the one the server last served on) and
/// the fingerprint of its certificate; it is valid for `valid_for`.
pub fn enrollment_code(
    dir: &Path,
    db: &Db,
    person: &PersonId,
    address: Option<String>,
    valid_for: Duration,
) -> Result<EnrollmentCode, Error> {
    let (secret, stored_address, tls) = db.write(|tx| {
        let secret = registry::new_enrollment_code(tx, person, valid_for)?;
        Ok::<_, Error>((
            secret,
            registry::setting(tx, "public_address")?,
            registry::setting(tx, "tls")?.is_none_or(|t| t == "on"),
        ))
    })?;
    let address = address.or(stored_address).ok_or_else(|| {
        Error::Invalid(
            "the server has not run yet: start it once, or give --address host:port".into(),
        )
    })?;
    let pin = if tls {
        Some(crate::certs::load_or_create(dir)?.fingerprint)
    } else {
        None
    };
    Ok(EnrollmentCode {
        address,
        secret,
        pin,
    })
}

/// A duration as typed: a number and a unit, `d` (days), `h` (hours), `m`
/// (minutes) or `s` (seconds), e.g. `7d`, `12h`; at least a second.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a validity like 7d, 12h, 30m or 90s");
    let unit = text.chars().last().ok_or_else(bad)?;
    let seconds = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return Err(bad()),
    };
    let n: u64 = text[..text.len() - 1].parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(format!("{text:?} is no time at all"));
    }
    Ok(Duration::from_secs(n.saturating_mul(seconds)))
}

/// A code's validity as typed (see [`parse_duration`]), at most
/// [`registry::MAX_CODE_VALIDITY`].
pub fn parse_validity(text: &str) -> Result<Duration, String> {
    let valid_for = parse_duration(text)?;
    if valid_for > registry::MAX_CODE_VALIDITY {
        return Err(format!(
            "a code is valid for 1 second to {} days, not {}",
            registry::MAX_CODE_VALIDITY.as_secs() / 86_400,
            text.trim()
        ));
    }
    Ok(valid_for)
}

/// The code as a QR code drawn with text characters, for a terminal.
pub fn qr_text(code: &EnrollmentCode) -> Result<String, Error> {
    let qr = qrcode::QrCode::new(code.to_string().as_bytes())
        .map_err(|e| Error::internal("drawing the QR code", e))?;
    Ok(qr
        .render::<qrcode::render::unicode::Dense1x2>()
        .quiet_zone(true)
        .build())
}

/// Villages as printable lines.
pub fn village_lines(db: &Db) -> Result<Vec<String>, Error> {
    Ok(db
        .read(registry::villages)?
        .into_iter()
        .map(|(code, name)| format!("{code}\t{name}"))
        .collect())
}

/// People as printable lines: id, name, role (Chinese label and code), village.
pub fn person_lines(db: &Db, village: Option<&VillageCode>) -> Result<Vec<String>, Error> {
    Ok(db
        .read(|tx| registry::people(tx, village))?
        .into_iter()
        .map(|p| {
            format!(
                "{}\t{}\t{} ({})\t{}",
                p.id,
                p.name,
                p.role.label(Lang::Zh),
                p.role.code(),
                p.village
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into())
            )
        })
        .collect())
}

/// Devices as printable lines, by person (only `person`'s if given): number,
/// person, device name, app version, enrolled, last sync.
pub fn device_lines(db: &Db, person: Option<&PersonId>) -> Result<Vec<String>, Error> {
    let fmt_time = |t: Option<i64>| {
        t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into())
    };
    Ok(db
        .read(registry::devices)?
        .into_iter()
        .filter(|d| person.is_none_or(|p| p.as_str() == d.person))
        .map(|d| {
            format!(
                "{}\t{}\t{}\t{}\tenrolled {}\tlast sync {}{}",
                d.id,
                d.person,
                d.name,
                d.app_version.as_deref().unwrap_or("-"),
                fmt_time(Some(d.enrolled_at)),
                fmt_time(d.last_seen_at),
                if d.revoked_at.is_some() {
                    "\tREVOKED"
                } else {
                    ""
                }
            )
        })
        .collect())
}

/// Adds a person and returns their id.
pub fn add_person(
    db: &Db,
    id: Option<PersonId>,
    name: &str,
    role: Role,
    village: Option<&VillageCode>,
) -> Result<PersonId, Error> {
    db.write(|tx| registry::add_person(tx, id, name, role, village))
}

/// Sets a person's dashboard password (hashed with argon2id before the
/// database is touched); their open sessions end.
pub fn set_password(db: &Db, person: &PersonId, password: &str) -> Result<(), Error> {
    let hash = accounts::hash_password(password)?;
    db.write(|tx| accounts::set_password(tx, person, &hash))
}

/// A one-time login link to the dashboard for a person, valid for
/// `valid_for`, at `address` or where the dashboard last served.
pub fn login_link(
    db: &Db,
    person: &PersonId,
    address: Option<String>,
    valid_for: Duration,
) -> Result<String, Error> {
    let (secret, stored) = db.write(|tx| {
        Ok::<_, Error>((
            accounts::new_login_link(tx, person, valid_for)?,
            registry::setting(tx, "web_address")?,
        ))
    })?;
    let address = address.or(stored).ok_or_else(|| {
        Error::Invalid(
            "the dashboard has not run yet: start the server once, or give --address host:port"
                .into(),
        )
    })?;
    Ok(format!("https://{address}/login/link/{secret}"))
}

/// Revokes a person: their devices are refused from their next call on,
/// their dashboard sessions end and their codes and links stop working.
/// Returns a summary.
pub fn revoke_person(db: &Db, person: &PersonId) -> Result<String, Error> {
    let (devices, sessions) = db.write(|tx| {
        Ok::<_, Error>((
            registry::revoke_person(tx, person)?,
            accounts::end_access(tx, person)?,
        ))
    })?;
    Ok(format!(
        "person {person} revoked: {devices} devices revoked, {sessions} dashboard sessions ended"
    ))
}

/// Gives a person another role (and village); their dashboard sessions
/// end, and their devices read and write as the new role from their next call.
pub fn set_role(
    db: &Db,
    person: &PersonId,
    role: Role,
    village: Option<&VillageCode>,
) -> Result<(), Error> {
    db.write(|tx| {
        registry::set_role(tx, person, role, village)?;
        accounts::end_access(tx, person)?;
        Ok(())
    })
}

/// A record's history as printable lines: when, which device of whom, which
/// fields. The server knows each change's device from its own log.
pub fn history_lines(db: &Db, id: &str) -> Result<Vec<String>, Error> {
    let id = DocId::parse_hex(id)
        .ok_or_else(|| Error::Invalid(format!("`{id}` is not a 32-character record id")))?;
    db.read(|tx| {
        let current = documents::current(tx, &id)?
            .ok_or_else(|| Error::Invalid(format!("no record {id}")))?;
        let doc = documents::load(&id, &current.state)?;
        let mut out = Vec::new();
        for h in record_doc::history(&doc) {
            let device: Option<(i64, String, String)> = tx
                .query_row(
                    "SELECT d.id, d.name, p.id || ' ' || p.name FROM changes c
                     JOIN devices d ON d.id = c.device_id JOIN people p ON p.id = d.person
                     WHERE c.hash = ?1",
                    params![&h.hash.0[..]],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let who = device.map_or_else(
                || "?".to_string(),
                |(n, name, person)| format!("{person} (device {n} {name})"),
            );
            let what = if h.fields.is_empty() {
                "created".to_string()
            } else {
                h.fields
                    .iter()
                    .map(|f| field_label(f, Lang::Zh))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let when = chrono::DateTime::from_timestamp(h.time, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            out.push(format!("{when}\t{who}\t{what}"));
        }
        Ok(out)
    })
}

/// Villages outside the 3 to 5 practical things the campaign asks for.
pub fn warning_lines(db: &Db) -> Result<Vec<String>, Error> {
    Ok(db
        .write(|tx| {
            rows::catch_up(tx)?;
            rows::practical_thing_warnings(tx)
        })?
        .into_iter()
        .map(|w| w.text)
        .collect())
}

/// Takes in the device bundle at `file` ([`crate::bundle::import`]) and
/// writes the reply to `reply_out` (0600, replaced whole); returns a summary.
pub fn import_bundle(db: &Db, file: &Path, reply_out: &Path) -> Result<String, Error> {
    let io = |e: std::io::Error| Error::Io(file.display().to_string(), e);
    let f = std::fs::File::open(file).map_err(io)?;
    let length = f.metadata().map_err(io)?.len();
    let bytes = massline_model::bundle::read_bounded(f, Some(length))?;
    let done = crate::bundle::import(db, &bytes, chrono::Utc::now().timestamp())?;
    let partial = reply_out.with_extension("partial");
    let io = |e: std::io::Error| Error::Io(reply_out.display().to_string(), e);
    std::fs::write(&partial, &done.reply).map_err(io)?;
    massline_files::private_file(&partial).map_err(io)?;
    std::fs::rename(&partial, reply_out).map_err(io)?;
    let mut text = format!(
        "device {}: {} changes stored, {} refused; the reply ({} bytes) carries {} changes{}{}",
        done.device,
        done.accepted,
        done.refused,
        done.reply.len(),
        done.pulled,
        if done.complete {
            ""
        } else {
            " (more wait: import the device's next bundle)"
        },
        if done.imported_before.is_some() {
            " (this bundle was imported before: nothing was stored twice)"
        } else {
            ""
        }
    );
    for reason in &done.reasons {
        text.push_str(&format!("\nrefused: {reason}"));
    }
    Ok(text)
}

/// Makes every typed row again from the stored documents; returns a summary.
pub fn rebuild_rows(db: &Db) -> Result<String, Error> {
    let r = db.write(rows::rebuild)?;
    let mut text = format!("{} records have typed rows", r.records);
    if !r.unreadable.is_empty() {
        text.push_str(&format!(
            "; {} do not read as records of this version: {}",
            r.unreadable.len(),
            r.unreadable.join(", ")
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validities_read_as_typed_and_the_command_default_is_the_registry_default() {
        assert_eq!(parse_validity("7d"), Ok(registry::DEFAULT_CODE_VALIDITY));
        assert_eq!(parse_validity("12h"), Ok(Duration::from_secs(12 * 3_600)));
        assert_eq!(parse_validity(" 30m "), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_validity("90d"), Ok(registry::MAX_CODE_VALIDITY));
        for bad in [
            "",
            "d",
            "7",
            "0h",
            "91d",
            "-1d",
            "1.5d",
            "7天",
            "99999999999999999999s",
        ] {
            assert!(parse_validity(bad).is_err(), "{bad:?} accepted");
        }
    }
}
