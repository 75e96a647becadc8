//! API keys of the banks that call the payee check (docs/design/021-payee-check.md).
//!
//! - A key is `pbk_` and 64 hex digits (32 random bytes from the operating system). It is shown
//!   once, when issued; the database keeps its SHA-256 and the first [`PREFIX_CHARS`]
//!   characters, to tell keys apart on screen.
//! - The keys in use are held in memory ([`KeyCache`]) so that checking one costs a SHA-256 and a
//!   hash-map probe, not a database round trip. The cache is reloaded when this process issues or
//!   revokes a key (a revocation removes the key at once, before the reload), at least every
//!   [`REFRESH_EVERY`], which is how a key revoked by another process (`posbon bank-keys revoke`,
//!   a second server) stops working, and when an unknown key is sent, at most once per
//!   [`MISS_RELOAD_EVERY`], which is how a key issued by another process starts working.
//! - Each key has a token bucket ([`TokenBucket`]) of its own rate: one second's worth of checks
//!   may come at once, more are 429 with `Retry-After`.
//! - Only administrators with the national scope manage keys (`/api/bank-keys`, the console's
//!   page, or `posbon bank-keys` on the server's machine); each issue and revocation is audited.
//!   Keys are never logged.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{Actor, Role, Scope};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::{BankKey, NewBankKey, Store};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, parse_id};

/// Who manages bank keys (with the national scope: a key is not tied to a place).
pub const KEY_ADMINS: &[Role] = &[Role::Admin];
/// What every key starts with.
pub const KEY_TAG: &str = "pbk_";
/// Characters of a key kept for display: the tag and 8 hex digits (32 of its 256 bits).
pub const PREFIX_CHARS: usize = KEY_TAG.len() + 8;
/// How long the in-memory keys are trusted before they are read again from the database.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// After a failed reload, the keys in memory are used this long before the next try.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// Checks per second of a key issued without a rate.
pub const DEFAULT_RATE: u32 = 100;

/// A key just made: the key itself (to show once) and what the database keeps.
pub struct FreshKey {
    pub key: String,
    pub prefix: String,
    pub hash: String,
}

impl std::fmt::Debug for FreshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("FreshKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A new random key.
pub fn generate_key() -> anyhow::Result<FreshKey> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    let key = format!("{KEY_TAG}{}", hex::encode(bytes));
    Ok(FreshKey {
        prefix: key[..PREFIX_CHARS].to_owned(),
        hash: hex::encode(key_hash(&key)),
        key,
    })
}

