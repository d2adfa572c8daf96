//! The Okta kinds table: one row per kind.
//!
//! Each [`OktaKind`] row holds the core descriptor ([`KindSpec`]: natural key, dependencies,
//! secret, volatile and reference fields, restore support) and the Okta specifics: list path,
//! bucket, page size, required scope, how ids are read, and how a restore writes it.
//! Sub-resources (group members, policy rules…) have a parent kind; their ids are
//! `{parent id}/{own id}` so a path can always be rebuilt from an id.

use butterfly_core::kind::{
    Category, HasKindSpec, KindRef, KindSpec, ReferenceField, RestoreSupport, SecretField,
};
use butterfly_core::{Error, Resource, Result};
use serde_json::Value;

/// How a kind is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// A JSON array, following `Link` pages; `limit` is sent when set.
    List {
        /// Page size to ask for (the documented maximum).
        limit: Option<u32>,
    },
    /// An object wrapping the array in a member (`{"roles": [...]}`).
    Wrapped {
        /// The member.
        member: &'static str,
    },
    /// One object.
    Singleton,
}

/// How a restore writes a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST {path}` creates; `PUT {path}/{id}` updates.
    PostPut,
    /// `POST {path}` creates; `POST {path}/{id}` updates (Okta's partial update).
    PostPost,
    /// `PUT {path}/{member}` creates the membership (the member id comes from `userId`/`id`).
    PutMember,
    /// `POST {path}` with the member id in the body (app user assignments).
    PostMember,
    /// `PUT {path}` replaces the singleton.
    PutSingleton,
    /// Cannot be written.
    None,
}

/// One row of the table.
#[derive(Debug)]
pub struct OktaKind {
    /// The core descriptor.
    pub spec: KindSpec,
    /// List path; `{0}`, `{1}` are the parts of the parent id.
    pub path: &'static str,
    /// How it is listed.
    pub listing: Listing,
    /// Rate-limit bucket.
    pub bucket: &'static str,
    /// The scope needed to read it.
    pub scope: &'static str,
    /// Member holding the id (`id`, `client_id`, `name`, or a pointer like `/primary/name`).
    pub id_field: &'static str,
    /// Query parameter values to list one by one (policy types); empty: one listing.
    pub per_value: (&'static str, &'static [&'static str]),
    /// Whether `lifecycle/activate|deactivate` carries the status on restore.
    pub lifecycle: bool,
    /// How a restore writes it.
    pub write: Write,
    /// Reduce each item to these members (memberships keep only the member id).
    pub keep_only: &'static [&'static str],
}

impl HasKindSpec for OktaKind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }
}

const VOLATILE: &[&str] = &["/_links", "/_embedded", "/created", "/lastUpdated"];
const READ_ONLY: RestoreSupport = RestoreSupport::None {
    reason: "read-only in the Management API",
};

const fn row(
    spec: KindSpec,
    path: &'static str,
    bucket: &'static str,
    scope: &'static str,
) -> OktaKind {
    OktaKind {
        spec,
        path,
        listing: Listing::List { limit: None },
        bucket,
        scope,
        id_field: "id",
        per_value: ("", &[]),
        lifecycle: false,
        write: Write::None,
        keep_only: &[],
    }
}

const fn spec(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        volatile_fields: VOLATILE,
        restore: READ_ONLY,
        ..KindSpec::new(id, name, category)
    }
}

const fn named(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        natural_key: &["/name"],
        ..spec(id, name, category)
    }
}

use Category::*;

const HOOK_SECRETS: &[SecretField] = &[
    SecretField {
        pointer: "/channel/config/authScheme/value",
        secret: "hook authorization header value",
    },
    SecretField {
        pointer: "/channel/config/headers/*/value",
        secret: "hook custom header value",
    },
];

const PEOPLE_REFS: &[ReferenceField] = &[
    ReferenceField {
        pointer: "/conditions/people/groups/include/*",
        kind: "okta.group",
    },
    ReferenceField {
        pointer: "/conditions/people/groups/exclude/*",
        kind: "okta.group",
    },
    ReferenceField {
        pointer: "/conditions/people/users/include/*",
        kind: "okta.user",
    },
    ReferenceField {
        pointer: "/conditions/people/users/exclude/*",
        kind: "okta.user",
    },
    ReferenceField {
        pointer: "/conditions/network/include/*",
        kind: "okta.network_zone",
    },
    ReferenceField {
        pointer: "/conditions/network/exclude/*",
        kind: "okta.network_zone",
    },
    ReferenceField {
        pointer: "/actions/appSignOn/verificationMethod/chains/*/authenticationMethods/*/id",
        kind: "okta.authenticator",
    },
];

