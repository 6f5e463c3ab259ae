//! Every answer the runtime refuses or fails with, decided here: [`AddonError`] (a status and a
//! message written for the person who reads it) and the runtime's own refusals, one function
//! each. Adapters only turn an `AddonError` into their wire format (`web::respond`); no other
//! module picks a 4xx or 5xx status or writes an error message of the runtime's.
//!
//! Also the start-up [`Error`].

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use http::StatusCode;

/// An answer a vendor's method gives instead of success: a status and a message that Heroku
/// shows to its user (in the CLI or the dashboard), so it is written for them.
///
/// [`AddonError::new`] answers 422, the status Heroku's documentation gives for a request that
/// cannot be fulfilled. Any error type converts into an `AddonError` with `?`: it becomes a 500
/// whose message reveals nothing, and the original error is logged for the vendor.
pub struct AddonError {
    status: StatusCode,
    message: Cow<'static, str>,
    /// The vendor's own error text, logged but never sent.
    detail: Option<String>,
    /// When asking again makes sense: sent as `Retry-After` (whole seconds, rounded up).
    retry_after: Option<std::time::Duration>,
    /// The declared plans, sent beside the message when a request named another.
    plans: Option<&'static [&'static str]>,
    /// A machine-readable code some marketplaces send beside the message (OSB's `error`).
    code: Option<&'static str>,
}

impl AddonError {
    /// A request that cannot be fulfilled (422), with a message for Heroku's user.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
            detail: None,
            retry_after: None,
            plans: None,
            code: None,
        }
    }

    /// The same message with another status. Only 4xx and 5xx statuses are kept: an error
    /// that claimed success would mislead Heroku, so anything else becomes 500.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        self
    }

    /// 404: the resource does not exist.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(message).with_status(StatusCode::NOT_FOUND)
    }

    /// 403: the caller may not do this.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(message).with_status(StatusCode::FORBIDDEN)
    }

    /// 503: try again later; Heroku retries provisioning calls.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(message).with_status(StatusCode::SERVICE_UNAVAILABLE)
    }

    /// 500 with a message that reveals nothing; `detail` is logged for the vendor.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: Cow::Borrowed("The add-on could not complete this request. Please try again later."),
            detail: Some(detail.to_string()),
            retry_after: None,
            plans: None,
            code: None,
        }
    }

    /// Keeps `detail` for the log (never sent), whatever the status.
    pub fn with_detail(mut self, detail: impl fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// Tells the client when to ask again (`Retry-After`), as a 429 or 503 should.
    pub fn with_retry_after(mut self, after: std::time::Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// When the client may ask again, if this refusal says.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message Heroku's user sees.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The declared plans, when this refuses a plan that is not one of them; sent as `plans`.
    pub(crate) fn plans(&self) -> Option<&'static [&'static str]> {
        self.plans
    }

    /// The machine-readable code of this refusal, where the marketplace defines one (OSB's
    /// `AsyncRequired`, `ConcurrencyError`).
    pub(crate) fn code(&self) -> Option<&'static str> {
        self.code
    }

    /// The vendor's own error text, for the log; never sent.
    pub(crate) fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// Writes the refusal to the log: a server error with its detail (the vendor must look), a
    /// refusal of the request as information.
    pub(crate) fn log(&self) {
        if self.status.is_server_error() {
            tracing::error!(
                status = self.status.as_u16(),
                detail = self.detail().map(escaped).as_deref(),
                "{}",
                escaped(&self.message)
            );
        } else {
            // Messages quote what the request sent (an id, a content type): escaped, so a CR or
            // LF in it cannot start a forged line.
            tracing::info!(status = self.status.as_u16(), "{}", escaped(&self.message));
        }
    }

    fn refusal(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self { status, message: message.into(), detail: None, retry_after: None, plans: None, code: None }
    }
}

