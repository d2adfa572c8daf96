//! The seeded tenant generator: the same spec gives the same tenant.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::{Auth0Tenant, Auth0TenantSpec, DOMAIN};
use crate::fake::sentinel;

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &[u8] = b"0123456789abcdef";

/// Random ids and sentinels from one seeded stream.
pub(crate) struct Ids {
    pub(crate) rng: ChaCha8Rng,
}

impl Ids {
    pub(crate) fn new(seed: u64) -> Ids {
        Ids {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.rng.random_range(0..alphabet.len())] as char)
            .collect()
    }
    /// `prefix` + 16 letters and digits (`rol_…`, `org_…`, `con_…`).
    pub(crate) fn prefixed(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.chars(ALNUM, 16))
    }
    /// `prefix` + 22 letters and digits (`est_…`).
    pub(crate) fn prefixed_long(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.chars(ALNUM, 22))
    }
    /// A 32-character client id.
    pub(crate) fn client_id(&mut self) -> String {
        self.chars(ALNUM, 32)
    }
    /// 24 hex digits (user ids, resource server ids).
    pub(crate) fn hex24(&mut self) -> String {
        self.chars(HEX, 24)
    }
    /// A UUID v4-shaped id (actions, network ACLs).
    pub(crate) fn uuid(&mut self) -> String {
        let h = self.chars(HEX, 32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
    /// A ULID-shaped id (hooks).
    pub(crate) fn ulid(&mut self) -> String {
        format!("01{}", self.chars(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", 24))
    }
}

/// An ISO timestamp `n` hours after 2022-01-01.
pub(crate) fn ts(hours: u64) -> String {
    ts_secs(hours.saturating_mul(3600))
}

/// An ISO timestamp `secs` seconds after 2022-01-01 (wrapping after about four years).
pub(crate) fn ts_secs(secs: u64) -> String {
    let base = chrono::DateTime::from_timestamp(1_640_995_200, 0).unwrap_or_default();
    let t = base + chrono::Duration::seconds((secs % 140_000_000) as i64);
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

struct Gen {
    ids: Ids,
    t: Auth0Tenant,
}

impl Gen {
    fn sentinel(&mut self, what: &str) -> String {
        let s = sentinel(&mut self.ids.rng, what);
        self.t.sentinels.push(s.clone());
        s
    }
    fn push(&mut self, path: &str, item: Value) {
        self.t
            .collections
            .entry(path.to_string())
            .or_default()
            .push(item);
    }
    fn single(&mut self, path: &str, v: Value) {
        self.t.singletons.insert(path.to_string(), v);
    }
}

/// Generates a tenant. Same spec, same tenant.
pub(crate) fn generate(spec: &Auth0TenantSpec) -> Auth0Tenant {
    let mut g = Gen {
        ids: Ids::new(spec.seed),
        t: Auth0Tenant::default(),
    };
    let mgmt_audience = format!("https://{DOMAIN}/api/v2/");
    let n_users = spec.users;

    // Resource servers: the system Management API and custom APIs with scopes.
    let rs_mgmt = g.ids.hex24();
    g.push("resource-servers", json!({"id": rs_mgmt, "name": "Auth0 Management API", "is_system": true, "identifier": mgmt_audience,
        "scopes": super::all_scopes().iter().take(40).map(|s| json!({"value": s, "description": s})).collect::<Vec<_>>(),
        "signing_alg": "RS256", "allow_offline_access": false, "skip_consent_for_verifiable_first_party_clients": false,
        "token_lifetime": 86400, "token_lifetime_for_web": 7200}));
    let n_apis = 3 + n_users / 20_000;
    let mut apis: Vec<(String, String, Vec<String>)> = Vec::new();
    for i in 0..n_apis {
        let id = g.ids.hex24();
        let identifier = format!("https://api{i}.acme.example/");
        let name = format!("Acme API {i}");
        let scopes: Vec<String> = ["read:reports", "write:reports", "read:orders", "admin"]
            .iter()
            .take(2 + i % 3)
            .map(|s| s.to_string())
            .collect();
        let mut rs = json!({"id": id, "name": name, "is_system": false, "identifier": identifier,
            "scopes": scopes.iter().map(|s| json!({"value": s, "description": format!("Can {s}")})).collect::<Vec<_>>(),
            "signing_alg": if i % 2 == 0 { "RS256" } else { "HS256" }, "allow_offline_access": i % 2 == 0,
            "skip_consent_for_verifiable_first_party_clients": true, "token_lifetime": 86400, "token_lifetime_for_web": 7200,
            "enforce_policies": i == 0, "token_dialect": if i == 0 { "access_token_authz" } else { "access_token" }});
        if i % 2 == 1 {
            rs["signing_secret"] = json!(g.sentinel("rs-signing-secret"));
        }
        g.push("resource-servers", rs);
        apis.push((identifier, name, scopes));
    }

    // Clients: the backup M2M app, the global client, and SPA / web / native / M2M apps.
    let backup_secret = g.sentinel("client-secret");
    let backup_id = g.ids.client_id();
    g.t.backup_client = (backup_id.clone(), backup_secret.clone());
    let client = |id: &str, name: &str, app_type: &str, secret: &str, i: usize| {
        let grants: Vec<&str> = match app_type {
            "spa" => vec!["authorization_code", "implicit", "refresh_token"],
            "native" => vec![
                "authorization_code",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "non_interactive" => vec!["client_credentials"],
            _ => vec!["authorization_code", "refresh_token", "client_credentials"],
        };
        json!({"client_id": id, "tenant": super::TENANT, "name": name, "description": format!("{name} ({app_type})"), "global": false,
            "client_secret": secret, "app_type": app_type, "is_first_party": true, "oidc_conformant": true,
            "callbacks": if app_type == "non_interactive" { json!([]) } else { json!([format!("https://app{i}.acme.example/callback")]) },
            "allowed_origins": [], "web_origins": if app_type == "spa" { json!([format!("https://app{i}.acme.example")]) } else { json!([]) },
            "allowed_logout_urls": [], "grant_types": grants,
            "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 36000, "secret_encoded": false},
            "token_endpoint_auth_method": if app_type == "spa" || app_type == "native" { "none" } else { "client_secret_post" },
            "sso_disabled": false, "cross_origin_authentication": false, "custom_login_page_on": true,
            "refresh_token": {"rotation_type": "non-rotating", "expiration_type": "non-expiring", "leeway": 0, "token_lifetime": 2592000,
                "infinite_token_lifetime": true, "infinite_idle_token_lifetime": true, "idle_token_lifetime": 1296000},
            "client_metadata": {"owner": format!("team-{}", i % 5)}, "organization_usage": "allow"})
    };
    let c = client(
        &backup_id,
        "butterfly backup",
        "non_interactive",
        &backup_secret,
        0,
    );
    g.push("clients", c);
    let global_id = g.ids.client_id();
    let global_secret = g.sentinel("global-client-secret");
    let mut gc = client(
        &global_id,
        "All Applications",
        "regular_web",
        &global_secret,
        0,
    );
    gc["global"] = json!(true);
    gc["callbacks"] = json!([]);
    g.push("clients", gc);
    let n_clients = (n_users / 500).clamp(6, 200);
    let types = ["spa", "regular_web", "native", "non_interactive"];
    let mut client_ids = vec![backup_id.clone()];
    let mut m2m = Vec::new();
    for i in 0..n_clients {
        let id = g.ids.client_id();
        let app_type = types[i % types.len()];
        let secret = g.sentinel("client-secret");
        let c = client(&id, &format!("Acme app {i}"), app_type, &secret, i + 1);
        g.push("clients", c);
        if app_type == "non_interactive" {
            m2m.push(id.clone());
        }
        client_ids.push(id);
    }
    // Client grants: the backup app reads the Management API; M2M apps call custom APIs.
    let cg = g.ids.prefixed("cgr_");
    g.push("client-grants", json!({"id": cg, "client_id": backup_id, "audience": mgmt_audience, "scope": super::all_scopes(), "subject_type": "client"}));
    for (i, cid) in m2m.iter().enumerate() {
        let (aud, _, scopes) = apis[i % apis.len()].clone();
        let id = g.ids.prefixed("cgr_");
        g.push("client-grants", json!({"id": id, "client_id": cid, "audience": aud, "scope": scopes, "subject_type": "client"}));
    }

    // Connections: database, social, enterprise.
    let enabled = |from: usize, n: usize| -> Vec<String> {
        client_ids.iter().skip(from).take(n).cloned().collect()
    };
    let db_id = g.ids.prefixed("con_");
    g.push("connections", json!({"id": db_id, "name": "Username-Password-Authentication", "display_name": "Username-Password-Authentication", "strategy": "auth0",
        "enabled_clients": enabled(0, client_ids.len()), "is_domain_connection": false, "realms": ["Username-Password-Authentication"], "metadata": {},
        "options": {"mfa": {"active": true, "return_enroll_settings": true}, "passwordPolicy": "good", "brute_force_protection": true,
            "password_complexity_options": {"min_length": 8}, "strategy_version": 2, "requires_username": false, "disable_signup": false}}));
    let google_id = g.ids.prefixed("con_");
    let google_secret = g.sentinel("google-client-secret");
    g.push("connections", json!({"id": google_id, "name": "google-oauth2", "display_name": "Google", "strategy": "google-oauth2",
        "enabled_clients": enabled(1, 4), "is_domain_connection": false, "realms": ["google-oauth2"], "metadata": {},
        "options": {"client_id": "1234567890-fake.apps.googleusercontent.com", "client_secret": google_secret, "email": true, "profile": true, "scope": ["email", "profile"]}}));
    let saml_id = g.ids.prefixed("con_");
    let saml_key = g.sentinel("saml-signing-key");
    g.push("connections", json!({"id": saml_id, "name": "acme-saml", "display_name": "Acme SAML", "strategy": "samlp",
        "enabled_clients": enabled(2, 3), "is_domain_connection": false, "realms": ["acme-saml"], "metadata": {"region": "eu"},
        "options": {"signInEndpoint": "https://idp.acme.example/saml/sso", "signOutEndpoint": "https://idp.acme.example/saml/slo", "signSAMLRequest": true,
            "signatureAlgorithm": "rsa-sha256", "digestAlgorithm": "sha256", "signingCert": "MIIC8jCCAdqgAwIBAgIQFakePublicCertificate",
            "signing_key": {"cert": "-----BEGIN CERTIFICATE-----\\nMIIFake\\n-----END CERTIFICATE-----", "key": saml_key},
            "domain_aliases": ["acme.example"], "tenant_domain": "acme.example"}}));
    let waad_id = g.ids.prefixed("con_");
    let waad_secret = g.sentinel("waad-client-secret");
    g.push("connections", json!({"id": waad_id, "name": "acme-entra", "display_name": "Acme Entra ID", "strategy": "waad",
        "enabled_clients": enabled(1, 2), "is_domain_connection": false, "realms": ["acme-entra"], "metadata": {},
        "options": {"client_id": "00000000-0000-4000-a000-000000000001", "client_secret": waad_secret, "domain": "acme.onmicrosoft.com",
            "tenant_domain": "acme.onmicrosoft.com", "waad_protocol": "openid-connect", "identity_api": "microsoft-identity-platform-v2.0",
            "domain_aliases": ["acme.onmicrosoft.com"], "use_wsfed": false}}));
    let conns = [
        (
            db_id.clone(),
            "Username-Password-Authentication",
            "auth0",
            70u32,
        ),
        (google_id.clone(), "google-oauth2", "google-oauth2", 20),
        (saml_id.clone(), "acme-saml", "samlp", 6),
        (waad_id.clone(), "acme-entra", "waad", 4),
    ];

    // Roles with permissions.
    let role_names = [
        "Admin",
        "Support",
        "Billing",
        "Read only",
        "Auditor",
        "Developer",
    ];
    let n_roles = role_names.len() + n_users / 10_000;
    let mut role_ids = Vec::new();
    for i in 0..n_roles {
        let id = g.ids.prefixed("rol_");
        let name = role_names
            .get(i)
            .map_or_else(|| format!("Role {i}"), |s| s.to_string());
        g.push(
            "roles",
            json!({"id": id, "name": name, "description": format!("{name} role")}),
        );
        let (aud, api_name, scopes) = apis[i % apis.len()].clone();
        for s in scopes.iter().take(1 + i % scopes.len()) {
            g.push(&format!("roles/{id}/permissions"), json!({"permission_name": s, "resource_server_identifier": aud, "resource_server_name": api_name, "description": format!("Can {s}")}));
        }
        g.t.role_members.insert(id.clone(), BTreeSet::new());
        role_ids.push(id);
    }

    // Users across connections.
    let plans = ["free", "pro", "enterprise"];
    let locales = ["en", "fr", "de", "es", "ja"];
    let mut users = Vec::with_capacity(n_users);
    let mut user_ids = Vec::with_capacity(n_users);
    for i in 0..n_users {
        let roll = g.ids.rng.random_range(0..100u32);
        let mut acc = 0;
        let (conn_id, conn, strategy, _) = conns
            .iter()
            .find(|c| {
                acc += c.3;
                roll < acc
            })
            .unwrap_or(&conns[0]);
        let email = format!("user{i}@acme.example");
        let (user_id, provider_id, provider, social) = match *strategy {
            "auth0" => {
                let h = g.ids.hex24();
                (format!("auth0|{h}"), h, "auth0", false)
            }
            "google-oauth2" => {
                let n = format!(
                    "1{:020}",
                    g.ids.rng.random_range(0..99_999_999_999_999_999_999u128)
                );
                (format!("google-oauth2|{n}"), n, "google-oauth2", true)
            }
            "samlp" => (
                format!("samlp|{conn}|{email}"),
                email.clone(),
                "samlp",
                false,
            ),
            _ => {
                let u = g.ids.uuid();
                (format!("waad|{u}"), u, "waad", false)
            }
        };
        // Creation times rise with the index and stay within about four years, so that
        // `created_at` ranges split the users evenly.
        let secs = (i as u64) * (126_000_000 / n_users.max(1) as u64).max(1) + 13;
        let mut user = json!({"user_id": user_id, "email": email, "email_verified": i % 9 != 0,
            "name": format!("First{i} Last{i}"), "nickname": format!("user{i}"), "given_name": format!("First{i}"), "family_name": format!("Last{i}"),
            "picture": format!("https://s.gravatar.com/avatar/{i:032x}?s=480&r=pg&d=identicon"),
            "created_at": ts_secs(secs), "updated_at": ts_secs(secs + 5), "last_login": ts_secs(secs + 3), "last_ip": format!("198.51.100.{}", i % 250 + 1),
            "logins_count": (i * 7) % 300,
            "identities": [{"connection": conn, "user_id": provider_id, "provider": provider, "isSocial": social}],
            "app_metadata": {"plan": plans[i % plans.len()], "customer_id": format!("cus_{i:06}")},
            "user_metadata": {"locale": locales[i % locales.len()], "newsletter": i % 2 == 0}});
        if *strategy == "auth0" {
            user["username"] = json!(format!("user{i}"));
        }
        if i % 33 == 7 {
            user["blocked"] = json!(true);
        }
        let _ = conn_id;
        user_ids.push(user_id);
        users.push(user);
    }
    g.t.collections.insert("users".into(), users);
    // Role members and direct user permissions.
    for (i, uid) in user_ids.iter().enumerate() {
        if i % 10 == 0 && !role_ids.is_empty() {
            let r = &role_ids[(i / 10) % role_ids.len()];
            g.t.role_members
                .entry(r.clone())
                .or_default()
                .insert(uid.clone());
        }
        if i % 97 == 1 && !role_ids.is_empty() {
            g.t.role_members
                .entry(role_ids[0].clone())
                .or_default()
                .insert(uid.clone());
        }
        if i % 250 == 3 {
            let (aud, api_name, scopes) = apis[i % apis.len()].clone();
            g.push(&format!("users/{uid}/permissions"), json!({"permission_name": scopes[0], "resource_server_identifier": aud, "resource_server_name": api_name, "description": format!("Can {}", scopes[0])}));
        }
    }

    // Organizations with members, member roles, enabled connections, invitations.
    let n_orgs = (n_users / 1000).clamp(3, 1000);
    let mut org_ids = Vec::new();
    for i in 0..n_orgs {
        let id = g.ids.prefixed("org_");
        g.push("organizations", json!({"id": id, "name": format!("acme-customer-{i}"), "display_name": format!("Acme customer {i}"),
            "branding": {"logo_url": format!("https://cdn.acme.example/org{i}.png"), "colors": {"primary": "#0059d6", "page_background": "#000000"}},
            "metadata": {"tier": plans[i % plans.len()]}}));
        let (cid, cname, strategy, _) = &conns[i % conns.len()];
        g.push(&format!("organizations/{id}/enabled_connections"), json!({"connection_id": cid, "assign_membership_on_login": i % 2 == 0, "show_as_button": true,
            "is_signup_enabled": false, "connection": {"name": cname, "strategy": strategy}}));
        if i < 50 {
            let inv = g.ids.prefixed("uinv_");
            let ticket = g.ids.prefixed("");
            g.push(&format!("organizations/{id}/invitations"), json!({"id": inv, "organization_id": id, "inviter": {"name": "Admin"}, "invitee": {"email": format!("invitee{i}@partner.example")},
                "invitation_url": format!("https://{DOMAIN}/login?invitation={ticket}&organization={id}&organization_name=acme-customer-{i}"),
                "created_at": ts(i as u64), "expires_at": ts(i as u64 + 168), "client_id": client_ids[1 % client_ids.len()], "connection_id": db_id,
                "app_metadata": {}, "user_metadata": {}, "roles": [role_ids[0]], "ticket_id": ticket}));
        }
        g.t.org_members.insert(id.clone(), BTreeSet::new());
        org_ids.push(id);
    }
    for (i, uid) in user_ids.iter().enumerate() {
        if i % 5 == 2 {
            let org = &org_ids[(i / 5) % org_ids.len()];
            g.t.org_members
                .entry(org.clone())
                .or_default()
                .insert(uid.clone());
            if i % 50 == 2 {
                let rid = &role_ids[i % role_ids.len()];
                let name = role_names
                    .get(i % role_ids.len())
                    .map_or_else(|| format!("Role {}", i % role_ids.len()), |s| s.to_string());
                g.push(
                    &format!("organizations/{org}/members/{uid}/roles"),
                    json!({"id": rid, "name": name, "description": format!("{name} role")}),
                );
            }
        }
    }

    // Actions, versions, bindings.
    let mut bindings: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for (i, (name, trigger)) in [
        ("Add roles to tokens", "post-login"),
        ("Enrich M2M tokens", "credentials-exchange"),
        ("Block disposable emails", "pre-user-registration"),
        ("Notify on password change", "post-change-password"),
    ]
    .iter()
    .enumerate()
    {
        let id = g.ids.uuid();
        let secret = g.sentinel("action-secret");
        g.t.hidden_secrets.push(secret);
        let code = format!("exports.onExecute = async (event, api) => {{ /* {name} */ }};");
        let triggers =
            json!([{"id": trigger, "version": if *trigger == "post-login" { "v3" } else { "v2" }}]);
        let version_id = g.ids.uuid();
        let version = json!({"id": version_id, "action_id": id, "code": code, "dependencies": [{"name": "lodash", "version": "4.17.21"}], "deployed": true,
            "runtime": "node18", "secrets": [{"name": "API_KEY", "updated_at": ts(i as u64)}], "status": "built", "number": 1.0,
            "created_at": ts(i as u64), "updated_at": ts(i as u64 + 1), "supported_triggers": triggers});
        g.push(&format!("actions/actions/{id}/versions"), version.clone());
        g.push("actions/actions", json!({"id": id, "name": name, "supported_triggers": triggers, "all_changes_deployed": true,
            "created_at": ts(i as u64), "updated_at": ts(i as u64 + 1), "code": code, "dependencies": [{"name": "lodash", "version": "4.17.21"}],
            "runtime": "node18", "secrets": [{"name": "API_KEY", "updated_at": ts(i as u64)}], "deployed_version": version, "status": "built"}));
        let bid = g.ids.uuid();
        bindings.entry(trigger).or_default().push(json!({"id": bid, "trigger_id": trigger, "display_name": name, "created_at": ts(i as u64 + 2), "updated_at": ts(i as u64 + 2),
            "action": {"id": id, "name": name, "supported_triggers": triggers, "all_changes_deployed": true, "created_at": ts(i as u64), "updated_at": ts(i as u64 + 1)}}));
    }
    let trigger_ids = [
        "post-login",
        "credentials-exchange",
        "pre-user-registration",
        "post-user-registration",
        "post-change-password",
        "send-phone-message",
    ];
    for t in trigger_ids {
        g.t.collections.insert(
            format!("actions/triggers/{t}/bindings"),
            bindings.remove(t).unwrap_or_default(),
        );
    }
    g.single("actions/triggers", json!({"triggers": trigger_ids.iter().map(|t| json!({"id": t, "version": if *t == "post-login" { "v3" } else { "v2" }, "status": "CURRENT", "runtimes": ["node18", "node22"], "default_runtime": "node22", "compatible_triggers": []})).collect::<Vec<_>>()}));

    // Rules, rules configs, hooks.
    for (i, name) in ["Add country to profile", "Deny weekend logins"]
        .iter()
        .enumerate()
    {
        let id = g.ids.prefixed("rul_");
        g.push("rules", json!({"id": id, "name": name, "script": "function (user, context, callback) { callback(null, user, context); }", "order": i + 1, "enabled": i == 0, "stage": "login_success"}));
    }
    for key in ["SLACK_WEBHOOK", "CRM_API_KEY"] {
        let value = g.sentinel("rules-config");
        g.t.hidden_secrets.push(value.clone());
        g.push("rules-configs", json!({"key": key, "value": value}));
    }
    for (i, (name, trigger)) in [
        ("client-credentials-hook", "credentials-exchange"),
        ("pre-registration-hook", "pre-user-registration"),
    ]
    .iter()
    .enumerate()
    {
        let id = g.ids.ulid();
        let secret = g.sentinel("hook-secret");
        g.t.hidden_secrets.push(secret.clone());
        g.t.singletons
            .insert(format!("hooks/{id}/secrets"), json!({"API_TOKEN": secret}));
        g.push("hooks", json!({"id": id, "name": name, "triggerId": trigger, "enabled": i == 0, "script": "module.exports = function(client, scope, audience, context, cb) { cb(null, {}); };", "dependencies": {"axios": "1.6.0"}}));
    }

    // Custom domain, branding, themes, prompts.
    let cd = g.ids.prefixed("cd_");
    g.push("custom-domains", json!({"custom_domain_id": cd, "domain": "login.acme.example", "primary": true, "is_default": true, "status": "ready", "type": "auth0_managed_certs",
        "origin_domain_name": format!("{DOMAIN}-cd-{cd}.edge.tenants.auth0.com"), "verification": {"methods": [{"name": "cname", "record": format!("{DOMAIN}-cd-{cd}.edge.tenants.auth0.com"), "domain": "login.acme.example"}]},
        "tls_policy": "recommended"}));
    g.single("branding", json!({"colors": {"primary": "#0059d6", "page_background": "#000000"}, "favicon_url": "https://cdn.acme.example/favicon.ico", "logo_url": "https://cdn.acme.example/logo.png", "font": {"url": "https://cdn.acme.example/font.woff"}}));
    g.single("branding/templates/universal-login", json!({"body": "<!DOCTYPE html><html><head>{%- auth0:head -%}</head><body>{%- auth0:widget -%}</body></html>"}));
    let theme_id = g.ids.client_id();
    g.push("branding/themes", super::default_theme(&theme_id));
    g.single("prompts", json!({"universal_login_experience": "new", "identifier_first": true, "webauthn_platform_first_factor": false}));
    g.single(
        "prompts/login/custom-text/en",
        json!({"login": {"title": "Welcome to Acme", "description": "Log in to continue"}}),
    );
    g.single(
        "prompts/login/partials",
        json!({"login": {"form-content-start": "<div class=\"acme\">Acme</div>"}}),
    );
    g.single(
        "prompts/signup/custom-text/fr",
        json!({"signup": {"title": "Bienvenue chez Acme"}}),
    );

    // Email provider and templates.
    // The SMTP password is write-only: Auth0 never returns it.
    let pass = g.sentinel("smtp-password");
    g.t.hidden_secrets.push(pass);
    g.single("emails/provider", json!({"name": "smtp", "enabled": true, "default_from_address": "no-reply@acme.example", "credentials": {"smtp_host": "smtp.acme.example", "smtp_port": 587, "smtp_user": "auth0-mailer"}, "settings": {}}));
    for (i, template) in ["verify_email", "reset_email", "welcome_email"]
        .iter()
        .enumerate()
    {
        g.push("email-templates", json!({"template": template, "body": format!("<html><body>{template}</body></html>"), "from": "Acme <no-reply@acme.example>",
            "resultUrl": "https://acme.example/done", "subject": format!("Acme: {template}"), "syntax": "liquid", "urlLifetimeInSeconds": 432000 + i, "includeEmailInRedirect": false, "enabled": true}));
    }

    // Log streams.
    let id = g.ids.prefixed("lst_");
    let auth = g.sentinel("http-authorization");
    g.push("log-streams", json!({"id": id, "name": "SIEM webhook", "type": "http", "status": "active", "isPriority": false, "filters": [{"type": "category", "name": "auth.login.fail"}],
        "sink": {"httpAuthorization": auth, "httpContentFormat": "JSONLINES", "httpContentType": "application/json", "httpEndpoint": "https://siem.acme.example/auth0"}}));
    let id = g.ids.prefixed("lst_");
    let dd = g.sentinel("datadog-api-key");
    g.push("log-streams", json!({"id": id, "name": "Datadog", "type": "datadog", "status": "active", "isPriority": false,
        "sink": {"datadogApiKey": dd, "datadogRegion": "us"}}));

    // Attack protection.
    g.single("attack-protection/breached-password-detection", json!({"enabled": true, "shields": ["block", "admin_notification"], "admin_notification_frequency": ["daily"], "method": "standard",
        "stage": {"pre-user-registration": {"shields": ["block"]}, "pre-change-password": {"shields": ["block"]}}}));
    g.single("attack-protection/brute-force-protection", json!({"enabled": true, "shields": ["block", "user_notification"], "allowlist": ["203.0.113.10"], "mode": "count_per_identifier_and_ip", "max_attempts": 10}));
    g.single("attack-protection/suspicious-ip-throttling", json!({"enabled": true, "shields": ["admin_notification", "block"], "allowlist": ["203.0.113.0/24"],
        "stage": {"pre-login": {"max_attempts": 100, "rate": 864000}, "pre-user-registration": {"max_attempts": 50, "rate": 1728000}}}));

    // Guardian.
    for (name, on) in [
        ("sms", true),
        ("push-notification", true),
        ("otp", true),
        ("email", false),
        ("duo", false),
        ("webauthn-roaming", true),
        ("webauthn-platform", false),
        ("recovery-code", true),
    ] {
        g.push(
            "guardian/factors",
            json!({"name": name, "enabled": on, "trial_expired": false}),
        );
    }
    g.single("guardian/policies", json!(["all-applications"]));
    let tw = g.sentinel("twilio-auth-token");
    g.single("guardian/factors/sms/providers/twilio", json!({"from": "+15550100", "messaging_service_sid": "MG0000fake", "auth_token": tw, "sid": "AC0000fake"}));
    g.single("guardian/factors/sms/templates", json!({"enrollment_message": "{{code}} is your Acme enrollment code", "verification_message": "{{code}} is your Acme code"}));
    g.single(
        "guardian/factors/phone/message-types",
        json!({"message_types": ["sms"]}),
    );
    g.single(
        "guardian/factors/phone/selected-provider",
        json!({"provider": "twilio"}),
    );

    // Signing keys (metadata and public certificates only).
    for (i, (current, next, previous)) in [
        (true, false, false),
        (false, true, false),
        (false, false, true),
    ]
    .iter()
    .enumerate()
    {
        let kid = g.ids.prefixed("");
        let mut key = json!({"kid": kid, "cert": format!("-----BEGIN CERTIFICATE-----\\nMIIDFakePublicCert{i}\\n-----END CERTIFICATE-----"),
            "pkcs7": format!("-----BEGIN PKCS7-----\\nMIIFakePkcs7{i}\\n-----END PKCS7-----"), "current": current, "next": next, "previous": previous,
            "fingerprint": format!("AA:BB:CC:DD:{i:02}"), "thumbprint": format!("aabbccdd{i:02}"), "revoked": false});
        if *current {
            key["current_since"] = json!(ts(100));
        }
        g.push("keys/signing", key);
    }

    // Network ACLs, forms, flows, self-service profiles, event streams.
    for (i, cidr) in ["198.51.100.0/24", "192.0.2.0/24"].iter().enumerate() {
        let id = g.ids.uuid();
        g.push("network-acls", json!({"id": id, "description": format!("Block range {i}"), "active": true, "priority": 1 + i,
            "rule": {"action": {"block": true}, "match": {"ipv4_cidrs": [cidr]}, "scope": "tenant"}, "created_at": ts(i as u64), "updated_at": ts(i as u64 + 1)}));
    }
    let id = g.ids.prefixed("ap_");
    g.push("forms", json!({"id": id, "name": "Progressive profile", "languages": {"primary": "en"}, "nodes": [], "start": {"coordinates": {"x": 0, "y": 0}}, "ending": {"coordinates": {"x": 500, "y": 0}, "resume_flow": true},
        "created_at": ts(10), "updated_at": ts(11)}));
    let id = g.ids.prefixed("af_");
    g.push(
        "flows",
        json!({"id": id, "name": "Sync to CRM", "created_at": ts(10), "updated_at": ts(11)}),
    );
    let id = g.ids.prefixed("ssp_");
    g.push("self-service-profiles", json!({"id": id, "name": "Partner SSO", "description": "Self-service SSO for partners",
        "user_attributes": [{"name": "email", "description": "Email", "is_optional": false}], "allowed_strategies": ["oidc", "samlp", "waad"],
        "created_at": ts(12), "updated_at": ts(13), "branding": {"logo_url": "https://cdn.acme.example/logo.png", "colors": {"primary": "#0059d6"}}}));
    let id = g.ids.prefixed_long("est_");
    // The webhook's bearer token is write-only: Auth0 never returns it.
    let token = g.sentinel("event-stream-token");
    g.t.hidden_secrets.push(token);
    g.push("event-streams", json!({"id": id, "name": "User events", "subscriptions": [{"event_type": "user.created"}, {"event_type": "user.deleted"}],
        "destination": {"type": "webhook", "configuration": {"webhook_endpoint": "https://hooks.acme.example/auth0", "webhook_authorization": {"method": "bearer"}}},
        "status": "enabled", "created_at": ts(14), "updated_at": ts(15)}));

    // Tenant settings.
    g.single("tenants/settings", json!({"friendly_name": "Acme", "picture_url": "https://cdn.acme.example/logo.png", "support_email": "support@acme.example", "support_url": "https://acme.example/support",
        "allowed_logout_urls": ["https://acme.example"], "session_lifetime": 168, "idle_session_lifetime": 72, "default_audience": "", "default_directory": "Username-Password-Authentication",
        "enabled_locales": ["en", "fr"], "sandbox_version": "18", "session_cookie": {"mode": "persistent"},
        "flags": {"enable_client_connections": false, "disable_clickjack_protection_headers": false, "enable_public_signup_user_exists_error": true, "revoke_refresh_token_grant": false},
        "error_page": {"html": "", "show_log_link": false, "url": "https://acme.example/error"}, "device_flow": {"charset": "base20", "mask": "****-****"}}));

    g.t.user_index = HashMap::new();
    g.t.reindex_users();
    g.t
}
