//! Group commit on PostgreSQL: a batch's claims in one statement and its answers in another,
//! each atomic on its own and each one commit, however many writes the batch holds. The rows
//! travel as one JSON parameter read back as a record set (`json_to_recordset`): sqlx's `Any`
//! driver binds no arrays.
//!
//! A claim and an answer are independent writes (an answer follows the commit of its own claim,
//! which is never in the same batch), so no transaction spans the two statements. Answers that
//! add a job (asynchronous provisions, grants) are rare and each take a transaction of their own.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::{
    all_failed, alone, came_late, check_tokens, each_alone, take_over, AnswerWrite, ClaimWrite, Claimed,
    Outcome, Write,
};
use crate::services::store::connections::Connections;
use crate::services::store::{Backend, StoreError};

/// Every claim of the batch: a `provisioning` row for each uuid that has none. The uuids it
/// inserted come back; a claim that found a row is taken over only if its lease expired.
const INSERT_CLAIMS: &str = concat!(
    claim_columns!(),
    "SELECT c.uuid, c.plan, c.region, c.name, c.options, c.callback_url, c.log_drain_token, \
     'provisioning', '{}', c.lease_until, c.now, c.now, c.marketplace \
     FROM json_to_recordset($1::json) AS c (uuid TEXT, plan TEXT, region TEXT, name TEXT, \
     options TEXT, callback_url TEXT, log_drain_token TEXT, marketplace TEXT, lease_until BIGINT, \
     now BIGINT) \
     ON CONFLICT DO NOTHING RETURNING uuid"
);

/// The claims, of those given, whose drain token another resource holds that is live or on its
/// way to it (see `check_tokens`). Run after the claims' commit. `LATERAL .. LIMIT 1` makes it
/// one index lookup per claim whatever the table's statistics say: as `EXISTS`, a plan made
/// while they were stale hashed the whole table each batch.
const TOKENS_TAKEN: &str = concat!(
    "SELECT c.uuid FROM json_to_recordset($1::json) AS c (uuid TEXT, token TEXT), \
     LATERAL (SELECT 1 FROM addon_resources r WHERE ",
    token_held!("c.token", "c.uuid"),
    " LIMIT 1) AS holder"
);

/// One row of [`TOKENS_TAKEN`]'s `c`.
#[derive(Serialize)]
struct TokenRow<'a> {
    uuid: &'a str,
    token: Option<&'a str>,
}

/// Every answer recorded on its claimed row, if the row is still `provisioning`, with its config's
/// key digest (see `config_index.rs`); the first part of [`RECORD_ANSWERS`] and
/// [`RECORD_INDEXED_ANSWERS`].
macro_rules! answered {
    () => {
        "WITH a AS (SELECT * FROM json_to_recordset($1::json) AS a (uuid TEXT, id TEXT, state TEXT, \
         status BIGINT, response TEXT, config TEXT, key_digest TEXT, now BIGINT)), \
         answered AS (UPDATE addon_resources AS r SET state = a.state, id = a.id, response = a.response, \
         response_status = a.status, config = a.config, key_digest = a.key_digest, lease_until = NULL, \
         updated_at = a.now FROM a WHERE r.uuid = a.uuid AND r.state = 'provisioning' RETURNING r.uuid) "
    };
}

/// The answers (see [`answered!`]) when none has rows for the config index table (the add-on
/// declares its API key). The uuids it answered come back.
const RECORD_ANSWERS: &str = concat!(answered!(), "SELECT uuid FROM answered");

/// The answers, and the config index table's rows of the rows they answered (only theirs: a row
/// answered already keeps its own). The uuids it answered come back.
const RECORD_INDEXED_ANSWERS: &str = concat!(
    answered!(),
    ", indexed AS (INSERT INTO addon_config_index (var, digest, uuid) \
     SELECT e.var, e.digest, e.uuid FROM json_to_recordset($2::json) AS e (uuid TEXT, var TEXT, digest TEXT) \
     WHERE e.uuid IN (SELECT uuid FROM answered) ON CONFLICT DO NOTHING) \
     SELECT uuid FROM answered"
);

