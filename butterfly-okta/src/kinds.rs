//! The Okta kinds table: one row per kind.
//!
//! Each [`OktaKind`] row holds the core descriptor ([`KindSpec`]: natural key, dependencies,
//! secret, volatile and reference fields, restore support), how it is listed as a core
//! [`ListSpec`] (path, items, `limit`, scope, id field, per-type listings, which parents have
//! it) that the core table engine ([`butterfly_core::table`]) reads, and the Okta columns:
//! rate-limit bucket, lifecycle calls and how a restore writes it. Adding a read-only kind is
//! one row here plus the fake tenant's route.
//! Sub-resources (group members, policy rules…) have a parent kind; their ids are
//! `{parent id}/{own id}` so a path can always be rebuilt from an id.

use butterfly_core::ErrorKind;
use butterfly_core::kind::{
    Category, HasKindSpec, KindSpec, ReferenceField, RestoreSupport, SecretField, restorability,
};
use butterfly_core::table::{Items, ListSpec, Paging, TableKind};

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
    /// How it is listed (path, items, page size, id field, scope…), read by the core table
    /// engine.
    pub list: ListSpec,
    /// Rate-limit bucket.
    pub bucket: &'static str,
    /// Whether `lifecycle/activate|deactivate` carries the status on restore.
    pub lifecycle: bool,
    /// How a restore writes it.
    pub write: Write,
}

impl HasKindSpec for OktaKind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }
    /// Restorable exactly when the write column can write it.
    fn restorability(&self) -> RestoreSupport {
        restorability(
            self.write != Write::None,
            self.spec.restore,
            "read-only in the Management API",
        )
    }
}

impl TableKind for OktaKind {
    fn list_spec(&self) -> &ListSpec {
        &self.list
    }
}

const VOLATILE: &[&str] = &["/_links", "/_embedded", "/created", "/lastUpdated"];

const fn row(spec: KindSpec, list: ListSpec, bucket: &'static str) -> OktaKind {
    OktaKind {
        spec,
        list,
        bucket,
        lifecycle: false,
        write: Write::None,
    }
}

/// A listing of `path` read with `scope`: JSON arrays following `Link` pages.
const fn list(path: &'static str, scope: &'static str) -> ListSpec {
    ListSpec::new(path, scope).paging(Paging::LinkHeader)
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
        list("api/v1/users", "okta.users.read")
            .page_size("limit", 200)
            // DEPROVISIONED users are only returned when asked for by status.
            .variants(&[&[("search", "status eq \"DEPROVISIONED\"")]]),
        "users",
    )
};

/// Groups.
pub static GROUP: OktaKind = OktaKind {
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
        list("api/v1/groups", "okta.groups.read").page_size("limit", 10000),
        "groups",
    )
};

/// Group rules.
pub static GROUP_RULE: OktaKind = OktaKind {
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
        list("api/v1/groups/rules", "okta.groups.read").page_size("limit", 200),
        "groups",
    )
};

/// Group memberships (the Everyone group's are implied and not fetched).
pub static GROUP_MEMBER: OktaKind = OktaKind {
    write: Write::PutMember,
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
        list("api/v1/groups/{0}/users", "okta.groups.read")
            .page_size("limit", 1000)
            .keep_only(&["id"])
            // The Everyone group's members are every user: implied, never fetched.
            .lists_parent(|group| group.body["type"] != "BUILT_IN"),
        "groups",
    )
};

/// Group owners (users or groups who may manage a group's membership), read-only.
pub static GROUP_OWNER: OktaKind = row(
    KindSpec {
        parent: Some("okta.group"),
        volatile_fields: &["/lastUpdated", "/displayName", "/resolved"],
        ..spec("okta.group_owner", "Group owners", Directory)
    },
    list("api/v1/groups/{0}/owners", "okta.groups.read")
        .page_size("limit", 200)
        .lists_parent(|group| group.body["type"] != "BUILT_IN"),
    "groups",
);

