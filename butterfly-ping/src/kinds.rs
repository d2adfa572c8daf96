//! The PingOne kinds table: one row per kind.
//!
//! Each [`PingKind`] row holds the core descriptor ([`KindSpec`]: natural key, dependencies,
//! secret, volatile and reference fields, restore mode), how it is listed as a core
//! [`ListSpec`] (path below `/v1/environments/{environmentId}/`, the `_embedded` member of the
//! HAL answer, `_links.next.href` paging, the admin role that reads it) that the core table
//! engine ([`butterfly_core::table`]) reads, and the PingOne columns: rate-limit bucket and how
//! a restore writes it. Adding a read-only kind is one row here plus the fake's route.
//!
//! Every item loses its `environment` member (the environment's own id, which differs in every
//! environment a backup is restored to) and its HAL `_links` (navigation, no configuration);
//! `createdAt` and `updatedAt` are kept but ignored by diff. Passwords are never read: PingOne does not return them, and the users
//! listing is read as is.

use butterfly_core::kind::{
    Category, HasKindSpec, KindSpec, ReferenceField, RestoreSupport, SecretField, restorability,
};
use butterfly_core::table::{Items, ListSpec, Paging, TableKind};
use serde_json::{Map, Value};

/// How a restore writes a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST {path}` creates; `PUT {path}/{id}` replaces.
    PostPut,
    /// `POST {path}` creates; nothing to update (assignments).
    PostOnly,
    /// `POST {path}` with `{"id": <own id of the body's id>}` adds a member: a group to a user
    /// or group, a resource permission to an application role.
    Membership,
    /// Listed at the kind's path but created (`POST`) and replaced (`PUT {id}`) in another
    /// resource's collection: `path` with `{}` standing for the id at the body's `parent`
    /// pointer (a reference, remapped before the write).
    Under {
        /// The collection written to, below the environment.
        path: &'static str,
        /// JSON Pointer of the id that fills `path`'s `{}`.
        parent: &'static str,
    },
    /// `PUT {path}` replaces the singleton.
    PutSingleton,
    /// Cannot be written.
    None,
}

/// How a kind is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Through its [`ListSpec`] by the core engine.
    Table,
    /// The environment itself: `GET /v1/environments/{environmentId}`, above the root the
    /// table paths hang from.
    Environment,
}

/// One row of the table.
#[derive(Debug)]
pub struct PingKind {
    /// The core descriptor.
    pub spec: KindSpec,
    /// How it is listed, read by the core table engine.
    pub list: ListSpec,
    /// Where it is read from.
    pub source: Source,
    /// Rate-limit bucket (`directory` for users, groups and populations; `config` else).
    pub bucket: &'static str,
    /// How a restore writes it.
    pub write: Write,
    /// The PingOne service the kind belongs to, as the environment's bill of materials names
    /// it (`PING_ONE_MFA`, `PING_ONE_RISK`, `PING_ONE_AUTHORIZE`); `None` for the base
    /// platform every environment has. An environment without the service reports the kind
    /// unsupported.
    pub product: Option<&'static str>,
}

/// The bill-of-materials type of PingOne MFA.
pub const MFA: &str = "PING_ONE_MFA";
/// The bill-of-materials type of PingOne Protect (risk).
pub const RISK: &str = "PING_ONE_RISK";
/// The bill-of-materials type of PingOne Authorize.
pub const AUTHORIZE: &str = "PING_ONE_AUTHORIZE";

/// The product name of a bill-of-materials type, for messages.
pub fn product_name(product: &str) -> &str {
    match product {
        MFA => "PingOne MFA",
        RISK => "PingOne Protect",
        AUTHORIZE => "PingOne Authorize",
        other => other,
    }
}

/// A row of a PingOne service other than the base platform.
const fn needs(product: &'static str, row: PingKind) -> PingKind {
    PingKind {
        product: Some(product),
        ..row
    }
}

impl HasKindSpec for PingKind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }
    /// Restorable exactly when the write column can write it.
    fn restorability(&self) -> RestoreSupport {
        restorability(
            self.write != Write::None,
            self.spec.restore,
            "read-only through the PingOne Platform API",
        )
    }
}