/// Users, including DEPROVISIONED ones (listed separately: the plain listing omits them).
pub static USER: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    lifecycle: false,
    write: Write::PostPost,
    ..row(
        KindSpec {
            natural_key: &["/profile/login"],
            volatile_fields: &[
                "/_links",
                "/_embedded",
                "/created",
                "/lastUpdated",
                "/lastLogin",
                "/statusChanged",
                "/passwordChanged",
                "/activated",
                "/transitioningToStatus",
            ],
            restore: RestoreSupport::CreateAndUpdate,
            restore_note: Some(
                "users are created STAGED, without password or MFA factors: activate them and let them enrol again",
            ),
            ..KindSpec::new("okta.user", "Users", Directory)
        },
        "api/v1/users",
        "users",
        "okta.users.read",
    )
};

/// Groups.
pub static GROUP: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(10000) },
    write: Write::PostPut,
    ..row(
        KindSpec {
            natural_key: &["/profile/name"],
            volatile_fields: &[
                "/_links",
                "/_embedded",
                "/created",
                "/lastUpdated",
                "/lastMembershipUpdated",
            ],
            restore: RestoreSupport::CreateAndUpdate,
            ..KindSpec::new("okta.group", "Groups", Directory)
        },
        "api/v1/groups",
        "groups",
        "okta.groups.read",
    )
};

/// Group rules.
pub static GROUP_RULE: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            depends_on: &["okta.group"],
            reference_fields: &[
                ReferenceField {
                    pointer: "/actions/assignUserToGroups/groupIds/*",
                    kind: "okta.group",
                },
                ReferenceField {
                    pointer: "/conditions/people/groups/exclude/*",
                    kind: "okta.group",
                },
                ReferenceField {
                    pointer: "/conditions/people/users/exclude/*",
                    kind: "okta.user",
                },
            ],
            restore: RestoreSupport::CreateAndUpdate,
            restore_note: Some(
                "group rules are re-created and activated; Okta re-evaluates their memberships; a rule whose groups change, or that Okta marked INVALID, is replaced by a new rule (new id) and the old one deleted, leaving its users in their groups",
            ),
            ..named("okta.group_rule", "Group rules", Directory)
        },
        "api/v1/groups/rules",
        "groups",
        "okta.groups.read",
    )
};

/// Group memberships (the Everyone group's are implied and not fetched).
pub static GROUP_MEMBER: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(1000) },
    write: Write::PutMember,
    keep_only: &["id"],
    ..row(
        KindSpec {
            parent: Some("okta.group"),
            depends_on: &["okta.user"],
            reference_fields: &[ReferenceField {
                pointer: "/id",
                kind: "okta.user",
            }],
            volatile_fields: &[],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new("okta.group_member", "Group memberships", Directory)
        },
        "api/v1/groups/{0}/users",
        "groups",
        "okta.groups.read",
    )
};

/// User types.
pub static USER_TYPE: OktaKind = OktaKind {
    write: Write::PostPost,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..named("okta.user_type", "User types", Directory)
        },
        "api/v1/meta/types/user",
        "default",
        "okta.userTypes.read",
    )
};
/// The default user schema.
pub static USER_SCHEMA: OktaKind = OktaKind {
    listing: Listing::Singleton,
    write: Write::PutSingleton,
    ..row(
        KindSpec {
            restore: RestoreSupport::UpdateOnly,
            ..spec("okta.user_schema", "User schema", Directory)
        },
        "api/v1/meta/schemas/user/default",
        "default",
        "okta.schemas.read",
    )
};
/// The default group schema.
pub static GROUP_SCHEMA: OktaKind = OktaKind {
    listing: Listing::Singleton,
    write: Write::PutSingleton,
    ..row(
        KindSpec {
            restore: RestoreSupport::UpdateOnly,
            ..spec("okta.group_schema", "Group schema", Directory)
        },
        "api/v1/meta/schemas/group/default",
        "default",
        "okta.schemas.read",
    )
};
/// Profile mappings.
pub static PROFILE_MAPPING: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    ..row(
        KindSpec {
            natural_key: &["/source/id", "/target/id"],
            ..spec("okta.profile_mapping", "Profile mappings", Directory)
        },
        "api/v1/mappings",
        "default",
        "okta.profileMappings.read",
    )
};
/// Linked object definitions.
pub static LINKED_OBJECT: OktaKind = OktaKind {
    id_field: "/primary/name",
    ..row(
        KindSpec {
            natural_key: &["/primary/name"],
            ..spec("okta.linked_object", "Linked objects", Directory)
        },
        "api/v1/meta/schemas/user/linkedObjects",
        "default",
        "okta.linkedObjects.read",
    )
};
/// UI schemas.
pub static UI_SCHEMA: OktaKind = row(
    named("okta.ui_schema", "UI schemas", Directory),
    "api/v1/meta/uischemas",
    "default",
    "okta.uischemas.read",
);

