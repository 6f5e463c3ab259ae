//! Group commit: one writer per store commits the provisions' claims and answers that are
//! waiting together, so concurrent provisions share one commit instead of one commit each: on
//! SQLite one fsync under the file's one write lock, on PostgreSQL one WAL flush.
//!
//! A caller hands its write to the writer's task and waits for the reply, which is sent only
//! after the commit that holds the write: nothing is answered before it is durable. The writer
//! takes whatever is waiting when it is free, then lets the tasks that are ready run while they
//! bring more (never a timer: an idle registry adds one turn of the scheduler). Each write has
//! the same conditions as it would alone, and one write's failure is only its own:
//! - on SQLite a batch is one transaction running each write's own statements; if a statement
//!   fails, each write is committed alone;
//! - on PostgreSQL a batch's claims are one statement and its answers another (`bulk.rs`), each
//!   atomic on its own, so a batch costs two round trips however many writes it holds.
//!
//! A claim that went through is checked, right after its commit and in the writer, for a drain
//! token another resource holds (one statement a batch on PostgreSQL): one token names one
//! resource, and only a check made after the commit sees a claim of the same token committed at
//! the same moment.

/// The columns a claim inserts, in the order of both claim statements' values: `apply_claim`'s
/// here and `bulk.rs`'s for a batch.
macro_rules! claim_columns {
    () => {
        "INSERT INTO addon_resources (uuid, plan, region, name, options, callback_url, log_drain_token, \
         state, config, lease_until, created_at, updated_at, marketplace) "
    };
}

/// The condition that a row of `addon_resources r` other than claim `$uuid`'s holds the drain
/// token `$token` and is live or on its way to it: one token names one resource. Both checks
/// say it through here, `tokens_taken_each` here and `bulk.rs`'s for a batch.
macro_rules! token_held {
    ($token:literal, $uuid:literal) => {
        concat!(
            "r.log_drain_token = ",
            $token,
            " AND r.uuid <> ",
            $uuid,
            " AND r.state IN ('provisioned', 'pending', 'provisioning')"
        )
    };
}

mod bulk;
mod checkpoints;

use std::collections::HashSet;
use std::sync::Mutex;

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};
use tokio::sync::{mpsc, oneshot};

use super::config_index::{self, Index};
use super::connections::Connections;
use super::jobs::{self, FollowUp};
use super::{Backend, StoreError};

/// The most writes committed together: bounds a batch's transaction (and its lock) on SQLite, its
/// statements on PostgreSQL.
const MOST_PER_BATCH: usize = 128;

/// How many turns the writer gives other tasks to join a batch ([`gather_more`]).
const MOST_TURNS: usize = 8;

/// A provision's claim: the row a new uuid gets, or the takeover of an expired one. Its fields
/// are named as the columns of `bulk.rs`'s record set.
#[derive(serde::Serialize)]
pub(super) struct ClaimWrite {
    pub(super) uuid: String,
    pub(super) plan: String,
    pub(super) region: Option<String>,
    pub(super) name: Option<String>,
    pub(super) options: String,
    pub(super) callback_url: Option<String>,
    pub(super) log_drain_token: Option<String>,
    pub(super) marketplace: &'static str,
    pub(super) lease_until: i64,
    pub(super) now: i64,
}

/// A provision's answer, already sealed and digested by the caller.
pub(super) struct AnswerWrite {
    pub(super) uuid: String,
    pub(super) id: String,
    pub(super) state: &'static str,
    pub(super) status: i64,
    pub(super) sealed_response: String,
    pub(super) sealed_config: String,
    pub(super) index: Index,
    pub(super) follow_up: Option<FollowUp>,
    pub(super) now: i64,
}

/// What a claim did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Claimed {
    Inserted,
    TakenOver,
    /// Inserted or taken over, but its drain token is held by another resource that is live or
    /// on its way to it: the caller abandons the claim and refuses the provision.
    TokenTaken,
    /// The uuid has a row this claim may not take: the caller reads it.
    Known,
}

pub(super) enum Write {
    Claim(ClaimWrite),
    Answer(AnswerWrite),
}

/// The outcome of one write, sent once its transaction committed (or failed).
type Outcome = Result<Option<Claimed>, StoreError>;

struct Pending {
    write: Write,
    reply: oneshot::Sender<Outcome>,
}

/// The handle every clone of a store shares: the channel to its writer task, started on first
/// use in the runtime of the caller (and again if that runtime has ended since).
pub(super) struct GroupWriter {
    backend: Backend,
    sender: Mutex<Option<mpsc::UnboundedSender<Pending>>>,
}

