//! The schema history of both backends, embedded in the binary.
//!
//! Built at run time from `include_str!` rather than with sqlx's `migrate!` macro: the macro
//! needs sqlx's `macros` feature, whose proc-macro crate compiles sqlx, both drivers and the C
//! SQLite library a second time for the build host, minutes of a first build on two cores.
//! The migrations are the same to sqlx either way: version and description from the file name,
//! checksum the SHA-384 of the file's text, so stores created by earlier builds (with the macro)
//! open unchanged.
//!
//! These files are applied to existing stores: never edit or renumber one (sqlx checks their
//! checksums); add a new one instead, to both lists, one PostgreSQL file per SQLite file.

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::SqlSafeStr as _;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::dialect::Backend;

/// (file name, text) of each SQLite migration, in order.
const SQLITE: &[(&str, &str)] = &[
    (
        "0001_inventory.sql",
        include_str!("../migrations/sqlite/0001_inventory.sql"),
    ),
    (
        "0002_findings.sql",
        include_str!("../migrations/sqlite/0002_findings.sql"),
    ),
    (
        "0003_activity.sql",
        include_str!("../migrations/sqlite/0003_activity.sql"),
    ),
    (
        "0004_ingested_stamps.sql",
        include_str!("../migrations/sqlite/0004_ingested_stamps.sql"),
    ),
    (
        "0005_saved_views.sql",
        include_str!("../migrations/sqlite/0005_saved_views.sql"),
    ),
    (
        "0006_governance.sql",
        include_str!("../migrations/sqlite/0006_governance.sql"),
    ),
    (
        "0007_remediation.sql",
        include_str!("../migrations/sqlite/0007_remediation.sql"),
    ),
    (
        "0008_reviews.sql",
        include_str!("../migrations/sqlite/0008_reviews.sql"),
    ),
    (
        "0009_ownership.sql",
        include_str!("../migrations/sqlite/0009_ownership.sql"),
    ),
    (
        "0010_owner_evidence.sql",
        include_str!("../migrations/sqlite/0010_owner_evidence.sql"),
    ),
    (
        "0011_leaked_credentials.sql",
        include_str!("../migrations/sqlite/0011_leaked_credentials.sql"),
    ),
    (
        "0012_accounts.sql",
        include_str!("../migrations/sqlite/0012_accounts.sql"),
    ),
    (
        "0013_run_aggregates.sql",
        include_str!("../migrations/sqlite/0013_run_aggregates.sql"),
    ),
    (
        "0014_findings_by_status.sql",
        include_str!("../migrations/sqlite/0014_findings_by_status.sql"),
    ),
    (
        "0015_scored_facets.sql",
        include_str!("../migrations/sqlite/0015_scored_facets.sql"),
    ),
    (
        "0016_gateway.sql",
        include_str!("../migrations/sqlite/0016_gateway.sql"),
    ),
    (
        "0017_gateway_tools.sql",
        include_str!("../migrations/sqlite/0017_gateway_tools.sql"),
    ),
];

/// The same schema for PostgreSQL.
const POSTGRES: &[(&str, &str)] = &[
    (
        "0001_inventory.sql",
        include_str!("../migrations/postgres/0001_inventory.sql"),
    ),
    (
        "0002_findings.sql",
        include_str!("../migrations/postgres/0002_findings.sql"),
    ),
    (
        "0003_activity.sql",
        include_str!("../migrations/postgres/0003_activity.sql"),
    ),
    (
        "0004_ingested_stamps.sql",
        include_str!("../migrations/postgres/0004_ingested_stamps.sql"),
    ),
    (
        "0005_saved_views.sql",
        include_str!("../migrations/postgres/0005_saved_views.sql"),
    ),
    (
        "0006_governance.sql",
        include_str!("../migrations/postgres/0006_governance.sql"),
    ),
    (
        "0007_remediation.sql",
        include_str!("../migrations/postgres/0007_remediation.sql"),
    ),
    (
        "0008_reviews.sql",
        include_str!("../migrations/postgres/0008_reviews.sql"),
    ),
    (
        "0009_ownership.sql",
        include_str!("../migrations/postgres/0009_ownership.sql"),
    ),
    (
        "0010_owner_evidence.sql",
        include_str!("../migrations/postgres/0010_owner_evidence.sql"),
    ),
    (
        "0011_leaked_credentials.sql",
        include_str!("../migrations/postgres/0011_leaked_credentials.sql"),
    ),
    (
        "0012_accounts.sql",
        include_str!("../migrations/postgres/0012_accounts.sql"),
    ),
    (
        "0013_run_aggregates.sql",
        include_str!("../migrations/postgres/0013_run_aggregates.sql"),
    ),
    (
        "0014_findings_by_status.sql",
        include_str!("../migrations/postgres/0014_findings_by_status.sql"),
    ),
    (
        "0015_scored_facets.sql",
        include_str!("../migrations/postgres/0015_scored_facets.sql"),
    ),
    (
        "0016_gateway.sql",
        include_str!("../migrations/postgres/0016_gateway.sql"),
    ),
    (
        "0017_gateway_tools.sql",
        include_str!("../migrations/postgres/0017_gateway_tools.sql"),
    ),
];

