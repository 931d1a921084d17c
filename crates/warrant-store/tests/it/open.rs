//! Opening stores: several processes opening one new store at the same moment.
#![allow(clippy::unwrap_used)]

use crate::backends::TestDb;
use warrant_store::Store;

/// Opens `url` from `n` threads at once, each with its own runtime and connections (as separate
/// processes would), and returns each open's result.
fn open_together(url: &str, n: usize) -> Vec<Result<(), String>> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let url = url.to_string();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                barrier.wait();
                runtime.block_on(async {
                    let store = Store::open_url(&url).await.map_err(|e| e.to_string())?;
                    store.meta_get("x").await.map_err(|e| e.to_string())?;
                    Ok(())
                })
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Defect: two processes on a new SQLite store raced the migration (`table identities already
/// exists`, `database is locked`), about half of the tries failing.
#[test]
fn processes_opening_a_new_store_together_all_succeed() {
    for _round in 0..5 {
        let db = TestDb::sqlite();
        let results = open_together(&db.url, 6);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
    if let Some(db) = TestDb::postgres() {
        let results = open_together(&db.url, 6);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
}