impl GroupWriter {
    pub(super) fn new(backend: Backend) -> Self {
        Self { backend, sender: Mutex::default() }
    }

    /// Commits `write` with whatever else is waiting; returns once that commit is durable.
    pub(super) async fn submit(&self, connections: &Connections, write: Write) -> Outcome {
        let (reply, answer) = oneshot::channel();
        let mut pending = Pending { write, reply };
        // At most twice: a writer whose runtime ended has dropped its receiver.
        for _ in 0..2 {
            let sender = self.sender(connections);
            match sender.send(pending) {
                Ok(()) => {
                    return answer.await.unwrap_or_else(|_| {
                        Err(StoreError(sqlx::Error::Protocol(
                            "the registry's writer stopped before its commit answered".into(),
                        )))
                    })
                }
                Err(mpsc::error::SendError(returned)) => {
                    pending = returned;
                    self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
                }
            }
        }
        // No writer could be started: commit it alone.
        Ok(alone(connections, self.backend, &pending.write).await?)
    }

    fn sender(&self, connections: &Connections) -> mpsc::UnboundedSender<Pending> {
        let mut slot = self.sender.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let (sender, receiver) = mpsc::unbounded_channel();
                tokio::spawn(run(connections.clone(), self.backend, receiver));
                *slot = Some(sender.clone());
                sender
            }
        }
    }
}

/// The writer: takes what is waiting, commits it together, answers each write.
async fn run(connections: Connections, backend: Backend, mut receiver: mpsc::UnboundedReceiver<Pending>) {
    let mut batch = Vec::with_capacity(MOST_PER_BATCH);
    let checkpoints =
        (backend == Backend::Sqlite).then(|| checkpoints::Checkpoints::start(connections.clone()));
    while receiver.recv_many(&mut batch, MOST_PER_BATCH).await > 0 {
        gather_more(&mut receiver, &mut batch).await;
        let (writes, replies): (Vec<Write>, Vec<_>) =
            batch.drain(..).map(|pending| (pending.write, pending.reply)).unzip();
        let outcomes = match backend {
            Backend::Sqlite => in_one_transaction(&connections, &writes).await,
            Backend::Postgres => bulk::commit(&connections, &writes).await,
        };
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
        if let Some(checkpoints) = &checkpoints {
            checkpoints.after_commit();
        }
    }
}

/// Lets the tasks that are ready run before the batch commits, while each turn brings more
/// writes. On one busy core the writer wakes as soon as the first write arrives, before the
/// provisions right behind it have run far enough to send theirs: committing at once made
/// batches of two or three and left most commits' fsyncs unshared. A lone write waits one turn.
async fn gather_more(receiver: &mut mpsc::UnboundedReceiver<Pending>, batch: &mut Vec<Pending>) {
    for _ in 0..MOST_TURNS {
        tokio::task::yield_now().await;
        let before = batch.len();
        while batch.len() < MOST_PER_BATCH {
            match receiver.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        if batch.len() == before {
            return;
        }
    }
}

/// SQLite: every write of the batch in one transaction; if a statement fails, each alone.
async fn in_one_transaction(connections: &Connections, writes: &[Write]) -> Vec<Outcome> {
    match commit_together(connections, writes).await {
        Ok(outcomes) => outcomes,
        // Whether a commit that failed took effect is unknown: retrying could add a follow-up
        // job twice, so every write of it fails, as one write alone would (a 503 to retry).
        Err(Failed { error, at_commit }) if at_commit || writes.len() == 1 => all_failed(error, writes.len()),
        // A statement failed and the transaction was rolled back: each write alone, so one
        // write's failure is its own.
        Err(Failed { error, .. }) => {
            tracing::debug!("a batch of registry writes failed ({error}); committing each alone");
            each_alone(connections, Backend::Sqlite, &writes.iter().collect::<Vec<_>>()).await
        }
    }
}

/// Each write committed on its own, in order.
async fn each_alone(connections: &Connections, backend: Backend, writes: &[&Write]) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes {
        outcomes.push(alone(connections, backend, write).await.map_err(StoreError));
    }
    outcomes
}

/// `count` writes that share one failure: the last gets the error itself, the others its text.
fn all_failed(error: sqlx::Error, count: usize) -> Vec<Outcome> {
    let message = error.to_string();
    let mut outcomes: Vec<Outcome> =
        (1..count).map(|_| Err(StoreError(sqlx::Error::Protocol(message.clone())))).collect();
    outcomes.push(Err(StoreError(error)));
    outcomes
}

