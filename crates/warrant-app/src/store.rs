//! Operations on whole stores.

use warrant_store::{CopyReport, Store};

use crate::error::AppError;

/// Copies every record of the store at `from` into the new, empty store at `to` (e.g. SQLite
/// to PostgreSQL) and verifies row counts and content checksums of every table: any
/// difference is an error, so a returned report means nothing was lost.
pub async fn migrate(from: &str, to: &str) -> Result<CopyReport, AppError> {
    let (from_shown, to_shown) = (
        warrant_store::redacted_location(from),
        warrant_store::redacted_location(to),
    );
    // Opening a SQLite store that does not exist would create an empty one and copy nothing.
    if let Some(file) = warrant_store::sqlite_file(from)
        && !file.exists()
    {
        return Err(AppError::Invalid(format!("no store at {from_shown}")));
    }
    let source = Store::open_url(from)
        .await
        .map_err(|source| AppError::StoreAt {
            context: format!("opening {from_shown}"),
            source,
        })?;
    let target = Store::open_url(to)
        .await
        .map_err(|source| AppError::StoreAt {
            context: format!("opening {to_shown}"),
            source,
        })?;
    let report = source
        .copy_to(&target)
        .await
        .map_err(|source| AppError::StoreAt {
            context: format!("copying {from_shown} to {to_shown}"),
            source,
        })?;
    source.close().await;
    target.close().await;
    Ok(report)
}