impl TableKind for PingKind {
    fn list_spec(&self) -> &ListSpec {
        &self.list
    }
}

/// The admin role reading users, groups, populations, schemas and role assignments.
pub const IDENTITY_DATA_ADMIN: &str = "Identity Data Admin";
/// The admin role reading applications and resources.
pub const CLIENT_APPLICATION_DEVELOPER: &str = "Client Application Developer";
/// The admin role reading the rest of the environment's configuration.
pub const ENVIRONMENT_ADMIN: &str = "Environment Admin";

const IDA: &str = IDENTITY_DATA_ADMIN;
const CAD: &str = CLIENT_APPLICATION_DEVELOPER;
const EA: &str = ENVIRONMENT_ADMIN;

const VOLATILE: &[&str] = &["/createdAt", "/updatedAt"];

/// Members no item keeps: the environment's own id (it differs in every environment a backup is
/// restored to) and the HAL `_links` (navigation with absolute URLs, no configuration).
const DROPPED: &[&str] = &["environment", "_links"];

/// A HAL collection of `path` whose items are `_embedded.<member>`, read with `role`.
const fn hal(path: &'static str, member: &'static str, role: &'static str) -> ListSpec {
    ListSpec::new(path, role)
        .items(Items::Embedded(member))
        .paging(Paging::HalNext)
        .drop(DROPPED)
}

const fn row(spec: KindSpec, list: ListSpec, write: Write) -> PingKind {
    PingKind {
        spec,
        list,
        source: Source::Table,
        bucket: "config",
        write,
        product: None,
    }
}

const fn spec(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        volatile_fields: VOLATILE,
        ..KindSpec::new(id, name, category)
    }
}

const fn named(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        natural_key: &["/name"],
        ..spec(id, name, category)
    }
}

const fn child(
    id: &'static str,
    name: &'static str,
    category: Category,
    parent: &'static str,
    key: &'static [&'static str],
) -> KindSpec {
    KindSpec {
        parent: Some(parent),
        natural_key: key,
        ..spec(id, name, category)
    }
}

const fn reference(pointer: &'static str, kind: &'static str) -> ReferenceField {
    ReferenceField { pointer, kind }
}

use Category::*;

/// The environment itself (name, region, type, license, services).
pub static ENVIRONMENT: PingKind = PingKind {
    source: Source::Environment,
    ..row(
        spec("ping.environment", "Environment", Settings),
        ListSpec::new("", EA)
            .singleton()
            .drop(&["id", "organization", "_links"]),
        Write::None,
    )
};

/// Populations.
pub static POPULATION: PingKind = PingKind {
    bucket: "directory",
    ..row(
        KindSpec {
            depends_on: &["ping.password_policy"],
            reference_fields: &[reference("/passwordPolicy/id", "ping.password_policy")],
            ..named("ping.population", "Populations", Directory)
        },
        hal("populations", "populations", IDA),
        Write::PostPut,
    )
};

/// Users (never their password: PingOne does not return it).
pub static USER: PingKind = PingKind {
    bucket: "directory",
    ..row(
        KindSpec {
            natural_key: &["/username"],
            depends_on: &["ping.population"],
            reference_fields: &[reference("/population/id", "ping.population")],
            volatile_fields: &[
                "/createdAt",
                "/updatedAt",
                "/lastSignOn",
                "/lifecycle",
                "/verifyStatus",
                "/identityProvider",
            ],
            restore_note: Some(
                "users are created without a password or MFA devices: each must set a password (send a recovery code) and enrol again",
            ),
            ..spec("ping.user", "Users", Directory)
        },
        hal("users", "users", IDA).page_size("limit", 100),
        Write::PostPut,
    )
};

/// Groups.
pub static GROUP: PingKind = PingKind {
    bucket: "directory",
    ..row(
        KindSpec {
            depends_on: &["ping.population"],
            reference_fields: &[reference("/population/id", "ping.population")],
            ..named("ping.group", "Groups", Directory)
        },
        hal("groups", "groups", IDA).page_size("limit", 100),
        Write::PostPut,
    )
};

/// Users read at once by the per-user listings: one request per user each, so enough in
/// flight to keep the directory bucket (100 a second) busy despite latency.
const PER_USER: usize = 32;