/// A batch that did not commit, and whether it was its commit that failed.
struct Failed {
    error: sqlx::Error,
    at_commit: bool,
}

/// Every write of the batch in one transaction; their outcomes once it committed and its claims'
/// drain tokens were checked.
async fn commit_together(connections: &Connections, writes: &[Write]) -> Result<Vec<Outcome>, Failed> {
    let before = |error| Failed { error, at_commit: false };
    let mut lent = connections.lend().await.map_err(before)?;
    let mut tx = lent.begin().await.map_err(before)?;
    let mut outcomes = Vec::with_capacity(writes.len());
    for write in writes {
        outcomes.push(apply(&mut tx, write).await.map_err(before)?);
    }
    tx.commit().await.map_err(|error| Failed { error, at_commit: true })?;
    let mut outcomes: Vec<Outcome> = outcomes.into_iter().map(Ok).collect();
    let claims = writes.iter().zip(&mut outcomes).filter_map(|(write, outcome)| match write {
        Write::Claim(claim) => Some((claim, outcome)),
        Write::Answer(_) => None,
    });
    if check_tokens(&mut lent, Backend::Sqlite, claims.collect()).await {
        lent.done();
    }
    Ok(outcomes)
}

/// Turns each committed claim that went through into [`Claimed::TokenTaken`] if another
/// resource that is live, or on its way to it, holds its drain token. Run after the claims'
/// commit, so two claims of one token committed at the same moment each see the other, and both
/// are refused. If the check fails, so do those claims (their rows stay leased, as after a
/// failed commit). `false` if a statement failed.
async fn check_tokens(
    conn: &mut AnyConnection,
    backend: Backend,
    claims: Vec<(&ClaimWrite, &mut Outcome)>,
) -> bool {
    let (to_check, outcomes): (Vec<&ClaimWrite>, Vec<&mut Outcome>) = claims
        .into_iter()
        .filter(|(claim, outcome)| matches!(outcome, Ok(claimed) if needs_check(claim, *claimed)))
        .unzip();
    if to_check.is_empty() {
        return true;
    }
    let taken = match backend {
        Backend::Postgres if to_check.len() > 1 => bulk::tokens_taken(conn, &to_check).await,
        _ => tokens_taken_each(conn, &to_check).await,
    };
    match taken {
        Ok(taken) => {
            for (claim, outcome) in to_check.iter().zip(outcomes) {
                if taken.contains(claim.uuid.as_str()) {
                    *outcome = Ok(Some(Claimed::TokenTaken));
                }
            }
            true
        }
        Err(error) => {
            for (outcome, failed) in outcomes.into_iter().zip(all_failed(error, to_check.len())) {
                *outcome = failed;
            }
            false
        }
    }
}

/// Whether a claim that did `claimed` has a drain token to check: one that went through.
fn needs_check(claim: &ClaimWrite, claimed: Option<Claimed>) -> bool {
    claim.log_drain_token.is_some() && matches!(claimed, Some(Claimed::Inserted | Claimed::TakenOver))
}

/// The uuids among `claims` whose drain token is taken (see [`check_tokens`]), a statement each.
async fn tokens_taken_each(
    conn: &mut AnyConnection,
    claims: &[&ClaimWrite],
) -> Result<HashSet<String>, sqlx::Error> {
    let mut taken = HashSet::new();
    for claim in claims {
        let row: (i64,) =
            sqlx::query_as(concat!("SELECT COUNT(*) FROM addon_resources r WHERE ", token_held!("$1", "$2")))
                .bind(claim.log_drain_token.as_deref())
                .bind(&claim.uuid)
                .fetch_one(&mut *conn)
                .await?;
        if row.0 > 0 {
            taken.insert(claim.uuid.clone());
        }
    }
    Ok(taken)
}

/// One write committed on its own, on a connection lent for it (and kept for the next statement
/// once it succeeded).
pub(super) async fn alone(
    connections: &Connections,
    backend: Backend,
    write: &Write,
) -> Result<Option<Claimed>, sqlx::Error> {
    let mut lent = connections.lend().await?;
    let mut outcome = alone_on(&mut lent, backend, write).await?;
    if let Write::Claim(claim) = write {
        if needs_check(claim, outcome) && !tokens_taken_each(&mut lent, &[claim]).await?.is_empty() {
            outcome = Some(Claimed::TokenTaken);
        }
    }
    lent.done();
    Ok(outcome)
}

