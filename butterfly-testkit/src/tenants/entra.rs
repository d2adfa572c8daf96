//! The fake Entra ID tenant in the registry: its settings and incident.

use async_trait::async_trait;
use butterfly_core::Result;
use butterfly_core::diff::Severity;
use futures::FutureExt;
use serde_json::Value;

use super::{
    Affected, Alternatives, Differences, FakeDescriptor, FakeSpec, Faults, Incident, RunningFake,
    id_of, name_of, pair, pick, recurring, strings, test_key_file,
};
use crate::entra::{EntraOptions, EntraTenantSpec, FakeEntra, graph_rate_limits};
use crate::fake::{Fault, FaultRule};

/// The fake Entra ID tenant.
pub static ENTRA: FakeDescriptor = FakeDescriptor {
    name: "entra",
    title: "Entra ID",
    about: "A fake Microsoft Entra ID tenant (Graph v1.0): users, groups, conditional access, roles and apps, generated from Graph's API description, secrets planted as sentinels.",
    options: &[],
    start: |spec| {
        async move { Ok(Box::new(RunningEntra::start(spec).await?) as Box<dyn RunningFake>) }
            .boxed()
    },
};

/// A fake Entra tenant being served, with the spec it was started from.
pub struct RunningEntra {
    fake: FakeEntra,
    spec: FakeSpec,
}

impl RunningEntra {
    /// Generates a tenant from `spec` and serves it.
    pub async fn start(spec: FakeSpec) -> std::io::Result<RunningEntra> {
        let mut options = EntraOptions {
            rate_limits: spec.rate_scale.map(graph_rate_limits),
            withheld_permissions: spec.withheld.clone(),
            port: spec.port,
            ..EntraOptions::default()
        };
        match spec.faults {
            Faults::None => {}
            Faults::Recurring => {
                options.faults = recurring(&[
                    ("/v1.0/users", Fault::Status(503)),
                    ("/v1.0/groups", Fault::RateLimited),
                    ("/v1.0/servicePrincipals", Fault::RateLimitedNoHeaders),
                    ("/v1.0/applications", Fault::Truncate),
                ]);
            }
            Faults::Storm => {
                options.faults = vec![
                    FaultRule::get("/v1.0/users", Fault::Status(503), 2, 2),
                    FaultRule::get("/v1.0/groups", Fault::RateLimited, 3, 2),
                    FaultRule::get("/v1.0/applications", Fault::RateLimitedNoHeaders, 1, 2),
                    FaultRule::get("/v1.0/identity/conditionalAccess", Fault::Reset, 2, 2),
                    FaultRule::get("/v1.0/servicePrincipals", Fault::Truncate, 1, 1),
                    FaultRule::get("/v1.0/policies", Fault::Status(500), 3, 2),
                    FaultRule {
                        method: None,
                        ..FaultRule::get("/v1.0/$batch", Fault::Status(503), 2, 2)
                    },
                ];
                // Graph throttles batched requests one by one, inside a 200 answer.
                options.batch_faults = vec![
                    FaultRule::get("/v1.0/groups", Fault::RateLimited, 3, 2),
                    FaultRule::get("/v1.0/applications", Fault::RateLimitedNoHeaders, 2, 2),
                    FaultRule::get("/v1.0/identity/conditionalAccess", Fault::Status(503), 1, 1),
                    FaultRule::get("/v1.0/policies", Fault::RateLimited, 2, 2),
                ];
            }
        }
        let fake = FakeEntra::start(
            EntraTenantSpec {
                users: spec.users,
                seed: spec.seed,
            },
            options,
        )
        .await?;
        Ok(RunningEntra { fake, spec })
    }

    /// The fake itself, for assertions on its tenant.
    pub fn fake(&self) -> &FakeEntra {
        &self.fake
    }
}

/// The GUIDs in a JSON array (conditional access lists also hold keywords such as `All`).
fn guids(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| is_guid(s))
        .map(str::to_string)
        .collect()
}

/// Whether `s` has a GUID's shape (8-4-4-4-12).
fn is_guid(s: &str) -> bool {
    s.split('-').map(str::len).eq([8, 4, 4, 4, 12])
}

#[async_trait]
impl RunningFake for RunningEntra {
    fn base_url(&self) -> String {
        self.fake.base_url()
    }