/// Only direct memberships: those through a nested group come back with the nesting.
fn direct(item: &Value) -> bool {
    item.get("type").and_then(Value::as_str) != Some("INDIRECT")
}

/// A user's direct group memberships.
pub static GROUP_MEMBERSHIP: PingKind = PingKind {
    bucket: "directory",
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateOnly,
            depends_on: &["ping.group"],
            reference_fields: &[reference("/id", "ping.group")],
            ..child(
                "ping.group_membership",
                "Group memberships",
                Directory,
                "ping.user",
                &[],
            )
        },
        hal("users/{0}/memberOfGroups", "groupMemberships", IDA)
            .keep_only(&["id"])
            .keeps_item(direct)
            .concurrency(PER_USER),
        Write::Membership,
    )
};

/// Groups that are members of other groups (nesting).
pub static GROUP_NESTING: PingKind = PingKind {
    bucket: "directory",
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateOnly,
            depends_on: &["ping.group"],
            reference_fields: &[reference("/id", "ping.group")],
            ..child(
                "ping.group_nesting",
                "Group nesting",
                Directory,
                "ping.group",
                &[],
            )
        },
        hal("groups/{0}/memberOfGroups", "groupMemberships", IDA)
            .keep_only(&["id"])
            .keeps_item(direct),
        Write::Membership,
    )
};

/// Admin role assignments of users.
pub static USER_ROLE_ASSIGNMENT: PingKind = row(
    KindSpec {
        restore: RestoreSupport::CreateOnly,
        structural_fields: &["/role/id", "/scope/type"],
        ..child(
            "ping.user_role_assignment",
            "User admin role assignments",
            Authorization,
            "ping.user",
            &[],
        )
    },
    hal("users/{0}/roleAssignments", "roleAssignments", IDA).concurrency(PER_USER),
    Write::PostOnly,
);

/// Schemas (the user schema), read-only; their attributes are restorable.
pub static SCHEMA: PingKind = row(
    named("ping.schema", "Schemas", Directory),
    hal("schemas", "schemas", IDA),
    Write::None,
);

/// Attributes of schemas (custom user attributes).
pub static SCHEMA_ATTRIBUTE: PingKind = row(
    child(
        "ping.schema_attribute",
        "Schema attributes",
        Directory,
        "ping.schema",
        &["/name"],
    ),
    hal("schemas/{0}/attributes", "attributes", IDA),
    Write::PostPut,
);

/// Applications (OIDC, SAML, worker…); client secrets are never read.
pub static APPLICATION: PingKind = row(
    KindSpec {
        restore_note: Some(
            "re-created applications get a new client id and client secret: update every client that used them",
        ),
        secret_fields: &[SecretField {
            pointer: "/clientSecret",
            secret: "application client secret",
        }],
        ..named("ping.application", "Applications", Application)
    },
    hal("applications", "applications", CAD).shape(application_secret),
    Write::PostPut,
);

/// The member standing for a secret PingOne keeps at another endpoint. It is never read:
/// the redaction turns this marker into a typed placeholder naming what a restore must
/// rotate.
const NOT_READ: &str = "not read: held by PingOne";

/// OpenID Connect applications have a client secret (at `applications/{id}/secret`, never
/// read): the application carries a `clientSecret` placeholder instead.
fn application_secret(_own: &str, mut item: Map<String, Value>) -> Value {
    if item.get("protocol").and_then(Value::as_str) == Some("OPENID_CONNECT") {
        item.insert("clientSecret".into(), Value::String(NOT_READ.into()));
    }
    Value::Object(item)
}

/// Gateways have credentials (at `gateways/{id}/credentials`, never read): the gateway
/// carries a `credentials` placeholder instead.
fn gateway_credentials(_own: &str, mut item: Map<String, Value>) -> Value {
    item.insert("credentials".into(), Value::String(NOT_READ.into()));
    Value::Object(item)
}