/// User types.
pub static USER_TYPE: OktaKind = OktaKind {
    write: Write::PostPost,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..named("okta.user_type", "User types", Directory)
        },
        list("api/v1/meta/types/user", "okta.userTypes.read"),
        "default",
    )
};
/// The default user schema.
pub static USER_SCHEMA: OktaKind = OktaKind {
    write: Write::PutSingleton,
    ..row(
        KindSpec {
            restore: RestoreSupport::UpdateOnly,
            ..spec("okta.user_schema", "User schema", Directory)
        },
        list("api/v1/meta/schemas/user/default", "okta.schemas.read").singleton(),
        "default",
    )
};
/// The default group schema.
pub static GROUP_SCHEMA: OktaKind = OktaKind {
    write: Write::PutSingleton,
    ..row(
        KindSpec {
            restore: RestoreSupport::UpdateOnly,
            ..spec("okta.group_schema", "Group schema", Directory)
        },
        list("api/v1/meta/schemas/group/default", "okta.schemas.read").singleton(),
        "default",
    )
};
/// Profile mappings.
pub static PROFILE_MAPPING: OktaKind = row(
    KindSpec {
        natural_key: &["/source/id", "/target/id"],
        ..spec("okta.profile_mapping", "Profile mappings", Directory)
    },
    list("api/v1/mappings", "okta.profileMappings.read").page_size("limit", 200),
    "default",
);
/// Linked object definitions.
pub static LINKED_OBJECT: OktaKind = row(
    KindSpec {
        natural_key: &["/primary/name"],
        ..spec("okta.linked_object", "Linked objects", Directory)
    },
    list(
        "api/v1/meta/schemas/user/linkedObjects",
        "okta.linkedObjects.read",
    )
    .id_field("/primary/name"),
    "default",
);
/// UI schemas.
pub static UI_SCHEMA: OktaKind = row(
    named("okta.ui_schema", "UI schemas", Directory),
    list("api/v1/meta/uischemas", "okta.uischemas.read"),
    "default",
);

/// Applications.
pub static APP: OktaKind = OktaKind {
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
        list("api/v1/apps", "okta.apps.read").page_size("limit", 200),
        "apps",
    )
};

/// App user assignments.
pub static APP_USER: OktaKind = OktaKind {
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
        list("api/v1/apps/{0}/users", "okta.apps.read").page_size("limit", 500),
        "apps",
    )
};

/// App group assignments.
pub static APP_GROUP: OktaKind = OktaKind {
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
        list("api/v1/apps/{0}/groups", "okta.apps.read").page_size("limit", 200),
        "apps",
    )
};

/// OAuth clients (dynamic client registration).
pub static OAUTH_CLIENT: OktaKind = row(
    KindSpec {
        natural_key: &["/client_name"],
        secret_fields: &[SecretField {
            pointer: "/client_secret",
            secret: "OAuth client secret",
        }],
        ..spec("okta.oauth_client", "OAuth clients", Application)
    },
    list("oauth2/v1/clients", "okta.clients.read").id_field("client_id"),
    "default",
);
/// App features (provisioning settings).
pub static APP_FEATURE: OktaKind = row(
    KindSpec {
        parent: Some("okta.app"),
        natural_key: &["/name"],
        ..spec("okta.app_feature", "App features", Application)
    },
    list("api/v1/apps/{0}/features", "okta.apps.read")
        .id_field("name")
        // Only apps with provisioning features have a features endpoint; an app without
        // provisioning may answer something that is not a feature list.
        .lists_parent(|app| {
            app.body["features"]
                .as_array()
                .is_some_and(|f| !f.is_empty())
        })
        .empty_on(&[ErrorKind::InvalidData]),
    "apps",
);
/// App user schemas.
pub static APP_SCHEMA: OktaKind = row(
    KindSpec {
        parent: Some("okta.app"),
        ..spec("okta.app_schema", "App schemas", Application)
    },
    list("api/v1/meta/schemas/apps/{0}/default", "okta.schemas.read").singleton(),
    "default",
);