/// Answers recorded by this process, which tell when the statements that join a record set to
/// `addon_resources` are prepared anew ([`planned_anew`]).
static RECORDED: AtomicU64 = AtomicU64::new(0);

/// `sql` as a new statement each time the answers recorded reach another power of two (from 256
/// on), so it is planned again for the table as it has grown. A prepared plan is kept for the
/// connection's life: one made while the table was small joined by scanning the whole table,
/// which went on as the table grew (measured for [`RECORD_ANSWERS`]: 0.4 ms a batch, 5 ms at
/// 70,000 rows; [`TOKENS_TAKEN`]'s lookups could likewise be planned as scans of a small table).
/// Planning every batch instead measured 13 % fewer provisions a second.
fn planned_anew(sql: &str, recorded: u64) -> String {
    let generation = u64::BITS - (recorded / 256).leading_zeros();
    format!("{sql} /* plan {generation} */")
}

/// One row of [`RECORD_ANSWERS`]'s `a`.
#[derive(Serialize)]
struct AnswerRow<'a> {
    uuid: &'a str,
    id: &'a str,
    state: &'a str,
    status: i64,
    response: &'a str,
    config: &'a str,
    key_digest: Option<&'a str>,
    now: i64,
}

/// One row of [`RECORD_ANSWERS`]'s `e`.
#[derive(Serialize)]
struct IndexRow<'a> {
    uuid: &'a str,
    var: &'a str,
    digest: &'a str,
}

/// Commits the batch; each write's outcome, in order.
pub(super) async fn commit(connections: &Connections, writes: &[Write]) -> Vec<Outcome> {
    if let [write] = writes {
        return vec![alone(connections, Backend::Postgres, write).await.map_err(StoreError)];
    }
    let (mut claims, mut claim_places) = (Vec::new(), Vec::new());
    let (mut answers, mut answer_places) = (Vec::new(), Vec::new());
    let mut with_jobs = Vec::new();
    for (at, write) in writes.iter().enumerate() {
        match write {
            Write::Claim(claim) => {
                claims.push(claim);
                claim_places.push(at);
            }
            Write::Answer(answer) if answer.follow_up.is_none() => {
                answers.push(answer);
                answer_places.push(at);
            }
            Write::Answer(_) => with_jobs.push(at),
        }
    }
    // Two statements on two connections at once: their rows are not the same (an answer's own
    // claim was committed in an earlier batch).
    let (claimed, recorded) =
        tokio::join!(claim_all(connections, &claims), answer_all(connections, &answers));
    let mut outcomes: Vec<Option<Outcome>> = writes.iter().map(|_| None).collect();
    for (places, result) in [(claim_places, claimed), (answer_places, recorded)] {
        let settled = match result {
            Ok(settled) => settled,
            Err(error) => after_failure(connections, writes, &places, error).await,
        };
        for (at, outcome) in places.into_iter().zip(settled) {
            outcomes[at] = Some(outcome);
        }
    }
    for at in with_jobs {
        outcomes[at] = Some(alone(connections, Backend::Postgres, &writes[at]).await.map_err(StoreError));
    }
    outcomes.into_iter().map(|outcome| outcome.expect("every write has its outcome")).collect()
}

/// The claims in one statement, then the takeover of each that found a row; `Err` if that
/// statement (or a connection for it) failed.
async fn claim_all(connections: &Connections, claims: &[&ClaimWrite]) -> Result<Vec<Outcome>, sqlx::Error> {
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    let mut lent = connections.lend().await?;
    let rows = serde_json::to_string(claims).expect("claims serialize");
    let inserted = sqlx::query(INSERT_CLAIMS).bind(rows).fetch_all(&mut *lent).await?;
    let inserted: HashSet<&str> = inserted.iter().map(|row| row.try_get("uuid")).collect::<Result<_, _>>()?;
    let mut outcomes = Vec::with_capacity(claims.len());
    let mut all_went_through = true;
    for claim in claims {
        let outcome = if inserted.contains(claim.uuid.as_str()) {
            Ok(Claimed::Inserted)
        } else {
            take_over(&mut lent, claim).await
        };
        all_went_through &= outcome.is_ok();
        outcomes.push(outcome.map(Some).map_err(StoreError));
    }
    let checked = claims.iter().copied().zip(&mut outcomes).collect();
    all_went_through &= check_tokens(&mut lent, Backend::Postgres, checked).await;
    if all_went_through {
        lent.done();
    }
    Ok(outcomes)
}

