use domain::{ChainBreak, DomainError};
use sqlx::error::ErrorKind;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "unsupported database URL {0:?}: use sqlite:PATH (for example sqlite:posbon.db) or postgres://USER@HOST:PORT/DATABASE"
    )]
    UnsupportedUrl(String),
    // The driver's error is part of the message and not also a `source()`, so that a report
    // that prints the whole chain (`{:#}`) says it once.
    #[error("cannot open the database at {url}: {cause}")]
    Connect { url: String, cause: sqlx::Error },
    #[error("cannot bring the database at {url} to the current schema: {cause}")]
    Migrate {
        url: String,
        cause: sqlx::migrate::MigrateError,
    },
    #[error(
        "the database at {url} has no posbon schema (it was never opened by posbon serve, or the URL names another database)"
    )]
    NoSchema { url: String },
    /// A value broke one of the domain's rules; nothing was written.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: i64 },
    /// A unique value is taken (a username, an event already reviewed, ...); nothing was written.
    #[error("cannot {op}: {message}")]
    Conflict { op: &'static str, message: String },
    /// The record names another that does not exist (a mahalla, a user, ...); nothing was written.
    #[error("cannot {op}: it refers to a record that does not exist ({message})")]
    MissingReference { op: &'static str, message: String },
    /// The database's own constraints refused the values; nothing was written.
    #[error("cannot {op}: the database refused the values ({message})")]
    Rejected { op: &'static str, message: String },
    #[error("cannot {op}: {cause}")]
    Db {
        op: &'static str,
        cause: sqlx::Error,
    },
    /// A stored value cannot be read back as what it should be: it was changed outside posbon.
    #[error("stored {what} cannot be read: {reason}")]
    Corrupt { what: &'static str, reason: String },
    /// A row of a batch was refused; nothing of the batch was written.
    #[error("{what} #{index} (counting from 0): {error}")]
    Row {
        what: &'static str,
        index: usize,
        error: Box<Error>,
    },
    /// `audit verify` found the first row at which the chain does not hold.
    #[error(transparent)]
    ChainBroken(#[from] ChainBreak),
}

/// Turns a driver error into an [`Error`] that says what was being done, sorting constraint
/// violations (the caller's mistake) from failures of the database itself.
pub(crate) fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| {
        if let sqlx::Error::Database(d) = &e {
            let message = d.message().to_owned();
            match d.kind() {
                ErrorKind::UniqueViolation => return Error::Conflict { op, message },
                ErrorKind::ForeignKeyViolation => return Error::MissingReference { op, message },
                ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                    return Error::Rejected { op, message };
                }
                _ => {}
            }
        }
        Error::Db { op, cause: e }
    }
}

pub(crate) fn corrupt(what: &'static str) -> impl FnOnce(DomainError) -> Error {
    move |e| Error::Corrupt {
        what,
        reason: e.to_string(),
    }
}