/// Applications.
pub static APP: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            natural_key: &["/name", "/label"],
            secret_fields: &[
                SecretField {
                    pointer: "/credentials/oauthClient/client_secret",
                    secret: "OAuth client secret",
                },
                SecretField {
                    pointer: "/credentials/signing/privateKey",
                    secret: "SAML signing private key",
                },
                SecretField {
                    pointer: "/credentials/password/value",
                    secret: "shared app password",
                },
            ],
            restore: RestoreSupport::CreateAndUpdate,
            restore_note: Some(
                "re-created apps get new client ids, client secrets and signing keys: update the service providers",
            ),
            ..spec("okta.app", "Applications", Application)
        },
        "api/v1/apps",
        "apps",
        "okta.apps.read",
    )
};

/// App user assignments.
pub static APP_USER: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(500) },
    write: Write::PostMember,
    ..row(
        KindSpec {
            parent: Some("okta.app"),
            depends_on: &["okta.user"],
            reference_fields: &[ReferenceField {
                pointer: "/id",
                kind: "okta.user",
            }],
            volatile_fields: &[
                "/_links",
                "/_embedded",
                "/created",
                "/lastUpdated",
                "/statusChanged",
                "/lastSync",
                "/passwordChanged",
                "/syncState",
            ],
            secret_fields: &[SecretField {
                pointer: "/credentials/password/value",
                secret: "app user password",
            }],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new("okta.app_user", "App user assignments", Application)
        },
        "api/v1/apps/{0}/users",
        "apps",
        "okta.apps.read",
    )
};

/// App group assignments.
pub static APP_GROUP: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    write: Write::PutMember,
    ..row(
        KindSpec {
            parent: Some("okta.app"),
            depends_on: &["okta.group"],
            reference_fields: &[ReferenceField {
                pointer: "/id",
                kind: "okta.group",
            }],
            restore: RestoreSupport::CreateOnly,
            ..spec("okta.app_group", "App group assignments", Application)
        },
        "api/v1/apps/{0}/groups",
        "apps",
        "okta.apps.read",
    )
};

/// OAuth clients (dynamic client registration).
pub static OAUTH_CLIENT: OktaKind = OktaKind {
    id_field: "client_id",
    ..row(
        KindSpec {
            natural_key: &["/client_name"],
            secret_fields: &[SecretField {
                pointer: "/client_secret",
                secret: "OAuth client secret",
            }],
            ..spec("okta.oauth_client", "OAuth clients", Application)
        },
        "oauth2/v1/clients",
        "default",
        "okta.clients.read",
    )
};
/// App features (provisioning settings).
pub static APP_FEATURE: OktaKind = OktaKind {
    id_field: "name",
    ..row(
        KindSpec {
            parent: Some("okta.app"),
            natural_key: &["/name"],
            ..spec("okta.app_feature", "App features", Application)
        },
        "api/v1/apps/{0}/features",
        "apps",
        "okta.apps.read",
    )
};
/// App user schemas.
pub static APP_SCHEMA: OktaKind = OktaKind {
    listing: Listing::Singleton,
    ..row(
        KindSpec {
            parent: Some("okta.app"),
            ..spec("okta.app_schema", "App schemas", Application)
        },
        "api/v1/meta/schemas/apps/{0}/default",
        "default",
        "okta.schemas.read",
    )
};

/// Policies of every type: sign-on, password, MFA enrollment, access, IdP discovery,
/// profile enrollment.
pub static POLICY: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    per_value: (
        "type",
        &[
            "OKTA_SIGN_ON",
            "PASSWORD",
            "MFA_ENROLL",
            "ACCESS_POLICY",
            "IDP_DISCOVERY",
            "PROFILE_ENROLLMENT",
        ],
    ),
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            natural_key: &["/type", "/name"],
            depends_on: &["okta.group", "okta.user"],
            reference_fields: PEOPLE_REFS,
            restore: RestoreSupport::CreateAndUpdate,
            ..spec("okta.policy", "Policies", Policy)
        },
        "api/v1/policies",
        "policies",
        "okta.policies.read",
    )
};