/// Which sign-on policies an application uses, in order.
pub static APPLICATION_SIGN_ON_POLICY_ASSIGNMENT: PingKind = row(
    KindSpec {
        depends_on: &["ping.sign_on_policy"],
        reference_fields: &[
            reference("/signOnPolicy/id", "ping.sign_on_policy"),
            reference("/application/id", "ping.application"),
        ],
        structural_fields: &["/priority"],
        ..child(
            "ping.application_sign_on_policy_assignment",
            "Application sign-on policy assignments",
            Application,
            "ping.application",
            &[],
        )
    },
    hal(
        "applications/{0}/signOnPolicyAssignments",
        "signOnPolicyAssignments",
        CAD,
    ),
    Write::PostPut,
);

/// Admin roles given to applications (worker apps).
pub static APPLICATION_ROLE_ASSIGNMENT: PingKind = row(
    KindSpec {
        restore: RestoreSupport::CreateOnly,
        structural_fields: &["/role/id", "/scope/type"],
        ..child(
            "ping.application_role_assignment",
            "Application admin role assignments",
            Authorization,
            "ping.application",
            &[],
        )
    },
    hal("applications/{0}/roleAssignments", "roleAssignments", CAD),
    Write::PostOnly,
);

/// Attribute mappings of applications (claims and SAML assertions).
pub static APPLICATION_ATTRIBUTE: PingKind = row(
    KindSpec {
        reference_fields: &[reference("/application/id", "ping.application")],
        ..child(
            "ping.application_attribute",
            "Application attribute mappings",
            Application,
            "ping.application",
            &["/name"],
        )
    },
    hal("applications/{0}/attributes", "attributes", CAD),
    Write::PostPut,
);

/// A grant names its scopes by their own ids, while a scope's resource id is
/// `{resource id}/{scope id}` (a sub-resource of its resource): the scopes are kept under those
/// full ids, so they are references a restore can remap; writes send the own ids again.
fn grant_scopes(_own: &str, mut item: Map<String, Value>) -> Value {
    let resource = item
        .get("resource")
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if let (Some(resource), Some(Value::Array(scopes))) = (resource, item.get_mut("scopes")) {
        for scope in scopes {
            if let Some(id) = scope.get_mut("id")
                && let Some(own) = id.as_str()
                && !own.contains('/')
            {
                *id = Value::String(format!("{resource}/{own}"));
            }
        }
    }
    Value::Object(item)
}

/// The resources and scopes granted to applications.
pub static APPLICATION_GRANT: PingKind = row(
    KindSpec {
        depends_on: &["ping.resource", "ping.resource_scope"],
        reference_fields: &[
            reference("/resource/id", "ping.resource"),
            reference("/scopes/*/id", "ping.resource_scope"),
            reference("/application/id", "ping.application"),
        ],
        ..child(
            "ping.application_grant",
            "Application grants",
            Application,
            "ping.application",
            &[],
        )
    },
    hal("applications/{0}/grants", "grants", CAD).shape(grant_scopes),
    Write::PostPut,
);

/// Resources (APIs whose scopes applications are granted).
pub static RESOURCE: PingKind = row(
    named("ping.resource", "Resources", Authorization),
    hal("resources", "resources", CAD),
    Write::PostPut,
);

/// Scopes of resources.
pub static RESOURCE_SCOPE: PingKind = row(
    KindSpec {
        reference_fields: &[reference("/resource/id", "ping.resource")],
        ..child(
            "ping.resource_scope",
            "Resource scopes",
            Authorization,
            "ping.resource",
            &["/name"],
        )
    },
    hal("resources/{0}/scopes", "scopes", CAD),
    Write::PostPut,
);

/// Attributes (token claims) of resources.
pub static RESOURCE_ATTRIBUTE: PingKind = row(
    KindSpec {
        reference_fields: &[reference("/resource/id", "ping.resource")],
        ..child(
            "ping.resource_attribute",
            "Resource attributes",
            Authorization,
            "ping.resource",
            &["/name"],
        )
    },
    hal("resources/{0}/attributes", "attributes", CAD),
    Write::PostPut,
);

/// Sign-on policies.
pub static SIGN_ON_POLICY: PingKind = row(
    named("ping.sign_on_policy", "Sign-on policies", Policy),
    hal("signOnPolicies", "signOnPolicies", EA),
    Write::PostPut,
);

