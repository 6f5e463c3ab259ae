//! The vocabulary of Heroku's single sign-on that both sides share: the runtime verifies these
//! tokens, the simulator and the checker sign them.

/// The three generations of SSO token Heroku has signed logins with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// `user_scoped_resource_token`: sha256 of `uuid:salt:timestamp:user_id:email`. Heroku's
    /// recommended token; it also vouches for the user.
    UserScoped,
    /// `resource_token`: sha1 of `uuid:salt:timestamp`.
    Resource,
    /// Legacy `token`: sha1 of `id:salt:timestamp`, where `id` is the id returned at provisioning.
    Legacy,
}
