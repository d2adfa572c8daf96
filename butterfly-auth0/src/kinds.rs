//! The Auth0 kinds table: one row per kind.
//!
//! Each [`Auth0Kind`] row is a core kind table row plus the Auth0 columns: the core
//! descriptor ([`KindSpec`]: natural key, dependencies, secret, volatile and reference fields,
//! restore support), how it is listed as a core [`ListSpec`] (path, where the items sit,
//! `page`/`per_page` or `from`/`take` paging, scope, id field, per-value listings, fields kept
//! or dropped, what a 404 means) that the core table engine ([`butterfly_core::table`])
//! reads, and the Auth0 columns: the two [`Listing`]s that stay in provider code (users, trigger
//! bindings) and how a restore writes it ([`Write`]). Every Auth0 path percent-encodes the ids
//! it holds (user ids hold `|`).
//! Sub-resources (role members, organization members…) have a parent kind; their ids are
//! `{parent id}/{own id}` and their paths use `{0}`, `{1}` for the parts of the parent id.
//!
//! A user's roles are the [`ROLE_MEMBER`] edges (`roles/{id}/users`, one listing per role):
//! there is no per-user `users/{id}/roles` read, which would cost one request per user for
//! the same relation. A user's direct permissions do need the per-user read
//! ([`USER_PERMISSION`]).
//!
//! Ids that are not in a member named `id` (`client_id`, `user_id`, `custom_domain_id`) are
//! volatile: a re-created object gets a new one, and diff pairs it by natural key instead.

use butterfly_core::Resource;
use butterfly_core::kind::{
    ArrayKey, Category, HasKindSpec, KindSpec, ReferenceField, RestoreSupport, SecretField,
};
use butterfly_core::table::{Items, ListSpec, Paging, TableKind};
use serde_json::{Value, json};

/// How a kind is read: by the core table engine, or by one of the two listings that stay in
/// provider code because they are not one listing per parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The core table engine reads the row's [`ListSpec`].
    Table,
    /// Users: the search listing below the export threshold, a users-exports job above.
    Users,
    /// Action trigger bindings: the triggers, then each trigger's bindings as one resource.
    Bindings,
}

/// How a restore writes a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST {path}` creates; `PATCH {path}/{id}` updates.
    PostPatch,
    /// `PATCH {path}` updates the singleton.
    PatchSingleton,
    /// `PUT {path}` writes the singleton (creates it too).
    PutSingleton,
    /// `POST {path}` creates the singleton; `PATCH {path}` updates it.
    PostPatchSingleton,
    /// `POST {path}` with `{member: [value of field]}`: memberships.
    AddMembers {
        /// The body member holding the list.
        member: &'static str,
        /// The field of the stored item that goes into the list.
        field: &'static str,
    },
    /// `PUT {path}/{id}` updates an item (guardian factors).
    PutItem,
    /// `PATCH actions/triggers/{id}/bindings` with the whole ordered list.
    Bindings,
    /// Cannot be written.
    None,
}

/// One row of the table.
#[derive(Debug)]
pub struct Auth0Kind {
    /// The core descriptor.
    pub spec: KindSpec,
    /// How it is listed (path, items, paging, scope, id field…), read by the core table
    /// engine; for the [`Listing::Users`] and [`Listing::Bindings`] rows, what the access
    /// probe reads and how their answers are parsed.
    pub list: ListSpec,
    /// Whether the core table engine reads it, or provider code.
    pub listing: Listing,
    /// How a restore writes it.
    pub write: Write,
}

impl HasKindSpec for Auth0Kind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }
    /// Restorable exactly when the write column can write it.
    fn restorability(&self) -> RestoreSupport {
        butterfly_core::kind::restorability(
            self.write != Write::None,
            self.spec.restore,
            "read-only in the Management API",
        )
    }
}

impl TableKind for Auth0Kind {
    fn list_spec(&self) -> &ListSpec {
        &self.list
    }
}

const VOLATILE: &[&str] = &["/created_at", "/updated_at"];

const fn row(spec: KindSpec, list: ListSpec) -> Auth0Kind {
    Auth0Kind {
        spec,
        list,
        listing: Listing::Table,
        write: Write::PostPatch,
    }
}

/// One unpaged answer: a bare JSON array; ids in the path are percent-encoded.
const fn list(path: &'static str, scope: &'static str) -> ListSpec {
    ListSpec::new(path, scope).encode()
}

/// `page`/`per_page` numbering with `include_totals=true`, the items in `member`.
const fn pages(path: &'static str, scope: &'static str, member: &'static str) -> ListSpec {
    list(path, scope)
        .items(Items::Member(member))
        .paging(Paging::PageNumber { totals: true })
        .page_size("per_page", 100)
}