/// The ordered actions (steps) of sign-on policies.
pub static SIGN_ON_POLICY_ACTION: PingKind = row(
    KindSpec {
        depends_on: &["ping.mfa_device_policy"],
        reference_fields: &[
            reference("/signOnPolicy/id", "ping.sign_on_policy"),
            reference("/deviceAuthenticationPolicy/id", "ping.mfa_device_policy"),
        ],
        ..child(
            "ping.sign_on_policy_action",
            "Sign-on policy actions",
            Policy,
            "ping.sign_on_policy",
            &["/priority"],
        )
    },
    hal("signOnPolicies/{0}/actions", "actions", EA),
    Write::PostPut,
);

/// Password policies.
pub static PASSWORD_POLICY: PingKind = row(
    named("ping.password_policy", "Password policies", Policy),
    hal("passwordPolicies", "passwordPolicies", EA),
    Write::PostPut,
);

/// External identity providers (their client secrets become placeholders).
pub static IDENTITY_PROVIDER: PingKind = row(
    KindSpec {
        secret_fields: &[
            SecretField {
                pointer: "/clientSecret",
                secret: "identity provider client secret",
            },
            SecretField {
                pointer: "/clientSecretJwt",
                secret: "identity provider client secret",
            },
        ],
        ..named("ping.identity_provider", "Identity providers", Integration)
    },
    hal("identityProviders", "identityProviders", EA),
    Write::PostPut,
);

/// Attribute mappings of identity providers.
pub static IDENTITY_PROVIDER_ATTRIBUTE: PingKind = row(
    child(
        "ping.identity_provider_attribute",
        "Identity provider attributes",
        Integration,
        "ping.identity_provider",
        &["/name"],
    ),
    hal("identityProviders/{0}/attributes", "attributes", EA),
    Write::PostPut,
);

/// Branding settings of the environment.
pub static BRANDING_SETTINGS: PingKind = row(
    KindSpec {
        restore: RestoreSupport::UpdateOnly,
        ..spec("ping.branding_settings", "Branding settings", Branding)
    },
    ListSpec::new("brandingSettings", EA)
        .singleton()
        .drop(&["environment", "id", "_links"]),
    Write::PutSingleton,
);

/// Branding themes.
pub static THEME: PingKind = row(
    KindSpec {
        natural_key: &["/configuration/name"],
        ..spec("ping.theme", "Themes", Branding)
    },
    hal("themes", "themes", EA),
    Write::PostPut,
);

/// Notification policies (SMS, voice and email quotas).
pub static NOTIFICATION_POLICY: PingKind = row(
    named(
        "ping.notification_policy",
        "Notification policies",
        Settings,
    ),
    hal("notificationsPolicies", "notificationsPolicies", EA),
    Write::PostPut,
);

/// Notification templates (built in, addressed by name; read-only, their contents restore).
pub static NOTIFICATION_TEMPLATE: PingKind = row(
    KindSpec {
        natural_key: &["/id"],
        ..spec(
            "ping.notification_template",
            "Notification templates",
            Branding,
        )
    },
    hal("templates", "templates", EA),
    Write::None,
);

/// The custom contents of notification templates, per delivery method and locale.
pub static NOTIFICATION_TEMPLATE_CONTENT: PingKind = row(
    KindSpec {
        natural_key: &["/deliveryMethod", "/locale"],
        ..child(
            "ping.notification_template_content",
            "Notification template contents",
            Branding,
            "ping.notification_template",
            &["/deliveryMethod", "/locale"],
        )
    },
    hal("templates/{0}/contents", "contents", EA)
        // Built-in defaults come back with the environment, and cannot be written.
        .keeps_item(|c| c.get("default") != Some(&Value::Bool(true))),
    Write::PostPut,
);

/// Custom domains.
pub static CUSTOM_DOMAIN: PingKind = row(
    KindSpec {
        natural_key: &["/domainName"],
        volatile_fields: &["/createdAt", "/updatedAt", "/status"],
        restore_note: Some(
            "re-created custom domains need their CNAME verified and a certificate again",
        ),
        ..spec("ping.custom_domain", "Custom domains", Branding)
    },
    hal("customDomains", "customDomains", EA),
    Write::PostOnly,
);

/// Email sender domains.
pub static EMAIL_DOMAIN: PingKind = row(
    KindSpec {
        natural_key: &["/domainName"],
        ..spec("ping.email_domain", "Email domains", Branding)
    },
    hal("emailDomains", "emailDomains", EA),
    Write::PostOnly,
);

