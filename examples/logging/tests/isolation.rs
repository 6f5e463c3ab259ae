//! Isolation between tenants, and between the registry and the add-on's own work: one tenant's
//! flood of drain frames and searches is refused with 429s while Heroku provisions others; the
//! search bound, the plans' daily line limits and retention, and the rate limiter's 429.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use acme_logs::{Limits, MAX_QUERY_CHARS};
use addon_runtime::testing::reqwest::{self, StatusCode};
use addon_runtime::testing::serde_json::{self, Value};
use addon_runtime::testing::{client, new_uuid, TestDatabase};
use addon_runtime::{ManualClock, RateLimiter, SystemClock};
use support::*;

/// A frame with a fresh id, so none is taken for a copy of another.
async fn post(client: &reqwest::Client, origin: &str, token: &str, body: String) -> reqwest::Response {
    post_frame(client, origin, token, Some(&new_uuid()), None, body).await
}

async fn search(client: &reqwest::Client, tenant: &Tenant, q: &str) -> reqwest::Response {
    client.get(&tenant.url).query(&[("q", q)]).bearer_auth(&tenant.token).send().await.unwrap()
}

/// Statuses seen by one side of the flood.
#[derive(Default, Debug)]
struct Seen {
    ok: usize,
    refused_429: usize,
    refused_400: usize,
    server_errors: usize,
    other: usize,
}

impl Seen {
    fn add(&mut self, status: StatusCode) {
        match status.as_u16() {
            200..=299 => self.ok += 1,
            429 => self.refused_429 += 1,
            400 => self.refused_400 += 1,
            500..=599 => self.server_errors += 1,
            _ => self.other += 1,
        }
    }

    fn merge(&mut self, other: &Seen) {
        self.ok += other.ok;
        self.refused_429 += other.refused_429;
        self.refused_400 += other.refused_400;
        self.server_errors += other.server_errors;
        self.other += other.other;
    }
}

