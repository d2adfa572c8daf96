//! Plain `http`: refused for a host that is not this machine unless the user opts in, and the
//! refusal comes from the configuration, before any connection (the `.invalid` hosts here can
//! never be reached); with the opt-in the provider builds without connecting.

use butterfly_1password::{DESCRIPTOR, OnePasswordConfig, OnePasswordProvider};
use butterfly_core::registry::{BuildOptions, Settings};
use butterfly_core::{ErrorKind, Provider};
use secrecy::SecretString;

const REMOTE: &str = "http://connect.example.invalid:8080";

fn settings(extra: &[(&str, &str)]) -> Settings {
    let mut s = Settings::from_pairs([
        ("OP_CONNECT_HOST", REMOTE),
        ("OP_CONNECT_TOKEN", "SECRET-TOKEN-VALUE"),
    ]);
    for (k, v) in extra {
        s.set(*k, *v);
    }
    s
}

#[test]
fn plain_http_to_a_remote_host_is_refused_by_default_before_any_connection() {
    for refused in [
        OnePasswordConfig::from_vars(|k| settings(&[]).get(k)).map(|_| ()),
        OnePasswordConfig::from_vars(|k| settings(&[("OP_CONNECT_ALLOW_HTTP", "false")]).get(k))
            .map(|_| ()),
        OnePasswordProvider::new(OnePasswordConfig::new(
            REMOTE,
            SecretString::from("SECRET-TOKEN-VALUE".to_string()),
        ))
        .map(|_| ()),
        DESCRIPTOR
            .build(&settings(&[]), &BuildOptions::default())
            .map(|_| ()),
    ] {
        let err = refused.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        let text = err.to_string();
        assert!(text.contains("refusing plain http"), "{text}");
        assert!(
            text.contains("OP_CONNECT_ALLOW_HTTP"),
            "the error says how to opt in: {text}"
        );
        assert!(!text.contains("SECRET-TOKEN-VALUE"));
    }
}

#[test]
fn the_opt_in_accepts_plain_http_without_connecting() {
    for opt_in in [
        OnePasswordConfig::from_vars(|k| settings(&[("OP_CONNECT_ALLOW_HTTP", "true")]).get(k))
            .unwrap(),
        OnePasswordConfig {
            allow_http: true,
            ..OnePasswordConfig::new(REMOTE, SecretString::from("t".to_string()))
        },
    ] {
        assert!(opt_in.allow_http);
        assert!(opt_in.plain_http_to_remote());
        assert_eq!(
            opt_in.api_root().unwrap().as_str(),
            "http://connect.example.invalid:8080/v1/"
        );
        let provider = OnePasswordProvider::new(opt_in).unwrap();
        assert_eq!(provider.tenant(), REMOTE);
        assert_eq!(provider.http_stats().requests.values().sum::<u64>(), 0);
    }
    let built = DESCRIPTOR
        .build(
            &settings(&[("OP_CONNECT_ALLOW_HTTP", "yes")]),
            &BuildOptions::default(),
        )
        .unwrap();
    assert!(!built.capabilities().restore);
}

#[test]
fn https_and_loopback_need_no_opt_in_and_other_schemes_are_refused() {
    let token = || SecretString::from("t".to_string());
    for ok in [
        "https://connect.example.invalid",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://localhost:8080/v1",
    ] {
        let c = OnePasswordConfig::new(ok, token());
        assert!(!c.plain_http_to_remote(), "{ok}");
        OnePasswordProvider::new(c).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "ftp://connect.example.invalid",
        "connect.example.invalid",
        "",
    ] {
        let c = OnePasswordConfig {
            allow_http: true,
            ..OnePasswordConfig::new(bad, token())
        };
        let err = OnePasswordProvider::new(c).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{bad}: {err}");
    }
}