/// Certificates (metadata only: PingOne never returns private keys).
pub static CERTIFICATE: PingKind = row(
    named("ping.certificate", "Certificates", Security),
    hal("certificates", "certificates", EA),
    Write::None,
);

/// Signing and encryption keys (metadata only; a key cannot be re-created with the same
/// material).
pub static KEY: PingKind = row(
    named("ping.key", "Keys", Security),
    hal("keys", "keys", EA),
    Write::None,
);

/// Gateways (LDAP, RADIUS…); their credentials are never read.
pub static GATEWAY: PingKind = row(
    KindSpec {
        restore_note: Some(
            "re-created gateways need new credentials: generate them and reconfigure the gateway instances",
        ),
        secret_fields: &[SecretField {
            pointer: "/credentials",
            secret: "gateway credentials",
        }],
        ..named("ping.gateway", "Gateways", Integration)
    },
    hal("gateways", "gateways", EA).shape(gateway_credentials),
    Write::PostPut,
);

/// Agreements (terms of use).
pub static AGREEMENT: PingKind = row(
    named("ping.agreement", "Agreements", Settings),
    hal("agreements", "agreements", EA),
    Write::PostPut,
);

/// The languages an agreement is available in.
pub static AGREEMENT_LANGUAGE: PingKind = row(
    child(
        "ping.agreement_language",
        "Agreement languages",
        Settings,
        "ping.agreement",
        &["/locale"],
    ),
    hal("agreements/{0}/languages", "languages", EA),
    Write::PostPut,
);

/// The environment's languages.
pub static LANGUAGE: PingKind = row(
    KindSpec {
        natural_key: &["/locale"],
        ..spec("ping.language", "Languages", Branding)
    },
    hal("languages", "languages", EA),
    Write::PostPut,
);

/// MFA device authentication policies.
pub static MFA_DEVICE_POLICY: PingKind = needs(
    MFA,
    row(
        named(
            "ping.mfa_device_policy",
            "MFA device authentication policies",
            Policy,
        ),
        hal(
            "deviceAuthenticationPolicies",
            "deviceAuthenticationPolicies",
            EA,
        ),
        Write::PostPut,
    ),
);

/// FIDO2 policies.
pub static FIDO2_POLICY: PingKind = needs(
    MFA,
    row(
        named("ping.fido2_policy", "FIDO2 policies", Policy),
        hal("fido2Policies", "fido2Policies", EA),
        Write::PostPut,
    ),
);

/// MFA settings of the environment.
pub static MFA_SETTINGS: PingKind = needs(
    MFA,
    row(
        KindSpec {
            restore: RestoreSupport::UpdateOnly,
            ..spec("ping.mfa_settings", "MFA settings", Security)
        },
        ListSpec::new("mfaSettings", EA)
            .singleton()
            .drop(&["environment", "id", "_links"]),
        Write::PutSingleton,
    ),
);

/// PingOne Protect risk policy sets.
pub static RISK_POLICY_SET: PingKind = needs(
    RISK,
    row(
        named("ping.risk_policy_set", "Risk policy sets", Security),
        hal("riskPolicySets", "riskPolicySets", EA),
        Write::PostPut,
    ),
);

/// PingOne Protect risk predictors.
pub static RISK_PREDICTOR: PingKind = needs(
    RISK,
    row(
        KindSpec {
            natural_key: &["/compactName"],
            ..spec("ping.risk_predictor", "Risk predictors", Security)
        },
        hal("riskPredictors", "riskPredictors", EA),
        Write::PostPut,
    ),
);

/// PingOne Authorize application roles.
pub static APPLICATION_ROLE: PingKind = needs(
    AUTHORIZE,
    row(
        named(
            "ping.application_role",
            "Authorize application roles",
            Authorization,
        ),
        hal("applicationRoles", "roles", EA),
        Write::PostPut,
    ),
);

