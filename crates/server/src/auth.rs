//! Passwords, sessions, CSRF and the login rate limit.
//!
//! - Passwords are kept only as Argon2id PHC strings. A login for an unknown or disabled user
//!   still runs one Argon2 verification (against a hash made at start-up), so the answer's timing
//!   does not say whether the username exists; every failure gets the same answer.
//! - A session is a random 256-bit token sent as an HttpOnly, SameSite=Strict cookie; the
//!   database keeps only its SHA-256. Login also returns a CSRF token (the SHA-256 of the session
//!   token under a label, also kept only hashed; see [`csrf_for`]) that every state-changing API
//!   request must echo in `X-CSRF-Token`, and every console form in its `_csrf` field.
//! - Logins are limited per (username, client IP): [`LOGIN_LIMIT`] attempts per
//!   [`LOGIN_WINDOW`]; more are answered 429 without checking the password.
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{Actor, Role, User};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;

pub const SESSION_COOKIE: &str = "posbon_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const LOGIN_LIMIT: usize = 5;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// An Argon2id PHC string for `password`, with a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`. An unreadable hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(h) => argon2().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// `n` random bytes from the operating system, hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::getrandom(&mut b).expect("the operating system's random number generator failed");
    hex::encode(b)
}

/// A password for a new account: 20 random characters from an unambiguous alphabet (~115 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 20];
    getrandom::getrandom(&mut b).expect("the operating system's random number generator failed");
    // 256 is not a multiple of 56: the bias (at most 1 in 256 per character) costs < 1 bit.
    b.iter()
        .map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char)
        .collect()
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Equality that takes the same time wherever the inputs first differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Attempts per (username, IP) in the last [`LOGIN_WINDOW`].
#[derive(Default)]
pub struct LoginLimiter {
    attempts: Mutex<HashMap<(String, IpAddr), Vec<Instant>>>,
}

impl LoginLimiter {
    /// Records an attempt; `false` if the limit is already reached (the attempt is refused).
    fn allow(&self, username: &str, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        // Keep the map bounded: forget keys whose attempts are all old.
        if map.len() > 10_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < LOGIN_WINDOW));
        }
        let v = map.entry((username.to_owned(), ip)).or_default();
        v.retain(|t| now.duration_since(*t) < LOGIN_WINDOW);
        if v.len() >= LOGIN_LIMIT {
            return false;
        }
        v.push(now);
        true
    }
}

/// The logged-in user of a request, found from the session cookie. For any method other than
/// GET and HEAD the `X-CSRF-Token` header must match the session's CSRF token, or the request
/// is refused with 403 before its handler runs.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub token_hash: String,
}

impl CurrentUser {
    pub fn actor(&self) -> String {
        Actor::User(self.user.id).to_string()
    }

    /// 403 unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "this needs one of the roles {}; you are {}",
                names.join(", "),
                self.user.role
            )))
        }
    }
}

/// The session token in the request's cookie, if any.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

/// The CSRF token of the session whose token is `session_token`: derived from it, so a page
/// rendered by the server (which sees the cookie) can put it in its forms, while the database
/// keeps only its hash. Knowing it does not reveal the session token (SHA-256 is one-way).
pub fn csrf_for(session_token: &str) -> String {
    sha256_hex(&format!("posbon-csrf-v1:{session_token}"))
}

/// Whether `sent` is the CSRF token of `session` (compared in constant time over the hashes).
pub(crate) fn csrf_matches(sent: Option<&str>, session: &store::Session) -> bool {
    let sent = sent.map(sha256_hex).unwrap_or_default();
    ct_eq(sent.as_bytes(), session.csrf_hash.as_bytes())
}

/// The live session of the request and its active user: `None` when there is no cookie, it is
/// malformed, unknown or expired, or the user is disabled.
pub(crate) async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<(User, store::Session, String)>> {
    let Some(token) = session_token(headers).filter(|t| t.len() == 64) else {
        return Ok(None);
    };
    let token_hash = sha256_hex(token);
    let Some(session) = state.store.get_session(&token_hash).await? else {
        return Ok(None);
    };
    let user = state
        .store
        .get_user(session.user)
        .await?
        .filter(|u| !u.disabled);
    Ok(user.map(|u| (u, session, token_hash)))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let (user, session, token_hash) = session_of(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !csrf_matches(sent, &session) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "missing or wrong X-CSRF-Token header",
                    "send the csrf_token that POST /api/login returned in the X-CSRF-Token header",
                ));
            }
        }
        Ok(CurrentUser { user, token_hash })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A session just started by [`start_session`].
pub struct NewSession {
    pub user: User,
    /// The session token, for the cookie (never stored: the database keeps its hash).
    pub token: String,
    /// Its CSRF token ([`csrf_for`] of the token).
    pub csrf: String,
    pub expires_at: domain::Timestamp,
}

