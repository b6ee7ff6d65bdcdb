//! The phones' stores: plain, or (with `run --encrypted`, in a build with the
//! `sqlcipher` feature) encrypted with one key for the whole run, handed to
//! each phone process in its environment.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, bail};
use massline_core::store::key::ENCRYPTION_BUILT_IN;
use massline_core::{Client, StoreKey};

/// The environment variable that carries the key to a phone process (the
/// same one the `massline` command line reads).
pub const KEY_ENV: &str = "MASSLINE_STORE_KEY";

static KEY: OnceLock<Option<StoreKey>> = OnceLock::new();

/// Encrypts every store this run makes, with a new random key. Call it
/// before any store is opened.
pub fn encrypt_with_new_key() -> anyhow::Result<()> {
    if !ENCRYPTION_BUILT_IN {
        bail!("--encrypted needs massline-bench built with `--features sqlcipher`");
    }
    KEY.set(Some(StoreKey::random()))
        .map_err(|_| anyhow::anyhow!("a store was opened before the key was chosen"))
}

/// The run's key: the one chosen by [`encrypt_with_new_key`], or the one a
/// phone process was handed, or none.
fn key() -> anyhow::Result<Option<&'static StoreKey>> {
    if let Some(k) = KEY.get() {
        return Ok(k.as_ref());
    }
    let handed = match std::env::var(KEY_ENV) {
        Ok(hex) => Some(StoreKey::from_hex(&hex).context(KEY_ENV)?),
        Err(_) => None,
    };
    Ok(KEY.get_or_init(|| handed).as_ref())
}

/// Opens the store at `path` with the run's key, if any.
pub fn open(path: &Path) -> anyhow::Result<Client> {
    Ok(match key()? {
        Some(k) => Client::open_with_key(path, k)?,
        None => Client::open(path)?,
    })
}

/// Hands the run's key, if any, to the phone process `cmd`.
pub fn hand_to(cmd: &mut Command) -> anyhow::Result<()> {
    match key()? {
        Some(k) => cmd.env(KEY_ENV, k.to_hex()),
        None => cmd.env_remove(KEY_ENV),
    };
    Ok(())
}

/// Whether this run's stores are encrypted.
pub fn encrypted() -> bool {
    matches!(KEY.get(), Some(Some(_)))
}
