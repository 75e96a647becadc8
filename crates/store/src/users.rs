//! User accounts.
use domain::{DistrictId, MahallaId, NewUser, RegionId, Role, Scope, User, UserId};

use crate::Store;
use crate::codec::{DbTs, RowExt, word};
use crate::error::{Error, Result, db};

/// `SELECT <every user column> FROM users <rest>`, as one literal.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, username, display_name, password_hash, role, scope_level, scope_region_id, ",
            "scope_district_id, scope_mahalla_id, disabled, created_at FROM users ",
            $rest
        )
    };
}

impl Store {
    /// Creates an account. The username must be free and the scope's place must exist.
    pub async fn create_user(&self, u: &NewUser) -> Result<User> {
        u.validate()?;
        let created_at = self.now();
        let (region, district, mahalla) = scope_columns(&u.scope);
        let id: i64 = with_pool!(self, |pool, _pg| {
            sqlx::query_scalar(
                "INSERT INTO users (username, display_name, password_hash, role, scope_level, \
                 scope_region_id, scope_district_id, scope_mahalla_id, disabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(&u.username)
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(u.role.as_str())
            .bind(u.scope.level())
            .bind(region)
            .bind(district)
            .bind(mahalla)
            .bind(false)
            .bind(DbTs(created_at))
            .fetch_one(pool)
            .await
            .map_err(db("create the user"))?
        });
        Ok(User {
            id: UserId(id),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            password_hash: u.password_hash.clone(),
            role: u.role,
            scope: u.scope,
            disabled: false,
            created_at,
        })
    }

    pub async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_users!("WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(pool)
                .await
                .map_err(db("read a user"))?;
            row.as_ref().map(user_from_row).transpose()
        })
    }

    /// For logging in.
    pub async fn get_user_by_username(&self, username: &str) -> Result<Option<User>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query(select_users!("WHERE username = $1"))
                .bind(username)
                .fetch_optional(pool)
                .await
                .map_err(db("read a user"))?;
            row.as_ref().map(user_from_row).transpose()
        })
    }
}

/// The scope as its three nullable foreign keys: exactly one is set unless it is national.
fn scope_columns(s: &Scope) -> (Option<i64>, Option<i64>, Option<i64>) {
    match *s {
        Scope::National => (None, None, None),
        Scope::Region(RegionId(id)) => (Some(id), None, None),
        Scope::District(DistrictId(id)) => (None, Some(id), None),
        Scope::Mahalla(MahallaId(id)) => (None, None, Some(id)),
    }
}

pub(crate) fn user_from_row(r: &impl RowExt) -> Result<User> {
    let level = r.text("scope_level")?;
    let place = r
        .opt_i64("scope_region_id")?
        .or(r.opt_i64("scope_district_id")?)
        .or(r.opt_i64("scope_mahalla_id")?);
    let scope = Scope::from_parts(&level, place).map_err(|e| Error::Corrupt {
        what: "user scope",
        reason: e.to_string(),
    })?;
    Ok(User {
        id: UserId(r.i64("id")?),
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        password_hash: r.text("password_hash")?,
        role: word::<Role>("user role", &r.text("role")?)?,
        scope,
        disabled: r.boolean("disabled")?,
        created_at: r.ts("created_at")?,
    })
}
