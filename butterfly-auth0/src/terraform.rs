//! The Auth0 Terraform table: which `auth0/auth0` resource each kind becomes.
//!
//! Read by [`butterfly_terraform::export()`]. Kinds with no resource are in [`MAPPING`]'s
//! `not_exported` list with the reason; fields a row leaves out are in its `dropped` list.

use butterfly_core::{KindRef, Resource};
use butterfly_terraform::{Attr, Dropped, ImportId, KindMapping, NotExported, ProviderMapping, To};
use serde_json::Value;

const fn v(name: &'static str, pointer: &'static str) -> Attr {
    Attr::value(name, pointer)
}

const fn drop(pointer: &'static str, reason: &'static str) -> Dropped {
    Dropped { pointer, reason }
}

fn kinds() -> &'static [KindRef] {
    crate::kinds::all()
}

fn flag(resource: &Resource, field: &str) -> bool {
    resource.body.get(field).and_then(Value::as_bool) == Some(true)
}

/// Auth0's table.
pub static MAPPING: ProviderMapping = ProviderMapping {
    provider: "auth0",
    local_name: "auth0",
    source: "auth0/auth0",
    version: "~> 1.0",
    env: &[
        ("AUTH0_DOMAIN", "the tenant domain (acme.eu.auth0.com)"),
        (
            "AUTH0_CLIENT_ID",
            "a Management API machine-to-machine client",
        ),
        ("AUTH0_CLIENT_SECRET", "its secret (or AUTH0_API_TOKEN)"),
    ],
    reference_attribute: "id",
    kinds,
    mappings: MAPPINGS,
    not_exported: NOT_EXPORTED,
    ignored: &[
        drop("/id", "assigned by Auth0; the import block carries it"),
        drop("/created_at", "timestamp set by Auth0"),
        drop("/updated_at", "timestamp set by Auth0"),
    ],
};

