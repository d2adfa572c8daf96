//! The fake Okta org in the registry: its options, settings and incident.

use async_trait::async_trait;
use butterfly_core::Result;
use butterfly_core::diff::Severity;

use super::{
    Affected, Alternatives, Differences, FakeDescriptor, FakeOption, FakeSpec, Incident,
    ProviderFake, Served, admin_write, id_of, name_of, pair, pick, strings, test_key_file,
};
use crate::fake::{Fault, FaultRule};
use crate::okta::{FakeOkta, OktaOptions, OktaOrgSpec, okta_rate_limits};

/// `--governance`: enable Okta Identity Governance.
const GOVERNANCE: FakeOption = FakeOption::flag("governance", "Enable Okta Identity Governance.");

/// The fake Okta org.
pub static OKTA: FakeDescriptor = FakeDescriptor {
    name: "okta",
    title: "Okta",
    about: "A fake Okta org: every kind of configuration, generated from Okta's API description and recorded responses, secrets planted as sentinels.",
    options: &[GOVERNANCE],
    start: super::start::<FakeOkta>,
};

/// A fake Okta org being served.
pub type RunningOkta = Served<FakeOkta>;

/// An admin's `DELETE` of `path` (`/api/v1/…`) through the Management API, with the SSWS
/// token; anything but a success is an error.
pub async fn admin_delete(fake: &FakeOkta, path: &str) -> Result<()> {
    let url = format!("{}{path}", fake.base_url());
    let token = format!("SSWS {}", fake.api_token());
    admin_write(reqwest::Method::DELETE, url, &token, None).await
}

#[async_trait]
impl ProviderFake for FakeOkta {
    const RECURRING: &'static [(&'static str, Fault)] = &[
        ("/api/v1/users", Fault::Status(503)),
        ("/api/v1/groups", Fault::RateLimited),
        ("/api/v1/apps", Fault::Truncate),
    ];
    const UNLIMITED: &'static str = "rate limits: none";

    fn storm() -> Vec<FaultRule> {
        vec![
            FaultRule::get("/api/v1/users", Fault::Status(503), 2, 2),
            FaultRule::get("/api/v1/groups", Fault::RateLimited, 3, 2),
            FaultRule::get("/api/v1/apps", Fault::RateLimitedNoHeaders, 2, 2),
            FaultRule::get("/api/v1/policies", Fault::Reset, 3, 2),
            FaultRule::get("/api/v1/zones", Fault::Truncate, 1, 1),
            FaultRule::get("/api/v1/authorizationServers", Fault::Status(500), 2, 1),
        ]
    }

    async fn serve(spec: &FakeSpec, faults: Vec<FaultRule>) -> std::io::Result<FakeOkta> {
        let org = OktaOrgSpec {
            users: spec.users,
            seed: spec.seed,
            governance: spec.flag(&GOVERNANCE),
        };
        let options = OktaOptions {
            rate_limits: spec.rate_scale.map(okta_rate_limits),
            faults,
            withheld_scopes: spec.withheld.clone(),
            port: spec.port,
        };
        FakeOkta::start(org, options).await
    }

    fn describe(&self, spec: &FakeSpec) -> String {
        format!(
            "fake Okta org with {} users at {}",
            spec.users,
            self.base_url()
        )
    }

    fn credentials(&self) -> Vec<(String, String)> {
        vec![
            pair("OKTA_ORG_URL", self.base_url()),
            pair("OKTA_API_TOKEN", self.api_token()),
        ]
    }

    fn pacing(&self, _: &FakeSpec, scale: f64) -> (Vec<(String, String)>, String) {
        (
            vec![pair("OKTA_RATE_SCALE", scale)],
            format!(
                "rate limits: Okta's per-minute buckets, time running {scale}x faster (the client paces itself by OKTA_RATE_SCALE)"
            ),
        )
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: "or OAuth 2.0 private_key_jwt instead of OKTA_API_TOKEN, with these three:"
                .into(),
            settings: vec![
                pair("OKTA_CLIENT_ID", self.oauth_client_id()),
                pair("OKTA_PRIVATE_KEY_ID", self.key_id()),
                pair("OKTA_PRIVATE_KEY_FILE", test_key_file()),
            ],
        }
    }

    /// A sign-on policy with its rules, a group rule, a group with its members and app
    /// assignments, and the network zone that policy rules name are deleted.
    async fn perform_incident(&self) -> Result<Incident> {
        let fake = self;
        let policy = pick(&fake.items("/api/v1/policies"), "a sign-on policy", |p| {
            p["type"] == "OKTA_SIGN_ON" && p["system"] == false
        })?;
        let rules = fake.items("/api/v1/groups/rules");
        let rule = pick(&rules, "an active group rule", |r| r["status"] == "ACTIVE")?;
        // A group no other rule assigns to: Okta would turn such a rule INVALID, a change
        // rather than a deletion.
        let targets = |r: &serde_json::Value, group: &serde_json::Value| {
            r["actions"]["assignUserToGroups"]["groupIds"]
                .as_array()
                .is_some_and(|ids| ids.contains(&group["id"]))
        };
        let group = pick(&fake.items("/api/v1/groups"), "a group", |g| {
            g["type"] == "OKTA_GROUP"
                && g["profile"]["name"] != "Admins"
                && rules
                    .iter()
                    .all(|r| r["id"] == rule["id"] || !targets(r, g))
        })?;
        let zone = pick(&fake.items("/api/v1/zones"), "the Office zone", |z| {
            z["name"] == "Office"
        })?;
        let (policy_id, rule_id, group_id, zone_id) = (
            id_of(&policy, "id"),
            id_of(&rule, "id"),
            id_of(&group, "id"),
            id_of(&zone, "id"),
        );
        let summary = vec![
            format!("policy {:?} and its rules", name_of(&policy, "/name")),
            format!("group rule {:?}", name_of(&rule, "/name")),
            format!(
                "group {:?} with {} members and its app assignments",
                name_of(&group, "/profile/name"),
                fake.members(&group_id).len()
            ),
            format!(
                "network zone {:?}, which sign-on rules name",
                name_of(&zone, "/name")
            ),
        ];
        admin_delete(self, &format!("/api/v1/policies/{policy_id}")).await?;
        admin_delete(self, &format!("/api/v1/groups/rules/{rule_id}")).await?;
        admin_delete(self, &format!("/api/v1/groups/{group_id}")).await?;
        admin_delete(self, &format!("/api/v1/zones/{zone_id}")).await?;
        Ok(Incident {
            summary,
            removed: vec![
                Affected::new("okta.policy", policy_id, Severity::Critical),
                Affected::new("okta.group_rule", rule_id, Severity::High),
                Affected::new("okta.group", group_id, Severity::High),
                Affected::new("okta.network_zone", zone_id, Severity::High),
            ],
            changed: Vec::new(),
            kinds: strings(&[
                "okta.network_zone",
                "okta.group",
                "okta.group_member",
                "okta.app_group",
                "okta.group_rule",
                "okta.policy",
                "okta.policy_rule",
            ]),
            differences: Differences {
                text: "new ids; users re-created STAGED without credentials; secrets (client secrets, hook headers, SMTP passwords…) re-entered per the rotation checklist".into(),
                plan_notes: Vec::new(),
                fields: Vec::new(),
            },
        })
    }
}
