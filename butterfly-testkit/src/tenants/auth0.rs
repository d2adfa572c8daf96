//! The fake Auth0 tenant in the registry: its options (`--tier`), settings and incident.

use async_trait::async_trait;
use butterfly_core::diff::Severity;
use butterfly_core::{Error, Result};
use serde_json::{Value, json};

use super::{
    Affected, Alternatives, Differences, FakeDescriptor, FakeOption, FakeSpec, Incident,
    ProviderFake, Served, admin_write, id_of, name_of, no_answer, pair, pick, strings,
    test_key_file,
};
use crate::auth0::{Auth0Options, Auth0TenantSpec, Auth0Tier, FakeAuth0, auth0_rate_limits};
use crate::fake::{Fault, FaultRule};

/// `--tier free|enterprise`: the subscription tier whose rate limits apply.
const TIER: FakeOption = FakeOption::choice(
    "tier",
    "The subscription tier whose rate limits apply (with --rate-scale).",
    &[
        ("free", "Free: 2 requests per second."),
        (
            "enterprise",
            "Enterprise: a burst of 50 refilling at 16 per second.",
        ),
    ],
    "enterprise",
);

/// The fake Auth0 tenant.
pub static AUTH0: FakeDescriptor = FakeDescriptor {
    name: "auth0",
    title: "Auth0",
    about: "A fake Auth0 tenant (Management API v2): applications, connections, roles, organizations and actions, with the users-export job beyond 1,000 users, secrets planted as sentinels.",
    options: &[TIER],
    start: super::start::<FakeAuth0>,
};

/// A fake Auth0 tenant being served.
pub type RunningAuth0 = Served<FakeAuth0>;

/// A Management API token, as the fake's application gets one.
async fn bearer(fake: &FakeAuth0) -> Result<String> {
    let token: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", fake.base_url()))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": fake.client_id(),
            "client_secret": fake.client_secret(),
            "audience": fake.audience(),
        }))
        .send()
        .await
        .map_err(no_answer)?
        .json()
        .await
        .map_err(no_answer)?;
    Ok(format!(
        "Bearer {}",
        token["access_token"].as_str().unwrap_or_default()
    ))
}

/// An admin's `DELETE` of `path` (`/api/v2/…`) through the Management API, with a token of
/// the fake's application; anything but a success is an error. Auth0's cascades apply.
pub async fn admin_delete(fake: &FakeAuth0, path: &str) -> Result<()> {
    let url = format!("{}{path}", fake.base_url());
    admin_write(reqwest::Method::DELETE, url, &bearer(fake).await?, None).await
}