/// The Open Service Broker adapter's refusals: statuses and codes as the OSB API v2.17 names
/// them, messages for the platform's user (Cloud Foundry shows `description` in its CLI).
impl AddonError {
    /// 401 from the OSB routes' Basic auth.
    pub(crate) fn osb_unauthenticated() -> Self {
        Self::refusal(
            StatusCode::UNAUTHORIZED,
            "Authentication failed: send the broker's username and password (Basic auth).",
        )
    }

    /// 412: `X-Broker-API-Version` missing, or of a major version other than 2.
    pub(crate) fn osb_version_unsupported(sent: Option<&str>) -> Self {
        let message = match sent {
            None => {
                "The X-Broker-API-Version header is missing; this broker speaks version 2 (2.17).".to_owned()
            }
            Some(sent) => format!(
                "X-Broker-API-Version `{}` is not supported; this broker speaks version 2 (2.17).",
                escaped(sent)
            ),
        };
        Self::refusal(StatusCode::PRECONDITION_FAILED, message)
    }

    /// 400: a body or query the OSB API does not allow (malformed JSON, a missing field).
    pub(crate) fn osb_bad_request(problem: impl fmt::Display) -> Self {
        Self::refusal(StatusCode::BAD_REQUEST, format!("The request is not valid: {problem}."))
    }

    /// 400: a `service_id` the catalog does not list.
    pub(crate) fn osb_unknown_service(service_id: &str) -> Self {
        Self::osb_bad_request(format!(
            "`service_id` `{service_id}` is not this broker's service (see GET /v2/catalog)"
        ))
    }

    /// 400: a `plan_id` the catalog does not list.
    pub(crate) fn osb_unknown_plan(plan_id: &str) -> Self {
        Self::osb_bad_request(format!(
            "`plan_id` `{plan_id}` is not one of this service's plans (see GET /v2/catalog)"
        ))
    }

    /// 422 `AsyncRequired`: the vendor answers later, and the platform did not say it can poll.
    pub(crate) fn osb_async_required() -> Self {
        let mut error = Self::new(
            "This service finishes this operation in the background: ask again with `accepts_incomplete=true` and poll last_operation.",
        );
        error.code = Some("AsyncRequired");
        error
    }

    /// 409: an instance id already provisioned with other attributes.
    pub(crate) fn osb_instance_conflict(instance_id: &str) -> Self {
        Self::refusal(
            StatusCode::CONFLICT,
            format!(
                "The service instance `{instance_id}` already exists with another service, plan or parameters; use a new instance id."
            ),
        )
    }

    /// 409: a binding id already used, for another instance or with other attributes.
    pub(crate) fn osb_binding_conflict(binding_id: &str) -> Self {
        Self::refusal(
            StatusCode::CONFLICT,
            format!("The service binding `{binding_id}` already exists with other attributes; use a new binding id."),
        )
    }

    /// 404: no instance of this broker's has this id (or it is not provisioned yet).
    pub(crate) fn osb_unknown_instance(instance_id: &str) -> Self {
        Self::not_found(format!(
            "No service instance `{instance_id}` exists here (or it is still being provisioned)."
        ))
    }

    /// 404: no binding has this id.
    pub(crate) fn osb_unknown_binding(binding_id: &str) -> Self {
        Self::not_found(format!("No service binding `{binding_id}` exists for this instance."))
    }

    /// 400: a bind for a service the catalog says is not bindable.
    pub(crate) fn osb_not_bindable() -> Self {
        Self::osb_bad_request("this service is not bindable")
    }

    /// 422 `ConcurrencyError`: the instance is busy with another operation (still provisioning,
    /// or held by another request).
    pub(crate) fn osb_concurrency() -> Self {
        let mut error = Self::new(
            "Another operation on this service instance is in progress; try again once it has finished.",
        );
        error.code = Some("ConcurrencyError");
        error
    }

    /// 401/403 on the dashboard link: it is not this broker's, or its instance is gone.
    pub(crate) fn osb_dashboard_refused() -> Self {
        Self::refusal(
            StatusCode::FORBIDDEN,
            "This dashboard link is not valid (or its service instance was deleted); open the dashboard \
             from your platform again.",
        )
    }
}

