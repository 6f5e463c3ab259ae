use std::fmt;

// Defined with the manifest, as the simulator that signs these tokens shares it.
pub use addon_manifest::TokenKind;

/// A user Heroku sent through single sign-on, after the runtime verified the token.
#[derive(Clone)]
#[non_exhaustive]
pub struct SsoLogin {
    /// Heroku's uuid of the resource the user signed in to.
    pub uuid: String,
    /// The resource's current plan.
    pub plan: super::Plan,
    /// Which token Heroku signed the login with.
    pub token: TokenKind,
    /// The user, as Heroku named them. Covered by the token only when `token` is
    /// [`TokenKind::UserScoped`]; otherwise it is what the form said.
    pub user: Option<SsoUser>,
    /// The app the user came from (`app`, `context_app` or `attached_app`, whichever was sent).
    pub app: Option<String>,
    /// The app that owns the resource (`owning_app`), when sent.
    pub owning_app: Option<String>,
    /// The marketplace the user signed in through (the resource's own).
    pub marketplace: super::Marketplace,
}

impl SsoLogin {
    /// A login with no user details; for tests.
    pub fn new(uuid: impl Into<String>, plan: impl Into<super::Plan>, token: TokenKind) -> Self {
        Self {
            uuid: uuid.into(),
            plan: plan.into(),
            token,
            user: None,
            app: None,
            owning_app: None,
            marketplace: super::Marketplace::Heroku,
        }
    }

    /// Whether Heroku vouched for [`user`](Self::user): true only for a user-scoped token,
    /// which covers the user's id and email. Otherwise anyone holding a valid resource token
    /// could have written any email into the form; do not grant per-user rights on it.
    pub fn user_vouched(&self) -> bool {
        self.token == TokenKind::UserScoped
    }
}

impl fmt::Debug for SsoLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoLogin")
            .field("uuid", &self.uuid)
            .field("plan", &self.plan)
            .field("token", &self.token)
            .field("user", &self.user)
            .field("app", &self.app)
            .field("owning_app", &self.owning_app)
            .field("marketplace", &self.marketplace)
            .finish()
    }
}

/// The Heroku user behind an SSO login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoUser {
    pub email: Option<String>,
    pub id: Option<String>,
}