/// `from`/`take` checkpoints, the items in `member`.
const fn checkpoint(path: &'static str, scope: &'static str, member: &'static str) -> ListSpec {
    list(path, scope)
        .items(Items::Member(member))
        .paging(Paging::Checkpoint)
        .page_size("take", 100)
}

/// One object.
const fn one(path: &'static str, scope: &'static str) -> ListSpec {
    list(path, scope).singleton()
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

const fn singleton(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        restore: RestoreSupport::UpdateOnly,
        ..spec(id, name, category)
    }
}

use Category::*;

const fn secret(pointer: &'static str, secret: &'static str) -> SecretField {
    SecretField { pointer, secret }
}

const fn reference(pointer: &'static str, kind: &'static str) -> ReferenceField {
    ReferenceField { pointer, kind }
}

/// Tenant settings.
pub static TENANT_SETTINGS: Auth0Kind = Auth0Kind {
    write: Write::PatchSingleton,
    ..row(
        singleton("auth0.tenant_settings", "Tenant settings", Settings),
        one("api/v2/tenants/settings", "read:tenant_settings"),
    )
};

/// Applications (clients).
pub static CLIENT: Auth0Kind = row(
    KindSpec {
        secret_fields: &[
            secret("/client_secret", "application client secret"),
            secret("/encryption_key/priv", "application encryption private key"),
            secret("/addons/*/secret", "add-on secret"),
        ],
        volatile_fields: &[
            "/client_id",
            "/created_at",
            "/updated_at",
            "/signing_keys",
            "/tenant",
            "/owners",
        ],
        restore_note: Some(
            "re-created applications get new client ids and secrets: update the applications that use them",
        ),
        ..named("auth0.client", "Applications", Application)
    },
    pages("api/v2/clients", "read:clients", "clients").id_field("client_id"),
);

/// Client grants (an application's access to an API), grouped under their application:
/// the natural key is the audience within the application.
pub static CLIENT_GRANT: Auth0Kind = row(
    KindSpec {
        parent: Some("auth0.client"),
        depends_on: &["auth0.resource_server"],
        natural_key: &["/audience"],
        reference_fields: &[reference("/client_id", "auth0.client")],
        volatile_fields: &["/id", "/created_at", "/updated_at"],
        ..spec("auth0.client_grant", "Client grants", Authorization)
    },
    pages(
        "api/v2/client-grants",
        "read:client_grants",
        "client_grants",
    )
    .group_by("client_id"),
);

/// APIs (resource servers), their scopes inside.
pub static RESOURCE_SERVER: Auth0Kind = row(
    KindSpec {
        natural_key: &["/identifier"],
        secret_fields: &[secret("/signing_secret", "API HS256 signing secret")],
        array_keys: &[ArrayKey {
            pointer: "/scopes",
            key: "value",
        }],
        ..spec(
            "auth0.resource_server",
            "APIs (resource servers)",
            Authorization,
        )
    },
    pages(
        "api/v2/resource-servers",
        "read:resource_servers",
        "resource_servers",
    ),
);

const CONNECTION_SECRETS: &[SecretField] = &[
    secret("/options/client_secret", "connection client secret"),
    secret("/options/app_secret", "connection app secret"),
    secret("/options/consumer_secret", "connection consumer secret"),
    secret("/options/signing_key/key", "connection signing private key"),
    secret(
        "/options/decryption_key/key",
        "connection decryption private key",
    ),
    secret(
        "/options/configuration/*",
        "database connection configuration value",
    ),
    secret("/options/password", "connection password"),
    secret("/options/bind_password", "directory bind password"),
    secret("/options/api_key", "connection API key"),
    secret("/options/twilio_token", "Twilio auth token"),
];

/// Connections: database, social and enterprise.
pub static CONNECTION: Auth0Kind = row(
    KindSpec {
        secret_fields: CONNECTION_SECRETS,
        reference_fields: &[reference("/enabled_clients", "auth0.client")],
        depends_on: &["auth0.client"],
        ..named("auth0.connection", "Connections", Directory)
    },
    pages("api/v2/connections", "read:connections", "connections"),
);

