//! The resource's lease for vendor code: a vendor route that holds `Store::lease` while it writes
//! never runs at the same time as a plan change of that resource, even when the route is served
//! by one instance and Heroku's plan change reaches another; both succeed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use addon_runtime::{AddonError, App, Store};
use addon_tests::*;
use axum::extract::{Path, State};
use axum::http::StatusCode as HttpStatus;
use axum::routing::post;
use axum::Router;
use reqwest::StatusCode;

/// The vendor's side: its writes' spans, and how many have started.
#[derive(Debug)]
struct Writer {
    store: Store,
    spans: Mutex<Vec<(u128, u128)>>,
    started: AtomicUsize,
}

/// `POST /write/{uuid}`: takes the resource's lease, then "writes" for 200 ms; answers the plan
/// it saw under the lease.
async fn write(State(writer): State<Arc<Writer>>, Path(uuid): Path<String>) -> Result<String, AddonError> {
    let lease = writer.store.lease(&uuid).await?;
    let start = unix_nanos();
    writer.started.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let plan = lease.resource().plan.clone();
    writer.spans.lock().unwrap().push((start, unix_nanos()));
    lease.release().await;
    Ok(plan)
}

/// Two instances on one SQLite registry: `heroku` speaks to the first (the test add-on, which
/// records its plan changes' spans); the vendor route is served by the second.
struct Pair {
    heroku: TestServer,
    writer: Arc<Writer>,
    writer_url: String,
    /// The second instance, served until the test ends.
    _served: TestApp,
}

async fn start_pair() -> Pair {
    let database = TestDatabase::sqlite();
    let heroku = TestServer::start_on(settings(), &database).await;
    let store = database.store().await;
    let writer =
        Arc::new(Writer { store: store.clone(), spans: Mutex::default(), started: AtomicUsize::new(0) });
    let routes = Router::new().route("/write/{uuid}", post(write)).with_state(writer.clone());
    let other = App::new(Arc::new(TestAddon::default()), settings(), store)
        .unwrap()
        .without_job_runner()
        .with_routes(routes);
    let served = TestApp::serve(other).await;
    Pair { heroku, writer, writer_url: served.url.clone(), _served: served }
}

impl Pair {
    async fn write(&self, uuid: &str) -> reqwest::Response {
        client().post(format!("{}/write/{uuid}", self.writer_url)).send().await.unwrap()
    }
}

#[tokio::test]
async fn a_vendor_write_under_the_lease_and_a_plan_change_never_overlap() {
    let pair = Arc::new(start_pair().await);
    let uuid = new_uuid();
    assert_eq!(pair.heroku.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);

    let plans = ["slow", "pro", "small", "basic"];
    for (round, plan) in plans.iter().enumerate() {
        let (write, change) = if round % 2 == 0 {
            // The write first: the plan change is sent while it holds the lease.
            let writes = pair.writer.started.load(Ordering::SeqCst);
            let p = pair.clone();
            let u = uuid.clone();
            let write = tokio::spawn(async move { p.write(&u).await });
            assert!(
                eventually(Duration::from_secs(10), async || pair.writer.started.load(Ordering::SeqCst)
                    > writes)
                .await
            );
            let change = pair.heroku.plan_change(&uuid, plan).await;
            (write.await.unwrap(), change)
        } else {
            // The plan change first ("slow" plans take 150 ms in the vendor): the write is sent
            // while it runs.
            let changes = TestAddon::calls(&pair.heroku.addon.plan_changes);
            let p = pair.clone();
            let u = uuid.clone();
            let plan = plan.to_string();
            let change = tokio::spawn(async move { p.heroku.plan_change(&u, &plan).await });
            assert!(
                eventually(Duration::from_secs(10), async || TestAddon::calls(
                    &pair.heroku.addon.plan_changes
                ) > changes)
                .await
            );
            let write = pair.write(&uuid).await;
            (write, change.await.unwrap())
        };
        assert_eq!(change.status(), StatusCode::OK, "round {round}: the plan change succeeds");
        assert_eq!(write.status(), StatusCode::OK, "round {round}: the write succeeds");
        let seen = write.text().await.unwrap();
        if round % 2 == 1 {
            assert_eq!(seen, *plan, "a write after a plan change sees the new plan");
        }
    }

    let mut spans = pair.heroku.addon.spans.lock().unwrap().clone();
    let writes = pair.writer.spans.lock().unwrap().clone();
    assert_eq!(spans.len(), plans.len(), "every plan change reached the vendor");
    assert_eq!(writes.len(), plans.len(), "every write ran");
    spans.extend(writes);
    assert!(!overlapping(&mut spans), "a write and a plan change overlapped: {spans:?}");
}

#[tokio::test]
async fn a_lease_is_exclusive_released_on_drop_and_refused_for_removed_or_unknown_resources() {
    let pair = start_pair().await;
    let store = &pair.writer.store;
    let uuid = new_uuid();
    assert_eq!(pair.heroku.provision(&v3_body(&uuid, "basic")).await.status(), StatusCode::OK);

    let unknown = store.lease(&new_uuid()).await.unwrap_err();
    assert_eq!(unknown.status(), HttpStatus::NOT_FOUND);

    let held = store.lease(&uuid).await.unwrap();
    assert_eq!(held.resource().plan, "basic");
    let second = store.lease_waiting(&uuid, Duration::from_millis(200)).await.unwrap_err();
    assert_eq!(second.status(), HttpStatus::SERVICE_UNAVAILABLE, "one holder at a time");
    drop(held);
    // Dropping the guard releases it: another lease is granted, then a plan change goes through.
    let again = store.lease_waiting(&uuid, Duration::from_secs(5)).await.expect("released on drop");
    drop(again);
    assert_eq!(pair.heroku.plan_change(&uuid, "pro").await.status(), StatusCode::OK);

    assert_eq!(pair.heroku.deprovision(&uuid).await.status(), StatusCode::NO_CONTENT);
    let gone = store.lease(&uuid).await.unwrap_err();
    assert_eq!(gone.status(), HttpStatus::GONE);
    let response = pair.write(&uuid).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(json_message(response).await.contains("deprovisioned"));
}
