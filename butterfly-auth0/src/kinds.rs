//! The Auth0 kinds table: one row per kind.
//!
//! Each [`Auth0Kind`] row holds the core descriptor ([`KindSpec`]: natural key, dependencies,
//! secret, volatile and reference fields, restore support) and the Auth0 specifics: path,
//! pagination, required scope, how ids are read, and how a restore writes it.
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

use butterfly_core::kind::{
    ArrayKey, Category, HasKindSpec, KindRef, KindSpec, ReferenceField, RestoreSupport, SecretField,
};
use butterfly_core::{Error, Resource, Result};
use serde_json::{Value, json};

/// How a kind is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `page`/`per_page` numbering (with `include_totals=true` when `totals`); the items are
    /// in `member`, or the body is a bare array.
    Pages {
        /// Member holding the items.
        member: &'static str,
        /// Page size (Auth0's maximum is 100).
        per_page: u32,
        /// Whether to send `include_totals=true` (the answer then carries `total`).
        totals: bool,
    },
    /// `from`/`take` checkpoints: items in `member`, the next checkpoint in `next`.
    Checkpoint {
        /// Member holding the items.
        member: &'static str,
        /// Page size.
        take: u32,
    },
    /// One unpaged answer: a bare array, or an object with the array in `member`.
    Array {
        /// Member holding the items when wrapped.
        member: &'static str,
    },
    /// One object.
    Singleton,
    /// One array answer kept as one object `{member: [...]}` (guardian policies are strings).
    ArrayAsObject {
        /// The member the array is stored under.
        member: &'static str,
    },
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
    /// Path below the base URL; `{0}`, `{1}` are the parts of the parent id, `{v}` a value of
    /// `per_value`.
    pub path: &'static str,
    /// How it is listed.
    pub listing: Listing,
    /// The Management API scope needed to read it.
    pub scope: &'static str,
    /// Member holding the id (`id`, `client_id`, `name`…).
    pub id_field: &'static str,
    /// Values of `{v}` to read one by one (email template names, prompts); empty: one read.
    pub per_value: &'static [&'static str],
    /// Reduce each item to these members (memberships keep only the member id).
    pub keep_only: &'static [&'static str],
    /// Members removed from each item (derived data, public key material).
    pub drop: &'static [&'static str],
    /// How a restore writes it.
    pub write: Write,
    /// A 404 means "not configured": no resource, not an error.
    pub absent_is_empty: bool,
    /// An empty object means "not configured" (custom texts).
    pub skip_empty: bool,
    /// Read each listed item again at `{path}/{id}` (the listing returns summaries).
    pub detail: bool,
    /// For a sub-resource listed once for all parents: the member naming the parent.
    pub group_by: Option<&'static str>,
}

impl HasKindSpec for Auth0Kind {
    fn spec(&self) -> &KindSpec {
        &self.spec
    }
}

const VOLATILE: &[&str] = &["/created_at", "/updated_at"];

const fn row(
    spec: KindSpec,
    path: &'static str,
    listing: Listing,
    scope: &'static str,
) -> Auth0Kind {
    Auth0Kind {
        spec,
        path,
        listing,
        scope,
        id_field: "id",
        per_value: &[],
        keep_only: &[],
        drop: &[],
        write: Write::PostPatch,
        absent_is_empty: false,
        skip_empty: false,
        detail: false,
        group_by: None,
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

const fn pages(member: &'static str) -> Listing {
    Listing::Pages {
        member,
        per_page: 100,
        totals: true,
    }
}

const fn checkpoint(member: &'static str) -> Listing {
    Listing::Checkpoint { member, take: 100 }
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
        "api/v2/tenants/settings",
        Listing::Singleton,
        "read:tenant_settings",
    )
};

/// Applications (clients).
pub static CLIENT: Auth0Kind = Auth0Kind {
    id_field: "client_id",
    ..row(
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
        "api/v2/clients",
        pages("clients"),
        "read:clients",
    )
};

/// Client grants (an application's access to an API), grouped under their application:
/// the natural key is the audience within the application.
pub static CLIENT_GRANT: Auth0Kind = Auth0Kind {
    group_by: Some("client_id"),
    ..row(
        KindSpec {
            parent: Some("auth0.client"),
            depends_on: &["auth0.resource_server"],
            natural_key: &["/audience"],
            reference_fields: &[reference("/client_id", "auth0.client")],
            volatile_fields: &["/id", "/created_at", "/updated_at"],
            ..spec("auth0.client_grant", "Client grants", Authorization)
        },
        "api/v2/client-grants",
        pages("client_grants"),
        "read:client_grants",
    )
};

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
    "api/v2/resource-servers",
    pages("resource_servers"),
    "read:resource_servers",
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
    "api/v2/connections",
    pages("connections"),
    "read:connections",
);