/// The applications enabled on a connection.
pub static CONNECTION_CLIENT: Auth0Kind = Auth0Kind {
    write: Write::AddMembers {
        member: "",
        field: "client_id",
    },
    ..row(
        KindSpec {
            parent: Some("auth0.connection"),
            depends_on: &["auth0.client"],
            reference_fields: &[reference("/client_id", "auth0.client")],
            volatile_fields: &[],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new(
                "auth0.connection_client",
                "Connection applications",
                Directory,
            )
        },
        checkpoint(
            "api/v2/connections/{0}/clients",
            "read:connections",
            "clients",
        )
        .id_field("client_id")
        .keep_only(&["client_id"]),
    )
};

/// Roles.
pub static ROLE: Auth0Kind = row(
    named("auth0.role", "Roles", Authorization),
    pages("api/v2/roles", "read:roles", "roles"),
);

/// The API permissions of a role.
pub static ROLE_PERMISSION: Auth0Kind = Auth0Kind {
    write: Write::AddMembers {
        member: "permissions",
        field: "",
    },
    ..row(
        KindSpec {
            parent: Some("auth0.role"),
            depends_on: &["auth0.resource_server"],
            natural_key: &["/resource_server_identifier", "/permission_name"],
            volatile_fields: &[],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new("auth0.role_permission", "Role permissions", Authorization)
        },
        pages("api/v2/roles/{0}/permissions", "read:roles", "permissions")
            .id_field("resource_server_identifier|permission_name")
            .keep_only(&["resource_server_identifier", "permission_name"]),
    )
};

/// The users holding a role; also how a user's roles are backed up (there is no per-user
/// roles kind).
pub static ROLE_MEMBER: Auth0Kind = Auth0Kind {
    write: Write::AddMembers {
        member: "users",
        field: "user_id",
    },
    ..row(
        KindSpec {
            parent: Some("auth0.role"),
            depends_on: &["auth0.user"],
            reference_fields: &[reference("/user_id", "auth0.user")],
            volatile_fields: &[],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new("auth0.role_member", "Role members", Authorization)
        },
        checkpoint("api/v2/roles/{0}/users", "read:roles", "users")
            .id_field("user_id")
            .keep_only(&["user_id"]),
    )
};

/// The fields a user is read with, by search and by the export job alike, so both give
/// the same bodies.
pub const USER_FIELDS: &[&str] = &[
    "user_id",
    "email",
    "email_verified",
    "username",
    "phone_number",
    "phone_verified",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "picture",
    "identities",
    "app_metadata",
    "user_metadata",
    "blocked",
    "created_at",
    "updated_at",
    "last_login",
    "logins_count",
];

/// Users, all of them: search below 1,000, the users-exports job above, read by provider
/// code ([`Listing::Users`]). The list spec is the search listing: what the probe reads and
/// how both answers are parsed.
pub static USER: Auth0Kind = Auth0Kind {
    listing: Listing::Users,
    ..row(
        KindSpec {
            natural_key: &["/email", "/identities/0/connection"],
            secret_fields: &[secret(
                "/identities/*/access_token",
                "identity provider access token",
            )],
            volatile_fields: &[
                "/user_id",
                "/identities/*/user_id",
                "/created_at",
                "/updated_at",
                "/last_login",
                "/logins_count",
            ],
            restore_note: Some(
                "users are created without their password (database users get a random one nobody knows: send them a password reset) and without MFA enrolments",
            ),
            ..spec("auth0.user", "Users", Directory)
        },
        pages("api/v2/users", "read:users", "users")
            .id_field("user_id")
            .keep_only(USER_FIELDS),
    )
};

/// Whether a user's permission is assigned directly: role-given ones come back with the role.
/// A permission without `sources` is kept.
fn directly_assigned(item: &Value) -> bool {
    item.get("sources")
        .and_then(Value::as_array)
        .is_none_or(|sources| sources.iter().any(|s| s["source_type"] == "DIRECT"))
}

/// The permissions assigned to a user directly (role-given ones come from the roles).
pub static USER_PERMISSION: Auth0Kind = Auth0Kind {
    write: Write::AddMembers {
        member: "permissions",
        field: "",
    },
    ..row(
        KindSpec {
            parent: Some("auth0.user"),
            depends_on: &["auth0.resource_server"],
            natural_key: &["/resource_server_identifier", "/permission_name"],
            volatile_fields: &[],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new("auth0.user_permission", "User permissions", Authorization)
        },
        pages("api/v2/users/{0}/permissions", "read:users", "permissions")
            .id_field("resource_server_identifier|permission_name")
            .keeps_item(directly_assigned)
            .keep_only(&["resource_server_identifier", "permission_name"]),
    )
};

/// Organizations.
pub static ORGANIZATION: Auth0Kind = row(
    named("auth0.organization", "Organizations", Directory),
    checkpoint(
        "api/v2/organizations",
        "read:organizations",
        "organizations",
    ),
);