/// One write in a transaction of its own.
async fn alone_on(
    conn: &mut AnyConnection,
    backend: Backend,
    write: &Write,
) -> Result<Option<Claimed>, sqlx::Error> {
    // A claim is one statement (or, if its insert finds a row, one conditional update), each
    // atomic on its own: no transaction around them, which saves two round trips.
    if let Write::Claim(claim) = write {
        return Ok(Some(apply_claim(conn, claim).await?));
    }
    // On PostgreSQL an answer with no job to add is one statement, atomic on its own: no
    // `BEGIN` and `COMMIT`, three round trips fewer.
    if let Write::Answer(answer @ AnswerWrite { follow_up: None, .. }) = write {
        if backend == Backend::Postgres {
            bulk::record_answers(conn, &[answer]).await?;
            return Ok(None);
        }
    }
    let mut tx = sqlx::Connection::begin(conn).await?;
    let outcome = apply(&mut tx, write).await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn apply(conn: &mut AnyConnection, write: &Write) -> Result<Option<Claimed>, sqlx::Error> {
    match write {
        Write::Claim(claim) => Ok(Some(apply_claim(conn, claim).await?)),
        Write::Answer(answer) => {
            apply_answer(conn, answer).await?;
            Ok(None)
        }
    }
}

/// `INSERT .. ON CONFLICT DO NOTHING` of a `provisioning` row; else the takeover of a claim
/// whose lease expired; else the row is someone else's.
async fn apply_claim(conn: &mut AnyConnection, claim: &ClaimWrite) -> Result<Claimed, sqlx::Error> {
    let inserted = bind_claim(
        concat!(
            claim_columns!(),
            "VALUES ($1, $2, $3, $4, $5, $6, $7, 'provisioning', '{}', $8, $9, $9, $10) ON CONFLICT DO NOTHING"
        ),
        claim,
    )
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claimed::Inserted);
    }
    take_over(conn, claim).await
}

/// The takeover of a claim on a uuid that already has a row: only of one whose lease expired,
/// and only by a claim from the same marketplace.
async fn take_over(conn: &mut AnyConnection, claim: &ClaimWrite) -> Result<Claimed, sqlx::Error> {
    let taken_over = bind_claim(
        "UPDATE addon_resources SET plan = $2, region = $3, name = $4, options = $5, callback_url = $6, \
         log_drain_token = $7, lease_until = $8, updated_at = $9 \
         WHERE uuid = $1 AND state = 'provisioning' AND lease_until < $9 AND marketplace = $10",
        claim,
    )
    .execute(&mut *conn)
    .await?;
    Ok(if taken_over.rows_affected() == 1 { Claimed::TakenOver } else { Claimed::Known })
}

/// `sql` with the claim's request fields as $1..$7, the lease as $8, now as $9 and the
/// marketplace as $10.
fn bind_claim<'q>(sql: &'q str, claim: &'q ClaimWrite) -> Query<'q, Any, AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(&claim.uuid)
        .bind(&claim.plan)
        .bind(claim.region.as_deref())
        .bind(claim.name.as_deref())
        .bind(&claim.options)
        .bind(claim.callback_url.as_deref())
        .bind(claim.log_drain_token.as_deref())
        .bind(claim.lease_until)
        .bind(claim.now)
        .bind(claim.marketplace)
}

/// The answer recorded on its claimed row, if the row is still `provisioning`; its parameters
/// are bound by [`bind_answer`].
const UPDATE_ANSWER: &str = "UPDATE addon_resources SET state = $6, id = $2, response = $3, \
     response_status = $7, config = $4, lease_until = NULL, updated_at = $5, key_digest = $8 \
     WHERE uuid = $1 AND state = 'provisioning'";

/// `sql` with the answer's fields as $1..$8, as [`UPDATE_ANSWER`] takes them.
fn bind_answer<'q>(sql: &'q str, answer: &'q AnswerWrite) -> Query<'q, Any, AnyArguments<'q>> {
    sqlx::query(sql)
        .bind(&answer.uuid)
        .bind(&answer.id)
        .bind(&answer.sealed_response)
        .bind(&answer.sealed_config)
        .bind(answer.now)
        .bind(answer.state)
        .bind(answer.status)
        .bind(answer.index.key_digest.as_deref())
}