/// SHA-256 of a key as sent. Keys are 256 random bits, so one fast hash is enough: there is no
/// dictionary to try (a password hash such as Argon2 would only slow every payment down).
pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether `s` has the shape of a key (`pbk_` and 64 lower-case hex digits).
pub fn looks_like_key(s: &str) -> bool {
    s.len() == KEY_TAG.len() + 64
        && s.starts_with(KEY_TAG)
        && s[KEY_TAG.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Records a new key for `bank` (audited as `bank_key.create`) and returns it with the key
/// itself, which is not kept anywhere and must be shown once.
pub async fn issue(
    store: &Store,
    bank: &str,
    rate_per_second: u32,
    actor: &Actor,
) -> ApiResult<(BankKey, FreshKey)> {
    let fresh = generate_key().map_err(|e| ApiError::internal("make a key", &e))?;
    let stored = store
        .create_bank_key(
            &NewBankKey {
                bank: bank.trim().to_owned(),
                prefix: fresh.prefix.clone(),
                key_hash: fresh.hash.clone(),
                rate_per_second,
            },
            actor,
        )
        .await?;
    tracing::info!(key = stored.id, %actor, "bank key issued");
    Ok((stored, fresh))
}

/// A token bucket: `rate` tokens a second, at most `burst` saved up. Time is passed in, so
/// tests can drive it.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// Full at `now`: one second's worth of tokens (at least one).
    pub fn new(rate_per_second: u32, now: Instant) -> TokenBucket {
        let rate = f64::from(rate_per_second.max(1));
        TokenBucket {
            rate,
            burst: rate,
            tokens: rate,
            last: now,
        }
    }

    /// Takes a token at `now`, or says how long until one is there.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// One usable key in memory: its bucket and its counters (since this process started).
#[derive(Debug)]
pub struct KeyState {
    pub id: i64,
    pub rate_per_second: u32,
    bucket: Mutex<TokenBucket>,
    /// Checks answered (any status after the key was accepted and within its rate).
    pub checks: AtomicU64,
    /// Requests refused with 429.
    pub limited: AtomicU64,
}

impl KeyState {
    fn new(id: i64, rate_per_second: u32) -> KeyState {
        KeyState {
            id,
            rate_per_second,
            bucket: Mutex::new(TokenBucket::new(rate_per_second, Instant::now())),
            checks: AtomicU64::new(0),
            limited: AtomicU64::new(0),
        }
    }

    /// Takes one of this key's tokens at `now` (and counts the outcome).
    pub fn admit(&self, now: Instant) -> Result<(), Duration> {
        let r = self
            .bucket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(now);
        match r {
            Ok(()) => self.checks.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.limited.fetch_add(1, Ordering::Relaxed),
        };
        r
    }
}

/// The usable keys by the SHA-256 of the key.
type KeyTable = HashMap<[u8; 32], Arc<KeyState>>;

/// When the table was read, and until when it is trusted.
#[derive(Default)]
struct Times {
    loaded_at: Option<Instant>,
    fresh_until: Option<Instant>,
}

/// Why a reload is asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reload {
    /// The table is missing or older than [`REFRESH_EVERY`] (or was invalidated).
    IfStale,
    /// A key was not found: maybe it was issued by another process since the last read. At
    /// most once per [`MISS_RELOAD_EVERY`], so unknown keys cannot hammer the database.
    UnlessRecent,
}

/// An unknown key makes the keys be read again at most this often.
pub const MISS_RELOAD_EVERY: Duration = Duration::from_secs(1);

/// The usable keys, in memory (see the module's documentation).
#[derive(Default)]
pub struct KeyCache {
    table: RwLock<Option<Arc<KeyTable>>>,
    times: Mutex<Times>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    /// Bumped by every invalidation: a reload that read the database before one does not count
    /// as fresh.
    generation: AtomicU64,
    /// Keys this process revoked: never let back in by a reload that read the database just
    /// before the revocation was committed.
    revoked: Mutex<std::collections::HashSet<[u8; 32]>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").finish_non_exhaustive()
    }
}