/// The uuids among `claims` whose drain token is taken, in one statement ([`TOKENS_TAKEN`]).
pub(super) async fn tokens_taken(
    conn: &mut AnyConnection,
    claims: &[&ClaimWrite],
) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<TokenRow<'_>> = claims
        .iter()
        .map(|claim| TokenRow { uuid: &claim.uuid, token: claim.log_drain_token.as_deref() })
        .collect();
    let rows = serde_json::to_string(&rows).expect("token rows serialize");
    let sql = planned_anew(TOKENS_TAKEN, RECORDED.load(Ordering::Relaxed));
    let taken = sqlx::query(&sql).bind(rows).fetch_all(conn).await?;
    taken.iter().map(|row| row.try_get("uuid")).collect()
}

/// The answers in one statement; `Err` if it (or a connection for it) failed.
async fn answer_all(
    connections: &Connections,
    answers: &[&AnswerWrite],
) -> Result<Vec<Outcome>, sqlx::Error> {
    if answers.is_empty() {
        return Ok(Vec::new());
    }
    let mut lent = connections.lend().await?;
    record_answers(&mut lent, answers).await?;
    lent.done();
    Ok(answers.iter().map(|_| Ok(None)).collect())
}

/// Records `answers` in one statement (see [`RECORD_ANSWERS`]); an answer that came after its
/// row was answered is not recorded, and said so in the log.
pub(super) async fn record_answers(
    conn: &mut AnyConnection,
    answers: &[&AnswerWrite],
) -> Result<(), sqlx::Error> {
    let rows: Vec<AnswerRow<'_>> = answers
        .iter()
        .map(|answer| AnswerRow {
            uuid: &answer.uuid,
            id: &answer.id,
            state: answer.state,
            status: answer.status,
            response: &answer.sealed_response,
            config: &answer.sealed_config,
            key_digest: answer.index.key_digest.as_deref(),
            now: answer.now,
        })
        .collect();
    let index: Vec<IndexRow<'_>> = answers
        .iter()
        .flat_map(|answer| {
            answer.index.rows.iter().map(|(var, digest)| IndexRow { uuid: &answer.uuid, var, digest })
        })
        .collect();
    let rows = serde_json::to_string(&rows).expect("answers serialize");
    let recorded = RECORDED.fetch_add(answers.len() as u64, Ordering::Relaxed);
    let answered = if index.is_empty() {
        sqlx::query(&planned_anew(RECORD_ANSWERS, recorded)).bind(rows).fetch_all(conn).await?
    } else {
        let index = serde_json::to_string(&index).expect("index rows serialize");
        let sql = planned_anew(RECORD_INDEXED_ANSWERS, recorded);
        sqlx::query(&sql).bind(rows).bind(index).fetch_all(conn).await?
    };
    let answered: HashSet<&str> = answered.iter().map(|row| row.try_get("uuid")).collect::<Result<_, _>>()?;
    for answer in answers {
        if !answered.contains(answer.uuid.as_str()) {
            came_late(&answer.uuid);
        }
    }
    Ok(())
}