/// The runtime's own refusals and failures, one function each, so every status and message it
/// gives is decided in this one place.
impl AddonError {
    /// 401 from Basic auth, whatever was wrong with the credentials.
    pub(crate) fn unauthenticated() -> Self {
        Self::refusal(
            StatusCode::UNAUTHORIZED,
            "Authentication failed: this endpoint is for Heroku's calls only.",
        )
    }

    /// 404 for an address no route serves.
    pub(crate) fn no_route() -> Self {
        Self::refusal(StatusCode::NOT_FOUND, "There is nothing at this address.")
    }

    /// 405 for a route that exists under another method.
    pub(crate) fn wrong_method() -> Self {
        Self::refusal(StatusCode::METHOD_NOT_ALLOWED, "This address does not answer to that HTTP method.")
    }

    /// 413: a body over the configured limit.
    pub(crate) fn body_too_large(limit: usize) -> Self {
        Self::refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body is larger than this add-on accepts ({limit} bytes at most)."),
        )
    }

    /// 400: the body could not be read (the client went away, or sent a malformed stream).
    pub(crate) fn body_unreadable() -> Self {
        Self::refusal(StatusCode::BAD_REQUEST, "The request body could not be read.")
    }

    /// 415: a JSON route was sent another media type.
    pub(crate) fn not_json(essence: &str, accepted: &str) -> Self {
        Self::refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type `{essence}` is not supported; send `application/json` or `{accepted}`."),
        )
    }

    /// 422: a JSON body with nothing in it.
    pub(crate) fn empty_body(what: &str) -> Self {
        Self::new(format!("The {what} body is empty; expected a JSON object."))
    }

    /// 400 for JSON that does not parse, 422 for JSON whose fields are wrong.
    pub(crate) fn malformed_body(what: &str, syntax: bool, problem: impl fmt::Display) -> Self {
        let status = if syntax { StatusCode::BAD_REQUEST } else { StatusCode::UNPROCESSABLE_ENTITY };
        Self::refusal(status, format!("The {what} body is not valid: {problem}."))
    }

    /// 422: a request whose fields parse but break a rule (a resource id, a plan slug).
    pub(crate) fn invalid_request(what: &str, problem: impl fmt::Display) -> Self {
        Self::new(format!("The {what} is not valid: {problem}."))
    }

    /// 422: a provision or plan change to a plan the add-on does not declare. The plans go with
    /// the message as data, so a tool (such as `addon-check`) can learn them.
    pub(crate) fn unknown_plan(plan: &str, plans: &'static [&'static str]) -> Self {
        let listed = plans.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
        let mut error = Self::new(format!(
            "This add-on has no `{plan}` plan; its plans are {listed}. Choose one of them."
        ));
        error.plans = Some(plans);
        error
    }

    /// 422: a provision whose log drain token another live resource already has.
    pub(crate) fn drain_token_taken() -> Self {
        Self::new(
            "The log_drain_token is already another live add-on resource's; Heroku gives each \
             resource its own, so this provision was refused.",
        )
    }

    /// 409: a provision whose uuid already names a resource another marketplace sold. Its
    /// answer is not that resource's business, and a uuid names one resource.
    pub(crate) fn owned_elsewhere(uuid: &str) -> Self {
        Self::refusal(
            StatusCode::CONFLICT,
            format!(
                "The id `{uuid}` already names an add-on resource sold through another marketplace; \
                 provision with an id of its own."
            ),
        )
    }

    /// 404: no resource has this uuid or id.
    pub(crate) fn unknown_resource(id: &str) -> Self {
        Self::not_found(format!("No add-on resource `{id}` exists here."))
    }

    /// 410: the resource was deprovisioned; a uuid is never provisioned twice.
    pub(crate) fn gone(uuid: &str) -> Self {
        Self::refusal(
            StatusCode::GONE,
            format!("The add-on resource `{uuid}` was deprovisioned; provision a new one instead."),
        )
    }

    /// 422: a plan change for a resource whose provisioning has not finished.
    pub(crate) fn still_provisioning() -> Self {
        Self::new("This add-on is still being provisioned; change its plan once it is ready.")
    }

    /// 503: another request for the same resource held it too long; Heroku retries.
    pub(crate) fn in_progress() -> Self {
        Self::unavailable("Another request for this add-on resource is still in progress. Please try again.")
    }

    /// 409: a replay whose recorded answer is sealed with a key this instance no longer has.
    /// The cause (which key) goes to the log; the answer is refused rather than made up.
    pub(crate) fn answer_sealed_away(detail: impl fmt::Display) -> Self {
        Self::refusal(
            StatusCode::CONFLICT,
            "This add-on resource's recorded answer cannot be read with the add-on's current keys; \
             its provider has been notified.",
        )
        .with_detail(detail)
    }

    /// 503: the registry's database failed; the cause is logged, and Heroku retries.
    pub(crate) fn registry_unavailable(detail: impl fmt::Display) -> Self {
        Self::unavailable("The add-on's database is unavailable right now. Please try again shortly.")
            .with_detail(detail)
    }

    /// 429: a resource asked more often than its [`RateLimiter`](crate::RateLimiter) allows.
    pub(crate) fn rate_limited(retry_after: std::time::Duration) -> Self {
        let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        Self::refusal(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many requests for this add-on resource. Please slow down and try again in {} second{}.",
                seconds.max(1),
                if seconds > 1 { "s" } else { "" }
            ),
        )
        .with_retry_after(retry_after)
    }

    /// 413: a batch larger than its [`RateLimiter`](crate::RateLimiter)'s burst, which no wait
    /// would let through.
    pub(crate) fn over_burst(size: u32, burst: u32) -> Self {
        Self::refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("This request holds {size} items; at most {burst} are accepted at once. Send smaller batches."),
        )
    }

    /// 500: code below a handler panicked. The panic's message is logged, never sent.
    pub(crate) fn panicked(method: &str, payload: &(dyn Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        tracing::error!(
            method,
            panic = message,
            "a handler panicked; the request got a 500 and nothing was recorded"
        );
        Self::refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The add-on failed while handling this request. Please try again.",
        )
    }

    /// 503: a vendor method outlived its time limit and was stopped.
    pub(crate) fn vendor_timeout(method: &str, limit: std::time::Duration) -> Self {
        tracing::error!(
            method,
            timeout_secs = limit.as_secs_f64(),
            "the add-on's method did not finish in time"
        );
        Self::unavailable("The add-on took too long to answer. Please try again.")
    }

    /// 500: the vendor's method answered something the marketplace must not receive (an
    /// undeclared config var, say). The details go to the vendor's log.
    pub(crate) fn vendor_bug(method: &str, problem: &str) -> Self {
        tracing::error!(
            method,
            problem,
            "the add-on returned an answer that breaks the Partner API; nothing was recorded"
        );
        Self::refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The add-on returned an invalid answer. Its provider has been notified.",
        )
    }

    /// 500: an answer that could not be encoded.
    pub(crate) fn unencodable(detail: impl fmt::Display) -> Self {
        Self::refusal(StatusCode::INTERNAL_SERVER_ERROR, "The add-on could not encode its answer.")
            .with_detail(detail)
    }

    /// 415: the SSO route takes only a form post.
    pub(crate) fn sso_not_a_form() -> Self {
        Self::refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Single sign-on expects an `application/x-www-form-urlencoded` form post.",
        )
    }

    /// 400: the SSO form or link does not parse.
    pub(crate) fn sso_malformed(what: &str, problem: impl fmt::Display) -> Self {
        Self::refusal(StatusCode::BAD_REQUEST, format!("The sign-in {what} is not valid: {problem}."))
    }

    /// 403: the SSO token, its time or its user did not verify; `message` says which.
    pub(crate) fn sso_refused(message: &'static str) -> Self {
        Self::forbidden(message)
    }

    /// 400: an SSO field longer than Heroku ever sends (an email past 254 bytes, say).
    pub(crate) fn sso_field_too_long(field: &str, max: usize) -> Self {
        let why = if field == "email" { ", the most an email address can have" } else { "" };
        Self::refusal(
            StatusCode::BAD_REQUEST,
            format!("The sign-in's `{field}` is longer than {max} bytes{why}; it was refused."),
        )
    }

    /// 403: single-use SSO is on and this very form signed in before.
    pub(crate) fn sso_replayed() -> Self {
        Self::forbidden(
            "This sign-in link has already been used. Open the add-on again from the Heroku dashboard.",
        )
    }

    /// 404: a verified login for a resource this registry never had.
    pub(crate) fn sso_unknown_resource() -> Self {
        Self::not_found("This add-on resource does not exist here.")
    }

    /// 403: a login for a resource still being provisioned.
    pub(crate) fn sso_not_ready() -> Self {
        Self::forbidden("This add-on is still being set up. Try again in a few minutes.")
    }

    /// 403: a login for a resource that was removed (or failed to provision).
    pub(crate) fn sso_removed() -> Self {
        Self::forbidden("This add-on has been removed; there is nothing to sign in to.")
    }

    /// 401: a request without a working session; `message` says why.
    pub(crate) fn signed_out(message: &'static str) -> Self {
        Self::refusal(StatusCode::UNAUTHORIZED, message)
    }

    /// 403: a session for one resource on another resource's page.
    pub(crate) fn other_resource() -> Self {
        Self::forbidden(
            "You are signed in to a different add-on resource. Open this one from the Heroku dashboard.",
        )
    }

    /// 403: a sign-out posted from another site.
    pub(crate) fn cross_site_sign_out() -> Self {
        Self::forbidden("Sign out from the add-on's own pages.")
    }

    /// 500: a route uses the `Session` extractor outside the add-on's app.
    pub(crate) fn sessions_not_set_up() -> Self {
        Self::refusal(StatusCode::INTERNAL_SERVER_ERROR, "This page is not set up for add-on sessions.")
            .with_detail(
                "a route uses `Session` but is not part of the add-on's App: add it with `App::with_routes`",
            )
    }
}

