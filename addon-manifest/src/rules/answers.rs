//! The rules on what an add-on answers Heroku, and on the identifiers Heroku sends it. The
//! runtime applies them before answering for the vendor's code; the conformance checker applies
//! them to whatever an add-on in any language answered.

/// A config var an answer sets must be one the manifest declares: Heroku refuses the others.
pub fn check_declared<S: AsRef<str>>(var: &str, declared: &[S]) -> Result<(), String> {
    if declared.iter().any(|d| d.as_ref() == var) {
        return Ok(());
    }
    let names: Vec<&str> = declared.iter().map(AsRef::as_ref).collect();
    Err(format!("config var `{var}` is not declared in the manifest (declared: {})", names.join(", ")))
}

/// A `*_URL` config var's value must be a full URL, as kensa required: apps connect with it.
pub fn check_config_value(var: &str, value: &str) -> Result<(), String> {
    if var.ends_with("_URL") && !is_absolute_url(value) {
        return Err(format!("config var `{var}` must be a full URL with a scheme and a host"));
    }
    Ok(())
}

/// Both rules on every var of an answer's config; the first problem found.
pub fn check_config<'v, S: AsRef<str>>(
    config: impl IntoIterator<Item = (&'v str, &'v str)>,
    declared: &[S],
) -> Result<(), String> {
    for (var, value) in config {
        check_declared(var, declared)?;
        check_config_value(var, value)?;
    }
    Ok(())
}

/// `scheme://host...`, with no white space.
pub fn is_absolute_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_userinfo, host)| host);
    scheme_ok && !host.is_empty() && !value.chars().any(char::is_whitespace)
}

/// `https://...` or `syslog://...` with no white space, as kensa required of `log_drain_url`.
/// `allow_plain_http` lets `http://` through too, for a service in development, which has no
/// certificate.
pub fn check_log_drain_url(url: &str, allow_plain_http: bool) -> Result<(), String> {
    let plain_http = if allow_plain_http { url.strip_prefix("http://") } else { None };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("syslog://")).or(plain_http);
    match rest {
        Some(rest) if !rest.is_empty() && !url.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(format!("log_drain_url `{url}` must be an https:// or syslog:// URL")),
    }
}

/// A resource id (Heroku's `uuid`, or the `id` an add-on answers with) must be safe to use as a
/// URL path segment and a storage key. `field` names it in the message.
pub fn check_resource_id(field: &str, id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid {
        Ok(())
    } else {
        Err(format!("`{field}` must be a resource id such as `01234567-89ab-cdef-0123-456789abcdef`"))
    }
}

/// Plan slugs are short identifiers; anything else is a malformed request.
pub fn check_plan(plan: &str) -> Result<(), String> {
    let valid = !plan.is_empty() && plan.len() <= 128 && !plan.chars().any(char::is_control);
    if valid {
        Ok(())
    } else {
        Err("`plan` must be a plan slug such as `basic`".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_refuses_undeclared_names_and_bad_urls() {
        let declared = ["ACME_URL", "ACME_TOKEN"];
        assert!(check_config([("ACME_URL", "postgres://u:p@db.example:5432/x")], &declared).is_ok());
        assert!(check_config([("ACME_TOKEN", "not a url")], &declared).is_ok());
        assert!(check_config([("ACME_URL", "db.example")], &declared).is_err());
        assert!(check_config([("ACME_URL", "https://")], &declared).is_err());
        assert!(check_config([("ACME_URL", "https://a b.example")], &declared).is_err());
        let undeclared = check_config([("OTHER_URL", "https://x")], &declared).unwrap_err();
        assert!(undeclared.contains("declared: ACME_URL, ACME_TOKEN"), "{undeclared}");
        assert!(check_declared("ACME_URL", &[String::from("ACME_URL")]).is_ok());
    }

    #[test]
    fn drains_are_https_or_syslog() {
        assert!(check_log_drain_url("https://logs.example/drain", false).is_ok());
        assert!(check_log_drain_url("syslog://logs.example:514", false).is_ok());
        assert!(check_log_drain_url("http://127.0.0.1:5000/drain", false).is_err());
        assert!(check_log_drain_url("http://127.0.0.1:5000/drain", true).is_ok());
        for bad in ["", "https://", "ftp://logs.example", "https://logs.example/a b"] {
            assert!(check_log_drain_url(bad, true).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resource_ids_and_plans() {
        assert!(check_resource_id("uuid", "01234567-89ab-cdef-0123-456789abcdef").is_ok());
        for bad in ["", "a/b", "a b", "../x", &"x".repeat(129)] {
            assert!(check_resource_id("uuid", bad).is_err(), "{bad:?}");
        }
        assert!(check_plan("basic").is_ok());
        assert!(check_plan("").is_err());
        assert!(check_plan("a\nb").is_err());
    }
}