    fn description(&self) -> String {
        format!(
            "fake Entra tenant with {} users at {} (token endpoint {}/{}/oauth2/v2.0/token)",
            self.spec.users,
            self.fake.base_url(),
            self.fake.base_url(),
            self.fake.tenant_id()
        )
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut out = vec![
            pair("ENTRA_GRAPH_URL", self.fake.base_url()),
            pair("ENTRA_AUTHORITY_URL", self.fake.base_url()),
            pair("ENTRA_TENANT_ID", self.fake.tenant_id()),
            pair("ENTRA_CLIENT_ID", self.fake.client_id()),
            pair("ENTRA_CLIENT_SECRET", self.fake.client_secret()),
        ];
        if let Some(f) = self.spec.rate_scale {
            out.push(pair("ENTRA_RATE_SCALE", f));
        }
        out
    }

    fn rate_limit_comment(&self) -> String {
        match self.spec.rate_scale {
            Some(f) => format!(
                "throttling: Graph resource units per 10 s window, time running {f}x faster (the client paces itself by ENTRA_RATE_SCALE)"
            ),
            None => "throttling: none".into(),
        }
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: "or a certificate instead of ENTRA_CLIENT_SECRET, with these two:".into(),
            settings: vec![
                pair("ENTRA_CERTIFICATE_FILE", test_key_file()),
                pair(
                    "ENTRA_CERTIFICATE_THUMBPRINT",
                    self.fake.certificate_thumbprint(),
                ),
            ],
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

    /// A conditional access policy is deleted, and so are the group it includes (with one of
    /// its enabled members) and the named location it excludes, with Graph's cascades.
    async fn incident(&self) -> Result<Incident> {
        let fake = &self.fake;
        let policy = pick(
            &fake.items("identity/conditionalAccess/policies"),
            "a conditional access policy naming a group and a named location",
            |p| {
                !guids(&p["conditions"]["users"]["includeGroups"]).is_empty()
                    && !guids(&p["conditions"]["locations"]["excludeLocations"]).is_empty()
            },
        )?;
        let policy_id = id_of(&policy, "id");
        let group = guids(&policy["conditions"]["users"]["includeGroups"])[0].clone();
        let location = guids(&policy["conditions"]["locations"]["excludeLocations"])[0].clone();
        let display_name = |coll: &str, id: &str| {
            fake.items(coll)
                .iter()
                .find(|i| i["id"] == id)
                .map(|i| name_of(i, "/displayName").to_string())
                .unwrap_or_default()
        };
        let (group_name, location_name) = (
            display_name("groups", &group),
            display_name("identity/conditionalAccess/namedLocations", &location),
        );
        let users = fake.items("users");
        let members = fake.with_tenant(|t| t.references(&format!("groups/{group}/members")));
        let user = members
            .iter()
            .find_map(|m| {
                users
                    .iter()
                    .find(|u| u["id"] == m.as_str() && u["accountEnabled"] == true)
            })
            .cloned()
            .ok_or_else(|| {
                butterfly_core::Error::not_found(
                    "the group the incident deletes has no enabled member",
                )
            })?;
        let user_id = id_of(&user, "id");
        // An admin's deletes, with Graph's cascades (memberships, assignments, grants).
        fake.with_tenant(|t| {
            t.delete("users", &user_id);
            t.delete("identity/conditionalAccess/policies", &policy_id);
            t.delete("groups", &group);
            t.delete("identity/conditionalAccess/namedLocations", &location);
        });
        Ok(Incident {
            summary: vec![
                format!(
                    "conditional access policy {:?}",
                    name_of(&policy, "/displayName")
                ),
                format!(
                    "group {group_name:?} with {} members, which the policy includes",
                    members.len()
                ),
                format!(
                    "user {:?}, one of those members",
                    name_of(&user, "/userPrincipalName")
                ),
                format!("named location {location_name:?}, which the policy excludes"),
            ],
            removed: vec![
                Affected::new(
                    "entra.conditional_access_policy",
                    policy_id,
                    Severity::Critical,
                ),
                Affected::new("entra.group", group, Severity::High),
                Affected::new("entra.user", user_id, Severity::Medium),
                Affected::new("entra.named_location", location, Severity::High),
            ],
            changed: Vec::new(),
            kinds: strings(&[
                "entra.user",
                "entra.group",
                "entra.group_member",
                "entra.group_owner",
                "entra.app_role_assignment",
                "entra.administrative_unit_member",
                "entra.named_location",
                "entra.conditional_access_policy",
            ]),
            differences: Differences {
                text: "new object ids; users re-created disabled with a random password to reset; application secrets and certificates re-issued per the rotation checklist".into(),
                plan_notes: strings(&["users are created disabled"]),
                // The re-created user is disabled until someone resets its password.
                fields: vec![("entra.user".into(), "/accountEnabled".into())],
            },
        })
    }
}