const MAPPINGS: &[KindMapping] = &[
    KindMapping {
        import_id: ImportId::Template("{/trigger_id}"),
        skip: Some(|r, _| {
            r.body
                .get("bindings")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
                .then_some("no action is bound to this trigger: nothing to manage")
        }),
        ..KindMapping::new(
            "auth0.action_binding",
            "auth0_trigger_actions",
            &[
                v("trigger", "/trigger_id"),
                v("actions", "/bindings").to(To::Blocks(&[
                    v("id", "/action/id").to(To::Ref("auth0.action")),
                    v("display_name", "/display_name"),
                ])),
            ],
        )
    },
    KindMapping {
        per_parent: true,
        import_id: ImportId::Template("{parent}"),
        ..KindMapping::new(
            "auth0.connection_client",
            "auth0_connection_clients",
            &[
                v("connection_id", "").to(To::ParentRef("auth0.connection")),
                v("enabled_clients", "/client_id").to(To::Collect("auth0.client")),
            ],
        )
    },
    KindMapping {
        skip: Some(|r, _| {
            flag(r, "global").then_some("the tenant's global client (All Applications) is built in")
        }),
        import_id: ImportId::Template("{/client_id}"),
        dropped: &[
            drop(
                "/client_secret",
                "auth0_client has no secret argument: auth0_client_credentials manages it",
            ),
            drop("/client_id", "assigned by Auth0; the import id"),
            drop("/tenant", "set by Auth0"),
            drop("/global", "only non-global clients are exported"),
        ],
        ..KindMapping::new(
            "auth0.client",
            "auth0_client",
            &[
                v("name", "/name"),
                v("description", "/description"),
                v("app_type", "/app_type"),
                v("callbacks", "/callbacks"),
                v("allowed_origins", "/allowed_origins"),
                v("web_origins", "/web_origins"),
                v("allowed_logout_urls", "/allowed_logout_urls"),
                v("grant_types", "/grant_types"),
                v("is_first_party", "/is_first_party"),
                v("oidc_conformant", "/oidc_conformant"),
                v("cross_origin_auth", "/cross_origin_authentication"),
                v("custom_login_page_on", "/custom_login_page_on"),
                v("sso_disabled", "/sso_disabled"),
                v("organization_usage", "/organization_usage"),
                v("initiate_login_uri", "/initiate_login_uri"),
                v("logo_uri", "/logo_uri"),
                v("client_metadata", "/client_metadata"),
                v("jwt_configuration", "/jwt_configuration").to(To::Block(&[
                    v("alg", "/alg"),
                    v("lifetime_in_seconds", "/lifetime_in_seconds"),
                    v("secret_encoded", "/secret_encoded"),
                ])),
                v("refresh_token", "/refresh_token").to(To::Block(&[
                    v("expiration_type", "/expiration_type"),
                    v("rotation_type", "/rotation_type"),
                    v("leeway", "/leeway"),
                    v("token_lifetime", "/token_lifetime"),
                    v("idle_token_lifetime", "/idle_token_lifetime"),
                    v(
                        "infinite_idle_token_lifetime",
                        "/infinite_idle_token_lifetime",
                    ),
                    v("infinite_token_lifetime", "/infinite_token_lifetime"),
                ])),
            ],
        )
    },
    KindMapping {
        dropped: &[drop(
            "/options",
            "connection options are strategy-specific and not mapped yet; set them in the options block",
        )],
        ..KindMapping::new(
            "auth0.connection",
            "auth0_connection",
            &[
                v("name", "/name"),
                v("strategy", "/strategy"),
                v("display_name", "/display_name"),
                v("is_domain_connection", "/is_domain_connection"),
                v("realms", "/realms"),
                v("show_as_button", "/show_as_button"),
                v("metadata", "/metadata"),
            ],
        )
    },
    KindMapping {
        skip: Some(|r, _| {
            flag(r, "is_system").then_some("the Auth0 Management API is a system API: built in")
        }),
        ..KindMapping::new(
            "auth0.resource_server",
            "auth0_resource_server",
            &[
                v("identifier", "/identifier"),
                v("name", "/name"),
                v("signing_alg", "/signing_alg"),
                v("signing_secret", "/signing_secret"),
                v("allow_offline_access", "/allow_offline_access"),
                v("enforce_policies", "/enforce_policies"),
                v("token_dialect", "/token_dialect"),
                v("token_lifetime", "/token_lifetime"),
                v("token_lifetime_for_web", "/token_lifetime_for_web"),
                v(
                    "skip_consent_for_verifiable_first_party_clients",
                    "/skip_consent_for_verifiable_first_party_clients",
                ),
            ],
        )
    },
    KindMapping::new(
        "auth0.role",
        "auth0_role",
        &[v("name", "/name"), v("description", "/description")],
    ),
    KindMapping {
        import_id: ImportId::Template("{parent}"),
        per_parent: true,
        ..KindMapping::new(
            "auth0.role_permission",
            "auth0_role_permissions",
            &[
                v("role_id", "").to(To::ParentRef("auth0.role")),
                v("permissions", "").to(To::CollectBlocks(&[
                    v("name", "/permission_name"),
                    v("resource_server_identifier", "/resource_server_identifier"),
                ])),
            ],
        )
    },
    KindMapping::new(
        "auth0.action",
        "auth0_action",
        &[
            v("name", "/name"),
            v("code", "/code"),
            v("runtime", "/runtime"),
            v("supported_triggers", "/supported_triggers")
                .to(To::Blocks(&[v("id", "/id"), v("version", "/version")])),
            v("dependencies", "/dependencies")
                .to(To::Blocks(&[v("name", "/name"), v("version", "/version")])),
        ],
    ),
    KindMapping::new(
        "auth0.organization",
        "auth0_organization",
        &[
            v("name", "/name"),
            v("display_name", "/display_name"),
            v("metadata", "/metadata"),
            v("branding", "/branding").to(To::Block(&[
                v("logo_url", "/logo_url"),
                v("colors", "/colors"),
            ])),
        ],
    ),
    KindMapping {
        import_id: ImportId::Template("{parent}:{/connection_id}"),
        ..KindMapping::new(
            "auth0.organization_connection",
            "auth0_organization_connection",
            &[
                v("organization_id", "").to(To::ParentRef("auth0.organization")),
                v("connection_id", "/connection_id").to(To::Ref("auth0.connection")),
                v("assign_membership_on_login", "/assign_membership_on_login"),
                v("is_signup_enabled", "/is_signup_enabled"),
                v("show_as_button", "/show_as_button"),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{leaf}"),
        ..KindMapping::new(
            "auth0.client_grant",
            "auth0_client_grant",
            &[
                v("client_id", "/client_id"),
                v("audience", "/audience"),
                v("scopes", "/scope"),
                v("subject_type", "/subject_type"),
            ],
        )
    },
    KindMapping::new(
        "auth0.rule",
        "auth0_rule",
        &[
            v("name", "/name"),
            v("script", "/script"),
            v("enabled", "/enabled"),
            v("order", "/order"),
        ],
    ),
    KindMapping {
        import_id: ImportId::Template("{/custom_domain_id}"),
        ..KindMapping::new(
            "auth0.custom_domain",
            "auth0_custom_domain",
            &[
                v("domain", "/domain"),
                v("type", "/type"),
                v("tls_policy", "/tls_policy"),
            ],
        )
    },
    KindMapping::new(
        "auth0.email_template",
        "auth0_email_template",
        &[
            v("template", "/template"),
            v("body", "/body"),
            v("from", "/from"),
            v("subject", "/subject"),
            v("syntax", "/syntax"),
            v("enabled", "/enabled"),
            v("result_url", "/resultUrl"),
            v("url_lifetime_in_seconds", "/urlLifetimeInSeconds"),
            v("include_email_in_redirect", "/includeEmailInRedirect"),
        ],
    ),
    KindMapping::new(
        "auth0.user",
        "auth0_user",
        &[
            v("connection_name", "/identities/0/connection"),
            v("user_id", "/user_id"),
            v("email", "/email"),
            v("email_verified", "/email_verified"),
            v("username", "/username"),
            v("name", "/name"),
            v("given_name", "/given_name"),
            v("family_name", "/family_name"),
            v("nickname", "/nickname"),
            v("picture", "/picture"),
            v("blocked", "/blocked"),
            v("user_metadata", "/user_metadata").to(To::Json),
            v("app_metadata", "/app_metadata").to(To::Json),
        ],
    ),
];

const NOT_EXPORTED: &[NotExported] = &[
    NotExported {
        kind: "auth0.hook",
        reason: "hooks are deprecated by Auth0 (replaced by actions); not exported",
    },
    NotExported {
        kind: "auth0.hook_secret",
        reason: "hook secrets: hooks are not exported",
    },
    NotExported {
        kind: "auth0.signing_key",
        reason: "signing keys are generated and rotated by Auth0; no auth0/auth0 resource",
    },
    NotExported {
        kind: "auth0.organization_invitation",
        reason: "invitations are runtime records, not configuration",
    },
    NotExported {
        kind: "auth0.log_stream",
        reason: "auth0_log_stream's sink block is not mapped yet",
    },
];