/// The applications enabled on a connection.
pub static CONNECTION_CLIENT: Auth0Kind = Auth0Kind {
    id_field: "client_id",
    keep_only: &["client_id"],
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
        "api/v2/connections/{0}/clients",
        checkpoint("clients"),
        "read:connections",
    )
};

/// Roles.
pub static ROLE: Auth0Kind = row(
    named("auth0.role", "Roles", Authorization),
    "api/v2/roles",
    pages("roles"),
    "read:roles",
);

/// The API permissions of a role.
pub static ROLE_PERMISSION: Auth0Kind = Auth0Kind {
    id_field: "permission_name",
    keep_only: &["resource_server_identifier", "permission_name"],
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
        "api/v2/roles/{0}/permissions",
        pages("permissions"),
        "read:roles",
    )
};

/// The users holding a role; also how a user's roles are backed up (there is no per-user
/// roles kind).
pub static ROLE_MEMBER: Auth0Kind = Auth0Kind {
    id_field: "user_id",
    keep_only: &["user_id"],
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
        "api/v2/roles/{0}/users",
        checkpoint("users"),
        "read:roles",
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

/// Users, all of them: search below 1,000, the users-exports job above.
pub static USER: Auth0Kind = Auth0Kind {
    id_field: "user_id",
    keep_only: USER_FIELDS,
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
        "api/v2/users",
        Listing::Users,
        "read:users",
    )
};

/// The permissions assigned to a user directly (role-given ones come from the roles).
pub static USER_PERMISSION: Auth0Kind = Auth0Kind {
    id_field: "permission_name",
    keep_only: &["resource_server_identifier", "permission_name"],
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
        "api/v2/users/{0}/permissions",
        pages("permissions"),
        "read:users",
    )
};

/// Organizations.
pub static ORGANIZATION: Auth0Kind = row(
    named("auth0.organization", "Organizations", Directory),
    "api/v2/organizations",
    checkpoint("organizations"),
    "read:organizations",
);

/// Members of an organization.
pub static ORGANIZATION_MEMBER: Auth0Kind = Auth0Kind {
    id_field: "user_id",
    keep_only: &["user_id"],
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
        "api/v2/organizations/{0}/members",
        checkpoint("members"),
        "read:organization_members",
    )
};

/// The roles of an organization member within the organization.
pub static ORGANIZATION_MEMBER_ROLE: Auth0Kind = Auth0Kind {
    keep_only: &["id"],
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
        "api/v2/organizations/{0}/members/{1}/roles",
        pages("roles"),
        "read:organization_member_roles",
    )
};

/// The connections enabled on an organization.
pub static ORGANIZATION_CONNECTION: Auth0Kind = Auth0Kind {
    id_field: "connection_id",
    drop: &["connection"],
    ..row(
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
        "api/v2/organizations/{0}/enabled_connections",
        pages("enabled_connections"),
        "read:organization_connections",
    )
};

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
        "api/v2/organizations/{0}/invitations",
        pages("invitations"),
        "read:organization_invitations",
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
    "api/v2/actions/actions",
    Listing::Pages {
        member: "actions",
        per_page: 100,
        totals: false,
    },
    "read:actions",
);

/// The ordered actions bound to each trigger (one resource per trigger).
pub static ACTION_BINDING: Auth0Kind = Auth0Kind {
    id_field: "trigger_id",
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
        "api/v2/actions/triggers",
        Listing::Bindings,
        "read:actions",
    )
};

/// Rules (legacy).
pub static RULE: Auth0Kind = row(
    named("auth0.rule", "Rules", Integration),
    "api/v2/rules",
    pages("rules"),
    "read:rules",
);

/// Rules configs: keys only (the values are secrets the API never returns).
pub static RULES_CONFIG: Auth0Kind = Auth0Kind {
    id_field: "key",
    keep_only: &["key"],
    write: Write::None,
    ..row(
        KindSpec {
            natural_key: &["/key"],
            restore: RestoreSupport::None {
                reason: "rules config values are secrets the API never returns: set them again",
            },
            ..spec("auth0.rules_config", "Rules configs", Integration)
        },
        "api/v2/rules-configs",
        Listing::Array { member: "" },
        "read:rules_configs",
    )
};