/// Checks a username and password against the rate limit and the stored hash and starts a
/// session, auditing each outcome (`auth.login`, `auth.login_failed`, `auth.login_limited`). The
/// API's and the console's logins both go through here. Errors: 429 over the limit, 401 for any
/// wrong username or password (the same answer whether or not the user exists).
pub async fn start_session(
    state: &AppState,
    ip: IpAddr,
    username: &str,
    password: String,
) -> ApiResult<NewSession> {
    // The limiter's key is bounded in size whatever the client sends.
    let username: String = username.chars().take(64).collect();
    if !state.login_limiter.allow(&username, ip) {
        tracing::warn!(%ip, username = %username.escape_debug(), "login rate limit reached");
        let shown = if domain::access::validate_username(&username).is_ok() {
            username.clone()
        } else {
            "(not a valid username)".into()
        };
        state
            .store
            .audit_append(
                "public",
                "auth.login_limited",
                "",
                &json!({ "username": shown, "ip": ip.to_string() }),
            )
            .await?;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many login attempts for this username from this address (at most {LOGIN_LIMIT} a minute)"
            ),
            "wait a minute and try again",
        ));
    }
    let user = if domain::access::validate_username(&username).is_ok() {
        state.store.get_user_by_username(&username).await?
    } else {
        None
    };
    // Verify against the user's hash, or against a hash that matches nothing, so that every
    // failure costs the same Argon2 work.
    let hash = user
        .as_ref()
        .map_or(state.dummy_hash.as_str(), |u| u.password_hash.as_str());
    let hash_owned = hash.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash_owned))
        .await
        .map_err(|e| ApiError::internal("check the password", &e))?;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        other => {
            let (target, reason) = match &other {
                None => (String::new(), "unknown username"),
                Some(u) if u.disabled => (Actor::User(u.id).to_string(), "account disabled"),
                Some(u) => (Actor::User(u.id).to_string(), "wrong password"),
            };
            let shown = if other.is_some() || domain::access::validate_username(&username).is_ok() {
                username.clone()
            } else {
                "(not a valid username)".into()
            };
            tracing::info!(%ip, username = %shown, reason, "login failed");
            state
                .store
                .audit_append(
                    "public",
                    "auth.login_failed",
                    &target,
                    &json!({ "username": shown, "ip": ip.to_string(), "reason": reason }),
                )
                .await?;
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong username or password",
                "check both and try again",
            ));
        }
    };
    let token = random_hex(32);
    let csrf = csrf_for(&token);
    let expires_at = state
        .store_now()
        .saturating_add_micros(state.session_ttl.as_micros() as i64);
    state
        .store
        .create_session(&sha256_hex(&token), user.id, &sha256_hex(&csrf), expires_at)
        .await?;
    let actor = Actor::User(user.id).to_string();
    state
        .store
        .audit_append(
            &actor,
            "auth.login",
            &actor,
            &json!({ "ip": ip.to_string(), "expires_at": expires_at.to_string() }),
        )
        .await?;
    tracing::info!(%ip, user = %user.id, "login");
    Ok(NewSession {
        user,
        token,
        csrf,
        expires_at,
    })
}

/// The `Set-Cookie` value that hands `token` to the browser.
pub fn session_cookie(state: &AppState, token: &str) -> ApiResult<HeaderValue> {
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        state.session_ttl.as_secs(),
        if state.secure_cookies { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal("set the cookie", &e))
}

/// The `Set-Cookie` value that removes the session cookie.
pub const CLEAR_SESSION_COOKIE: &str =
    "posbon_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

/// `POST /api/login`.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let s = start_session(&state, peer.ip(), &req.username, req.password).await?;
    let mut resp = axum::Json(json!({
        "user": s.user,
        "csrf_token": s.csrf,
        "expires_at": s.expires_at,
    }))
    .into_response();
    resp.headers_mut()
        .insert(SET_COOKIE, session_cookie(&state, &s.token)?);
    Ok(resp)
}

/// `POST /api/logout`: ends the session (CSRF-checked like every state change).
pub async fn logout(State(state): State<AppState>, me: CurrentUser) -> ApiResult<Response> {
    state.store.delete_session(&me.token_hash).await?;
    let actor = me.actor();
    state
        .store
        .audit_append(&actor, "auth.logout", &actor, &json!({}))
        .await?;
    let mut resp = axum::Json(json!({ "logged_out": true })).into_response();
    resp.headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_static(CLEAR_SESSION_COOKIE));
    Ok(resp)
}

/// `GET /api/me`.
pub async fn me(me: CurrentUser) -> axum::Json<User> {
    axum::Json(me.user)
}