/// Policy rules (every policy type).
pub static POLICY_RULE: OktaKind = OktaKind {
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            parent: Some("okta.policy"),
            natural_key: &["/name"],
            depends_on: &[
                "okta.group",
                "okta.user",
                "okta.network_zone",
                "okta.authenticator",
            ],
            reference_fields: PEOPLE_REFS,
            restore: RestoreSupport::CreateAndUpdate,
            ..spec("okta.policy_rule", "Policy rules", Policy)
        },
        "api/v1/policies/{0}/rules",
        "policies",
        "okta.policies.read",
    )
};

/// Network zones.
pub static NETWORK_ZONE: OktaKind = OktaKind {
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..named("okta.network_zone", "Network zones", Security)
        },
        "api/v1/zones",
        "default",
        "okta.networkZones.read",
    )
};
/// Trusted origins.
pub static TRUSTED_ORIGIN: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..named("okta.trusted_origin", "Trusted origins", Security)
        },
        "api/v1/trustedOrigins",
        "default",
        "okta.trustedOrigins.read",
    )
};
/// Authenticators.
pub static AUTHENTICATOR: OktaKind = OktaKind {
    write: Write::PostPut,
    ..row(
        KindSpec {
            natural_key: &["/key"],
            restore: RestoreSupport::UpdateOnly,
            ..spec("okta.authenticator", "Authenticators", Security)
        },
        "api/v1/authenticators",
        "default",
        "okta.authenticators.read",
    )
};
/// Behavior detection rules.
pub static BEHAVIOR: OktaKind = row(
    named("okta.behavior", "Behaviors", Security),
    "api/v1/behaviors",
    "default",
    "okta.behaviors.read",
);
/// Device assurance policies.
pub static DEVICE_ASSURANCE: OktaKind = row(
    named("okta.device_assurance", "Device assurance", Security),
    "api/v1/device-assurances",
    "default",
    "okta.deviceAssurance.read",
);
/// Risk providers.
pub static RISK_PROVIDER: OktaKind = row(
    named("okta.risk_provider", "Risk providers", Security),
    "api/v1/risk/providers",
    "default",
    "okta.riskProviders.read",
);
/// CAPTCHA instances.
pub static CAPTCHA: OktaKind = row(
    KindSpec {
        secret_fields: &[SecretField {
            pointer: "/secretKey",
            secret: "CAPTCHA secret key",
        }],
        ..named("okta.captcha", "CAPTCHAs", Security)
    },
    "api/v1/captchas",
    "default",
    "okta.captchas.read",
);
/// Push providers.
pub static PUSH_PROVIDER: OktaKind = row(
    KindSpec {
        secret_fields: &[
            SecretField {
                pointer: "/configuration/tokenSigningKey",
                secret: "APNs token signing key",
            },
            SecretField {
                pointer: "/configuration/serviceAccountJson",
                secret: "FCM service account",
            },
        ],
        ..named("okta.push_provider", "Push providers", Security)
    },
    "api/v1/push-providers",
    "default",
    "okta.pushProviders.read",
);