/// Policies of every type: sign-on, password, MFA enrollment, access, IdP discovery,
/// profile enrollment.
pub static POLICY: OktaKind = OktaKind {
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
        list("api/v1/policies", "okta.policies.read")
            .page_size("limit", 200)
            .per_value_param(
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
        "policies",
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
        list("api/v1/policies/{0}/rules", "okta.policies.read"),
        "policies",
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
        list("api/v1/zones", "okta.networkZones.read"),
        "default",
    )
};
/// Trusted origins.
pub static TRUSTED_ORIGIN: OktaKind = OktaKind {
    lifecycle: true,
    write: Write::PostPut,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..named("okta.trusted_origin", "Trusted origins", Security)
        },
        list("api/v1/trustedOrigins", "okta.trustedOrigins.read").page_size("limit", 200),
        "default",
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
        list("api/v1/authenticators", "okta.authenticators.read"),
        "default",
    )
};
/// Behavior detection rules.
pub static BEHAVIOR: OktaKind = row(
    named("okta.behavior", "Behaviors", Security),
    list("api/v1/behaviors", "okta.behaviors.read"),
    "default",
);
/// Device assurance policies.
pub static DEVICE_ASSURANCE: OktaKind = row(
    named("okta.device_assurance", "Device assurance", Security),
    list("api/v1/device-assurances", "okta.deviceAssurance.read"),
    "default",
);
/// Risk providers.
pub static RISK_PROVIDER: OktaKind = row(
    named("okta.risk_provider", "Risk providers", Security),
    list("api/v1/risk/providers", "okta.riskProviders.read"),
    "default",
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
    list("api/v1/captchas", "okta.captchas.read"),
    "default",
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
    list("api/v1/push-providers", "okta.pushProviders.read"),
    "default",
);

/// Authorization servers.
pub static AUTH_SERVER: OktaKind = OktaKind {
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
        list(
            "api/v1/authorizationServers",
            "okta.authorizationServers.read",
        )
        .page_size("limit", 200),
        "authorizationServers",
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
        list(
            "api/v1/authorizationServers/{0}/claims",
            "okta.authorizationServers.read",
        ),
        "authorizationServers",
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
        list(
            "api/v1/authorizationServers/{0}/scopes",
            "okta.authorizationServers.read",
        ),
        "authorizationServers",
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
        list(
            "api/v1/authorizationServers/{0}/policies",
            "okta.authorizationServers.read",
        ),
        "authorizationServers",
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
        list(
            "api/v1/authorizationServers/{0}/policies/{1}/rules",
            "okta.authorizationServers.read",
        ),
        "authorizationServers",
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
        list("api/v1/idps", "okta.idps.read"),
        "default",
    )
};
/// Custom admin roles.
pub static CUSTOM_ROLE: OktaKind = row(
    KindSpec {
        natural_key: &["/label"],
        ..spec("okta.custom_role", "Custom admin roles", Authorization)
    },
    list("api/v1/iam/roles", "okta.roles.read").items(Items::Member("roles")),
    "default",
);
/// The permissions of custom admin roles, read-only.
pub static ROLE_PERMISSION: OktaKind = row(
    KindSpec {
        parent: Some("okta.custom_role"),
        natural_key: &["/label"],
        ..spec(
            "okta.role_permission",
            "Custom role permissions",
            Authorization,
        )
    },
    list("api/v1/iam/roles/{0}/permissions", "okta.roles.read")
        .items(Items::Member("permissions"))
        .id_field("label"),
    "default",
);
/// Resource sets.
pub static RESOURCE_SET: OktaKind = row(
    KindSpec {
        natural_key: &["/label"],
        ..spec("okta.resource_set", "Resource sets", Authorization)
    },
    list("api/v1/iam/resource-sets", "okta.roles.read").items(Items::Member("resource-sets")),
    "default",
);
/// Users holding admin roles.
pub static ADMIN_USER: OktaKind = row(
    KindSpec {
        reference_fields: &[ReferenceField {
            pointer: "/id",
            kind: "okta.user",
        }],
        depends_on: &["okta.user"],
        ..spec("okta.admin_user", "Admin role assignees", Authorization)
    },
    list("api/v1/iam/assignees/users", "okta.roles.read").items(Items::Member("value")),
    "default",
);
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
    list("api/v1/users/{0}/roles", "okta.roles.read"),
    "default",
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
        list("api/v1/eventHooks", "okta.eventHooks.read"),
        "default",
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
        list("api/v1/inlineHooks", "okta.inlineHooks.read"),
        "default",
    )
};
/// Hook signing keys (metadata only).
pub static HOOK_KEY: OktaKind = row(
    named("okta.hook_key", "Hook keys", Integration),
    list("api/v1/hook-keys", "okta.inlineHooks.read"),
    "default",
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
    list("api/v1/logStreams", "okta.logStreams.read"),
    "default",
);
/// Shared Signals receivers (security events providers).
pub static SSF_RECEIVER: OktaKind = row(
    named("okta.ssf_receiver", "SSF receivers", Integration),
    list(
        "api/v1/security-events-providers",
        "okta.securityEventsProviders.read",
    ),
    "default",
);
/// Shared Signals transmitter streams.
pub static SSF_TRANSMITTER: OktaKind = row(
    KindSpec {
        natural_key: &["/aud"],
        ..spec(
            "okta.ssf_transmitter",
            "SSF transmitter streams",
            Integration,
        )
    },
    list("api/v1/ssf/stream", "ssf.read").id_field("stream_id"),
    "default",
);

