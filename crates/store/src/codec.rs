//! How domain values go into and come out of both databases.
//!
//! Times: PostgreSQL keeps them as TIMESTAMPTZ (microseconds, like [`Timestamp`]); SQLite as
//! TEXT in the fixed-width form `YYYY-MM-DDTHH:MM:SS.ffffffZ`, which sorts in time order, so
//! range queries and indexes work on the text. Either way a time reads back exactly as written.
use std::str::FromStr;

use domain::{DomainError, Timestamp};
use serde_json::Value;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgRow, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteRow, SqliteTypeInfo, SqliteValueRef};
use sqlx::types::Json;
use sqlx::{Decode, Encode, Postgres, Row, Sqlite, Type};
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// A [`Timestamp`] as a column value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DbTs(pub Timestamp);

impl Type<Sqlite> for DbTs {
    fn type_info() -> SqliteTypeInfo {
        <str as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <str as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbTs {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTs {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(DbTs(s.parse()?))
    }
}

impl Type<Postgres> for DbTs {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbTs {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<'_, Postgres>>::encode(self.0.to_offset_date_time(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTs {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let t = <OffsetDateTime as Decode<'r, Postgres>>::decode(value)?;
        Ok(DbTs(Timestamp::from_offset_date_time(t)?))
    }
}

/// Typed column access, the same on both backends' rows.
pub(crate) trait RowExt {
    fn i64(&self, col: &str) -> Result<i64>;
    fn opt_i64(&self, col: &str) -> Result<Option<i64>>;
    fn f64_opt(&self, col: &str) -> Result<Option<f64>>;
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn boolean(&self, col: &str) -> Result<bool>;
    fn ts(&self, col: &str) -> Result<Timestamp>;
    fn opt_ts(&self, col: &str) -> Result<Option<Timestamp>>;
    fn json(&self, col: &str) -> Result<Value>;
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn i64(&self, col: &str) -> Result<i64> {
                self.try_get(col).map_err(column_error)
            }
            fn opt_i64(&self, col: &str) -> Result<Option<i64>> {
                self.try_get(col).map_err(column_error)
            }
            fn f64_opt(&self, col: &str) -> Result<Option<f64>> {
                self.try_get(col).map_err(column_error)
            }
            fn text(&self, col: &str) -> Result<String> {
                self.try_get(col).map_err(column_error)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>> {
                self.try_get(col).map_err(column_error)
            }
            fn boolean(&self, col: &str) -> Result<bool> {
                self.try_get(col).map_err(column_error)
            }
            fn ts(&self, col: &str) -> Result<Timestamp> {
                self.try_get::<DbTs, _>(col)
                    .map(|t| t.0)
                    .map_err(column_error)
            }
            fn opt_ts(&self, col: &str) -> Result<Option<Timestamp>> {
                self.try_get::<Option<DbTs>, _>(col)
                    .map(|t| t.map(|t| t.0))
                    .map_err(column_error)
            }
            fn json(&self, col: &str) -> Result<Value> {
                self.try_get::<Json<Value>, _>(col)
                    .map(|j| j.0)
                    .map_err(column_error)
            }
        }
    };
}

impl_row_ext!(SqliteRow);
impl_row_ext!(PgRow);

fn column_error(e: sqlx::Error) -> Error {
    Error::Corrupt {
        what: "column",
        reason: e.to_string(),
    }
}

/// Parses a stored word (a role, a status, ...).
pub(crate) fn word<T: FromStr<Err = DomainError>>(what: &'static str, s: &str) -> Result<T> {
    s.parse().map_err(crate::error::corrupt(what))
}

/// A point from its two nullable columns.
pub(crate) fn point(row: &impl RowExt) -> Result<Option<domain::GeoPoint>> {
    Ok(match (row.f64_opt("lon")?, row.f64_opt("lat")?) {
        (Some(lon), Some(lat)) => Some(domain::GeoPoint { lon, lat }),
        _ => None,
    })
}
