//! Terraform resource names from natural keys: valid, stable and unique.

/// A valid Terraform identifier from any text: lower case ASCII letters, digits and `_`,
/// starting with a letter or `_` (`"Okta Admins"` → `okta_admins`, `"1st"` → `_1st`).
///
/// ```
/// use butterfly_terraform::names::identifier;
/// assert_eq!(identifier("Engineering (EU) / Berlin"), "engineering_eu_berlin");
/// assert_eq!(identifier("user10@example.com"), "user10_example_com");
/// assert_eq!(identifier("2FA"), "_2fa");
/// assert_eq!(identifier("***"), "unnamed");
/// ```
pub fn identifier(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        return "unnamed".to_string();
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// `base`, or `base_2`, `base_3`… the first one `taken` refuses.
///
/// ```
/// use butterfly_terraform::names::unique;
/// let taken = ["admins", "admins_2"];
/// assert_eq!(unique("admins", |n| taken.contains(&n)), "admins_3");
/// assert_eq!(unique("users", |n| taken.contains(&n)), "users");
/// ```
pub fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}