/// Members of an organization.
pub static ORGANIZATION_MEMBER: Auth0Kind = Auth0Kind {
    write: Write::AddMembers {
        member: "members",
        field: "user_id",
    },
    ..row(
        KindSpec {
            parent: Some("auth0.organization"),
            depends_on: &["auth0.user"],
            reference_fields: &[reference("/user_id", "auth0.user")],
            volatile_fields: &[],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new(
                "auth0.organization_member",
                "Organization members",
                Directory,
            )
        },
        checkpoint(
            "api/v2/organizations/{0}/members",
            "read:organization_members",
            "members",
        )
        .id_field("user_id")
        .keep_only(&["user_id"]),
    )
};

/// The roles of an organization member within the organization.
pub static ORGANIZATION_MEMBER_ROLE: Auth0Kind = Auth0Kind {
    write: Write::AddMembers {
        member: "roles",
        field: "id",
    },
    ..row(
        KindSpec {
            parent: Some("auth0.organization_member"),
            depends_on: &["auth0.role"],
            reference_fields: &[reference("/id", "auth0.role")],
            volatile_fields: &[],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new(
                "auth0.organization_member_role",
                "Organization member roles",
                Authorization,
            )
        },
        pages(
            "api/v2/organizations/{0}/members/{1}/roles",
            "read:organization_member_roles",
            "roles",
        )
        .keep_only(&["id"]),
    )
};

/// The connections enabled on an organization.
pub static ORGANIZATION_CONNECTION: Auth0Kind = row(
    KindSpec {
        parent: Some("auth0.organization"),
        depends_on: &["auth0.connection"],
        reference_fields: &[reference("/connection_id", "auth0.connection")],
        volatile_fields: &[],
        ..KindSpec::new(
            "auth0.organization_connection",
            "Organization connections",
            Directory,
        )
    },
    pages(
        "api/v2/organizations/{0}/enabled_connections",
        "read:organization_connections",
        "enabled_connections",
    )
    .id_field("connection_id")
    .drop(&["connection"]),
);

/// Pending invitations to an organization.
pub static ORGANIZATION_INVITATION: Auth0Kind = Auth0Kind {
    write: Write::None,
    ..row(
        KindSpec {
            parent: Some("auth0.organization"),
            natural_key: &["/invitee/email"],
            reference_fields: &[
                reference("/client_id", "auth0.client"),
                reference("/connection_id", "auth0.connection"),
                reference("/roles", "auth0.role"),
            ],
            secret_fields: &[
                secret("/ticket_id", "invitation ticket"),
                secret("/invitation_url", "invitation link"),
            ],
            volatile_fields: &["/created_at", "/expires_at"],
            restore: RestoreSupport::None {
                reason: "invitations expire: send new ones",
            },
            ..KindSpec::new(
                "auth0.organization_invitation",
                "Organization invitations",
                Directory,
            )
        },
        pages(
            "api/v2/organizations/{0}/invitations",
            "read:organization_invitations",
            "invitations",
        ),
    )
};

/// Actions, with their current and deployed versions.
pub static ACTION: Auth0Kind = row(
    KindSpec {
        natural_key: &["/name", "/supported_triggers/0/id"],
        secret_fields: &[secret("/secrets/*/value", "action secret")],
        volatile_fields: &[
            "/created_at",
            "/updated_at",
            "/status",
            "/secrets/*/updated_at",
            "/deployed_version/id",
            "/deployed_version/number",
            "/deployed_version/created_at",
            "/deployed_version/updated_at",
            "/deployed_version/build_time",
            "/deployed_version/status",
            "/deployed_version/secrets",
            "/current_version/id",
            "/current_version/number",
            "/current_version/created_at",
            "/current_version/updated_at",
            "/current_version/build_time",
            "/current_version/status",
            "/current_version/secrets",
        ],
        array_keys: &[ArrayKey {
            pointer: "/secrets",
            key: "name",
        }],
        restore_note: Some(
            "re-created actions have no secret values: set them again (rotation checklist)",
        ),
        ..spec("auth0.action", "Actions", Integration)
    },
    list("api/v2/actions/actions", "read:actions")
        .items(Items::Member("actions"))
        .paging(Paging::PageNumber { totals: false })
        .page_size("per_page", 100),
);