/// Authorization servers.
pub static AUTH_SERVER: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            volatile_fields: &[
                "/_links",
                "/created",
                "/lastUpdated",
                "/credentials/signing/kid",
                "/credentials/signing/lastRotated",
                "/credentials/signing/nextRotation",
            ],
            ..named("okta.auth_server", "Authorization servers", Authorization)
        },
        "api/v1/authorizationServers",
        "authorizationServers",
        "okta.authorizationServers.read",
    )
};
/// Authorization server claims.
pub static AUTH_SERVER_CLAIM: OktaKind = OktaKind {
    write: Write::PostPut,
    ..row(
        KindSpec {
            parent: Some("okta.auth_server"),
            restore: RestoreSupport::CreateAndUpdate,
            ..named(
                "okta.auth_server_claim",
                "Authorization server claims",
                Authorization,
            )
        },
        "api/v1/authorizationServers/{0}/claims",
        "authorizationServers",
        "okta.authorizationServers.read",
    )
};
/// Authorization server scopes.
pub static AUTH_SERVER_SCOPE: OktaKind = OktaKind {
    write: Write::PostPut,
    ..row(
        KindSpec {
            parent: Some("okta.auth_server"),
            restore: RestoreSupport::CreateAndUpdate,
            ..named(
                "okta.auth_server_scope",
                "Authorization server scopes",
                Authorization,
            )
        },
        "api/v1/authorizationServers/{0}/scopes",
        "authorizationServers",
        "okta.authorizationServers.read",
    )
};
/// Authorization server access policies.
pub static AUTH_SERVER_POLICY: OktaKind = OktaKind {
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            parent: Some("okta.auth_server"),
            depends_on: &["okta.app"],
            reference_fields: &[ReferenceField {
                pointer: "/conditions/clients/include/*",
                kind: "okta.app",
            }],
            restore: RestoreSupport::CreateAndUpdate,
            ..named(
                "okta.auth_server_policy",
                "Authorization server policies",
                Authorization,
            )
        },
        "api/v1/authorizationServers/{0}/policies",
        "authorizationServers",
        "okta.authorizationServers.read",
    )
};
/// Authorization server policy rules.
pub static AUTH_SERVER_POLICY_RULE: OktaKind = OktaKind {
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            parent: Some("okta.auth_server_policy"),
            depends_on: &["okta.group", "okta.user"],
            reference_fields: PEOPLE_REFS,
            restore: RestoreSupport::CreateAndUpdate,
            ..named(
                "okta.auth_server_policy_rule",
                "Authorization server policy rules",
                Authorization,
            )
        },
        "api/v1/authorizationServers/{0}/policies/{1}/rules",
        "authorizationServers",
        "okta.authorizationServers.read",
    )
};

/// Identity providers.
pub static IDP: OktaKind = OktaKind {
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            secret_fields: &[SecretField {
                pointer: "/protocol/credentials/client/client_secret",
                secret: "IdP client secret",
            }],
            ..named("okta.idp", "Identity providers", Integration)
        },
        "api/v1/idps",
        "default",
        "okta.idps.read",
    )
};
/// Custom admin roles.
pub static CUSTOM_ROLE: OktaKind = OktaKind {
    listing: Listing::Wrapped { member: "roles" },
    ..row(
        KindSpec {
            natural_key: &["/label"],
            ..spec("okta.custom_role", "Custom admin roles", Authorization)
        },
        "api/v1/iam/roles",
        "default",
        "okta.roles.read",
    )
};
/// Resource sets.
pub static RESOURCE_SET: OktaKind = OktaKind {
    listing: Listing::Wrapped {
        member: "resource-sets",
    },
    ..row(
        KindSpec {
            natural_key: &["/label"],
            ..spec("okta.resource_set", "Resource sets", Authorization)
        },
        "api/v1/iam/resource-sets",
        "default",
        "okta.roles.read",
    )
};
/// Users holding admin roles.
pub static ADMIN_USER: OktaKind = OktaKind {
    listing: Listing::Wrapped { member: "value" },
    ..row(
        KindSpec {
            reference_fields: &[ReferenceField {
                pointer: "/id",
                kind: "okta.user",
            }],
            depends_on: &["okta.user"],
            ..spec("okta.admin_user", "Admin role assignees", Authorization)
        },
        "api/v1/iam/assignees/users",
        "default",
        "okta.roles.read",
    )
};
/// Admin role assignments of users.
pub static ROLE_ASSIGNMENT: OktaKind = row(
    KindSpec {
        parent: Some("okta.admin_user"),
        natural_key: &["/type", "/label"],
        ..spec(
            "okta.role_assignment",
            "Admin role assignments",
            Authorization,
        )
    },
    "api/v1/users/{0}/roles",
    "default",
    "okta.roles.read",
);