impl KeyCache {
    fn current(&self) -> Option<Arc<KeyTable>> {
        self.table.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn times(&self) -> std::sync::MutexGuard<'_, Times> {
        self.times.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The table, if it need not be read again for `why` at `now`.
    fn usable(&self, why: Reload, now: Instant) -> Option<Arc<KeyTable>> {
        let t = self.times();
        let ok = match why {
            Reload::IfStale => t.fresh_until.is_some_and(|f| now < f),
            Reload::UnlessRecent => t
                .loaded_at
                .is_some_and(|l| now.saturating_duration_since(l) < MISS_RELOAD_EVERY),
        };
        drop(t);
        if ok { self.current() } else { None }
    }

    /// The key whose SHA-256 is `hash`, if it is usable.
    pub async fn find(&self, store: &Store, hash: &[u8; 32]) -> ApiResult<Option<Arc<KeyState>>> {
        let now = Instant::now();
        let table = match self.usable(Reload::IfStale, now) {
            Some(t) => t,
            None => self.reload(store, Reload::IfStale).await?,
        };
        if let Some(k) = table.get(hash) {
            return Ok(Some(k.clone()));
        }
        if self.usable(Reload::UnlessRecent, now).is_some() {
            return Ok(None);
        }
        Ok(self
            .reload(store, Reload::UnlessRecent)
            .await?
            .get(hash)
            .cloned())
    }

    /// Reads the usable keys from the database, unless another caller just did (one reader at
    /// a time; the others wait for it and use what it read). Buckets and counters of keys
    /// already in memory are kept. If the database does not answer, the keys in memory stay in
    /// use for a few seconds.
    async fn reload(&self, store: &Store, why: Reload) -> ApiResult<Arc<KeyTable>> {
        let _one = self.reloading.lock().await;
        let now = Instant::now();
        if let Some(t) = self.usable(why, now) {
            return Ok(t);
        }
        let old = self.current();
        let generation = self.generation.load(Ordering::SeqCst);
        match store.active_bank_keys().await {
            Ok(keys) => {
                let mut table = KeyTable::with_capacity(keys.len());
                for k in keys {
                    let Some(hash) = hex_hash(&k.key_hash) else {
                        tracing::warn!(key = k.id, "a stored bank key hash is not 64 hex digits");
                        continue;
                    };
                    let kept = old
                        .as_ref()
                        .and_then(|o| o.get(&hash))
                        .filter(|s| s.id == k.id && s.rate_per_second == k.rate_per_second)
                        .cloned();
                    table.insert(
                        hash,
                        kept.unwrap_or_else(|| Arc::new(KeyState::new(k.id, k.rate_per_second))),
                    );
                }
                // Under the table's lock, so that a key revoked meanwhile is either left out here
                // or removed by `forget` right after.
                let mut current = self.table.write().unwrap_or_else(|p| p.into_inner());
                {
                    let revoked = self.revoked.lock().unwrap_or_else(|p| p.into_inner());
                    table.retain(|h, _| !revoked.contains(h));
                }
                let table = Arc::new(table);
                *current = Some(table.clone());
                drop(current);
                if self.generation.load(Ordering::SeqCst) == generation {
                    *self.times() = Times {
                        loaded_at: Some(now),
                        fresh_until: Some(now + REFRESH_EVERY),
                    };
                }
                Ok(table)
            }
            Err(e) => match old {
                Some(t) => {
                    tracing::warn!(error = %e, "cannot reload the bank keys; using those in memory");
                    *self.times() = Times {
                        loaded_at: Some(now),
                        fresh_until: Some(now + RETRY_AFTER_FAILURE),
                    };
                    Ok(t)
                }
                None => Err(ApiError::from(e)),
            },
        }
    }

    /// Makes the next check read the keys again (after this process issued one).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.times() = Times::default();
    }

    /// Drops a revoked key from memory at once, whatever happens to the next reload.
    pub fn forget(&self, key_hash_hex: &str) {
        if let Some(h) = hex_hash(key_hash_hex) {
            self.revoked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(h);
            let mut g = self.table.write().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = g.as_ref().filter(|t| t.contains_key(&h)) {
                let mut t = (**t).clone();
                t.remove(&h);
                *g = Some(Arc::new(t));
            }
        }
        self.invalidate();
    }