/// Refusals of the vendor's own routes that the runtime decides: the app's API key and the
/// resource's lease.
impl AddonError {
    /// 401: a request to the app's API without a key, or with one that opens no live resource
    /// (one answer for both, so the API does not tell which keys exist).
    pub(crate) fn api_key_refused(var: &str, sent: bool) -> Self {
        let message = if sent {
            format!("This key does not open any live add-on resource. Send the app's current `{var}`.")
        } else {
            format!(
                "This API needs the app's `{var}`: send `Authorization: Bearer <{var}>`, or Basic auth \
                 with it as the password."
            )
        };
        Self::refusal(StatusCode::UNAUTHORIZED, message)
    }

    /// 409: a lease asked for a resource that is not live yet (still pending) or failed.
    pub(crate) fn resource_not_live(uuid: &str) -> Self {
        Self::refusal(
            StatusCode::CONFLICT,
            format!("The add-on resource `{uuid}` is not live yet; try again once it is provisioned."),
        )
    }
}

/// Refusals of the server's limits and of malformed requests (addresses, queries, forms, JSON)
/// that reach any route, the vendor's included.
impl AddonError {
    /// 503 when the server is answering as many requests as it may at once; the response also
    /// carries `Retry-After`.
    pub(crate) fn overloaded() -> Self {
        Self::unavailable("The add-on is busy answering other requests. Please try again in a moment.")
    }