/// The answer and config recorded, the resource live (or pending), its follow-up job added.
/// Only the claim's owner gets here, while the row is `provisioning`; should the row have been
/// answered already (a claim taken over from a process that was slow, not dead), nothing of
/// this answer is written, so the first answer's config index stays whole.
async fn apply_answer(conn: &mut AnyConnection, answer: &AnswerWrite) -> Result<(), sqlx::Error> {
    let updated = bind_answer(UPDATE_ANSWER, answer).execute(&mut *conn).await?;
    if updated.rows_affected() == 0 {
        came_late(&answer.uuid);
        return Ok(());
    }
    if let Some(follow_up) = &answer.follow_up {
        jobs::add(&mut *conn, &answer.uuid, follow_up).await?;
    }
    // A provisioning row has no index rows yet: they are only written here, with its answer.
    config_index::insert(&mut *conn, &answer.uuid, &answer.index.rows).await
}

/// An answer for a resource answered already (its claim was taken over from a process that was
/// slow, not dead): nothing of it is written.
pub(super) fn came_late(uuid: &str) {
    tracing::warn!(uuid = %uuid, "a provision's answer came after the resource was answered; it was not recorded");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::store::Store;

    fn claim(uuid: &str, token: Option<&str>, now: i64) -> Write {
        Write::Claim(ClaimWrite {
            uuid: uuid.to_owned(),
            plan: "basic".to_owned(),
            region: None,
            name: None,
            options: "{}".to_owned(),
            callback_url: None,
            log_drain_token: token.map(str::to_owned),
            marketplace: "heroku",
            lease_until: now + 60_000,
            now,
        })
    }

    fn answer(uuid: &str, now: i64) -> Write {
        Write::Answer(AnswerWrite {
            uuid: uuid.to_owned(),
            id: uuid.to_owned(),
            state: "provisioned",
            status: 200,
            sealed_response: "{}".to_owned(),
            sealed_config: "{}".to_owned(),
            index: Index::default(),
            follow_up: None,
            now,
        })
    }

    /// A batch as the writer commits it on `store`'s backend.
    async fn batch(store: &Store, writes: &[Write]) -> Vec<Option<Claimed>> {
        let outcomes = match store.backend() {
            Backend::Sqlite => in_one_transaction(&store.connections, writes).await,
            Backend::Postgres => bulk::commit(&store.connections, writes).await,
        };
        outcomes.into_iter().map(|outcome| outcome.expect("the write commits")).collect()
    }

    /// One drain token names one resource: a claim of a token a live resource holds, or one that
    /// another claim of the same batch holds, is refused; a claim of a new token, or of none, and
    /// a claim that found its uuid known are not; a write alone is checked the same way.
    async fn drain_tokens_are_checked_after_the_claims_commit(store: &Store) {
        use Claimed::*;
        let prefix = &addon_manifest::random_secret()[..12];
        let uuid = |name: &str| format!("{prefix}-{name}");
        let token = |name: &str| Some(format!("{prefix}-token-{name}"));
        let now = store.now_ms();
        let live = uuid("live");
        assert_eq!(batch(store, &[claim(&live, token("live").as_deref(), now)]).await, [Some(Inserted)]);
        assert_eq!(batch(store, &[answer(&live, now)]).await, [None]);

        let claims = [
            claim(&uuid("a"), token("live").as_deref(), now),
            claim(&uuid("b"), token("b").as_deref(), now),
            claim(&uuid("c"), token("shared").as_deref(), now),
            claim(&uuid("d"), token("shared").as_deref(), now),
            claim(&uuid("e"), None, now),
            claim(&live, token("live").as_deref(), now),
        ];
        assert_eq!(
            batch(store, &claims).await,
            [
                Some(TokenTaken),
                Some(Inserted),
                Some(TokenTaken),
                Some(TokenTaken),
                Some(Inserted),
                Some(Known)
            ]
        );
        let alone_claim = claim(&uuid("f"), token("b").as_deref(), now);
        let alone =
            alone(&store.connections, store.backend(), &alone_claim).await.expect("the claim commits");
        assert_eq!(alone, Some(TokenTaken), "b's claim holds its token");
    }

    #[tokio::test]
    async fn sqlite_checks_drain_tokens_after_the_claims_commit() {
        let name = format!("addon-runtime-group-{}.db", addon_manifest::random_secret());
        let url = format!("sqlite://{}", std::env::temp_dir().join(&name).display());
        let store = Store::open(&url).await.expect("the registry opens");
        drain_tokens_are_checked_after_the_claims_commit(&store).await;
    }

    #[tokio::test]
    async fn postgres_checks_drain_tokens_after_the_claims_commit() {
        let url = std::env::var("TEST_DATABASE_URL")
            .expect("TEST_DATABASE_URL is not set: run the tests through scripts/with-postgres.sh");
        let store = Store::open(&url).await.expect("the registry opens");
        drain_tokens_are_checked_after_the_claims_commit(&store).await;
    }
}