/// Event hooks.
pub static EVENT_HOOK: OktaKind = OktaKind {
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            secret_fields: HOOK_SECRETS,
            restore: RestoreSupport::CreateAndUpdate,
            ..named("okta.event_hook", "Event hooks", Integration)
        },
        "api/v1/eventHooks",
        "default",
        "okta.eventHooks.read",
    )
};
/// Inline hooks.
pub static INLINE_HOOK: OktaKind = OktaKind {
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            secret_fields: HOOK_SECRETS,
            restore: RestoreSupport::CreateAndUpdate,
            ..named("okta.inline_hook", "Inline hooks", Integration)
        },
        "api/v1/inlineHooks",
        "default",
        "okta.inlineHooks.read",
    )
};
/// Hook signing keys (metadata only).
pub static HOOK_KEY: OktaKind = row(
    named("okta.hook_key", "Hook keys", Integration),
    "api/v1/hook-keys",
    "default",
    "okta.inlineHooks.read",
);
/// Log streams.
pub static LOG_STREAM: OktaKind = row(
    KindSpec {
        secret_fields: &[SecretField {
            pointer: "/settings/token",
            secret: "log stream token",
        }],
        ..named("okta.log_stream", "Log streams", Integration)
    },
    "api/v1/logStreams",
    "default",
    "okta.logStreams.read",
);
/// Shared Signals receivers (security events providers).
pub static SSF_RECEIVER: OktaKind = row(
    named("okta.ssf_receiver", "SSF receivers", Integration),
    "api/v1/security-events-providers",
    "default",
    "okta.securityEventsProviders.read",
);
/// Shared Signals transmitter streams.
pub static SSF_TRANSMITTER: OktaKind = OktaKind {
    id_field: "stream_id",
    ..row(
        KindSpec {
            natural_key: &["/aud"],
            ..spec(
                "okta.ssf_transmitter",
                "SSF transmitter streams",
                Integration,
            )
        },
        "api/v1/ssf/stream",
        "default",
        "ssf.read",
    )
};

/// Brands.
pub static BRAND: OktaKind = row(
    named("okta.brand", "Brands", Branding),
    "api/v1/brands",
    "default",
    "okta.brands.read",
);
/// Brand themes.
pub static THEME: OktaKind = row(
    KindSpec {
        parent: Some("okta.brand"),
        ..spec("okta.theme", "Themes", Branding)
    },
    "api/v1/brands/{0}/themes",
    "default",
    "okta.brands.read",
);
/// Email templates of a brand (names; the content lives in customizations).
pub static EMAIL_TEMPLATE: OktaKind = OktaKind {
    id_field: "name",
    listing: Listing::List { limit: Some(200) },
    ..row(
        KindSpec {
            parent: Some("okta.brand"),
            ..named("okta.email_template", "Email templates", Branding)
        },
        "api/v1/brands/{0}/templates/email",
        "default",
        "okta.templates.read",
    )
};
/// Email template customizations.
pub static EMAIL_CUSTOMIZATION: OktaKind = row(
    KindSpec {
        parent: Some("okta.email_template"),
        natural_key: &["/language"],
        ..spec("okta.email_customization", "Email customizations", Branding)
    },
    "api/v1/brands/{0}/templates/email/{1}/customizations",
    "default",
    "okta.templates.read",
);
/// Custom domains.
pub static CUSTOM_DOMAIN: OktaKind = OktaKind {
    listing: Listing::Wrapped { member: "domains" },
    ..row(
        KindSpec {
            natural_key: &["/domain"],
            volatile_fields: &["/_links", "/dnsRecords", "/certificateSourceType"],
            ..spec("okta.custom_domain", "Custom domains", Branding)
        },
        "api/v1/domains",
        "default",
        "okta.domains.read",
    )
};
/// Email domains.
pub static EMAIL_DOMAIN: OktaKind = row(
    KindSpec {
        natural_key: &["/domain"],
        ..spec("okta.email_domain", "Email domains", Branding)
    },
    "api/v1/email-domains",
    "default",
    "okta.emailDomains.read",
);
/// SMS templates.
pub static SMS_TEMPLATE: OktaKind = row(
    named("okta.sms_template", "SMS templates", Branding),
    "api/v1/templates/sms",
    "default",
    "okta.templates.read",
);
/// Custom email (SMTP) servers.
pub static EMAIL_SERVER: OktaKind = OktaKind {
    listing: Listing::Wrapped {
        member: "email-servers",
    },
    ..row(
        KindSpec {
            natural_key: &["/alias"],
            secret_fields: &[SecretField {
                pointer: "/password",
                secret: "SMTP password",
            }],
            ..spec("okta.email_server", "Email servers", Branding)
        },
        "api/v1/email-servers",
        "default",
        "okta.emailServers.read",
    )
};
/// Custom telephony providers.
pub static TELEPHONY_PROVIDER: OktaKind = row(
    KindSpec {
        secret_fields: &[SecretField {
            pointer: "/settings/authToken",
            secret: "telephony provider auth token",
        }],
        ..named("okta.telephony_provider", "Telephony providers", Branding)
    },
    "api/v1/telephony-providers",
    "default",
    "okta.customTelephonyProvider.read",
);