/// The outcomes of the writes at `places` after the one statement for them all failed. Refused
/// by the database, it took no effect: each write is tried alone, so one write's failure is only
/// its own. Cut off (the connection lost), whether it took effect is unknown: every write fails,
/// as one write alone would (a 503; a retried claim finds its row held until its lease runs out).
/// With no connection to be had, nothing was sent: they fail too.
async fn after_failure(
    connections: &Connections,
    writes: &[Write],
    places: &[usize],
    error: sqlx::Error,
) -> Vec<Outcome> {
    if !matches!(error, sqlx::Error::Database(_)) || places.len() == 1 {
        return all_failed(error, places.len());
    }
    tracing::debug!("a batch of registry writes failed ({error}); committing each alone");
    let writes: Vec<&Write> = places.iter().map(|&at| &writes[at]).collect();
    each_alone(connections, Backend::Postgres, &writes).await
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;
    use crate::services::store::config_index::Index;
    use crate::services::store::Store;

    /// The registry on the PostgreSQL server of `TEST_DATABASE_URL`, and a prefix that keeps this
    /// test's uuids apart from any other's on it.
    async fn open() -> (Store, String) {
        let url = std::env::var("TEST_DATABASE_URL")
            .expect("TEST_DATABASE_URL is not set: run the tests through scripts/with-postgres.sh");
        let store = Store::open(&url).await.expect("the registry opens");
        (store, addon_manifest::random_secret()[..12].to_owned())
    }

    fn claim(uuid: &str, lease_until: i64, now: i64) -> Write {
        Write::Claim(ClaimWrite {
            uuid: uuid.to_owned(),
            plan: "basic".to_owned(),
            region: None,
            // Quotes and a backslash travel through the JSON parameter unchanged.
            name: Some(r#"it's "quoted" \ once"#.to_owned()),
            options: r#"{"size":"large"}"#.to_owned(),
            callback_url: None,
            log_drain_token: Some(format!("drain {uuid}")),
            marketplace: "heroku",
            lease_until,
            now,
        })
    }

    fn answer(uuid: &str, id: &str, now: i64) -> Write {
        Write::Answer(AnswerWrite {
            uuid: uuid.to_owned(),
            id: id.to_owned(),
            state: "provisioned",
            status: 200,
            sealed_response: format!("the answer for {uuid}"),
            sealed_config: format!("the config of {uuid}"),
            index: Index {
                key_digest: None,
                rows: vec![
                    ("ACME_URL".to_owned(), format!("url {uuid}")),
                    ("ACME_TOKEN".to_owned(), format!("token {uuid}")),
                ],
            },
            follow_up: None,
            now,
        })
    }

    /// Each outcome, with any error reduced to its having happened.
    fn outcomes(outcomes: Vec<Outcome>) -> Vec<Result<Option<Claimed>, ()>> {
        outcomes.into_iter().map(|outcome| outcome.map_err(|_| ())).collect()
    }

    /// A row's state, id, recorded answer and name, and how many index rows it has.
    async fn row(store: &Store, uuid: &str) -> (String, Option<String>, Option<String>, String, i64) {
        let row = sqlx::query(
            "SELECT state, id, response, name, \
             (SELECT COUNT(*) FROM addon_config_index i WHERE i.uuid = r.uuid) AS indexed \
             FROM addon_resources r WHERE uuid = $1",
        )
        .bind(uuid)
        .fetch_one(store.pool())
        .await
        .expect("the row is there");
        (row.get("state"), row.get("id"), row.get("response"), row.get("name"), row.get("indexed"))
    }

    /// Answers whose config is indexed by a declared key: the digest goes in the row, and the
    /// batch writes no index table rows (the statement without them).
    #[tokio::test]
    async fn a_batch_of_answers_keeps_declared_key_digests_in_their_rows() {
        let (store, prefix) = open().await;
        let uuid = |name: &str| format!("{prefix}-{name}");
        let now = store.now_ms();
        let connections = &store.connections;
        let claims = [claim(&uuid("k1"), now + 60_000, now), claim(&uuid("k2"), now + 60_000, now)];
        assert!(outcomes(commit(connections, &claims).await).iter().all(Result::is_ok));
        let keyed = |name: &str| {
            let Write::Answer(mut answer) = answer(&uuid(name), &uuid(&format!("{name}-id")), now) else {
                unreachable!()
            };
            answer.index = Index { key_digest: Some(format!("digest of {name}")), rows: Vec::new() };
            Write::Answer(answer)
        };
        assert_eq!(outcomes(commit(connections, &[keyed("k1"), keyed("k2")]).await), [Ok(None), Ok(None)]);
        for name in ["k1", "k2"] {
            let (state, _, _, _, indexed) = row(&store, &uuid(name)).await;
            let digest: Option<String> =
                sqlx::query("SELECT key_digest FROM addon_resources WHERE uuid = $1")
                    .bind(uuid(name))
                    .fetch_one(store.pool())
                    .await
                    .unwrap()
                    .get("key_digest");
            assert_eq!(
                (state.as_str(), digest, indexed),
                ("provisioned", Some(format!("digest of {name}")), 0)
            );
        }
    }

    #[test]
    fn the_answers_statement_is_new_each_time_the_answers_double() {
        let generation =
            |recorded| planned_anew(RECORD_ANSWERS, recorded).rsplit("/* plan ").next().unwrap().to_owned();
        let generations: Vec<String> = [0, 255, 256, 511, 512, 1023, 1024, 300_000].map(generation).into();
        assert_eq!(generations, ["0 */", "0 */", "1 */", "1 */", "2 */", "2 */", "3 */", "11 */"]);
    }

    #[tokio::test]
    async fn a_batch_commits_each_write_as_it_would_alone() {
        use Claimed::*;
        let (store, prefix) = open().await;
        let uuid = |name: &str| format!("{prefix}-{name}");
        let now = store.now_ms();
        let connections = &store.connections;
        // A live resource, and a claim whose process died (its lease ran out a minute ago).
        let seeds = [claim(&uuid("live"), now + 60_000, now), claim(&uuid("dead"), now - 60_000, now)];
        let seeded = outcomes(commit(connections, &seeds).await);
        assert_eq!(seeded, [Ok(Some(Inserted)), Ok(Some(Inserted))]);
        let live = outcomes(commit(connections, &[answer(&uuid("live"), &uuid("live-id"), now)]).await);
        assert_eq!(live, [Ok(None)]);

        // Claims: two new uuids, the live one (known: not this claim's) and the dead one (taken over).
        let claims = [
            claim(&uuid("a"), now + 60_000, now),
            claim(&uuid("b"), now + 60_000, now),
            claim(&uuid("live"), now + 60_000, now),
            claim(&uuid("dead"), now + 60_000, now),
        ];
        let claimed = outcomes(commit(connections, &claims).await);
        assert_eq!(claimed, [Ok(Some(Inserted)), Ok(Some(Inserted)), Ok(Some(Known)), Ok(Some(TakenOver))]);

        // Answers beside a claim: `b`'s id is the live resource's (the database refuses it), and
        // the live resource is answered already (this answer came late).
        let writes = [
            answer(&uuid("a"), &uuid("a-id"), now),
            answer(&uuid("b"), &uuid("live-id"), now),
            answer(&uuid("live"), &uuid("another-id"), now),
            claim(&uuid("c"), now + 60_000, now),
        ];
        let written = outcomes(commit(connections, &writes).await);
        assert_eq!(written[0], Ok(None), "a's answer is recorded");
        assert!(written[1].is_err(), "b's answer alone fails");
        assert_eq!(written[2], Ok(None), "a late answer is no failure");
        assert_eq!(written[3], Ok(Some(Inserted)), "c is claimed");

        let name = r#"it's "quoted" \ once"#.to_owned();
        let recorded =
            |who: &str| (Some(uuid(&format!("{who}-id"))), Some(format!("the answer for {}", uuid(who))));
        let (state, id, response, row_name, indexed) = row(&store, &uuid("a")).await;
        assert_eq!(
            (state.as_str(), (id, response), row_name, indexed),
            ("provisioned", recorded("a"), name.clone(), 2)
        );
        let (state, id, _, _, indexed) = row(&store, &uuid("b")).await;
        assert_eq!(
            (state.as_str(), id, indexed),
            ("provisioning", None, 0),
            "nothing of b's answer is written"
        );
        let (state, id, response, _, indexed) = row(&store, &uuid("live")).await;
        assert_eq!(
            (state.as_str(), (id, response), indexed),
            ("provisioned", recorded("live"), 2),
            "the first answer stays"
        );
        let (state, _, _, row_name, _) = row(&store, &uuid("c")).await;
        assert_eq!((state.as_str(), row_name), ("provisioning", name));
    }
}