    /// 408: the request body did not arrive within the body deadline.
    pub(crate) fn body_timeout(limit: std::time::Duration) -> Self {
        Self::refusal(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "The request body did not arrive within {} seconds; send it in one go.",
                limit.as_secs_f64()
            ),
        )
    }

    /// 400 (or the status the router chose): a part of the address does not parse, such as
    /// `%ff`, which is not UTF-8.
    pub(crate) fn bad_path(status: StatusCode, problem: impl fmt::Display) -> Self {
        Self::client_refusal(status, format!("The address is not valid: {problem}."))
    }

    /// 400: the query string does not parse into what the route expects.
    pub(crate) fn bad_query(status: StatusCode, problem: impl fmt::Display) -> Self {
        Self::client_refusal(status, format!("The query string is not valid: {problem}."))
    }

    /// 400, 413, 415 or 422: a form body that is not the form the route expects.
    pub(crate) fn bad_form(status: StatusCode, problem: impl fmt::Display) -> Self {
        Self::client_refusal(status, format!("The form is not valid: {problem}."))
    }

    /// 400, 413, 415 or 422: a JSON body that is not what the route expects.
    pub(crate) fn bad_json(status: StatusCode, problem: impl fmt::Display) -> Self {
        Self::client_refusal(status, format!("The JSON body is not valid: {problem}."))
    }

    /// A refusal with the status an extractor chose, kept only if it is a 4xx: anything else
    /// is the route's own mistake (a path parameter it never declared), so a 500.
    fn client_refusal(status: StatusCode, message: String) -> Self {
        if status.is_client_error() {
            Self::refusal(status, message)
        } else {
            Self::internal(message)
        }
    }
}

