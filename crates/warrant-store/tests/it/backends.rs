//! The conformance suite's backends: every test written with [`conformance!`] runs once on
//! SQLite and once on PostgreSQL, each time on a database of its own, so tests run in parallel.
#![allow(clippy::unwrap_used)]

use warrant_store::Store;

/// A database for one test: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// database. Open it as often as a test needs (several handles are like several processes).
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn open(&self) -> Store {
        Store::open_url(&self.url).await.unwrap()
    }

    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("nested/dir/w.db").display());
        TestDb {
            url,
            _dir: Some(dir),
        }
    }

    /// `None` when PostgreSQL is unavailable outside CI (see `pg`).
    pub fn postgres() -> Option<TestDb> {
        crate::pg::fresh_database().map(|url| TestDb { url, _dir: None })
    }
}

/// Defines a test that runs on both backends: `conformance! { #[tokio::test] async fn name(db)
/// { … } }` becomes `name::sqlite` and `name::postgres`, each given its own [`TestDb`].
macro_rules! conformance {
    ($(#[$test:meta])* async fn $name:ident($db:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($db: &$crate::backends::TestDb) $body

            $(#[$test])*
            async fn sqlite() {
                run(&$crate::backends::TestDb::sqlite()).await;
            }

            $(#[$test])*
            async fn postgres() {
                if let Some(db) = $crate::backends::TestDb::postgres() {
                    run(&db).await;
                }
            }
        }
    };
}
