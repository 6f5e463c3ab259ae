//! Who asked, as a marketplace says it: the Open Service Broker API's
//! `X-Broker-API-Originating-Identity: <platform> <base64 JSON>`.

use base64::Engine;

/// The platform user behind a request, as the platform vouched for it: `platform` (such as
/// `cloudfoundry` or `kubernetes`) and the user's properties as the platform wrote them (Cloud
/// Foundry sends `{"user_id": ...}`, Kubernetes `{"username", "uid", "groups", ...}`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OriginatingIdentity {
    pub platform: String,
    pub value: serde_json::Value,
}

impl OriginatingIdentity {
    /// Parses the header's value; `None` if it is not `<platform> <base64 of a JSON object>`.
    pub fn parse(header: &str) -> Option<Self> {
        let (platform, encoded) = header.trim().split_once(' ')?;
        let valid_platform = !platform.is_empty()
            && platform.len() <= 64
            && platform.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid_platform {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
        value.is_object().then(|| OriginatingIdentity { platform: platform.to_owned(), value })
    }

    /// The user's id as the platform names it (`user_id`, Cloud Foundry's; `uid`, Kubernetes').
    pub fn user_id(&self) -> Option<&str> {
        self.value.get("user_id").or_else(|| self.value.get("uid")).and_then(|v| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        /// Any header parses or is refused without panicking; a well-formed one reads back.
        #[test]
        fn any_header_parses_or_is_refused(text in ".{0,300}", platform in "[a-z][a-z0-9-]{0,20}", user in "[ -~]{0,40}") {
            let _ = OriginatingIdentity::parse(&text);
            let value = serde_json::json!({ "user_id": user });
            let encoded = base64::engine::general_purpose::STANDARD.encode(value.to_string());
            let parsed = OriginatingIdentity::parse(&format!("{platform} {encoded}")).unwrap();
            proptest::prop_assert_eq!(&parsed.platform, &platform);
            proptest::prop_assert_eq!(parsed.user_id(), Some(user.as_str()));
        }
    }

    #[test]
    fn the_specification_examples() {
        // `{"user_id": "683ea748-3092-4ff4-b656-39cacc4d5360"}`, as the spec's Cloud Foundry example.
        let cf = OriginatingIdentity::parse(
            "cloudfoundry eyJ1c2VyX2lkIjogIjY4M2VhNzQ4LTMwOTItNGZmNC1iNjU2LTM5Y2FjYzRkNTM2MCJ9",
        )
        .unwrap();
        assert_eq!(cf.platform, "cloudfoundry");
        assert_eq!(cf.user_id(), Some("683ea748-3092-4ff4-b656-39cacc4d5360"));
        for bad in ["", "cloudfoundry", "cloudfoundry !!!", "cloud foundry e30=", "x WzFd"] {
            assert!(OriginatingIdentity::parse(bad).is_none(), "{bad:?}");
        }
    }
}