#[async_trait]
impl ProviderFake for FakeAuth0 {
    const RECURRING: &'static [(&'static str, Fault)] = &[
        ("/api/v2/users", Fault::Status(503)),
        ("/api/v2/roles", Fault::RateLimited),
        ("/api/v2/clients", Fault::Truncate),
    ];
    const UNLIMITED: &'static str = "rate limits: none";

    fn storm() -> Vec<FaultRule> {
        vec![
            FaultRule::get("/api/v2/users", Fault::Status(503), 2, 2),
            FaultRule::get("/api/v2/clients", Fault::RateLimited, 2, 2),
            FaultRule::get("/api/v2/roles", Fault::RateLimitedNoHeaders, 3, 2),
            FaultRule::get("/api/v2/connections", Fault::Reset, 2, 2),
            FaultRule::get("/api/v2/organizations", Fault::Truncate, 2, 1),
            FaultRule::get("/api/v2/actions", Fault::Status(500), 2, 1),
        ]
    }

    async fn serve(spec: &FakeSpec, faults: Vec<FaultRule>) -> std::io::Result<FakeAuth0> {
        let tier = match spec.option(&TIER).as_deref() {
            Some("free") => Auth0Tier::Free,
            _ => Auth0Tier::Enterprise,
        };
        let tenant = Auth0TenantSpec {
            users: spec.users,
            seed: spec.seed,
        };
        let options = Auth0Options {
            rate_limits: spec.rate_scale.map(|f| auth0_rate_limits(tier, f)),
            faults,
            withheld_scopes: spec.withheld.clone(),
            port: spec.port,
        };
        FakeAuth0::start(tenant, options).await
    }

    fn describe(&self, spec: &FakeSpec) -> String {
        format!(
            "fake Auth0 tenant with {} users at {}",
            spec.users,
            self.base_url()
        )
    }

    fn credentials(&self) -> Vec<(String, String)> {
        vec![
            pair("AUTH0_DOMAIN", self.base_url()),
            pair("AUTH0_CLIENT_ID", self.client_id()),
            pair("AUTH0_CLIENT_SECRET", self.client_secret()),
            pair("AUTH0_AUDIENCE", self.audience()),
        ]
    }

    fn pacing(&self, spec: &FakeSpec, scale: f64) -> (Vec<(String, String)>, String) {
        let tier = spec.option(&TIER).unwrap_or_default();
        (
            vec![pair("AUTH0_TIER", &tier), pair("AUTH0_RATE_SCALE", scale)],
            format!(
                "rate limits: Auth0's {tier} token bucket, time running {scale}x faster (the client paces itself by AUTH0_TIER and AUTH0_RATE_SCALE)"
            ),
        )
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: "or private_key_jwt instead of AUTH0_CLIENT_SECRET:".into(),
            settings: vec![pair("AUTH0_PRIVATE_KEY_FILE", test_key_file())],
        }
    }

    /// An application with API grants is deleted (with its grants and connection access), a
    /// role with members (with its permissions and memberships), and one action is unbound
    /// from its trigger.
    async fn perform_incident(&self) -> Result<Incident> {
        let fake = self;
        let grants = fake.items("client-grants");
        let client = pick(
            &fake.items("clients"),
            "an application with API grants",
            |c| {
                c["client_id"] != fake.client_id()
                    && c["global"] != true
                    && grants.iter().any(|g| g["client_id"] == c["client_id"])
            },
        )?;
        let client_id = id_of(&client, "client_id");
        let grant_count = grants
            .iter()
            .filter(|g| g["client_id"] == client_id.as_str())
            .count();
        // A role with members that no pending invitation names (an invitation cannot be
        // edited, so one naming a deleted role keeps the old id until it is re-sent).
        let (role_id, member_count) = fake
            .with_tenant(|t| {
                let invited: Vec<Value> = t
                    .collections
                    .iter()
                    .filter(|(k, _)| k.starts_with("organizations/") && k.ends_with("/invitations"))
                    .flat_map(|(_, items)| items.iter())
                    .flat_map(|i| i["roles"].as_array().cloned().unwrap_or_default())
                    .collect();
                t.role_members
                    .iter()
                    .find(|(id, members)| {
                        !members.is_empty() && !invited.iter().any(|r| r == id.as_str())
                    })
                    .map(|(id, members)| (id.clone(), members.len()))
            })
            .ok_or_else(|| Error::not_found("the generated tenant has no role with members"))?;
        let role = pick(&fake.items("roles"), "the role", |r| {
            r["id"] == role_id.as_str()
        })?;
        let (trigger, bindings) = fake
            .with_tenant(|t| {
                t.collections
                    .iter()
                    .find(|(k, v)| {
                        k.starts_with("actions/triggers/")
                            && k.ends_with("/bindings")
                            && !v.is_empty()
                    })
                    .map(|(k, v)| {
                        (
                            k.split('/').nth(2).unwrap_or_default().to_string(),
                            v.clone(),
                        )
                    })
            })
            .ok_or_else(|| Error::not_found("the generated tenant has no bound action"))?;
        let unbound = name_of(&bindings[0], "/action/name").to_string();
        let kept: Vec<Value> = bindings[1..]
            .iter()
            .map(|b| {
                json!({
                    "ref": {"type": "action_id", "value": b["action"]["id"]},
                    "display_name": b["display_name"],
                })
            })
            .collect();

        // Through the Management API, so Auth0's cascades apply (grants, connection access,
        // memberships and organization member roles go with them).
        admin_delete(fake, &format!("/api/v2/clients/{client_id}")).await?;
        admin_delete(fake, &format!("/api/v2/roles/{role_id}")).await?;
        let bearer = bearer(fake).await?;
        let api = format!("{}/api/v2", fake.base_url());
        admin_write(
            reqwest::Method::PATCH,
            format!("{api}/actions/triggers/{trigger}/bindings"),
            &bearer,
            Some(&json!({ "bindings": kept })),
        )
        .await?;
        Ok(Incident {
            summary: vec![
                format!(
                    "application {:?} with its {grant_count} API grants and connection access",
                    name_of(&client, "/name")
                ),
                format!(
                    "role {:?} with its permissions and {member_count} members",
                    name_of(&role, "/name")
                ),
                format!("action {unbound:?}, unbound from the trigger {trigger}"),
            ],
            removed: vec![
                Affected::new("auth0.client", client_id, Severity::High),
                Affected::new("auth0.role", role_id, Severity::High),
            ],
            changed: vec![Affected::new(
                "auth0.action_binding",
                trigger,
                Severity::High,
            )],
            kinds: strings(&[
                "auth0.client",
                "auth0.client_grant",
                "auth0.connection_client",
                "auth0.role",
                "auth0.role_member",
                "auth0.role_permission",
                "auth0.organization_member_role",
                "auth0.action_binding",
            ]),
            differences: Differences {
                text: "new ids; users without passwords; client secrets, connection secrets and action secrets re-entered per the rotation checklist".into(),
                plan_notes: strings(&["new client ids"]),
                fields: Vec::new(),
            },
        })
    }
}
