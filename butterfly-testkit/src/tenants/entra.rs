//! The fake Entra ID tenant in the registry: its settings and incident.

use async_trait::async_trait;
use butterfly_core::Result;
use butterfly_core::diff::Severity;
use serde_json::Value;

use super::{
    Affected, Alternatives, Differences, FakeDescriptor, FakeSpec, Faults, Incident, ProviderFake,
    Served, id_of, name_of, pair, pick, strings, test_key_file,
};
use crate::entra::{EntraOptions, EntraTenantSpec, FakeEntra, graph_rate_limits};
use crate::fake::{Fault, FaultRule};

/// The fake Entra ID tenant.
pub static ENTRA: FakeDescriptor = FakeDescriptor {
    name: "entra",
    title: "Entra ID",
    about: "A fake Microsoft Entra ID tenant (Graph v1.0): users, groups, conditional access, roles and apps, generated from Graph's API description, secrets planted as sentinels.",
    options: &[],
    start: super::start::<FakeEntra>,
};

/// A fake Entra tenant being served.
pub type RunningEntra = Served<FakeEntra>;

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
impl ProviderFake for FakeEntra {
    const RECURRING: &'static [(&'static str, Fault)] = &[
        ("/v1.0/users", Fault::Status(503)),
        ("/v1.0/groups", Fault::RateLimited),
        ("/v1.0/servicePrincipals", Fault::RateLimitedNoHeaders),
        ("/v1.0/applications", Fault::Truncate),
    ];
    const UNLIMITED: &'static str = "throttling: none";

    fn storm() -> Vec<FaultRule> {
        vec![
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
        ]
    }

    async fn serve(spec: &FakeSpec, faults: Vec<FaultRule>) -> std::io::Result<FakeEntra> {
        let mut options = EntraOptions {
            rate_limits: spec.rate_scale.map(graph_rate_limits),
            faults,
            withheld_permissions: spec.withheld.clone(),
            port: spec.port,
            ..EntraOptions::default()
        };
        if spec.faults == Faults::Storm {
            // Graph throttles batched requests one by one, inside a 200 answer.
            options.batch_faults = vec![
                FaultRule::get("/v1.0/groups", Fault::RateLimited, 3, 2),
                FaultRule::get("/v1.0/applications", Fault::RateLimitedNoHeaders, 2, 2),
                FaultRule::get("/v1.0/identity/conditionalAccess", Fault::Status(503), 1, 1),
                FaultRule::get("/v1.0/policies", Fault::RateLimited, 2, 2),
            ];
        }
        let tenant = EntraTenantSpec {
            users: spec.users,
            seed: spec.seed,
        };
        FakeEntra::start(tenant, options).await
    }

    fn describe(&self, spec: &FakeSpec) -> String {
        format!(
            "fake Entra tenant with {} users at {} (token endpoint {}/{}/oauth2/v2.0/token)",
            spec.users,
            self.base_url(),
            self.base_url(),
            self.tenant_id()
        )
    }

    fn credentials(&self) -> Vec<(String, String)> {
        vec![
            pair("ENTRA_GRAPH_URL", self.base_url()),
            pair("ENTRA_AUTHORITY_URL", self.base_url()),
            pair("ENTRA_TENANT_ID", self.tenant_id()),
            pair("ENTRA_CLIENT_ID", self.client_id()),
            pair("ENTRA_CLIENT_SECRET", self.client_secret()),
        ]
    }

    fn pacing(&self, _: &FakeSpec, scale: f64) -> (Vec<(String, String)>, String) {
        (
            vec![pair("ENTRA_RATE_SCALE", scale)],
            format!(
                "throttling: Graph resource units per 10 s window, time running {scale}x faster (the client paces itself by ENTRA_RATE_SCALE)"
            ),
        )
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: "or a certificate instead of ENTRA_CLIENT_SECRET, with these two:".into(),
            settings: vec![
                pair("ENTRA_CERTIFICATE_FILE", test_key_file()),
                pair(
                    "ENTRA_CERTIFICATE_THUMBPRINT",
                    self.certificate_thumbprint(),
                ),
            ],
        }
    }

    /// A conditional access policy is deleted, and so are the group it includes (with one of
    /// its enabled members) and the named location it excludes, with Graph's cascades.
    async fn perform_incident(&self) -> Result<Incident> {
        let fake = self;
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