/// Brands.
pub static BRAND: OktaKind = row(
    named("okta.brand", "Brands", Branding),
    list("api/v1/brands", "okta.brands.read"),
    "default",
);
/// Brand themes.
pub static THEME: OktaKind = row(
    KindSpec {
        parent: Some("okta.brand"),
        ..spec("okta.theme", "Themes", Branding)
    },
    list("api/v1/brands/{0}/themes", "okta.brands.read"),
    "default",
);
/// Email templates of a brand (names; the content lives in customizations).
pub static EMAIL_TEMPLATE: OktaKind = row(
    KindSpec {
        parent: Some("okta.brand"),
        ..named("okta.email_template", "Email templates", Branding)
    },
    list("api/v1/brands/{0}/templates/email", "okta.templates.read")
        .id_field("name")
        .page_size("limit", 200),
    "default",
);
/// Email template customizations.
pub static EMAIL_CUSTOMIZATION: OktaKind = row(
    KindSpec {
        parent: Some("okta.email_template"),
        natural_key: &["/language"],
        ..spec("okta.email_customization", "Email customizations", Branding)
    },
    list(
        "api/v1/brands/{0}/templates/email/{1}/customizations",
        "okta.templates.read",
    ),
    "default",
);
/// Custom domains.
pub static CUSTOM_DOMAIN: OktaKind = row(
    KindSpec {
        natural_key: &["/domain"],
        volatile_fields: &["/_links", "/dnsRecords", "/certificateSourceType"],
        ..spec("okta.custom_domain", "Custom domains", Branding)
    },
    list("api/v1/domains", "okta.domains.read").items(Items::Member("domains")),
    "default",
);
/// Email domains.
pub static EMAIL_DOMAIN: OktaKind = row(
    KindSpec {
        natural_key: &["/domain"],
        ..spec("okta.email_domain", "Email domains", Branding)
    },
    list("api/v1/email-domains", "okta.emailDomains.read"),
    "default",
);
/// SMS templates.
pub static SMS_TEMPLATE: OktaKind = row(
    named("okta.sms_template", "SMS templates", Branding),
    list("api/v1/templates/sms", "okta.templates.read"),
    "default",
);
/// Custom email (SMTP) servers.
pub static EMAIL_SERVER: OktaKind = row(
    KindSpec {
        natural_key: &["/alias"],
        secret_fields: &[SecretField {
            pointer: "/password",
            secret: "SMTP password",
        }],
        ..spec("okta.email_server", "Email servers", Branding)
    },
    list("api/v1/email-servers", "okta.emailServers.read").items(Items::Member("email-servers")),
    "default",
);
/// Custom telephony providers.
pub static TELEPHONY_PROVIDER: OktaKind = row(
    KindSpec {
        secret_fields: &[SecretField {
            pointer: "/settings/authToken",
            secret: "telephony provider auth token",
        }],
        ..named("okta.telephony_provider", "Telephony providers", Branding)
    },
    list(
        "api/v1/telephony-providers",
        "okta.customTelephonyProvider.read",
    ),
    "default",
);