/// ThreatInsight: how Okta answers sign-ins from suspicious IP addresses (none, audit,
/// block), and the network zones it leaves alone.
pub static THREAT_INSIGHT: OktaKind = OktaKind {
    listing: Listing::Singleton,
    write: Write::PostPost,
    ..row(
        KindSpec {
            depends_on: &["okta.network_zone"],
            reference_fields: &[ReferenceField {
                pointer: "/excludeZones/*",
                kind: "okta.network_zone",
            }],
            restore: RestoreSupport::UpdateOnly,
            ..spec("okta.threat_insight", "ThreatInsight settings", Security)
        },
        "api/v1/threats/configuration",
        "default",
        "okta.threatInsights.read",
    )
};

/// API token metadata: who holds a token, from which network, until when. The token values
/// are never listed; a deleted token cannot come back (a new one must be issued).
pub static API_TOKEN: OktaKind = row(
    KindSpec {
        reference_fields: &[ReferenceField {
            pointer: "/userId",
            kind: "okta.user",
        }],
        // The expiry moves with every use of the token (its `tokenWindow`).
        volatile_fields: &[
            "/_links",
            "/_link",
            "/created",
            "/lastUpdated",
            "/expiresAt",
        ],
        restore: RestoreSupport::None {
            reason: "an API token cannot be re-created: issue a new one and update what used it",
        },
        ..spec("okta.api_token", "API tokens", Security)
    },
    "api/v1/api-tokens",
    "default",
    "okta.apiTokens.read",
);

/// Org settings.
pub static ORG_SETTINGS: OktaKind = OktaKind {
    listing: Listing::Singleton,
    write: Write::PostPost,
    ..row(
        KindSpec {
            restore: RestoreSupport::UpdateOnly,
            volatile_fields: &["/_links", "/created", "/lastUpdated", "/expiresAt"],
            ..spec("okta.org_settings", "Org settings", Settings)
        },
        "api/v1/org",
        "default",
        "okta.orgs.read",
    )
};
/// Features.
pub static FEATURE: OktaKind = row(
    named("okta.feature", "Features", Settings),
    "api/v1/features",
    "default",
    "okta.features.read",
);
/// Agent pools.
pub static AGENT_POOL: OktaKind = row(
    KindSpec {
        volatile_fields: &[
            "/operationalStatus",
            "/disruptedAgents",
            "/inactiveAgents",
            "/agents",
        ],
        ..named("okta.agent_pool", "Agent pools", Settings)
    },
    "api/v1/agentPools",
    "default",
    "okta.agentPools.read",
);
/// Realms.
pub static REALM: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    ..row(
        KindSpec {
            natural_key: &["/profile/name"],
            ..spec("okta.realm", "Realms", Directory)
        },
        "api/v1/realms",
        "default",
        "okta.realms.read",
    )
};
/// Realm assignments.
pub static REALM_ASSIGNMENT: OktaKind = OktaKind {
    listing: Listing::List { limit: Some(200) },
    ..row(
        KindSpec {
            depends_on: &["okta.realm"],
            reference_fields: &[ReferenceField {
                pointer: "/actions/assignUserToRealm/realmId",
                kind: "okta.realm",
            }],
            ..named("okta.realm_assignment", "Realm assignments", Directory)
        },
        "api/v1/realm-assignments",
        "default",
        "okta.realmAssignments.read",
    )
};

/// Access certification campaigns (Okta Identity Governance).
pub static ACCESS_CERTIFICATION: OktaKind = row(
    named(
        "okta.access_certification",
        "Access certifications",
        Governance,
    ),
    "governance/api/v1/campaigns",
    "default",
    "okta.governance.accessCertifications.read",
);
/// Access requests (Okta Identity Governance).
pub static ACCESS_REQUEST: OktaKind = row(
    named("okta.access_request", "Access requests", Governance),
    "governance/api/v1/requests",
    "default",
    "okta.governance.accessRequests.read",
);
/// Entitlement bundles (Okta Identity Governance).
pub static ENTITLEMENT_BUNDLE: OktaKind = OktaKind {
    listing: Listing::Wrapped { member: "bundles" },
    ..row(
        named("okta.entitlement_bundle", "Entitlement bundles", Governance),
        "api/v1/iam/governance/bundles",
        "default",
        "okta.roles.read",
    )
};

macro_rules! table {
    ($($row:ident),* $(,)?) => {
        /// Every Okta row, in table order.
        pub static ROWS: &[&OktaKind] = &[$(&$row),*];
        static KINDS: &[KindRef] = &[$(&$row),*];
    };
}

