//! Login sessions of the HTTP server. The server hands the client a random token and a CSRF
//! token; the store keeps only their SHA-256 hashes (hex), so reading the database does not let
//! anyone take over a session.
use domain::{Timestamp, UserId};

use crate::Store;
use crate::codec::{DbTs, RowExt};
use crate::error::{Result, db};

/// A live session, as looked up by its token's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: UserId,
    /// SHA-256 of the CSRF token, hex.
    pub csrf_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Store {
    /// Records a session for `user` until `expires_at`. `token_hash` and `csrf_hash` are
    /// SHA-256 digests in hex (64 characters); hashing is the caller's job.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf_hash: &str,
        expires_at: Timestamp,
    ) -> Result<Session> {
        let now = self.now();
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(user.0)
            .bind(csrf_hash)
            .bind(DbTs(now))
            .bind(DbTs(expires_at))
            .execute(pool)
            .await
            .map_err(db("record the session"))?;
        });
        Ok(Session {
            user,
            csrf_hash: csrf_hash.to_owned(),
            created_at: now,
            expires_at,
        })
    }

    /// The session whose token hashes to `token_hash`, if it exists and has not expired by the
    /// store's clock.
    pub async fn get_session(&self, token_hash: &str) -> Result<Option<Session>> {
        let now = self.now();
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(
                "SELECT user_id, csrf_hash, created_at, expires_at FROM sessions \
                 WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(DbTs(now))
            .fetch_optional(pool)
            .await
            .map_err(db("read a session"))?;
            row.map(|r| {
                Ok(Session {
                    user: UserId(r.i64("user_id")?),
                    csrf_hash: r.text("csrf_hash")?,
                    created_at: r.ts("created_at")?,
                    expires_at: r.ts("expires_at")?,
                })
            })
            .transpose()
        })
    }

    /// Ends a session (logout). Returns whether there was one.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        with_pool!(self, |pool, _pg| {
            let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await
                .map_err(db("end the session"))?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Deletes sessions that expired; returns how many.
    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        let now = self.now();
        with_pool!(self, |pool, _pg| {
            let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(DbTs(now))
                .execute(pool)
                .await
                .map_err(db("delete expired sessions"))?;
            Ok(done.rows_affected())
        })
    }
}
