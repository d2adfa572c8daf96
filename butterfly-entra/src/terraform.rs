//! The Entra ID Terraform table: which `hashicorp/azuread` resource each kind becomes.
//!
//! Read by [`butterfly_terraform::export()`]. Kinds with no resource are in [`MAPPING`]'s
//! `not_exported` list with the reason; fields a row leaves out are in its `dropped` list.
//! References use `object_id`, the attribute azuread resources expose for directory objects.

use butterfly_core::KindRef;
use butterfly_terraform::{
    Attr, ConstValue, Dropped, ImportId, KindMapping, NotExported, ProviderMapping, To,
};
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

/// Microsoft's own tenant: service principals of first-party apps belong to it.
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// Entra ID's table.
pub static MAPPING: ProviderMapping = ProviderMapping {
    provider: "entra",
    local_name: "azuread",
    source: "hashicorp/azuread",
    version: "~> 3.0",
    env: &[
        ("ARM_TENANT_ID", "the directory (tenant) id"),
        (
            "ARM_CLIENT_ID",
            "an app registration with the Graph permissions the resources need",
        ),
        (
            "ARM_CLIENT_SECRET",
            "its client secret (or ARM_CLIENT_CERTIFICATE_PATH, or OIDC)",
        ),
    ],
    reference_attribute: "object_id",
    kinds,
    mappings: MAPPINGS,
    not_exported: NOT_EXPORTED,
    ignored: &[
        drop("/id", "assigned by Entra; the import block carries it"),
        drop("/createdDateTime", "timestamp set by Entra"),
        drop("/modifiedDateTime", "timestamp set by Entra"),
        drop("/deletedDateTime", "timestamp set by Entra"),
    ],
};

