//! The PingOne Terraform table: which `pingidentity/pingone` resource each kind becomes.
//!
//! Read by [`butterfly_terraform::export()`]. Every resource takes the environment id, the
//! snapshot's tenant. Kinds with no resource are in [`MAPPING`]'s `not_exported` list with
//! the reason; fields a row leaves out are in its `dropped` list.

use butterfly_core::{KindRef, Resource};
use butterfly_terraform::{
    Attr, Dropped, ImportId, KindMapping, NotExported, ProviderMapping, ResourceType, To,
};
use serde_json::Value;

const fn v(name: &'static str, pointer: &'static str) -> Attr {
    Attr::value(name, pointer)
}

const fn drop(pointer: &'static str, reason: &'static str) -> Dropped {
    Dropped { pointer, reason }
}

const ENV: Attr = v("environment_id", "").to(To::Tenant);

fn kinds() -> &'static [KindRef] {
    crate::kinds::all()
}

fn is(body: &Value, field: &str, value: &str) -> bool {
    body.get(field).and_then(Value::as_str) == Some(value)
}

fn flag(resource: &Resource, field: &str) -> bool {
    resource.body.get(field).and_then(Value::as_bool) == Some(true)
}

fn population_type(body: &Value) -> Result<&'static str, &'static str> {
    Ok(
        if body.get("default").and_then(Value::as_bool) == Some(true) {
            "pingone_population_default"
        } else {
            "pingone_population"
        },
    )
}

/// PingOne's table.
pub static MAPPING: ProviderMapping = ProviderMapping {
    provider: "ping",
    local_name: "pingone",
    source: "pingidentity/pingone",
    version: "~> 1.0",
    env: &[
        ("PINGONE_CLIENT_ID", "a worker application's client id"),
        ("PINGONE_CLIENT_SECRET", "its secret"),
        (
            "PINGONE_ENVIRONMENT_ID",
            "the environment the worker application is in",
        ),
        ("PINGONE_REGION_CODE", "AP, AU, CA, EU or NA"),
    ],
    reference_attribute: "id",
    kinds,
    mappings: MAPPINGS,
    not_exported: NOT_EXPORTED,
    ignored: &[
        drop("/id", "assigned by PingOne; the import block carries it"),
        drop("/createdAt", "timestamp set by PingOne"),
        drop("/updatedAt", "timestamp set by PingOne"),
    ],
};