/// The embedded files of one backend, as a source sqlx's [`Migrator`] resolves.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Embedded(&'static [(&'static str, &'static str)]);

impl Embedded {
    pub(crate) fn of(backend: Backend) -> Embedded {
        match backend {
            Backend::Sqlite => Embedded(SQLITE),
            Backend::Postgres => Embedded(POSTGRES),
        }
    }

    /// The migrations, parsed the way sqlx parses a migrations directory.
    pub(crate) fn migrations(self) -> Result<Vec<Migration>, BoxDynError> {
        self.0
            .iter()
            .map(|(name, sql)| {
                let (version, rest) = name
                    .split_once('_')
                    .ok_or_else(|| format!("migration file name without a version: {name}"))?;
                let version: i64 = version
                    .parse()
                    .map_err(|_| format!("migration version is not a number: {name}"))?;
                let description = rest.trim_end_matches(".sql").replace('_', " ");
                Ok(Migration::new(
                    version,
                    Cow::Owned(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    sql.starts_with("-- no-transaction"),
                ))
            })
            .collect()
    }
}

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { self.migrations() })
    }
}

/// The migrator of `backend`.
pub(crate) async fn migrator(backend: Backend) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded::of(backend)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store saved before schema 15 gets its runs' facets from their summaries, so filtered
    /// listings of the run it already has work without assessing again.
    #[tokio::test]
    async fn schema_15_takes_the_facets_of_saved_runs_from_their_summaries() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        Migrator::new(Embedded(&SQLITE[..14]))
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        for sql in [
            "INSERT INTO assessments (id, source, as_of, n_findings) VALUES (1, 'posture', '2026-11-01T00:00:00.000000Z', 0)",
            r#"INSERT INTO risks (identity, assessment, score, blast_radius, exposure, data, summary) VALUES
               ('r1', 1, 50, 50, 50, '{}', '{"provider":"aws","kind":"aws_role","name":"Deploy","environment":"production","status":"active","account":"1111","owners":["Ana","team-data"],"tier":"crown"}'),
               ('r2', 1, 40, 40, 40, '{}', '{"provider":"github","kind":"github_app","name":"CI-bot","environment":"unknown","status":"inactive","owners":[]}'),
               ('r3', 1, 30, 30, 30, '{}', NULL)"#,
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        Migrator::new(Embedded(SQLITE))
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        let rows = sqlx::query(
            "SELECT identity, provider, kind, environment, status, account, tier, \
             CAST(owned AS TEXT), owners, name FROM risks ORDER BY identity",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        use sqlx::Row;
        let got: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| (0..10).map(|i| r.try_get(i).unwrap()).collect())
            .collect();
        let row = |v: [Option<&str>; 10]| v.map(|c| c.map(str::to_string)).to_vec();
        assert_eq!(
            got[0],
            row([
                Some("r1"),
                Some("aws"),
                Some("aws_role"),
                Some("production"),
                Some("active"),
                Some("1111"),
                Some("crown"),
                Some("1"),
                Some("ana\nteam-data"),
                Some("deploy"),
            ])
        );
        assert_eq!(
            got[1],
            row([
                Some("r2"),
                Some("github"),
                Some("github_app"),
                Some("unknown"),
                Some("inactive"),
                None,
                None,
                Some("0"),
                None,
                Some("ci-bot"),
            ])
        );
        let mut untouched = [None; 10];
        untouched[0] = Some("r3");
        assert_eq!(got[2], row(untouched));
    }

    /// Each list names every file of its directory, so a new migration cannot be forgotten.
    #[test]
    fn every_migration_file_is_embedded() {
        for (dir, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut files: Vec<String> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            files.sort();
            let names: Vec<&str> = list.iter().map(|(n, _)| *n).collect();
            assert_eq!(names, files, "{dir}");
        }
    }

    /// What stores made by earlier builds (which used the `migrate!` macro) recorded in
    /// `_sqlx_migrations`, read from such a store: the embedded list must reproduce it exactly or
    /// those stores would no longer open.
    #[test]
    fn versions_descriptions_and_checksums_are_what_the_macro_recorded() {
        let recorded = [
            (
                1,
                "inventory",
                "bd5a627b6709f74c8915bc6b2895f5168656efae43ba19a106182b574c319feb0577f0bc2ea83257fc585090b0392718",
            ),
            (
                2,
                "findings",
                "fbfd8b98cd9a3d534f18142f2e24097b6609fb3b30685019d5d5088fae32b1c4387e2914a4047896a0b11ff0a58b9f6a",
            ),
            (
                3,
                "activity",
                "8f13dc0299b7daaefa30acba7f0e23196c60a82048c0c279f9816e6dd22fc3ec5ec16c84c2ba8e2efc2b50e302211df5",
            ),
            (
                4,
                "ingested stamps",
                "e198d2611b37a75b808714144e320142027b85a4996142cd687a53c06a41c40792754bc117a6c0a2a4f9aee7bcd74a59",
            ),
            // Embedded from the start (no macro recorded it); pinned so it never changes.
            (
                5,
                "saved views",
                "171020b1718cb0205a4b9b53b3ada0cc0c0410bb6f377f14fffa5f8ce32fc1c1fe345b44a1b6085220d9b42dbd7b6692",
            ),
            (
                6,
                "governance",
                "a99f143ef0b79ea667a104bbc0d2c8b8f4e6af0e88076204b60c2a3cf59b7d2607ac5d1dfcf4ca8b71ee4ec47714617d",
            ),
            (
                7,
                "remediation",
                "fbe33edb608bb76653baa5f388d7b61c36b908c3fabefe621b956d2e8da0d478ff899a03363cc11695033595aad1e9ec",
            ),
            (
                8,
                "reviews",
                "a5d1f9c9832f1dfdae3c4d951cc1f94f98079377d3b0946460144c77cfb350de05ca119792ed1d1dfa5d1d3227bc89ab",
            ),
            (
                9,
                "ownership",
                "18758e6b741970017cbaf635df1451a2c8588d2f93239758aa5b01f63482f75f5049ba3f33dced2e498b7f56105d41c7",
            ),
            (
                10,
                "owner evidence",
                "d71e490f34027f431ffe54861ac5556f04e447d1a18307822faaa0a8d47e36107f0b6e0349349625212a405f002bb9d5",
            ),
            (
                11,
                "leaked credentials",
                "784338b767a3d5ab8b334c607a64d2c470c8e001b8f8178ebd33f5d37a7dd0608c6313f1028235e0564ff5eb49da2dd8",
            ),
            (
                12,
                "accounts",
                "178ba9ae53a7b8b30a2409d79f7463c29faf2d352246d9ec8d2742aa1dd3d19bb350fa8ee0c783efea6a3b5af03b7623",
            ),
            (
                13,
                "run aggregates",
                "dda5e310ea2942a12576be1e47e8ef54ad45a4e33eb0ef2a463dae283464497461291ad3b1ce1cbccd2a68e809f6da47",
            ),
            (
                14,
                "findings by status",
                "2ca9b34694c901ea6062a96879576a2cf75745f3d0c781bc6f56ce1837ebeedf0f4eafbfd8ec926e9a421bdf0861e1c1",
            ),
            (
                15,
                "scored facets",
                "85515d54d895cd94f25b8453779a1f02cdd0408f4a90f884d76433d633fd7836bcea741725adb8e8f1344e064a1fa47d",
            ),
            (
                16,
                "gateway",
                "ea4147f2a6b20310b0e3a33c3597d9ed0d7606788e14059229f8049c55647ac4f3d401bfe06f7709672c8b859848730f",
            ),
            (
                17,
                "gateway tools",
                "6b940e0d51df52820fb35ee26fb74af9171abbc09267be71e8a7816f6da5b30516b5371d372876699afb4ec9e8f57d82",
            ),
        ];
        let migrations = Embedded::of(Backend::Sqlite).migrations().unwrap();
        let ours: Vec<(i64, String, String)> = migrations
            .iter()
            .map(|m| {
                (
                    m.version,
                    m.description.to_string(),
                    hex::encode(&m.checksum),
                )
            })
            .collect();
        let theirs: Vec<(i64, String, String)> = recorded
            .iter()
            .map(|(v, d, c)| (*v, d.to_string(), c.to_string()))
            .collect();
        assert_eq!(ours, theirs);
        let postgres = Embedded::of(Backend::Postgres).migrations().unwrap();
        assert_eq!(postgres.len(), migrations.len());
    }
}