const MAPPINGS: &[KindMapping] = &[
    KindMapping {
        import_id: ImportId::Template("/servicePrincipals/{parent}/appRoleAssignedTo/{leaf}"),
        dropped: &[
            drop("/principalDisplayName", "read back from the principal"),
            drop("/resourceDisplayName", "read back from the resource"),
            drop("/principalType", "follows from the principal"),
        ],
        ..KindMapping::new(
            "entra.app_role_assignment",
            "azuread_app_role_assignment",
            &[
                v("app_role_id", "/appRoleId"),
                v("principal_object_id", "/principal/user").to(To::Ref("entra.user")),
                v("principal_object_id", "/principal/group").to(To::Ref("entra.group")),
                v("principal_object_id", "/principal/servicePrincipal")
                    .to(To::Ref("entra.service_principal")),
                v("resource_object_id", "/resourceId").to(To::Ref("entra.service_principal")),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("/users/{id}"),
        dropped: &[
            drop(
                "/identities",
                "sign-in identities: azuread_user manages the UPN only",
            ),
            drop("/creationType", "read-only"),
            drop("/externalUserState", "read-only"),
            drop("/proxyAddresses", "read-only"),
            drop("/userType", "read-only in azuread_user"),
            drop("/onPremisesSyncEnabled", "read-only"),
            drop(
                "/passwordPolicies",
                "mapped as disable_password_expiration / disable_strong_password only when set",
            ),
        ],
        ..KindMapping::new(
            "entra.user",
            "azuread_user",
            &[
                v("user_principal_name", "/userPrincipalName"),
                v("display_name", "/displayName"),
                v("given_name", "/givenName"),
                v("surname", "/surname"),
                v("mail_nickname", "/mailNickname"),
                v("mail", "/mail"),
                v("account_enabled", "/accountEnabled"),
                v("job_title", "/jobTitle"),
                v("department", "/department"),
                v("company_name", "/companyName"),
                v("office_location", "/officeLocation"),
                v("city", "/city"),
                v("country", "/country"),
                v("mobile_phone", "/mobilePhone"),
                v("business_phones", "/businessPhones"),
                v("usage_location", "/usageLocation"),
                v("preferred_language", "/preferredLanguage"),
                v("employee_id", "/employeeId"),
                v("age_group", "/ageGroup"),
                v("onpremises_immutable_id", "/onPremisesImmutableId"),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("/groups/{id}"),
        dropped: &[
            drop(
                "/membershipRule",
                "dynamic membership rule: mapped as the dynamic_membership block",
            ),
            drop("/mail", "read-only"),
            drop("/proxyAddresses", "read-only"),
            drop("/securityIdentifier", "read-only"),
            drop("/renewedDateTime", "read-only"),
            drop("/expirationDateTime", "read-only"),
            drop("/classification", "not an azuread_group argument"),
            drop("/preferredDataLocation", "not an azuread_group argument"),
        ],
        ..KindMapping::new(
            "entra.group",
            "azuread_group",
            &[
                v("display_name", "/displayName"),
                v("description", "/description"),
                v("security_enabled", "/securityEnabled"),
                v("mail_enabled", "/mailEnabled"),
                v("mail_nickname", "/mailNickname"),
                v("types", "/groupTypes"),
                v("visibility", "/visibility"),
                v("assignable_to_role", "/isAssignableToRole"),
                v("theme", "/theme"),
                v("dynamic_membership", "").to(To::Block(&[
                    v("rule", "/membershipRule"),
                    v("enabled", "/membershipRule").to(To::Const(ConstValue::Bool(true))),
                ])),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("{parent}/member/{leaf}"),
        skip: Some(|_, group| {
            group
                .and_then(|g| g.body.get("membershipRule"))
                .is_some_and(|rule| rule.as_str().is_some_and(|r| !r.is_empty()))
                .then_some("member of a dynamic group: Entra computes the membership from the group's rule")
        }),
        ..KindMapping::new(
            "entra.group_member",
            "azuread_group_member",
            &[
                v("group_object_id", "").to(To::ParentRef("entra.group")),
                v("member_object_id", "").to(To::IdPartRef(1, "entra.user")),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("/applications/{id}"),
        dropped: &[
            drop("/appId", "the client id, assigned by Entra"),
            drop("/api", "the api block is not mapped yet"),
            drop(
                "/passwordCredentials",
                "client secrets cannot be exported; azuread_application_password creates new ones",
            ),
            drop("/keyCredentials", "certificates are not exported"),
        ],
        ..KindMapping::new(
            "entra.application",
            "azuread_application",
            &[
                v("display_name", "/displayName"),
                v("description", "/description"),
                v("sign_in_audience", "/signInAudience"),
                v("identifier_uris", "/identifierUris"),
                v("group_membership_claims", "/groupMembershipClaims"),
                v("notes", "/notes"),
                v("app_role", "/appRoles").to(To::Blocks(&[
                    v("id", "/id"),
                    v("allowed_member_types", "/allowedMemberTypes"),
                    v("description", "/description"),
                    v("display_name", "/displayName"),
                    v("enabled", "/isEnabled"),
                    v("value", "/value"),
                ])),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("/servicePrincipals/{id}"),
        skip: Some(|r, _| {
            (r.body.get("appOwnerOrganizationId").and_then(Value::as_str) == Some(MICROSOFT_TENANT))
                .then_some("service principal of a Microsoft first-party app: created by Microsoft")
        }),
        ..KindMapping::new(
            "entra.service_principal",
            "azuread_service_principal",
            &[
                v("client_id", "/appId"),
                v("account_enabled", "/accountEnabled"),
                v("app_role_assignment_required", "/appRoleAssignmentRequired"),
                v("description", "/description"),
                v("notes", "/notes"),
                v("login_url", "/loginUrl"),
                v(
                    "preferred_single_sign_on_mode",
                    "/preferredSingleSignOnMode",
                ),
                v("tags", "/tags"),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("/identity/conditionalAccess/namedLocations/{id}"),
        ..KindMapping::new(
            "entra.named_location",
            "azuread_named_location",
            &[
                v("display_name", "/displayName"),
                v("ip", "").to(To::Block(&[
                    v("ip_ranges", "/ipRanges").to(To::Pluck("cidrAddress")),
                    v("trusted", "/isTrusted"),
                ])),
                v("country", "").to(To::Block(&[
                    v("countries_and_regions", "/countriesAndRegions"),
                    v(
                        "include_unknown_countries_and_regions",
                        "/includeUnknownCountriesAndRegions",
                    ),
                ])),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("/identity/conditionalAccess/policies/{id}"),
        dropped: &[
            drop("/sessionControls", "session controls are not mapped yet"),
            drop("/conditions/platforms", "platforms are not mapped yet"),
            drop("/conditions/devices", "device filters are not mapped yet"),
        ],
        ..KindMapping::new(
            "entra.conditional_access_policy",
            "azuread_conditional_access_policy",
            &[
                v("display_name", "/displayName"),
                v("state", "/state"),
                v("conditions", "/conditions").to(To::Block(&[
                    v("client_app_types", "/clientAppTypes"),
                    v("sign_in_risk_levels", "/signInRiskLevels"),
                    v("user_risk_levels", "/userRiskLevels"),
                    v("applications", "/applications").to(To::Block(&[
                        v("included_applications", "/includeApplications"),
                        v("excluded_applications", "/excludeApplications"),
                        v("included_user_actions", "/includeUserActions"),
                    ])),
                    v("users", "/users").to(To::Block(&[
                        v("included_users", "/includeUsers").to(To::Ref("entra.user")),
                        v("excluded_users", "/excludeUsers").to(To::Ref("entra.user")),
                        v("included_groups", "/includeGroups").to(To::Ref("entra.group")),
                        v("excluded_groups", "/excludeGroups").to(To::Ref("entra.group")),
                        v("included_roles", "/includeRoles"),
                        v("excluded_roles", "/excludeRoles"),
                    ])),
                    v("locations", "/locations").to(To::Block(&[
                        v("included_locations", "/includeLocations")
                            .to(To::Ref("entra.named_location")),
                        v("excluded_locations", "/excludeLocations")
                            .to(To::Ref("entra.named_location")),
                    ])),
                ])),
                v("grant_controls", "/grantControls").to(To::Block(&[
                    v("operator", "/operator"),
                    v("built_in_controls", "/builtInControls"),
                    v(
                        "custom_authentication_factors",
                        "/customAuthenticationFactors",
                    ),
                    v("terms_of_use", "/termsOfUse"),
                    v(
                        "authentication_strength_policy_id",
                        "/authenticationStrength/id",
                    ),
                ])),
            ],
        )
    },
    KindMapping {
        import_id: ImportId::Template("/directory/administrativeUnits/{id}"),
        ..KindMapping::new(
            "entra.administrative_unit",
            "azuread_administrative_unit",
            &[
                v("display_name", "/displayName"),
                v("description", "/description"),
                v("hidden_membership_enabled", "/visibility").to(To::Equals("HiddenMembership")),
            ],
        )
    },
];

const NOT_EXPORTED: &[NotExported] = &[
    NotExported {
        kind: "entra.administrative_unit_member",
        reason: "azuread_administrative_unit_member is not mapped yet",
    },
    NotExported {
        kind: "entra.application_owner",
        reason: "application owners are not mapped yet (azuread_application owners)",
    },
    NotExported {
        kind: "entra.authentication_method_configuration",
        reason: "hashicorp/azuread has no authentication methods policy resource",
    },
    NotExported {
        kind: "entra.authentication_methods_policy",
        reason: "hashicorp/azuread has no authentication methods policy resource",
    },
    NotExported {
        kind: "entra.authentication_strength_policy",
        reason: "azuread_authentication_strength_policy is not mapped yet",
    },
    NotExported {
        kind: "entra.authorization_policy",
        reason: "hashicorp/azuread has no authorization policy resource",
    },
    NotExported {
        kind: "entra.cross_tenant_access_default",
        reason: "hashicorp/azuread has no cross-tenant access resource",
    },
    NotExported {
        kind: "entra.cross_tenant_access_partner",
        reason: "hashicorp/azuread has no cross-tenant access resource",
    },
    NotExported {
        kind: "entra.cross_tenant_access_policy",
        reason: "hashicorp/azuread has no cross-tenant access resource",
    },
    NotExported {
        kind: "entra.directory_role",
        reason: "directory roles are activated from built-in templates; azuread_directory_role is not mapped yet",
    },
    NotExported {
        kind: "entra.domain",
        reason: "hashicorp/azuread has no domain resource (domains are verified outside Terraform)",
    },
    NotExported {
        kind: "entra.federated_identity_credential",
        reason: "azuread_application_federated_identity_credential is not mapped yet",
    },
    NotExported {
        kind: "entra.group_owner",
        reason: "group owners are not mapped yet (azuread_group owners)",
    },
    NotExported {
        kind: "entra.identity_provider",
        reason: "hashicorp/azuread has no identity provider resource",
    },
    NotExported {
        kind: "entra.oauth2_permission_grant",
        reason: "azuread_service_principal_delegated_permission_grant is not mapped yet",
    },
    NotExported {
        kind: "entra.organization",
        reason: "the tenant itself: no hashicorp/azuread resource",
    },
    NotExported {
        kind: "entra.organizational_branding",
        reason: "hashicorp/azuread has no company branding resource",
    },
    NotExported {
        kind: "entra.role_assignment",
        reason: "azuread_directory_role_assignment is not mapped yet",
    },
    NotExported {
        kind: "entra.role_definition",
        reason: "azuread_custom_directory_role is not mapped yet",
    },
    NotExported {
        kind: "entra.role_eligibility_schedule",
        reason: "azuread_directory_role_eligibility_schedule_request is not mapped yet",
    },
    NotExported {
        kind: "entra.security_defaults",
        reason: "hashicorp/azuread has no security defaults resource",
    },
    NotExported {
        kind: "entra.token_issuance_policy",
        reason: "hashicorp/azuread has no token issuance policy resource",
    },
    NotExported {
        kind: "entra.token_lifetime_policy",
        reason: "hashicorp/azuread has no token lifetime policy resource",
    },
];
