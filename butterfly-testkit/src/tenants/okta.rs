//! The fake Okta org in the registry: its options, settings and incident.

use async_trait::async_trait;
use butterfly_core::Result;
use butterfly_core::diff::Severity;
use futures::FutureExt;

use super::{
    Affected, Alternatives, FakeDescriptor, FakeOption, FakeSpec, Faults, Incident, RunningFake,
    admin_write, id_of, name_of, pair, pick, recurring, strings, test_key_file,
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
    start: |spec| {
        async move { Ok(Box::new(RunningOkta::start(spec).await?) as Box<dyn RunningFake>) }.boxed()
    },
};

/// A fake Okta org being served, with the spec it was started from.
pub struct RunningOkta {
    fake: FakeOkta,
    spec: FakeSpec,
}

impl RunningOkta {
    /// Generates an org from `spec` and serves it.
    pub async fn start(spec: FakeSpec) -> std::io::Result<RunningOkta> {
        let faults = match spec.faults {
            Faults::None => Vec::new(),
            Faults::Recurring => recurring(&[
                ("/api/v1/users", Fault::Status(503)),
                ("/api/v1/groups", Fault::RateLimited),
                ("/api/v1/apps", Fault::Truncate),
            ]),
            Faults::Storm => vec![
                FaultRule::get("/api/v1/users", Fault::Status(503), 2, 2),
                FaultRule::get("/api/v1/groups", Fault::RateLimited, 3, 2),
                FaultRule::get("/api/v1/apps", Fault::RateLimitedNoHeaders, 2, 2),
                FaultRule::get("/api/v1/policies", Fault::Reset, 3, 2),
                FaultRule::get("/api/v1/zones", Fault::Truncate, 1, 1),
                FaultRule::get("/api/v1/authorizationServers", Fault::Status(500), 2, 1),
            ],
        };
        let fake = FakeOkta::start(
            OktaOrgSpec {
                users: spec.users,
                seed: spec.seed,
                governance: spec.flag(&GOVERNANCE),
            },
            OktaOptions {
                rate_limits: spec.rate_scale.map(okta_rate_limits),
                faults,
                withheld_scopes: spec.withheld.clone(),
                port: spec.port,
            },
        )
        .await?;
        Ok(RunningOkta { fake, spec })
    }

    /// The fake itself, for assertions on its org.
    pub fn fake(&self) -> &FakeOkta {
        &self.fake
    }

    async fn admin_delete(&self, path: &str) -> Result<()> {
        let url = format!("{}{path}", self.fake.base_url());
        let token = format!("SSWS {}", self.fake.api_token());
        admin_write(reqwest::Method::DELETE, url, &token, None).await
    }
}

#[async_trait]
impl RunningFake for RunningOkta {
    fn base_url(&self) -> String {
        self.fake.base_url()
    }

    fn description(&self) -> String {
        format!(
            "fake Okta org with {} users at {}",
            self.spec.users,
            self.fake.base_url()
        )
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut out = vec![
            pair("OKTA_ORG_URL", self.fake.base_url()),
            pair("OKTA_API_TOKEN", self.fake.api_token()),
        ];
        if let Some(f) = self.spec.rate_scale {
            out.push(pair("OKTA_RATE_SCALE", f));
        }
        out
    }

    fn rate_limit_comment(&self) -> String {
        match self.spec.rate_scale {
            Some(f) => format!(
                "rate limits: Okta's per-minute buckets, time running {f}x faster (the client paces itself by OKTA_RATE_SCALE)"
            ),
            None => "rate limits: none".into(),
        }
    }

    fn alternatives(&self) -> Alternatives {
        Alternatives {
            comment: "or OAuth 2.0 private_key_jwt instead of OKTA_API_TOKEN, with these three:"
                .into(),
            settings: vec![
                pair("OKTA_CLIENT_ID", self.fake.oauth_client_id()),
                pair("OKTA_PRIVATE_KEY_ID", self.fake.key_id()),
                pair("OKTA_PRIVATE_KEY_FILE", test_key_file()),
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

    /// A sign-on policy with its rules, a group rule, a group with its members and app
    /// assignments, and the network zone that policy rules name are deleted.
    async fn incident(&self) -> Result<Incident> {
        let fake = &self.fake;
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
        self.admin_delete(&format!("/api/v1/policies/{policy_id}"))
            .await?;
        self.admin_delete(&format!("/api/v1/groups/rules/{rule_id}"))
            .await?;
        self.admin_delete(&format!("/api/v1/groups/{group_id}"))
            .await?;
        self.admin_delete(&format!("/api/v1/zones/{zone_id}"))
            .await?;
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
            differences: super::Differences {
                text: "new ids; users re-created STAGED without credentials; secrets (client secrets, hook headers, SMTP passwords…) re-entered per the rotation checklist".into(),
                plan_notes: Vec::new(),
                fields: Vec::new(),
            },
        })
    }
}
