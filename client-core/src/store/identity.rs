//! Who this device is: its enrollment with a township server.

use automerge::ActorId;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::access::{Principal, Role, Scope};
use crate::error::Error;
use crate::ids::{PersonId, VillageCode};
use crate::protocol::{Person, ServerId};

/// The server a device is enrolled with, and the certificate it pins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerPin {
    /// `host:port` of the township server.
    pub address: String,
    /// SHA-256 of the server's certificate (DER).
    pub cert_sha256: [u8; 32],
}

/// The enrolled identity of this device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Where to sync, and whom to trust.
    pub server: ServerPin,
    /// The server's number for this device.
    pub device_id: u64,
    /// The bearer token proving the device to the server.
    pub device_token: String,
    /// The Automerge actor every change of this device carries.
    pub actor: ActorId,
    /// The person, their role and village.
    pub principal: Principal,
    /// The person's name.
    pub name: String,
    /// The village's name, if the person has a village.
    pub village_name: Option<String>,
    /// The township's name.
    pub township: String,
}

impl Identity {
    /// The village the person works in, or an error for a township officer,
    /// who must say which village.
    pub fn home_village(&self) -> Result<&VillageCode, Error> {
        self.principal.village.as_ref().ok_or_else(|| {
            Error::Forbidden("a township officer must say which village the record is for".into())
        })
    }

    /// Refuses, before anything is written, an edit the server would refuse.
    pub fn check_can_write(&self, scope: &Scope) -> Result<(), Error> {
        if self.principal.can_write(scope) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{} ({}) may not write {scope}",
                self.name,
                self.principal.role.code()
            )))
        }
    }
}

/// The identity, if the device has enrolled.
pub fn load(tx: &Transaction<'_>) -> Result<Option<Identity>, Error> {
    let row = tx
        .query_row(
            "SELECT server_address, cert_sha256, device_id, device_token, actor, person, name,
                    role, village, village_name, township
             FROM identity WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, String>(10)?,
                ))
            },
        )
        .optional()?;
    let Some((address, pin, device_id, token, actor, person, name, role, village, vname, township)) =
        row
    else {
        return Ok(None);
    };
    let corrupt = |what: &str| Error::Storage(format!("stored identity has a bad {what}").into());
    Ok(Some(Identity {
        server: ServerPin {
            address,
            cert_sha256: pin.try_into().map_err(|_| corrupt("certificate pin"))?,
        },
        device_id: device_id as u64,
        device_token: token,
        actor: ActorId::from(actor),
        principal: Principal {
            person: PersonId::new(person).map_err(|_| corrupt("person"))?,
            role: role.parse::<Role>().map_err(|_| corrupt("role"))?,
            village: village
                .map(VillageCode::new)
                .transpose()
                .map_err(|_| corrupt("village"))?,
        },
        name,
        village_name: vname,
        township,
    }))
}

/// Stores the identity of a device that just enrolled.
pub fn save(tx: &Transaction<'_>, id: &Identity, now: i64) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO identity (id, server_address, cert_sha256, device_id, device_token, actor,
                               person, name, role, village, village_name, township, enrolled_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id.server.address,
            &id.server.cert_sha256[..],
            id.device_id as i64,
            id.device_token,
            id.actor.to_bytes(),
            id.principal.person.as_str(),
            id.name,
            id.principal.role.code(),
            id.principal.village.as_ref().map(|v| v.as_str()),
            id.village_name,
            id.township,
            now,
        ],
    )?;
    Ok(())
}

/// Notes who the device's person now is, as the server says after they
/// were moved to another role or village. The person stays the one the
/// device enrolled as: a server naming another is refused.
pub fn set_person(tx: &Transaction<'_>, p: &Person) -> Result<(), Error> {
    let enrolled = load(tx)?.ok_or(Error::NotEnrolled)?;
    if enrolled.principal.person != p.principal.person {
        return Err(Error::Protocol(
            format!(
                "the server says this device is {}'s; it enrolled as {}'s",
                p.principal.person, enrolled.principal.person
            )
            .into(),
        ));
    }
    tx.execute(
        "UPDATE identity SET name = ?1, role = ?2, village = ?3, village_name = ?4 WHERE id = 1",
        params![
            p.name,
            p.principal.role.code(),
            p.principal.village.as_ref().map(|v| v.as_str()),
            (!p.village_name.is_empty()).then_some(p.village_name.as_str()),
        ],
    )?;
    Ok(())
}

/// Takes the next record serial of this device.
pub fn take_serial(tx: &Transaction<'_>) -> Result<u64, Error> {
    let serial: i64 = tx.query_row(
        "UPDATE identity SET next_serial = next_serial + 1 WHERE id = 1 RETURNING next_serial - 1",
        [],
        |r| r.get(0),
    )?;
    Ok(serial as u64)
}

/// The identity of the server that gave the device its cursors, if known.
pub fn server_seen(tx: &Transaction<'_>) -> Result<Option<ServerId>, Error> {
    let id: Option<Vec<u8>> = tx
        .query_row("SELECT server_id FROM identity WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    Ok(id.and_then(|b| b.try_into().ok()))
}

/// Notes the identity of the server the device's cursors now come from.
/// The same server as before writes nothing.
pub fn met_server(tx: &Transaction<'_>, server: &ServerId) -> Result<(), Error> {
    tx.prepare_cached("UPDATE identity SET server_id = ?1 WHERE id = 1 AND server_id IS NOT ?1")?
        .execute(params![&server[..]])?;
    Ok(())
}

/// Whether the device is sending again what a restored server lacks.
pub fn recovering(tx: &Transaction<'_>) -> Result<bool, Error> {
    Ok(tx
        .query_row("SELECT recovering FROM identity WHERE id = 1", [], |r| {
            r.get::<_, bool>(0)
        })
        .optional()?
        .unwrap_or(false))
}

/// Starts or ends sending again what a restored server lacks.
pub fn set_recovering(tx: &Transaction<'_>, on: bool) -> Result<(), Error> {
    tx.execute(
        "UPDATE identity SET recovering = ?1 WHERE id = 1",
        params![on],
    )?;
    Ok(())
}

/// The key this device signs its sync bundles with (PKCS#8), if it enrolled
/// with one.
pub fn bundle_signing_key(tx: &Transaction<'_>) -> Result<Option<Vec<u8>>, Error> {
    Ok(tx
        .query_row(
            "SELECT bundle_signing_key FROM identity WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Keeps the key this device signs its sync bundles with (PKCS#8).
pub fn set_bundle_signing_key(tx: &Transaction<'_>, pkcs8: &[u8]) -> Result<(), Error> {
    tx.execute(
        "UPDATE identity SET bundle_signing_key = ?1 WHERE id = 1",
        params![pkcs8],
    )?;
    Ok(())
}