/// ThreatInsight: how Okta answers sign-ins from suspicious IP addresses (none, audit,
/// block), and the network zones it leaves alone.
pub static THREAT_INSIGHT: OktaKind = OktaKind {
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
        list("api/v1/threats/configuration", "okta.threatInsights.read").singleton(),
        "default",
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
    list("api/v1/api-tokens", "okta.apiTokens.read"),
    "default",
);

/// Org settings.
pub static ORG_SETTINGS: OktaKind = OktaKind {
    write: Write::PostPost,
    ..row(
        KindSpec {
            restore: RestoreSupport::UpdateOnly,
            volatile_fields: &["/_links", "/created", "/lastUpdated", "/expiresAt"],
            ..spec("okta.org_settings", "Org settings", Settings)
        },
        list("api/v1/org", "okta.orgs.read").singleton(),
        "default",
    )
};
/// Features.
pub static FEATURE: OktaKind = row(
    named("okta.feature", "Features", Settings),
    list("api/v1/features", "okta.features.read"),
    "default",
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
    list("api/v1/agentPools", "okta.agentPools.read"),
    "default",
);
/// Realms.
pub static REALM: OktaKind = row(
    KindSpec {
        natural_key: &["/profile/name"],
        ..spec("okta.realm", "Realms", Directory)
    },
    list("api/v1/realms", "okta.realms.read").page_size("limit", 200),
    "default",
);
/// Realm assignments.
pub static REALM_ASSIGNMENT: OktaKind = row(
    KindSpec {
        depends_on: &["okta.realm"],
        reference_fields: &[ReferenceField {
            pointer: "/actions/assignUserToRealm/realmId",
            kind: "okta.realm",
        }],
        ..named("okta.realm_assignment", "Realm assignments", Directory)
    },
    list("api/v1/realm-assignments", "okta.realmAssignments.read").page_size("limit", 200),
    "default",
);

/// Access certification campaigns (Okta Identity Governance).
pub static ACCESS_CERTIFICATION: OktaKind = row(
    named(
        "okta.access_certification",
        "Access certifications",
        Governance,
    ),
    list(
        "governance/api/v1/campaigns",
        "okta.governance.accessCertifications.read",
    ),
    "default",
);
/// Access requests (Okta Identity Governance).
pub static ACCESS_REQUEST: OktaKind = row(
    named("okta.access_request", "Access requests", Governance),
    list(
        "governance/api/v1/requests",
        "okta.governance.accessRequests.read",
    ),
    "default",
);
/// Entitlement bundles (Okta Identity Governance).
pub static ENTITLEMENT_BUNDLE: OktaKind = row(
    named("okta.entitlement_bundle", "Entitlement bundles", Governance),
    list("api/v1/iam/governance/bundles", "okta.roles.read").items(Items::Member("bundles")),
    "default",
);

butterfly_core::kind_table!(OktaKind:
    USER,
    GROUP,
    GROUP_RULE,
    GROUP_MEMBER,
    GROUP_OWNER,
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
    ROLE_PERMISSION,
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
);