/// PingOne Authorize application resources (what application roles give permissions on):
/// listed all together, written under the resource they belong to.
pub static APPLICATION_RESOURCE: PingKind = needs(
    AUTHORIZE,
    row(
        KindSpec {
            depends_on: &["ping.resource"],
            reference_fields: &[reference("/parent/id", "ping.resource")],
            ..named(
                "ping.application_resource",
                "Authorize application resources",
                Authorization,
            )
        },
        hal("applicationResources", "resources", EA),
        Write::Under {
            path: "resources/{}/applicationResources",
            parent: "/parent/id",
        },
    ),
);

/// The permissions (actions) of Authorize application resources.
pub static APPLICATION_RESOURCE_PERMISSION: PingKind = needs(
    AUTHORIZE,
    row(
        child(
            "ping.application_resource_permission",
            "Authorize application resource permissions",
            Authorization,
            "ping.application_resource",
            &["/action"],
        ),
        hal("applicationResources/{0}/permissions", "permissions", EA).drop(&[
            "environment",
            "_links",
            "resource",
        ]),
        Write::PostPut,
    ),
);

/// A role's permission is named by the resource permission's own id, while that permission's
/// resource id is `{application resource id}/{permission id}` (a sub-resource of its
/// resource): the `id` is kept under the full id, so it is a reference a restore can remap;
/// the write sends the own id again.
fn role_permission(_own: &str, mut item: Map<String, Value>) -> Value {
    let resource = item
        .get("resource")
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if let (Some(resource), Some(id)) = (resource, item.get_mut("id"))
        && let Some(own) = id.as_str()
        && !own.contains('/')
    {
        *id = Value::String(format!("{resource}/{own}"));
    }
    Value::Object(item)
}

/// The permissions of Authorize application roles: each names an application resource
/// permission, added to the role by its id.
pub static APPLICATION_ROLE_PERMISSION: PingKind = needs(
    AUTHORIZE,
    row(
        KindSpec {
            restore: RestoreSupport::CreateOnly,
            depends_on: &["ping.application_resource_permission"],
            reference_fields: &[
                reference("/id", "ping.application_resource_permission"),
                reference("/resource/id", "ping.application_resource"),
            ],
            ..child(
                "ping.application_role_permission",
                "Authorize application role permissions",
                Authorization,
                "ping.application_role",
                &["/key"],
            )
        },
        hal("applicationRoles/{0}/permissions", "permissions", EA).shape(role_permission),
        Write::Membership,
    ),
);

/// PingOne Authorize API servers.
pub static API_SERVER: PingKind = needs(
    AUTHORIZE,
    row(
        named("ping.api_server", "Authorize API servers", Authorization),
        hal("apiServers", "apiServers", EA),
        Write::PostPut,
    ),
);

butterfly_core::kind_table!(PingKind:
    ENVIRONMENT,
    POPULATION,
    USER,
    GROUP,
    GROUP_MEMBERSHIP,
    GROUP_NESTING,
    USER_ROLE_ASSIGNMENT,
    SCHEMA,
    SCHEMA_ATTRIBUTE,
    APPLICATION,
    APPLICATION_SIGN_ON_POLICY_ASSIGNMENT,
    APPLICATION_ROLE_ASSIGNMENT,
    APPLICATION_ATTRIBUTE,
    APPLICATION_GRANT,
    RESOURCE,
    RESOURCE_SCOPE,
    RESOURCE_ATTRIBUTE,
    SIGN_ON_POLICY,
    SIGN_ON_POLICY_ACTION,
    PASSWORD_POLICY,
    IDENTITY_PROVIDER,
    IDENTITY_PROVIDER_ATTRIBUTE,
    BRANDING_SETTINGS,
    THEME,
    NOTIFICATION_POLICY,
    NOTIFICATION_TEMPLATE,
    NOTIFICATION_TEMPLATE_CONTENT,
    CUSTOM_DOMAIN,
    EMAIL_DOMAIN,
    CERTIFICATE,
    KEY,
    GATEWAY,
    AGREEMENT,
    AGREEMENT_LANGUAGE,
    LANGUAGE,
    MFA_DEVICE_POLICY,
    FIDO2_POLICY,
    MFA_SETTINGS,
    RISK_POLICY_SET,
    RISK_PREDICTOR,
    APPLICATION_RESOURCE,
    APPLICATION_RESOURCE_PERMISSION,
    APPLICATION_ROLE,
    APPLICATION_ROLE_PERMISSION,
    API_SERVER,
);