/// The ordered actions bound to each trigger (one resource per trigger), read by provider
/// code ([`Listing::Bindings`]): the path is the trigger listing (what the probe reads), the
/// items those of a trigger's bindings answer.
pub static ACTION_BINDING: Auth0Kind = Auth0Kind {
    listing: Listing::Bindings,
    write: Write::Bindings,
    ..row(
        KindSpec {
            depends_on: &["auth0.action"],
            natural_key: &["/trigger_id"],
            reference_fields: &[reference("/bindings/*/action/id", "auth0.action")],
            volatile_fields: &[],
            restore: RestoreSupport::UpdateOnly,
            ..KindSpec::new(
                "auth0.action_binding",
                "Action trigger bindings",
                Integration,
            )
        },
        list("api/v2/actions/triggers", "read:actions")
            .items(Items::Member("bindings"))
            .id_field("trigger_id"),
    )
};

/// Rules (legacy).
pub static RULE: Auth0Kind = row(
    named("auth0.rule", "Rules", Integration),
    pages("api/v2/rules", "read:rules", "rules"),
);

/// Rules configs: keys only (the values are secrets the API never returns).
pub static RULES_CONFIG: Auth0Kind = Auth0Kind {
    write: Write::None,
    ..row(
        KindSpec {
            natural_key: &["/key"],
            restore: RestoreSupport::None {
                reason: "rules config values are secrets the API never returns: set them again",
            },
            ..spec("auth0.rules_config", "Rules configs", Integration)
        },
        list("api/v2/rules-configs", "read:rules_configs")
            .id_field("key")
            .keep_only(&["key"]),
    )
};

/// Hooks (legacy).
pub static HOOK: Auth0Kind = row(
    named("auth0.hook", "Hooks", Integration),
    pages("api/v2/hooks", "read:hooks", "hooks"),
);

/// The secrets of a hook: names kept, values redacted.
pub static HOOK_SECRET: Auth0Kind = Auth0Kind {
    write: Write::PostPatchSingleton,
    ..row(
        KindSpec {
            parent: Some("auth0.hook"),
            secret_fields: &[secret("/*", "hook secret")],
            volatile_fields: &[],
            restore: RestoreSupport::CreateOnly,
            ..KindSpec::new("auth0.hook_secret", "Hook secrets", Integration)
        },
        one("api/v2/hooks/{0}/secrets", "read:hooks"),
    )
};

/// Custom domains.
pub static CUSTOM_DOMAIN: Auth0Kind = row(
    KindSpec {
        natural_key: &["/domain"],
        volatile_fields: &[
            "/custom_domain_id",
            "/status",
            "/verification",
            "/created_at",
            "/updated_at",
            "/certificate",
            "/origin_domain_name",
        ],
        restore_note: Some("re-created custom domains must be verified again (DNS)"),
        ..spec("auth0.custom_domain", "Custom domains", Branding)
    },
    list("api/v2/custom-domains", "read:custom_domains")
        .items(Items::Member("custom_domains"))
        .id_field("custom_domain_id"),
);

/// Branding settings (colours, logo, favicon, font).
pub static BRANDING: Auth0Kind = Auth0Kind {
    write: Write::PatchSingleton,
    ..row(
        singleton("auth0.branding", "Branding", Branding),
        one("api/v2/branding", "read:branding"),
    )
};

/// The default Universal Login branding theme.
pub static BRANDING_THEME: Auth0Kind = Auth0Kind {
    write: Write::PostPatchSingleton,
    ..row(
        KindSpec {
            volatile_fields: &["/themeId"],
            restore: RestoreSupport::CreateAndUpdate,
            ..spec("auth0.branding_theme", "Branding theme", Branding)
        },
        one("api/v2/branding/themes/default", "read:branding").absent_is_empty(),
    )
};

/// Prompt settings (Universal Login experience, identifier first, WebAuthn first factor).
pub static PROMPTS: Auth0Kind = Auth0Kind {
    write: Write::PatchSingleton,
    ..row(
        singleton("auth0.prompts", "Prompt settings", Branding),
        one("api/v2/prompts", "read:prompts"),
    )
};

/// Every prompt with custom texts.
pub const PROMPT_NAMES: &[&str] = &[
    "login",
    "login-id",
    "login-password",
    "login-passwordless",
    "login-email-verification",
    "signup",
    "signup-id",
    "signup-password",
    "phone-identifier-enrollment",
    "phone-identifier-challenge",
    "email-identifier-challenge",
    "reset-password",
    "custom-form",
    "consent",
    "customized-consent",
    "logout",
    "mfa-push",
    "mfa-otp",
    "mfa-voice",
    "mfa-phone",
    "mfa-webauthn",
    "mfa-sms",
    "mfa-email",
    "mfa-recovery-code",
    "mfa",
    "status",
    "device-flow",
    "email-verification",
    "email-otp-challenge",
    "organizations",
    "invitation",
    "common",
    "passkeys",
    "captcha",
    "brute-force-protection",
    "async-approval-flow",
    "confirmation",
];