/// Hooks (legacy).
pub static HOOK: Auth0Kind = row(
    named("auth0.hook", "Hooks", Integration),
    "api/v2/hooks",
    pages("hooks"),
    "read:hooks",
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
        "api/v2/hooks/{0}/secrets",
        Listing::Singleton,
        "read:hooks",
    )
};

/// Custom domains.
pub static CUSTOM_DOMAIN: Auth0Kind = Auth0Kind {
    id_field: "custom_domain_id",
    ..row(
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
        "api/v2/custom-domains",
        Listing::Array {
            member: "custom_domains",
        },
        "read:custom_domains",
    )
};

/// Branding settings (colours, logo, favicon, font).
pub static BRANDING: Auth0Kind = Auth0Kind {
    write: Write::PatchSingleton,
    ..row(
        singleton("auth0.branding", "Branding", Branding),
        "api/v2/branding",
        Listing::Singleton,
        "read:branding",
    )
};

/// The default Universal Login branding theme.
pub static BRANDING_THEME: Auth0Kind = Auth0Kind {
    write: Write::PostPatchSingleton,
    absent_is_empty: true,
    ..row(
        KindSpec {
            volatile_fields: &["/themeId"],
            restore: RestoreSupport::CreateAndUpdate,
            ..spec("auth0.branding_theme", "Branding theme", Branding)
        },
        "api/v2/branding/themes/default",
        Listing::Singleton,
        "read:branding",
    )
};

/// Prompt settings (Universal Login experience, identifier first, WebAuthn first factor).
pub static PROMPTS: Auth0Kind = Auth0Kind {
    write: Write::PatchSingleton,
    ..row(
        singleton("auth0.prompts", "Prompt settings", Branding),
        "api/v2/prompts",
        Listing::Singleton,
        "read:prompts",
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
    per_value: PROMPT_NAMES,
    write: Write::PutSingleton,
    skip_empty: true,
    absent_is_empty: true,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..spec("auth0.prompt_custom_text", "Prompt custom texts", Branding)
        },
        "api/v2/prompts/{v}/custom-text/en",
        Listing::Singleton,
        "read:prompts",
    )
};

/// The email provider.
pub static EMAIL_PROVIDER: Auth0Kind = Auth0Kind {
    write: Write::PostPatchSingleton,
    absent_is_empty: true,
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
        "api/v2/emails/provider",
        Listing::Singleton,
        "read:email_provider",
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
pub static EMAIL_TEMPLATE: Auth0Kind = Auth0Kind {
    per_value: EMAIL_TEMPLATE_NAMES,
    absent_is_empty: true,
    id_field: "template",
    ..row(
        KindSpec {
            natural_key: &["/template"],
            ..spec("auth0.email_template", "Email templates", Branding)
        },
        "api/v2/email-templates/{v}",
        Listing::Singleton,
        "read:email_templates",
    )
};

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
    "api/v2/log-streams",
    Listing::Array { member: "" },
    "read:log_streams",
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
        "api/v2/attack-protection/breached-password-detection",
        Listing::Singleton,
        "read:attack_protection",
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
        "api/v2/attack-protection/brute-force-protection",
        Listing::Singleton,
        "read:attack_protection",
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
        "api/v2/attack-protection/suspicious-ip-throttling",
        Listing::Singleton,
        "read:attack_protection",
    )
};

/// Guardian (MFA) factors.
pub static GUARDIAN_FACTOR: Auth0Kind = Auth0Kind {
    id_field: "name",
    write: Write::PutItem,
    ..row(
        KindSpec {
            natural_key: &["/name"],
            volatile_fields: &["/trial_expired"],
            restore: RestoreSupport::UpdateOnly,
            ..KindSpec::new("auth0.guardian_factor", "MFA factors", Security)
        },
        "api/v2/guardian/factors",
        Listing::Array { member: "" },
        "read:guardian_factors",
    )
};

/// Guardian (MFA) policies: when MFA is required.
pub static GUARDIAN_POLICY: Auth0Kind = Auth0Kind {
    write: Write::PutSingleton,
    ..row(
        singleton("auth0.guardian_policy", "MFA policies", Security),
        "api/v2/guardian/policies",
        Listing::ArrayAsObject { member: "policies" },
        "read:mfa_policies",
    )
};

