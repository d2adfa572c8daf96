//! The fake Auth0 tenant in the registry: its options (`--tier`), settings and incident.

use async_trait::async_trait;
use butterfly_core::diff::Severity;
use butterfly_core::{Error, Result};
use futures::FutureExt;
use serde_json::{Value, json};

use super::{
    Affected, Alternatives, Differences, FakeDescriptor, FakeOption, FakeSpec, Faults, Incident,
    RunningFake, admin_write, id_of, name_of, no_answer, pair, pick, recurring, strings,
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
    start: |spec| {
        async move { Ok(Box::new(RunningAuth0::start(spec).await?) as Box<dyn RunningFake>) }
            .boxed()
    },
};

/// A fake Auth0 tenant being served, with the spec it was started from.
pub struct RunningAuth0 {
    fake: FakeAuth0,
    spec: FakeSpec,
    tier: String,
}

impl RunningAuth0 {
    /// Generates a tenant from `spec` and serves it.
    pub async fn start(spec: FakeSpec) -> std::io::Result<RunningAuth0> {
        let tier = spec.option(&TIER).unwrap_or_default();
        let tier_limits = if tier == "free" {
            Auth0Tier::Free
        } else {
            Auth0Tier::Enterprise
        };
        let faults = match spec.faults {
            Faults::None => Vec::new(),
            Faults::Recurring => recurring(&[
                ("/api/v2/users", Fault::Status(503)),
                ("/api/v2/roles", Fault::RateLimited),
                ("/api/v2/clients", Fault::Truncate),
            ]),
            Faults::Storm => vec![
                FaultRule::get("/api/v2/users", Fault::Status(503), 2, 2),
                FaultRule::get("/api/v2/clients", Fault::RateLimited, 2, 2),
                FaultRule::get("/api/v2/roles", Fault::RateLimitedNoHeaders, 3, 2),
                FaultRule::get("/api/v2/connections", Fault::Reset, 2, 2),
                FaultRule::get("/api/v2/organizations", Fault::Truncate, 2, 1),
                FaultRule::get("/api/v2/actions", Fault::Status(500), 2, 1),
            ],
        };
        let fake = FakeAuth0::start(
            Auth0TenantSpec {
                users: spec.users,
                seed: spec.seed,
            },
            Auth0Options {
                rate_limits: spec.rate_scale.map(|f| auth0_rate_limits(tier_limits, f)),
                faults,
                withheld_scopes: spec.withheld.clone(),
                port: spec.port,
            },
        )
        .await?;
        Ok(RunningAuth0 { fake, spec, tier })
    }

    /// The fake itself, for assertions on its tenant.
    pub fn fake(&self) -> &FakeAuth0 {
        &self.fake
    }

    /// A Management API token, as the fake's application gets one.
    async fn bearer(&self) -> Result<String> {
        let token: Value = reqwest::Client::new()
            .post(format!("{}/oauth/token", self.fake.base_url()))
            .json(&json!({
                "grant_type": "client_credentials",
                "client_id": self.fake.client_id(),
                "client_secret": self.fake.client_secret(),
                "audience": self.fake.audience(),
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
}

#[async_trait]
impl RunningFake for RunningAuth0 {
    fn base_url(&self) -> String {
        self.fake.base_url()
    }

    fn description(&self) -> String {
        format!(
            "fake Auth0 tenant with {} users at {}",
            self.spec.users,
            self.fake.base_url()
        )
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut out = vec![
            pair("AUTH0_DOMAIN", self.fake.base_url()),
            pair("AUTH0_CLIENT_ID", self.fake.client_id()),
            pair("AUTH0_CLIENT_SECRET", self.fake.client_secret()),
            pair("AUTH0_AUDIENCE", self.fake.audience()),
        ];
        if let Some(f) = self.spec.rate_scale {
            out.push(pair("AUTH0_TIER", &self.tier));
            out.push(pair("AUTH0_RATE_SCALE", f));
        }
        out
    }

    fn rate_limit_comment(&self) -> String {
        match self.spec.rate_scale {
            Some(f) => format!(
                "rate limits: Auth0's {} token bucket, time running {f}x faster (the client paces itself by AUTH0_TIER and AUTH0_RATE_SCALE)",
                self.tier
            ),
            None => "rate limits: none".into(),
        }
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: "or private_key_jwt instead of AUTH0_CLIENT_SECRET:".into(),
            settings: vec![pair("AUTH0_PRIVATE_KEY_FILE", test_key_file())],
        }
    }

    fn write_count(&self) -> usize {
        self.fake.write_count()
    }

    fn unknown_requests(&self) -> Vec<String> {
        self.fake.server().unknown_requests()
    }

    fn sentinels(&self) -> Vec<String> {
        self.fake.sentinels()
    }

    /// An application with API grants is deleted (with its grants and connection access), a
    /// role with members (with its permissions and memberships), and one action is unbound
    /// from its trigger.
    async fn incident(&self) -> Result<Incident> {
        let fake = &self.fake;
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
        let bearer = self.bearer().await?;
        let api = format!("{}/api/v2", fake.base_url());
        admin_write(
            reqwest::Method::DELETE,
            format!("{api}/clients/{client_id}"),
            &bearer,
            None,
        )
        .await?;
        admin_write(
            reqwest::Method::DELETE,
            format!("{api}/roles/{role_id}"),
            &bearer,
            None,
        )
        .await?;
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