/// Custom texts of the prompts, in English (`en`); prompts without custom text are skipped.
pub static PROMPT_CUSTOM_TEXT: Auth0Kind = Auth0Kind {
    write: Write::PutSingleton,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..spec("auth0.prompt_custom_text", "Prompt custom texts", Branding)
        },
        one("api/v2/prompts/{v}/custom-text/en", "read:prompts")
            .per_value(PROMPT_NAMES)
            .absent_is_empty()
            .skip_empty(),
    )
};

/// The email provider.
pub static EMAIL_PROVIDER: Auth0Kind = Auth0Kind {
    write: Write::PostPatchSingleton,
    ..row(
        KindSpec {
            secret_fields: &[
                secret("/credentials/api_key", "email provider API key"),
                secret(
                    "/credentials/secretAccessKey",
                    "email provider AWS secret key",
                ),
                secret("/credentials/accessKeyId", "email provider AWS access key"),
                secret("/credentials/smtp_pass", "email provider SMTP password"),
                secret("/credentials/clientSecret", "email provider client secret"),
                secret(
                    "/credentials/connectionString",
                    "email provider connection string",
                ),
            ],
            restore: RestoreSupport::CreateAndUpdate,
            ..spec("auth0.email_provider", "Email provider", Branding)
        },
        one("api/v2/emails/provider", "read:email_provider").absent_is_empty(),
    )
};

/// Every email template name.
pub const EMAIL_TEMPLATE_NAMES: &[&str] = &[
    "verify_email",
    "verify_email_by_code",
    "auth_email_by_code",
    "reset_email",
    "reset_email_by_code",
    "welcome_email",
    "blocked_account",
    "stolen_credentials",
    "enrollment_email",
    "mfa_oob_code",
    "user_invitation",
    "change_password",
    "password_reset",
    "async_approval",
];

/// Email templates (only the configured ones).
pub static EMAIL_TEMPLATE: Auth0Kind = row(
    KindSpec {
        natural_key: &["/template"],
        ..spec("auth0.email_template", "Email templates", Branding)
    },
    one("api/v2/email-templates/{v}", "read:email_templates")
        .id_field("template")
        .per_value(EMAIL_TEMPLATE_NAMES)
        .absent_is_empty(),
);

/// Log streams.
pub static LOG_STREAM: Auth0Kind = row(
    KindSpec {
        secret_fields: &[
            secret(
                "/sink/httpAuthorization",
                "log stream HTTP authorization header",
            ),
            secret("/sink/datadogApiKey", "Datadog API key"),
            secret("/sink/splunkToken", "Splunk token"),
            secret("/sink/sumoSourceAddress", "Sumo Logic source address"),
            secret("/sink/segmentWriteKey", "Segment write key"),
            secret(
                "/sink/mixpanelServiceAccountPassword",
                "Mixpanel service account password",
            ),
            secret("/sink/apiKey", "log stream API key"),
        ],
        ..named("auth0.log_stream", "Log streams", Integration)
    },
    list("api/v2/log-streams", "read:log_streams"),
);

/// Attack protection: breached password detection.
pub static BREACHED_PASSWORD_DETECTION: Auth0Kind = Auth0Kind {
    write: Write::PatchSingleton,
    ..row(
        singleton(
            "auth0.breached_password_detection",
            "Breached password detection",
            Security,
        ),
        one(
            "api/v2/attack-protection/breached-password-detection",
            "read:attack_protection",
        ),
    )
};

/// Attack protection: brute-force protection.
pub static BRUTE_FORCE_PROTECTION: Auth0Kind = Auth0Kind {
    write: Write::PatchSingleton,
    ..row(
        singleton(
            "auth0.brute_force_protection",
            "Brute-force protection",
            Security,
        ),
        one(
            "api/v2/attack-protection/brute-force-protection",
            "read:attack_protection",
        ),
    )
};

/// Attack protection: suspicious IP throttling.
pub static SUSPICIOUS_IP_THROTTLING: Auth0Kind = Auth0Kind {
    write: Write::PatchSingleton,
    ..row(
        singleton(
            "auth0.suspicious_ip_throttling",
            "Suspicious IP throttling",
            Security,
        ),
        one(
            "api/v2/attack-protection/suspicious-ip-throttling",
            "read:attack_protection",
        ),
    )
};