table![
    USER,
    GROUP,
    GROUP_RULE,
    GROUP_MEMBER,
    USER_TYPE,
    USER_SCHEMA,
    GROUP_SCHEMA,
    PROFILE_MAPPING,
    LINKED_OBJECT,
    UI_SCHEMA,
    APP,
    APP_USER,
    APP_GROUP,
    OAUTH_CLIENT,
    APP_FEATURE,
    APP_SCHEMA,
    POLICY,
    POLICY_RULE,
    NETWORK_ZONE,
    THREAT_INSIGHT,
    API_TOKEN,
    TRUSTED_ORIGIN,
    AUTHENTICATOR,
    BEHAVIOR,
    DEVICE_ASSURANCE,
    RISK_PROVIDER,
    CAPTCHA,
    PUSH_PROVIDER,
    AUTH_SERVER,
    AUTH_SERVER_CLAIM,
    AUTH_SERVER_SCOPE,
    AUTH_SERVER_POLICY,
    AUTH_SERVER_POLICY_RULE,
    IDP,
    CUSTOM_ROLE,
    RESOURCE_SET,
    ADMIN_USER,
    ROLE_ASSIGNMENT,
    EVENT_HOOK,
    INLINE_HOOK,
    HOOK_KEY,
    LOG_STREAM,
    SSF_RECEIVER,
    SSF_TRANSMITTER,
    BRAND,
    THEME,
    EMAIL_TEMPLATE,
    EMAIL_CUSTOMIZATION,
    CUSTOM_DOMAIN,
    EMAIL_DOMAIN,
    SMS_TEMPLATE,
    EMAIL_SERVER,
    TELEPHONY_PROVIDER,
    ORG_SETTINGS,
    FEATURE,
    AGENT_POOL,
    REALM,
    REALM_ASSIGNMENT,
    ACCESS_CERTIFICATION,
    ACCESS_REQUEST,
    ENTITLEMENT_BUNDLE,
];

/// Every Okta kind, as core descriptors.
pub fn all() -> &'static [KindRef] {
    KINDS
}

/// The row of a kind id.
pub fn row_of(id: &str) -> Option<&'static OktaKind> {
    ROWS.iter().copied().find(|r| r.spec.id == id)
}

/// The id of an item by the row's id field.
pub fn item_id(row: &OktaKind, item: &Value) -> Option<String> {
    let v = if row.id_field.starts_with('/') {
        item.pointer(row.id_field)
    } else {
        item.get(row.id_field)
    };
    v.and_then(Value::as_str).map(str::to_string)
}

/// Parses one page body of a kind into resources. This is the one parsing path of the client,
/// used by backups and by the fidelity test over the recorded cassettes.
pub fn parse_page(row: &OktaKind, parent_id: Option<&str>, body: &Value) -> Result<Vec<Resource>> {
    let items: Vec<&Value> = match row.listing {
        Listing::Singleton => vec![body],
        Listing::List { .. } => body
            .as_array()
            .ok_or_else(|| Error::invalid_data(format!("{}: expected a JSON array", row.spec.id)))?
            .iter()
            .collect(),
        Listing::Wrapped { member } => body
            .get(member)
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::invalid_data(format!(
                    "{}: expected an object with a {member:?} array",
                    row.spec.id
                ))
            })?
            .iter()
            .collect(),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if !item.is_object() {
            return Err(Error::invalid_data(format!(
                "{}: an item is not a JSON object",
                row.spec.id
            )));
        }
        let own = match row.listing {
            Listing::Singleton => Some(
                row.spec
                    .id
                    .rsplit('.')
                    .next()
                    .unwrap_or("singleton")
                    .to_string(),
            ),
            _ => item_id(row, item),
        }
        .ok_or_else(|| {
            Error::invalid_data(format!(
                "{}: an item has no {:?}",
                row.spec.id, row.id_field
            ))
        })?;
        let mut body = item.clone();
        if !row.keep_only.is_empty()
            && let Some(map) = body.as_object_mut()
        {
            map.retain(|k, _| row.keep_only.contains(&k.as_str()));
        }
        let id = match parent_id {
            Some(p) => format!("{p}/{own}"),
            None => own,
        };
        out.push(Resource::new(row, id, parent_id.map(str::to_string), body));
    }
    Ok(out)
}

/// The list path of a row under a parent id (`{0}`, `{1}` are the parts of the parent id).
pub fn list_path(row: &OktaKind, parent_id: Option<&str>) -> String {
    let mut path = row.path.to_string();
    if let Some(parent) = parent_id {
        for (i, part) in parent.split('/').enumerate() {
            path = path.replace(&format!("{{{i}}}"), part);
        }
    }
    path
}