    /// Counters of the keys in memory: (id, checks, limited), by id.
    pub fn counts(&self) -> Vec<(i64, u64, u64)> {
        let mut v: Vec<(i64, u64, u64)> = self
            .current()
            .map(|t| {
                t.values()
                    .map(|s| {
                        (
                            s.id,
                            s.checks.load(Ordering::Relaxed),
                            s.limited.load(Ordering::Relaxed),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v
    }
}

fn hex_hash(s: &str) -> Option<[u8; 32]> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(s, &mut h).ok()?;
    Some(h)
}

/// 403 unless the user is an administrator with the national scope.
pub(crate) fn require_key_admin(me: &CurrentUser) -> ApiResult<()> {
    me.require(KEY_ADMINS)?;
    if me.user.scope != Scope::National {
        return Err(ApiError::forbidden(
            "bank API keys are managed by administrators with the national scope",
        ));
    }
    Ok(())
}

/// A key as the API and the console show it, with its use since this process started.
pub(crate) fn key_json(k: &BankKey, counts: &[(i64, u64, u64)]) -> Value {
    let (checks, limited) = counts
        .iter()
        .find(|c| c.0 == k.id)
        .map_or((0, 0), |c| (c.1, c.2));
    json!({
        "id": k.id,
        "bank": k.bank,
        "prefix": k.prefix,
        "rate_per_second": k.rate_per_second,
        "created_by": k.created_by,
        "created_at": k.created_at,
        "revoked_by": k.revoked_by,
        "revoked_at": k.revoked_at,
        "status": if k.revoked() { "revoked" } else { "active" },
        "checks_since_start": checks,
        "limited_since_start": limited,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    pub bank: String,
    #[serde(default)]
    pub rate_per_second: Option<u32>,
}

/// `POST /api/bank-keys`: issues a key; the answer is the only place it is ever shown.
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<NewKeyRequest>,
) -> ApiResult<Response> {
    require_key_admin(&me)?;
    let rate = req.rate_per_second.unwrap_or(DEFAULT_RATE);
    let (stored, fresh) = issue(&state.store, &req.bank, rate, &Actor::User(me.user.id)).await?;
    state.payee.keys.invalidate();
    let mut resp = (
        StatusCode::CREATED,
        Json(json!({
            "key": fresh.key,
            "bank_key": key_json(&stored, &[]),
            "note": "this is the only time the key is shown; posbon keeps only its SHA-256",
        })),
    )
        .into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

/// `GET /api/bank-keys`: every key, revoked ones too, never the keys themselves.
pub async fn list(State(state): State<AppState>, me: CurrentUser) -> ApiResult<Json<Value>> {
    require_key_admin(&me)?;
    let counts = state.payee.keys.counts();
    let keys: Vec<Value> = state
        .store
        .list_bank_keys()
        .await?
        .iter()
        .map(|k| key_json(k, &counts))
        .collect();
    Ok(Json(json!({ "bank_keys": keys })))
}

/// Revokes key `raw` (audited) and drops it from memory at once.
pub(crate) async fn revoke_key(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
) -> ApiResult<BankKey> {
    require_key_admin(me)?;
    let id = parse_id("bank key", raw)?;
    let k = state
        .store
        .revoke_bank_key(id, &Actor::User(me.user.id))
        .await?;
    state.payee.keys.forget(&k.key_hash);
    tracing::info!(key = k.id, "bank key revoked");
    Ok(k)
}

/// `POST /api/bank-keys/{id}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let k = revoke_key(&state, &me, &raw).await?;
    Ok(Json(
        json!({ "bank_key": key_json(&k, &state.payee.keys.counts()) }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_well_formed() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert_ne!(a.key, b.key);
        assert!(looks_like_key(&a.key), "{}", a.prefix);
        assert!(a.key.starts_with(&a.prefix) && a.prefix.len() == PREFIX_CHARS);
        assert_eq!(a.hash, hex::encode(key_hash(&a.key)));
        assert!(!format!("{a:?}").contains(&a.key[PREFIX_CHARS..]));
        assert!(!looks_like_key("pbk_xyz"));
        assert!(!looks_like_key(&a.key.to_uppercase()));
    }

    #[test]
    fn bucket_allows_a_second_of_burst_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(4, t0);
        for _ in 0..4 {
            assert!(b.take(t0).is_ok());
        }
        let wait = b.take(t0).unwrap_err();
        assert!(
            wait > Duration::from_millis(240) && wait <= Duration::from_millis(250),
            "{wait:?}"
        );
        // a quarter of a second later one token is back, and only one
        let t1 = t0 + Duration::from_millis(250);
        assert!(b.take(t1).is_ok());
        assert!(b.take(t1).is_err());
        // idle for a minute: the bucket holds one second's worth, not sixty
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..4 {
            assert!(b.take(t2).is_ok());
        }
        assert!(b.take(t2).is_err());
        // a clock that goes backwards gives nothing for free
        assert!(b.take(t0).is_err());
    }
}