/// Guardian (MFA) factors.
pub static GUARDIAN_FACTOR: Auth0Kind = Auth0Kind {
    write: Write::PutItem,
    ..row(
        KindSpec {
            natural_key: &["/name"],
            volatile_fields: &["/trial_expired"],
            restore: RestoreSupport::UpdateOnly,
            ..KindSpec::new("auth0.guardian_factor", "MFA factors", Security)
        },
        list("api/v2/guardian/factors", "read:guardian_factors").id_field("name"),
    )
};

/// Guardian (MFA) policies: when MFA is required.
pub static GUARDIAN_POLICY: Auth0Kind = Auth0Kind {
    write: Write::PutSingleton,
    ..row(
        singleton("auth0.guardian_policy", "MFA policies", Security),
        list("api/v2/guardian/policies", "read:mfa_policies").items(Items::Whole("policies")),
    )
};

/// Signing keys: metadata only (key ids, state, thumbprints; no certificates).
pub static SIGNING_KEY: Auth0Kind = Auth0Kind {
    write: Write::None,
    ..row(
        KindSpec {
            volatile_fields: &["/current_since", "/current_until", "/revoked_at"],
            restore: RestoreSupport::None {
                reason: "signing keys are generated by Auth0: rotate them instead",
            },
            ..KindSpec::new("auth0.signing_key", "Signing keys", Security)
        },
        list("api/v2/keys/signing", "read:signing_keys")
            .id_field("kid")
            .drop(&["cert", "pkcs7"]),
    )
};

/// Tenant network ACLs.
pub static NETWORK_ACL: Auth0Kind = row(
    KindSpec {
        natural_key: &["/description"],
        ..spec("auth0.network_acl", "Network ACLs", Security)
    },
    pages("api/v2/network-acls", "read:network_acls", "network_acls"),
);

/// Forms (read one by one: the listing holds summaries).
pub static FORM: Auth0Kind = row(
    KindSpec {
        volatile_fields: &[
            "/created_at",
            "/updated_at",
            "/embedded_at",
            "/submitted_at",
            "/flow_count",
        ],
        ..named("auth0.form", "Forms", Integration)
    },
    pages("api/v2/forms", "read:forms", "forms").detail(),
);

/// Flows (read one by one: the listing holds summaries).
pub static FLOW: Auth0Kind = row(
    KindSpec {
        volatile_fields: &["/created_at", "/updated_at", "/executed_at"],
        ..named("auth0.flow", "Flows", Integration)
    },
    pages("api/v2/flows", "read:flows", "flows").detail(),
);

/// Self-service SSO profiles.
pub static SELF_SERVICE_PROFILE: Auth0Kind = row(
    named(
        "auth0.self_service_profile",
        "Self-service SSO profiles",
        Directory,
    ),
    pages(
        "api/v2/self-service-profiles",
        "read:self_service_profiles",
        "self_service_profiles",
    ),
);

/// Event streams.
pub static EVENT_STREAM: Auth0Kind = row(
    KindSpec {
        secret_fields: &[
            secret(
                "/destination/configuration/webhook_authorization/token",
                "event stream webhook bearer token",
            ),
            secret(
                "/destination/configuration/webhook_authorization/password",
                "event stream webhook password",
            ),
        ],
        volatile_fields: &["/created_at", "/updated_at", "/status"],
        ..named("auth0.event_stream", "Event streams", Integration)
    },
    checkpoint("api/v2/event-streams", "read:event_streams", "eventStreams"),
);

butterfly_core::kind_table!(Auth0Kind:
    TENANT_SETTINGS,
    CLIENT,
    CLIENT_GRANT,
    RESOURCE_SERVER,
    CONNECTION,
    CONNECTION_CLIENT,
    ROLE,
    ROLE_PERMISSION,
    ROLE_MEMBER,
    USER,
    USER_PERMISSION,
    ORGANIZATION,
    ORGANIZATION_MEMBER,
    ORGANIZATION_MEMBER_ROLE,
    ORGANIZATION_CONNECTION,
    ORGANIZATION_INVITATION,
    ACTION,
    ACTION_BINDING,
    RULE,
    RULES_CONFIG,
    HOOK,
    HOOK_SECRET,
    CUSTOM_DOMAIN,
    BRANDING,
    BRANDING_THEME,
    PROMPTS,
    PROMPT_CUSTOM_TEXT,
    EMAIL_PROVIDER,
    EMAIL_TEMPLATE,
    LOG_STREAM,
    BREACHED_PASSWORD_DETECTION,
    BRUTE_FORCE_PROTECTION,
    SUSPICIOUS_IP_THROTTLING,
    GUARDIAN_FACTOR,
    GUARDIAN_POLICY,
    SIGNING_KEY,
    NETWORK_ACL,
    FORM,
    FLOW,
    SELF_SERVICE_PROFILE,
    EVENT_STREAM,
);

