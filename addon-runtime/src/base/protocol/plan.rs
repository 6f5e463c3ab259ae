use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A plan's slug, such as `hobby`, as Heroku sends it (without the `addon:` prefix).
///
/// `#[heroku_addon(plans = ["hobby", "pro"])]` makes one constant per plan (`Self::HOBBY`,
/// `Self::PRO`), and the runtime refuses any plan not declared before the vendor is called, so a
/// request's plan is always one of them. It compares with those constants and with strings, and
/// derefs to `str`:
///
/// ```
/// # use addon_runtime::Plan;
/// const PRO: Plan = Plan::new("pro");
/// let sent = Plan::from("pro");
/// assert!(sent == PRO && sent == "pro" && sent.as_str() == "pro");
/// assert_eq!(format!("the {sent} plan"), "the pro plan");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Plan(Cow<'static, str>);

impl Plan {
    /// A plan by its slug, in a `const`.
    pub const fn new(slug: &'static str) -> Self {
        Plan(Cow::Borrowed(slug))
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Plan {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Plan {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Plan {
    fn from(slug: String) -> Self {
        Plan(Cow::Owned(slug))
    }
}

impl From<&str> for Plan {
    fn from(slug: &str) -> Self {
        Plan(Cow::Owned(slug.to_owned()))
    }
}

impl From<Plan> for String {
    fn from(plan: Plan) -> Self {
        plan.0.into_owned()
    }
}

impl PartialEq<str> for Plan {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Plan {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Plan {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Plan> for str {
    fn eq(&self, other: &Plan) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Plan> for &str {
    fn eq(&self, other: &Plan) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Plan> for String {
    fn eq(&self, other: &Plan) -> bool {
        self == other.as_str()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Plan::from)
    }
}

impl Serialize for Plan {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
