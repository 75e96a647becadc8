//! What the console needs beyond the API's queries: the list of accounts, disabling and
//! re-enabling one (audited in the same transaction, and ending its sessions), and the incident
//! made from a camera event (who may see the event's evidence depends on it).
use domain::{Actor, EventId, Incident, IncidentId, User, UserId};
use serde_json::json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::RowExt;
use crate::error::{Error, Result, db};
use crate::users::user_from_row;

impl Store {
    /// Every account, by id (disabled ones too). Accounts number in the hundreds, not millions.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(
                "SELECT id, username, display_name, password_hash, role, scope_level, scope_region_id, \
                 scope_district_id, scope_mahalla_id, disabled, created_at FROM users ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .map_err(db("list users"))?
            .iter()
            .map(user_from_row)
            .collect()
        })
    }

    /// Disables (or re-enables) an account, in one transaction with its audit entry
    /// (`user.disable` / `user.enable`, by `actor`). Disabling also ends the account's sessions.
    /// Returns the account as it now is.
    pub async fn set_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        actor: &Actor,
    ) -> Result<User> {
        let at = self.now();
        write_tx!(self, audit = true, |tx, _pg| {
            let n = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(disabled)
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db("change whether a user is disabled"))?
                .rows_affected();
            if n == 0 {
                return Err(Error::NotFound {
                    what: "user",
                    id: id.0,
                });
            }
            let sessions = if disabled {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("end a disabled user's sessions"))?
                    .rows_affected()
            } else {
                0
            };
            tx.append_audit(
                at,
                &actor.to_string(),
                if disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                &Actor::User(id).to_string(),
                &json!({ "sessions_ended": sessions }),
            )
            .await?;
        });
        self.get_user(id).await?.ok_or(Error::NotFound {
            what: "user",
            id: id.0,
        })
    }

    /// The incident opened by confirming `event`, if there is one (at most one: the column is
    /// unique).
    pub async fn incident_for_event(&self, event: EventId) -> Result<Option<Incident>> {
        let id: Option<i64> = with_pool!(self, |pool, _pg| {
            sqlx::query("SELECT id FROM incidents WHERE event_id = $1")
                .bind(event.0)
                .fetch_optional(pool)
                .await
                .map_err(db("find the incident made from an event"))?
                .map(|r| r.i64("id"))
                .transpose()?
        });
        match id {
            Some(id) => self.get_incident(IncidentId(id)).await,
            None => Ok(None),
        }
    }
}