/// One resource holding a trigger's ordered bindings, each reduced to what a restore needs
/// (the action's id and name, the display name): binding ids change on every write.
pub fn bindings_resource(trigger: &str, bindings: &[Value]) -> Resource {
    let list: Vec<Value> = bindings
        .iter()
        .map(|b| {
            json!({
                "display_name": b.get("display_name").cloned().unwrap_or(Value::Null),
                "action": {
                    "id": b.pointer("/action/id").cloned().unwrap_or(Value::Null),
                    "name": b.pointer("/action/name").cloned().unwrap_or(Value::Null),
                },
            })
        })
        .collect();
    Resource::new(
        &ACTION_BINDING,
        trigger.to_string(),
        None,
        json!({"trigger_id": trigger, "bindings": list}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use butterfly_core::ResourceKind;
    use butterfly_core::table::{list_path, parse_page};

    #[test]
    fn only_direct_permissions_are_read_per_user() {
        // A user's roles are the role-member edges; a per-user roles read would cost one
        // request per user for the same relation.
        let per_user: Vec<&str> = ROWS
            .iter()
            .filter(|r| r.spec.parent == Some("auth0.user"))
            .map(|r| r.spec.id)
            .collect();
        assert_eq!(per_user, ["auth0.user_permission"]);
        assert!(
            ROWS.iter()
                .all(|r| !r.list.path.starts_with("api/v2/users/{0}/roles"))
        );
        assert_eq!(ROLE_MEMBER.list.path, "api/v2/roles/{0}/users");
        assert_eq!(ROLE_MEMBER.spec.restore, RestoreSupport::CreateOnly);
    }

    #[test]
    fn the_table_is_consistent() {
        let kinds: Vec<&dyn ResourceKind> = all().to_vec();
        assert!(butterfly_core::kind::topological_order(&kinds).is_ok());
        let mut ids = std::collections::BTreeSet::new();
        for row in ROWS {
            assert!(row.spec.id.starts_with("auth0."), "{}", row.spec.id);
            assert!(ids.insert(row.spec.id), "duplicate {}", row.spec.id);
            if let Some(p) = row.spec.parent {
                assert!(row_of(p).is_some(), "{}: unknown parent {p}", row.spec.id);
                assert!(
                    row.list.path.contains("{0}") || row.list.group_by.is_some(),
                    "{}",
                    row.spec.id
                );
            }
            for d in row.spec.depends_on {
                assert!(
                    row_of(d).is_some(),
                    "{}: unknown dependency {d}",
                    row.spec.id
                );
            }
            assert!(row.list.access.starts_with("read:"), "{}", row.spec.id);
            assert!(row.list.encode, "{}: Auth0 ids hold `|`", row.spec.id);
        }
        assert!(ROWS.len() >= 40);
    }

    #[test]
    fn parsing_ids_and_paths() {
        let page = json!({"start": 0, "limit": 50, "total": 1, "permissions": [
            {"permission_name": "read:x", "resource_server_identifier": "https://api/", "description": "d",
             "sources": [{"source_type": "DIRECT"}]},
            {"permission_name": "read:y", "resource_server_identifier": "https://api/",
             "sources": [{"source_type": "ROLE"}]}
        ]});
        let list = parse_page(&USER_PERMISSION, Some("auth0|1"), None, page).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, "auth0|1/https://api/|read:x");
        assert!(list[0].body.get("description").is_none());
        assert_eq!(
            list_path(&ORGANIZATION_MEMBER_ROLE, Some("org_1/auth0|2"), None),
            "api/v2/organizations/org_1/members/auth0%7C2/roles"
        );
        let grants =
            json!([{"id": "cgr_1", "client_id": "c1", "audience": "https://a/", "scope": []}]);
        let g = parse_page(&CLIENT_GRANT, None, None, grants).unwrap();
        assert_eq!(g[0].parent_id.as_deref(), Some("c1"));
        assert_eq!(g[0].id, "c1/cgr_1");
        let pol = parse_page(&GUARDIAN_POLICY, None, None, json!(["all-applications"])).unwrap();
        assert_eq!(*pol[0].body, json!({"policies": ["all-applications"]}));
        assert!(parse_page(&CLIENT, None, None, json!({"nope": 1})).is_err());
        assert!(parse_page(&CLIENT, None, None, json!([1])).is_err());
    }
}