/// Signing keys: metadata only (key ids, state, thumbprints; no certificates).
pub static SIGNING_KEY: Auth0Kind = Auth0Kind {
    id_field: "kid",
    drop: &["cert", "pkcs7"],
    write: Write::None,
    ..row(
        KindSpec {
            volatile_fields: &["/current_since", "/current_until", "/revoked_at"],
            restore: RestoreSupport::None {
                reason: "signing keys are generated by Auth0: rotate them instead",
            },
            ..KindSpec::new("auth0.signing_key", "Signing keys", Security)
        },
        "api/v2/keys/signing",
        Listing::Array { member: "" },
        "read:signing_keys",
    )
};

/// Tenant network ACLs.
pub static NETWORK_ACL: Auth0Kind = row(
    KindSpec {
        natural_key: &["/description"],
        ..spec("auth0.network_acl", "Network ACLs", Security)
    },
    "api/v2/network-acls",
    pages("network_acls"),
    "read:network_acls",
);

/// Forms (read one by one: the listing holds summaries).
pub static FORM: Auth0Kind = Auth0Kind {
    detail: true,
    ..row(
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
        "api/v2/forms",
        pages("forms"),
        "read:forms",
    )
};

/// Flows (read one by one: the listing holds summaries).
pub static FLOW: Auth0Kind = Auth0Kind {
    detail: true,
    ..row(
        KindSpec {
            volatile_fields: &["/created_at", "/updated_at", "/executed_at"],
            ..named("auth0.flow", "Flows", Integration)
        },
        "api/v2/flows",
        pages("flows"),
        "read:flows",
    )
};

/// Self-service SSO profiles.
pub static SELF_SERVICE_PROFILE: Auth0Kind = row(
    named(
        "auth0.self_service_profile",
        "Self-service SSO profiles",
        Directory,
    ),
    "api/v2/self-service-profiles",
    pages("self_service_profiles"),
    "read:self_service_profiles",
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
    "api/v2/event-streams",
    checkpoint("eventStreams"),
    "read:event_streams",
);

macro_rules! table {
    ($($row:ident),* $(,)?) => {
        /// Every Auth0 row, in table order.
        pub static ROWS: &[&Auth0Kind] = &[$(&$row),*];
        static KINDS: &[KindRef] = &[$(&$row),*];
    };
}

table![
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
];

/// Every Auth0 kind, as core descriptors.
pub fn all() -> &'static [KindRef] {
    KINDS
}

/// The row of a kind id.
pub fn row_of(id: &str) -> Option<&'static Auth0Kind> {
    ROWS.iter().copied().find(|r| r.spec.id == id)
}

/// Percent-encodes one path segment (user ids hold `|`, identifiers hold `/` and `:`).
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path of a row under a parent id and for a `per_value` value.
pub fn list_path(row: &Auth0Kind, parent_id: Option<&str>, value: Option<&str>) -> String {
    let mut path = row.path.to_string();
    if let Some(parent) = parent_id {
        for (i, part) in parent.split('/').enumerate() {
            path = path.replace(&format!("{{{i}}}"), &encode(part));
        }
    }
    if let Some(v) = value {
        path = path.replace("{v}", &encode(v));
    }
    path
}

/// The id of an item by the row's id field.
pub fn item_id(row: &Auth0Kind, item: &Value) -> Option<String> {
    item.get(row.id_field)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The items of one answer of a kind: from `member` of an object, or a bare array; a
/// singleton is its one object.
pub fn items_of<'v>(row: &Auth0Kind, body: &'v Value) -> Result<Vec<&'v Value>> {
    let member = match row.listing {
        Listing::Pages { member, .. }
        | Listing::Checkpoint { member, .. }
        | Listing::Array { member } => member,
        Listing::Users => "users",
        Listing::Bindings => "bindings",
        Listing::Singleton | Listing::ArrayAsObject { .. } => return Ok(vec![body]),
    };
    match body {
        Value::Array(items) => Ok(items.iter().collect()),
        Value::Object(map) if !member.is_empty() => map
            .get(member)
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .ok_or_else(|| {
                Error::invalid_data(format!(
                    "{}: expected an array or an object with a {member:?} array",
                    row.spec.id
                ))
            }),
        _ => Err(Error::invalid_data(format!(
            "{}: expected a JSON array",
            row.spec.id
        ))),
    }
}