const MAPPINGS: &[KindMapping] = &[
    KindMapping {
        resource_type: ResourceType::ByBody {
            types: &["pingone_population", "pingone_population_default"],
            choose: population_type,
        },
        import_id: ImportId::Template("{tenant}/{id}"),
        ..KindMapping::new(
            "ping.population",
            "pingone_population",
            &[
                ENV,
                v("name", "/name"),
                v("description", "/description"),
                v("password_policy", "/passwordPolicy").to(To::Object(&[
                    v("id", "/id").to(To::Ref("ping.password_policy"))
                ])),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        ..KindMapping::new(
            "ping.group",
            "pingone_group",
            &[
                ENV,
                v("name", "/name"),
                v("description", "/description"),
                v("population_id", "/population/id").to(To::Ref("ping.population")),
                v("user_filter", "/userFilter"),
                v("external_id", "/externalId"),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        dropped: &[
            drop("/account", "account status is set by PingOne (lockouts)"),
            drop("/lifecycle", "lifecycle status is set by PingOne"),
            drop("/emailVerified", "set when the user verifies the address"),
        ],
        ..KindMapping::new(
            "ping.user",
            "pingone_user",
            &[
                ENV,
                v("username", "/username"),
                v("email", "/email"),
                v("population_id", "/population/id").to(To::Ref("ping.population")),
                v("enabled", "/enabled"),
                v("mfa_enabled", "/mfaEnabled"),
                v("title", "/title"),
                v("nickname", "/nickname"),
                v("locale", "/locale"),
                v("timezone", "/timezone"),
                v("mobile_phone", "/mobilePhone"),
                v("primary_phone", "/primaryPhone"),
                v("name", "/name").to(To::Object(&[
                    v("given", "/given"),
                    v("family", "/family"),
                    v("middle", "/middle"),
                    v("formatted", "/formatted"),
                ])),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{parent}/{leaf}"),
        ..KindMapping::new(
            "ping.group_membership",
            "pingone_user_group_assignment",
            &[
                ENV,
                v("user_id", "").to(To::ParentRef("ping.user")),
                v("group_id", "/id").to(To::Ref("ping.group")),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        dropped: &[
            drop(
                "/clientSecret",
                "pingone_application_secret reads the secret; it is never exported",
            ),
            drop("/protocol", "chooses oidc_options or saml_options"),
        ],
        ..KindMapping::new(
            "ping.application",
            "pingone_application",
            &[
                ENV,
                v("name", "/name"),
                v("description", "/description"),
                v("enabled", "/enabled"),
                v("oidc_options", "")
                    .to(To::Object(&[
                        v("type", "/type"),
                        v("grant_types", "/grantTypes"),
                        v("response_types", "/responseTypes"),
                        v("redirect_uris", "/redirectUris"),
                        v("post_logout_redirect_uris", "/postLogoutRedirectUris"),
                        v("token_endpoint_auth_method", "/tokenEndpointAuthMethod"),
                        v("pkce_enforcement", "/pkceEnforcement"),
                        v("home_page_url", "/homePageUrl"),
                        v("refresh_token_duration", "/refreshTokenDuration"),
                        v(
                            "refresh_token_rolling_duration",
                            "/refreshTokenRollingDuration",
                        ),
                    ]))
                    .when(|b| is(b, "protocol", "OPENID_CONNECT")),
                v("saml_options", "")
                    .to(To::Object(&[
                        v("type", "/type"),
                        v("acs_urls", "/acsUrls"),
                        v("sp_entity_id", "/spEntityId"),
                        v("assertion_duration", "/assertionDuration"),
                        v("assertion_signed_enabled", "/assertionSigned"),
                        v("response_is_signed", "/responseSigned"),
                        v("nameid_format", "/nameIdFormat"),
                        v("slo_binding", "/sloBinding"),
                        v("home_page_url", "/homePageUrl"),
                    ]))
                    .when(|b| is(b, "protocol", "SAML")),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{parent}/{leaf}"),
        ..KindMapping::new(
            "ping.application_sign_on_policy_assignment",
            "pingone_application_sign_on_policy_assignment",
            &[
                ENV,
                v("application_id", "").to(To::ParentRef("ping.application")),
                v("sign_on_policy_id", "/signOnPolicy/id").to(To::Ref("ping.sign_on_policy")),
                v("priority", "/priority"),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        ..KindMapping::new(
            "ping.password_policy",
            "pingone_password_policy",
            &[
                ENV,
                v("name", "/name"),
                v("description", "/description"),
                v("excludes_commonly_used_passwords", "/excludesCommonlyUsed"),
                v("excludes_profile_data", "/excludesProfileData"),
                v("not_similar_to_current", "/notSimilarToCurrent"),
                v("max_repeated_characters", "/maxRepeatedCharacters"),
                v("min_unique_characters", "/minUniqueCharacters"),
                v("password_age_max", "/maxAgeDays"),
                v("password_age_min", "/minAgeDays"),
                v("history", "/history").to(To::Object(&[
                    v("count", "/count"),
                    v("retention_days", "/retentionDays"),
                ])),
                v("length", "/length").to(To::Object(&[v("max", "/max"), v("min", "/min")])),
                v("lockout", "/lockout").to(To::Object(&[
                    v("duration_seconds", "/durationSeconds"),
                    v("failure_count", "/failureCount"),
                ])),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        skip: Some(|r, _| {
            (!is(&r.body, "type", "CUSTOM"))
                .then_some("PingOne's built-in resource (PingOne API, openid): not managed by pingone_resource")
        }),
        ..KindMapping::new(
            "ping.resource",
            "pingone_resource",
            &[
                ENV,
                v("name", "/name"),
                v("description", "/description"),
                v("audience", "/audience"),
                v(
                    "access_token_validity_seconds",
                    "/accessTokenValiditySeconds",
                ),
                v(
                    "introspect_endpoint_auth_method",
                    "/introspectEndpointAuthMethod",
                ),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{parent}/{leaf}"),
        requires_parent: true,
        ..KindMapping::new(
            "ping.resource_scope",
            "pingone_resource_scope",
            &[
                ENV,
                v("resource_id", "").to(To::ParentRef("ping.resource")),
                v("name", "/name"),
                v("description", "/description"),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        ..KindMapping::new(
            "ping.sign_on_policy",
            "pingone_sign_on_policy",
            &[ENV, v("name", "/name"), v("description", "/description")],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        ..KindMapping::new(
            "ping.agreement",
            "pingone_agreement",
            &[
                ENV,
                v("name", "/name"),
                v("description", "/description"),
                v("reconsent_period_days", "/reconsentPeriodDays"),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        ..KindMapping::new(
            "ping.custom_domain",
            "pingone_custom_domain",
            &[ENV, v("domain_name", "/domainName")],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        skip: Some(|r, _| {
            (!flag(r, "customerAdded")).then_some(
                "a language PingOne ships: pingone_language adds customer languages only",
            )
        }),
        ..KindMapping::new(
            "ping.language",
            "pingone_language",
            &[ENV, v("locale", "/locale")],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{tenant}/{id}"),
        dropped: &[drop(
            "/credentials",
            "gateway credentials: pingone_gateway_credential creates new ones",
        )],
        ..KindMapping::new(
            "ping.gateway",
            "pingone_gateway",
            &[
                ENV,
                v("name", "/name"),
                v("description", "/description"),
                v("type", "/type"),
                v("enabled", "/enabled"),
            ],
        )
    },
];

const NOT_EXPORTED: &[NotExported] = &[
    NotExported {
        kind: "ping.environment",
        reason: "the environment itself: pingone_environment needs a license and region chosen at creation; export a fresh one by hand",
    },
    NotExported {
        kind: "ping.key",
        reason: "private keys cannot be exported; pingone_key would generate new ones",
    },
    NotExported {
        kind: "ping.certificate",
        reason: "certificates are uploaded files, not in the backup's reach",
    },
    NotExported {
        kind: "ping.agreement_language",
        reason: "pingone_agreement_localization is not mapped yet",
    },
    NotExported {
        kind: "ping.api_server",
        reason: "pingone_authorize_api_service is not mapped yet",
    },
    NotExported {
        kind: "ping.application_attribute",
        reason: "pingone_application_attribute_mapping is not mapped yet",
    },
    NotExported {
        kind: "ping.application_grant",
        reason: "pingone_application_resource_grant is not mapped yet",
    },
    NotExported {
        kind: "ping.application_resource",
        reason: "pingone_application_resource is not mapped yet",
    },
    NotExported {
        kind: "ping.application_resource_permission",
        reason: "pingone_application_resource_permission is not mapped yet",
    },
    NotExported {
        kind: "ping.application_role",
        reason: "pingone_authorize_application_role is not mapped yet",
    },
    NotExported {
        kind: "ping.application_role_assignment",
        reason: "pingone_application_role_assignment is not mapped yet",
    },
    NotExported {
        kind: "ping.application_role_permission",
        reason: "pingone_authorize_application_role_permission is not mapped yet",
    },
    NotExported {
        kind: "ping.branding_settings",
        reason: "pingone_branding_settings is not mapped yet",
    },
    NotExported {
        kind: "ping.email_domain",
        reason: "pingone_trusted_email_domain is not mapped yet",
    },
    NotExported {
        kind: "ping.fido2_policy",
        reason: "pingone_mfa_fido2_policy is not mapped yet",
    },
    NotExported {
        kind: "ping.group_nesting",
        reason: "pingone_group_nesting is not mapped yet",
    },
    NotExported {
        kind: "ping.identity_provider",
        reason: "pingone_identity_provider is not mapped yet (per-protocol nested attributes and a client secret)",
    },
    NotExported {
        kind: "ping.identity_provider_attribute",
        reason: "pingone_identity_provider_attribute is not mapped yet",
    },
    NotExported {
        kind: "ping.mfa_device_policy",
        reason: "pingone_mfa_device_policy is not mapped yet",
    },
    NotExported {
        kind: "ping.mfa_settings",
        reason: "pingone_mfa_settings is not mapped yet",
    },
    NotExported {
        kind: "ping.notification_policy",
        reason: "pingone_notification_policy is not mapped yet",
    },
    NotExported {
        kind: "ping.notification_template",
        reason: "templates are PingOne's own; their contents are the notification_template_content kind",
    },
    NotExported {
        kind: "ping.notification_template_content",
        reason: "pingone_notification_template_content is not mapped yet",
    },
    NotExported {
        kind: "ping.resource_attribute",
        reason: "pingone_resource_attribute is not mapped yet",
    },
    NotExported {
        kind: "ping.risk_policy_set",
        reason: "pingone_risk_policy is not mapped yet",
    },
    NotExported {
        kind: "ping.risk_predictor",
        reason: "pingone_risk_predictor is not mapped yet",
    },
    NotExported {
        kind: "ping.schema",
        reason: "the user schema is PingOne's own; its custom attributes are the schema_attribute kind",
    },
    NotExported {
        kind: "ping.schema_attribute",
        reason: "pingone_schema_attribute is not mapped yet",
    },
    NotExported {
        kind: "ping.sign_on_policy_action",
        reason: "pingone_sign_on_policy_action is not mapped yet",
    },
    NotExported {
        kind: "ping.theme",
        reason: "pingone_branding_theme is not mapped yet",
    },
    NotExported {
        kind: "ping.user_role_assignment",
        reason: "pingone_role_assignment_user is not mapped yet",
    },
];
