//! Extractors for vendors' routes whose refusals are JSON `{"message": ...}`, like the runtime's.
//!
//! axum's own `Json`, `Query`, `Form` and `Path` answer a malformed request with `text/plain`.
//! These are the same extractors (same shapes, same statuses) with the refusal written as the
//! runtime writes its own:
//!
//! ```
//! use addon_runtime::extract::{Json, Path, Query};
//! use axum::routing::get;
//!
//! #[derive(serde::Deserialize)]
//! struct Search { q: String }
//!
//! async fn search(Path(uuid): Path<String>, Query(search): Query<Search>) -> Json<Vec<String>> {
//!     Json(vec![uuid, search.q])
//! }
//!
//! let routes: axum::Router = axum::Router::new().route("/api/{uuid}/search", get(search));
//! ```
//!
//! Unknown paths and wrong methods get JSON 404 and 405 on the whole router `App` serves,
//! vendor routes included.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::base::answer::AddonError;

/// A JSON body (`application/json`); refused with a JSON 400, 413, 415 or 422. Also a JSON answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// The query string; refused with a JSON 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

/// A form body (`application/x-www-form-urlencoded`, or the query of a GET); refused with a
/// JSON 400, 413, 415 or 422.
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

/// The route's path parameters (percent-decoded, UTF-8); refused with a JSON 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AddonError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AddonError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(AddonError::bad_json(rejection.status(), rejection.body_text())),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AddonError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AddonError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(AddonError::bad_query(rejection.status(), rejection.body_text())),
        }
    }
}

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AddonError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AddonError> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => Err(AddonError::bad_form(rejection.status(), rejection.body_text())),
        }
    }
}

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AddonError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AddonError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(AddonError::bad_path(rejection.status(), rejection.body_text())),
        }
    }
}

macro_rules! deref {
    ($($name:ident),*) => {$(
        impl<T> std::ops::Deref for $name<T> {
            type Target = T;

            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T> std::ops::DerefMut for $name<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }
    )*};
}

deref!(Json, Query, Form, Path);
