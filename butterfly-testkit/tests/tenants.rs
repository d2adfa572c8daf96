//! The fake-tenant registry: every fake starts from the common spec, prints settings under
//! its provider's prefix, takes only the options it declares, and performs its incident.

use butterfly_testkit::tenants::{self, FakeSpec};

#[tokio::test]
async fn every_fake_starts_prints_its_settings_and_performs_its_incident() {
    assert_eq!(
        tenants::names(),
        ["okta", "entra", "auth0", "ping", "onepassword", "workflows"]
    );
    for descriptor in tenants::fakes() {
        let name = descriptor.name;
        let fake = descriptor.start(FakeSpec::new(60, 3)).await.unwrap();
        // PingOne's settings are PINGONE_*, the others the name in upper case.
        let prefix = match name {
            "ping" => "PINGONE_".to_string(),
            "onepassword" => "OP_CONNECT_".to_string(),
            _ => format!("{}_", name.to_ascii_uppercase()),
        };
        let settings = fake.settings();
        assert!(
            settings.iter().all(|(k, _)| k.starts_with(&prefix)),
            "{name}: {settings:?}"
        );
        assert!(
            settings.iter().any(|(_, v)| *v == fake.base_url()),
            "{name}: the settings name the fake"
        );
        assert!(!settings.iter().any(|(k, _)| k.ends_with("_RATE_SCALE")));
        assert!(fake.rate_limit_comment().ends_with("none"), "{name}");
        assert!(fake.description().contains(&fake.base_url()), "{name}");
        let alternatives = fake.alternatives();
        assert!(!alternatives.comment.contains('='), "{name}");
        assert!(
            alternatives
                .settings
                .iter()
                .all(|(k, _)| k.starts_with(&prefix)),
            "{name}"
        );
        assert!(!fake.sentinels().is_empty(), "{name}");

        let incident = fake.incident().await.unwrap();
        assert!(!incident.summary.is_empty(), "{name}");
        assert!(!incident.removed.is_empty(), "{name}");
        for affected in incident.removed.iter().chain(&incident.changed) {
            assert!(
                incident.kinds.contains(&affected.kind),
                "{name}: the restore covers {}",
                affected.kind
            );
        }
        assert!(!incident.differences.text.is_empty(), "{name}");
        assert!(
            fake.unknown_requests().is_empty(),
            "{name}: {:?}",
            fake.unknown_requests()
        );
        // The same seed, the same incident.
        let again = descriptor.start(FakeSpec::new(60, 3)).await.unwrap();
        assert_eq!(again.incident().await.unwrap(), incident, "{name}");
    }
}

#[tokio::test]
async fn rate_limited_fakes_print_the_clients_pacing_settings() {
    for descriptor in tenants::fakes() {
        let mut spec = FakeSpec::new(10, 1);
        spec.rate_scale = Some(60.0);
        let fake = descriptor.start(spec).await.unwrap();
        let settings = fake.settings();
        assert!(
            settings
                .iter()
                .any(|(k, v)| k.ends_with("_RATE_SCALE") && v == "60"),
            "{}: {settings:?}",
            descriptor.name
        );
        assert!(fake.rate_limit_comment().contains("60x faster"));
    }
    let auth0 = tenants::get("auth0").unwrap();
    let mut spec = FakeSpec::new(10, 1).with_option("tier", "free");
    spec.rate_scale = Some(2.0);
    let fake = auth0.start(spec).await.unwrap();
    assert!(
        fake.settings()
            .contains(&("AUTH0_TIER".to_string(), "free".to_string()))
    );
}

#[tokio::test]
async fn options_a_fake_does_not_declare_are_refused() {
    let okta = tenants::get("okta").unwrap();
    assert!(
        okta.start(FakeSpec::new(10, 1).with_option("governance", "true"))
            .await
            .is_ok()
    );
    let err = okta
        .start(FakeSpec::new(10, 1).with_option("tier", "free"))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("tier"), "{err}");
    let err = tenants::get("auth0")
        .unwrap()
        .start(FakeSpec::new(10, 1).with_option("tier", "gold"))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("gold"), "{err}");
    assert!(tenants::get("nope").is_none());
}