/// `?` works on any error: it becomes [`AddonError::internal`].
impl<E: std::error::Error> From<E> for AddonError {
    fn from(error: E) -> Self {
        Self::internal(error)
    }
}

impl fmt::Debug for AddonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddonError")
            .field("status", &self.status.as_u16())
            .field("message", &self.message)
            .field("detail", &self.detail)
            .finish()
    }
}

impl fmt::Display for AddonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

/// Text from outside, ready for a log line: control characters (CR, LF, escape sequences) are
/// written as `\n`, `\u{1b}` and so on, so one value can never look like more than one line.
pub(crate) fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Why the runtime could not start or keep serving. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or malformed.
    #[error("configuration: {0}")]
    Config(String),
    /// The add-on's declaration breaks a manifest rule (only possible for hand-written `Addon` impls:
    /// the macro refuses them at compile time).
    #[error("the add-on's manifest is not valid:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Manifest(Vec<addon_manifest::Problem>),
    /// The registry's database could not be opened or migrated.
    #[error("registry: {0}")]
    Store(String),
    /// The listener could not be bound or the server failed.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Refusals of suspension (marketplace-neutral) and of the DigitalOcean adapter.
impl AddonError {
    /// 403: the resource is suspended (its data is kept); sign-in, sessions and its API key are
    /// refused until it is reactivated.
    pub(crate) fn suspended() -> Self {
        Self::refusal(
            StatusCode::FORBIDDEN,
            "This add-on is suspended by its marketplace (for example, for an unpaid bill); its data is kept. \
             It opens again once the account is reactivated.",
        )
    }

    /// 401 from DigitalOcean's Basic auth (`slug:password`), whatever was wrong.
    pub(crate) fn digitalocean_unauthenticated() -> Self {
        Self::refusal(
            StatusCode::UNAUTHORIZED,
            "Authentication failed: this endpoint is for DigitalOcean's calls only.",
        )
    }

    /// 422: a notification whose `type` the adapter does not know.
    pub(crate) fn unknown_notification(kind: &str, known: &[&str]) -> Self {
        let known = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        Self::refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The notification type `{}` is not known here; expected one of {known}.", escaped(kind)),
        )
    }

    /// 422: a notification whose payload does not have the fields its type needs.
    pub(crate) fn notification_malformed(kind: &str, problem: impl fmt::Display) -> Self {
        Self::refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The `{}` notification's payload is not as expected: {problem}.", escaped(kind)),
        )
    }
}