/// Parses one answer of a kind into resources. This is the one parsing path of the client,
/// used by backups and by the fidelity test over the recorded cassettes. `value` is the
/// `per_value` value the answer is for.
pub fn parse_page(
    row: &Auth0Kind,
    parent_id: Option<&str>,
    value: Option<&str>,
    body: &Value,
) -> Result<Vec<Resource>> {
    let wrapped;
    let body = match row.listing {
        Listing::ArrayAsObject { member } => {
            if !body.is_array() {
                return Err(Error::invalid_data(format!(
                    "{}: expected a JSON array",
                    row.spec.id
                )));
            }
            wrapped = json!({ member: body });
            &wrapped
        }
        _ => body,
    };
    let mut out = Vec::new();
    for item in items_of(row, body)? {
        let Some(map) = item.as_object() else {
            return Err(Error::invalid_data(format!(
                "{}: an item is not a JSON object",
                row.spec.id
            )));
        };
        if row.skip_empty && map.is_empty() {
            continue;
        }
        // Only directly assigned permissions: role-given ones come back with the role.
        if row.spec.id == "auth0.user_permission"
            && let Some(sources) = item.get("sources").and_then(Value::as_array)
            && !sources.iter().any(|s| s["source_type"] == "DIRECT")
        {
            continue;
        }
        let singleton_id = || match value {
            Some(v) => v.to_string(),
            None => row
                .spec
                .id
                .rsplit('.')
                .next()
                .unwrap_or("singleton")
                .to_string(),
        };
        let own = match (row.listing, row.id_field) {
            (Listing::Singleton | Listing::ArrayAsObject { .. }, "id") => Some(singleton_id()),
            (Listing::Singleton, field) => item
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| Some(singleton_id())),
            _ if row.spec.natural_key.len() == 2 && row.id_field == "permission_name" => {
                match (
                    item.get("resource_server_identifier")
                        .and_then(Value::as_str),
                    item.get("permission_name").and_then(Value::as_str),
                ) {
                    (Some(a), Some(p)) => Some(format!("{a}|{p}")),
                    _ => None,
                }
            }
            _ => item_id(row, item),
        }
        .ok_or_else(|| {
            Error::invalid_data(format!(
                "{}: an item has no {:?}",
                row.spec.id, row.id_field
            ))
        })?;
        let mut body = item.clone();
        if let Some(map) = body.as_object_mut() {
            if !row.keep_only.is_empty() {
                map.retain(|k, _| row.keep_only.contains(&k.as_str()));
            }
            for d in row.drop {
                map.remove(*d);
            }
        }
        let (id, parent) = match (row.group_by, parent_id) {
            (Some(field), _) => {
                let p = item.get(field).and_then(Value::as_str).ok_or_else(|| {
                    Error::invalid_data(format!("{}: an item has no {field:?}", row.spec.id))
                })?;
                (format!("{p}/{own}"), Some(p.to_string()))
            }
            (None, Some(p)) => (format!("{p}/{own}"), Some(p.to_string())),
            (None, None) => (own, None),
        };
        out.push(Resource::new(row, id, parent, body));
    }
    Ok(out)
}

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
                .all(|r| !r.path.starts_with("api/v2/users/{0}/roles"))
        );
        assert_eq!(ROLE_MEMBER.path, "api/v2/roles/{0}/users");
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
                    row.path.contains("{0}") || row.group_by.is_some(),
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
            assert!(row.scope.starts_with("read:"), "{}", row.spec.id);
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
        let list = parse_page(&USER_PERMISSION, Some("auth0|1"), None, &page).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, "auth0|1/https://api/|read:x");
        assert!(list[0].body.get("description").is_none());
        assert_eq!(
            list_path(&ORGANIZATION_MEMBER_ROLE, Some("org_1/auth0|2"), None),
            "api/v2/organizations/org_1/members/auth0%7C2/roles"
        );
        let grants =
            json!([{"id": "cgr_1", "client_id": "c1", "audience": "https://a/", "scope": []}]);
        let g = parse_page(&CLIENT_GRANT, None, None, &grants).unwrap();
        assert_eq!(g[0].parent_id.as_deref(), Some("c1"));
        assert_eq!(g[0].id, "c1/cgr_1");
        let pol = parse_page(&GUARDIAN_POLICY, None, None, &json!(["all-applications"])).unwrap();
        assert_eq!(*pol[0].body, json!({"policies": ["all-applications"]}));
        assert!(parse_page(&CLIENT, None, None, &json!({"nope": 1})).is_err());
        assert!(parse_page(&CLIENT, None, None, &json!([1])).is_err());
    }
}
