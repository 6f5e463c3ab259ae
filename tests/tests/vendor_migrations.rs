//! The vendor's own migrations: each applied once, in order, under the runtime's migration lock
//! and recorded in `addon_vendor_schema`; several instances starting at once on PostgreSQL (each
//! its own runtime and pool, as separate processes would be) all come up; a migration already
//! applied that was edited or removed stops the start with an error that names it.

use std::sync::{Arc, Barrier};

use addon_runtime::{Migrations, Store};
use addon_tests::*;
use sqlx::Row;

/// Table names unique to one test run, as PostgreSQL's database is shared by every test.
fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", new_uuid().replace('-', "_"))
}

/// A table, a row in it, and an index: the row counts how often migration 2 ran.
fn migrations(set: &str, table: &str) -> Migrations {
    Migrations::new(set)
        .add_per_backend(
            "table",
            format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL)"),
            format!("CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, note TEXT NOT NULL)"),
        )
        .add("first row", format!("INSERT INTO {table} (note) VALUES ('once')"))
        .add(
            "index; and a second statement",
            format!("CREATE INDEX {table}_note ON {table} (note); UPDATE {table} SET note = note || ';'"),
        )
}

async fn count(store: &Store, sql: &str, bind: Option<&str>) -> i64 {
    let mut query = sqlx::query(sql);
    if let Some(value) = bind {
        query = query.bind(value.to_owned());
    }
    query.fetch_one(store.vendor_pool()).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn applied(store: &Store, set: &str) -> i64 {
    count(store, "SELECT COUNT(*) FROM addon_vendor_schema WHERE set_name = $1", Some(set)).await
}

#[tokio::test]
async fn migrations_run_once_in_order_and_later_ones_are_appended() {
    let database = TestDatabase::sqlite();
    let store = database.store().await;
    let (set, table) = (unique("set"), unique("things"));
    store.migrate(&migrations(&set, &table)).await.unwrap();
    store.migrate(&migrations(&set, &table)).await.expect("a second start applies nothing");
    assert_eq!(
        count(&store, &format!("SELECT COUNT(*) FROM {table}"), None).await,
        1,
        "each migration ran once"
    );
    assert_eq!(applied(&store, &set).await, 3);
    let note: String = sqlx::query(&format!("SELECT note FROM {table}"))
        .fetch_one(store.vendor_pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(note, "once;", "both statements of migration 3 ran, once");

    let more = migrations(&set, &table).add("a column", format!("ALTER TABLE {table} ADD COLUMN extra TEXT"));
    store.migrate(&more).await.expect("an appended migration is applied");
    assert_eq!(applied(&store, &set).await, 4);
    assert_eq!(count(&store, &format!("SELECT COUNT(*) FROM {table} WHERE extra IS NULL"), None).await, 1);
}

#[tokio::test]
async fn an_edited_or_removed_migration_is_refused_and_a_failing_one_applies_nothing() {
    let database = TestDatabase::sqlite();
    let store = database.store().await;
    let (set, table) = (unique("set"), unique("things"));
    store.migrate(&migrations(&set, &table)).await.unwrap();

    let edited = Migrations::new(&set)
        .add_per_backend(
            "table",
            format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL)"),
            format!("CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, note TEXT NOT NULL)"),
        )
        .add("first row", format!("INSERT INTO {table} (note) VALUES ('twice')"));
    let message = store.migrate(&edited).await.unwrap_err().to_string();
    assert!(
        message.contains(&format!("vendor migration 2 (`first row`) of `{set}` was changed")),
        "{message}"
    );

    let removed = migrations(&set, &table);
    let removed = Migrations::new(removed.name()).add_per_backend(
        "table",
        format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL)"),
        "unused on SQLite",
    );
    let message = store.migrate(&removed).await.unwrap_err().to_string();
    assert!(
        message.contains(&format!("has vendor migration 2 (`first row`) of `{set}` applied"))
            && message.contains("declares only 1"),
        "{message}"
    );

    let failing = migrations(&set, &table)
        .add("good", format!("CREATE TABLE {table}_more (x TEXT)"))
        .add("bad", "CREATE TABLE oops (");
    let message = store.migrate(&failing).await.unwrap_err().to_string();
    assert!(message.contains(&format!("vendor migration 5 (`bad`) of `{set}` failed")), "{message}");
    assert_eq!(applied(&store, &set).await, 3, "nothing of a failed start is recorded");
    let more =
        count(&store, "SELECT COUNT(*) FROM sqlite_master WHERE name = $1", Some(&format!("{table}_more")))
            .await;
    assert_eq!(more, 0, "nor applied");
}

/// `instances` stores open one database, each in a thread with its own runtime, and migrate at
/// the same moment; every result.
fn migrate_at_once(url: &str, instances: usize, set: &str, table: &str) -> Vec<Result<(), String>> {
    let barrier = Arc::new(Barrier::new(instances));
    let threads: Vec<_> = (0..instances)
        .map(|_| {
            let (url, barrier, migrations) = (url.to_owned(), barrier.clone(), migrations(set, table));
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let store = Store::open(&url).await.map_err(|e| e.to_string())?;
                    barrier.wait();
                    let migrated = store.migrate(&migrations).await.map_err(|e| e.to_string());
                    store.close().await;
                    migrated
                })
            })
        })
        .collect();
    threads.into_iter().map(|thread| thread.join().unwrap()).collect()
}

#[tokio::test]
async fn instances_starting_together_on_postgres_all_come_up_with_each_migration_applied_once() {
    let database = TestDatabase::postgres().await;
    for _ in 0..3 {
        let (set, table) = (unique("set"), unique("things"));
        let results = migrate_at_once(database.url(), 6, &set, &table);
        assert!(results.iter().all(Result::is_ok), "every instance comes up: {results:?}");
        let store = database.store().await;
        assert_eq!(count(&store, &format!("SELECT COUNT(*) FROM {table}"), None).await, 1, "applied once");
        assert_eq!(applied(&store, &set).await, 3);
        store.close().await;
    }
}

#[tokio::test]
async fn instances_starting_together_on_sqlite_all_come_up_with_each_migration_applied_once() {
    let database = TestDatabase::sqlite();
    database.store().await.close().await;
    let (set, table) = (unique("set"), unique("things"));
    let results = migrate_at_once(database.url(), 4, &set, &table);
    assert!(results.iter().all(Result::is_ok), "every instance comes up: {results:?}");
    let store = database.store().await;
    assert_eq!(count(&store, &format!("SELECT COUNT(*) FROM {table}"), None).await, 1, "applied once");
    assert_eq!(applied(&store, &set).await, 3);
}
