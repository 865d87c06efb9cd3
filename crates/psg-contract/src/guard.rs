//! Guards: no secret in a fixture.

/// Secrets of the emulator's clients: never in a fixture.
pub const KNOWN_SECRETS: [&str; 3] = ["psg-demo-secret", "psg-reader-secret", "psg-noscope-secret"];

/// Fails when `text` holds a bearer token, an `access_token`, or a known secret.
pub fn check_no_secrets(name: &str, text: &str) -> anyhow::Result<()> {
    for secret in KNOWN_SECRETS {
        anyhow::ensure!(!text.contains(secret), "fixture {name} contains the client secret {secret:?}");
    }
    anyhow::ensure!(!text.contains("access_token"), "fixture {name} contains an access_token");
    let mut rest = text;
    while let Some(i) = rest.find("Bearer ") {
        let after = &rest[i + 7..];
        anyhow::ensure!(after.starts_with("{{token}}"), "fixture {name} contains a bearer token");
        rest = after;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_secrets_are_caught() {
        assert!(check_no_secrets("x", "Bearer {{token}}").is_ok());
        assert!(check_no_secrets("x", "Bearer abcdef0123").is_err());
        assert!(check_no_secrets("x", "{\"access_token\": 1}").is_err());
        assert!(check_no_secrets("x", "psg-demo-secret").is_err());
    }
}