async fn flood_while_provisioning(database: TestDatabase) {
    let _ = tracing_subscriber::fmt().with_env_filter("error").try_init();
    let app = serve_in_process(&database).await;
    let (origin, heroku) = (app.url.clone(), app.heroku.clone());
    let flooder = Arc::new(tenant(&heroku, "pro").await);
    // Half a megabyte a frame (the body limit is 1 MB): 2,500 lines of 200 bytes.
    let big = lines(2_500, 170);
    assert!(big.len() > 500_000 && big.len() < 1_000_000, "{}", big.len());
    // Something to scan: the flooder's first frames are stored before the flood starts.
    for _ in 0..2 {
        let posted = Instant::now();
        assert_eq!(post(&client(), &origin, &flooder.drain_token, big.clone()).await.status(), 204);
        eprintln!("a frame of 2,500 lines stored in {:?}", posted.elapsed());
    }

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = tokio::task::JoinSet::new();
    for worker in 0..12 {
        let (origin, flooder, big, stop) = (origin.clone(), flooder.clone(), big.clone(), stop.clone());
        flood.spawn(async move {
            let client = client();
            let mut seen = Seen::default();
            let mut first_429 = None;
            // Bounded: at most 60 requests per worker, however long the provisions take.
            for i in 0..60 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let response = if worker % 3 != 0 {
                    post(&client, &origin, &flooder.drain_token, big.clone()).await
                } else if i % 2 == 0 {
                    // The longest search allowed, a full scan of the tenant's lines.
                    search(&client, &flooder, &"y".repeat(MAX_QUERY_CHARS)).await
                } else {
                    search(&client, &flooder, &"y".repeat(20_000)).await
                };
                seen.add(response.status());
                if response.status() == StatusCode::TOO_MANY_REQUESTS && first_429.is_none() {
                    let retry_after =
                        response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                    first_429 = Some((retry_after, message(response).await));
                }
            }
            (worker, seen, first_429)
        });
    }

    // Meanwhile Heroku provisions 50 other resources, 10 at a time.
    let started = Instant::now();
    let mut provisions = tokio::task::JoinSet::new();
    let gate = Arc::new(tokio::sync::Semaphore::new(10));
    for _ in 0..50 {
        let (heroku, gate) = (heroku.clone(), gate.clone());
        provisions.spawn(async move {
            let _turn = gate.acquire().await.unwrap();
            let uuid = new_uuid();
            let body = serde_json::json!({"uuid": uuid, "plan": "basic", "log_drain_token": format!("d.{uuid}"), "options": {}});
            let asked = Instant::now();
            let response = heroku.provision(&body).await;
            let status = response.status();
            let text = response.text().await.unwrap();
            (status, text, asked.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    let mut answered = 0;
    while let Some(done) = provisions.join_next().await {
        let (status, text, took) = done.unwrap();
        assert_eq!(status, StatusCode::OK, "a provision during the flood: {text}");
        slowest = slowest.max(took);
        answered += 1;
    }
    let provisioning = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    let (mut drain, mut api) = (Seen::default(), Seen::default());
    let mut refusals = Vec::new();
    while let Some(done) = flood.join_next().await {
        let (worker, seen, first_429) = done.unwrap();
        if worker % 3 != 0 { &mut drain } else { &mut api }.merge(&seen);
        refusals.extend(first_429);
    }
    eprintln!(
        "{answered} provisions answered 200 in {provisioning:?} (slowest {slowest:?}) during the flood; \
         drain {drain:?}; api {api:?}"
    );
    assert_eq!(answered, 50);
    assert!(
        drain.refused_429 > 0 && api.refused_429 > 0,
        "the flooder is refused: drain {drain:?}, api {api:?}"
    );
    assert!(api.refused_400 > 0, "searches over the bound are refused: {api:?}");
    assert_eq!((drain.server_errors, api.server_errors), (0, 0), "no 5xx: drain {drain:?}, api {api:?}");
    for (retry_after, message) in refusals {
        let seconds: u64 = retry_after.expect("429s say when to retry").parse().unwrap();
        assert!((1..=60).contains(&seconds), "{seconds}");
        assert!(message.contains("Too many requests"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_tenants_flood_leaves_provisioning_of_others_answering_200_on_sqlite() {
    flood_while_provisioning(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn searches_longer_than_the_bound_are_refused_with_a_message() {
    let app = serve_in_process(&TestDatabase::sqlite()).await;
    let tenant = tenant(&app, "basic").await;
    let client = client();
    let at_bound = search(&client, &tenant, &"é".repeat(MAX_QUERY_CHARS)).await;
    assert_eq!(at_bound.status(), StatusCode::OK, "{MAX_QUERY_CHARS} characters (not bytes) are fine");
    let over = search(&client, &tenant, &"a".repeat(MAX_QUERY_CHARS + 1)).await;
    assert_eq!(over.status(), StatusCode::BAD_REQUEST);
    let message = message(over).await;
    assert!(message.contains("at most 200 characters") && message.contains("201"), "{message}");
}

#[tokio::test]
async fn the_rate_limiter_refuses_a_tenant_past_its_allowance_and_no_other() {
    let limits = Limits {
        drain: RateLimiter::new(2, Duration::from_secs(3600)),
        lines: RateLimiter::new(1_000, Duration::from_secs(1)),
        api: RateLimiter::new(3, Duration::from_secs(3600)),
    };
    let app = serve_with(&TestDatabase::sqlite(), limits, Arc::new(SystemClock)).await;
    let origin = &app.url;
    let (busy, quiet) = (tenant(&app, "basic").await, tenant(&app, "basic").await);
    let client = client();

    for _ in 0..2 {
        assert_eq!(post(&client, origin, &busy.drain_token, lines(1, 10)).await.status(), 204);
    }
    let refused = post(&client, origin, &busy.drain_token, lines(1, 10)).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1700..=1800).contains(&retry_after), "one frame more in half an hour: {retry_after}");
    assert!(message(refused).await.contains("Too many requests"));
    assert_eq!(post(&client, origin, &quiet.drain_token, lines(1, 10)).await.status(), 204);

    for _ in 0..3 {
        assert_eq!(search(&client, &busy, "line").await.status(), StatusCode::OK);
    }
    let refused = search(&client, &busy, "line").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(message(refused).await.contains("try again in"));
    assert_eq!(search(&client, &quiet, "line").await.status(), StatusCode::OK, "another tenant is served");
    // A wrong token is refused as before, and spends nobody's allowance.
    let wrong = client.get(&quiet.url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_plan_stores_its_lines_per_day_then_refuses_until_midnight_utc() {
    let clock = ManualClock::default();
    let app = serve_with(&TestDatabase::sqlite(), Limits::default(), Arc::new(clock.clone())).await;
    let origin = &app.url;
    let tenant = tenant(&app, "test").await;
    let client = client();

    // The test plan stores 1,000 lines a day.
    assert_eq!(post(&client, origin, &tenant.drain_token, lines(600, 10)).await.status(), 204);
    assert_eq!(post(&client, origin, &tenant.drain_token, lines(400, 10)).await.status(), 204);
    let over = post(&client, origin, &tenant.drain_token, lines(1, 10)).await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = over.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    let message = message(over).await;
    assert!(
        message.contains("The test plan stores 1,000 log lines a day")
            && message.contains("stored 1,000 today")
            && message.contains("resets at 00:00 UTC"),
        "{message}"
    );
    let answer: Value = search(&client, &tenant, "line").await.json().await.unwrap();
    assert_eq!(answer["lines"].as_array().unwrap().len(), 100, "the refused frame stored nothing");

    // The next UTC day, the count starts again.
    clock.advance(Duration::from_secs(retry_after));
    assert_eq!(post(&client, origin, &tenant.drain_token, lines(10, 10)).await.status(), 204);
}

#[tokio::test]
async fn lines_past_the_plans_retention_are_not_found_and_are_pruned() {
    let clock = ManualClock::default();
    let app = serve_with(&TestDatabase::sqlite(), Limits::default(), Arc::new(clock.clone())).await;
    let origin = &app.url;
    let book = acme_logs::LogBook::open(&app.store).await.unwrap();
    // The test plan keeps lines for a day, the basic plan for a week.
    let (short, long) = (tenant(&app, "test").await, tenant(&app, "basic").await);
    let client = client();
    for tenant in [&short, &long] {
        assert_eq!(post(&client, origin, &tenant.drain_token, lines(5, 10)).await.status(), 204);
    }
    let found = |tenant: &Tenant| {
        let (client, url, token) = (client.clone(), tenant.url.clone(), tenant.token.clone());
        async move {
            let answer: Value =
                client.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
            answer["lines"].as_array().unwrap().len()
        }
    };
    assert_eq!((found(&short).await, found(&long).await), (5, 5));

    clock.advance(Duration::from_secs(25 * 60 * 60));
    assert_eq!(found(&short).await, 0, "a day and an hour later, the test plan's lines are past retention");
    assert_eq!(found(&long).await, 5, "the basic plan keeps them a week");
    assert_eq!(book.kept(&short.uuid).await.unwrap(), 5, "not yet pruned: no frame since");

    // The next frame prunes what expired; the new lines are found.
    assert_eq!(post(&client, origin, &short.drain_token, lines(2, 10)).await.status(), 204);
    assert_eq!(book.kept(&short.uuid).await.unwrap(), 2);
    assert_eq!(found(&short).await, 2);
}
