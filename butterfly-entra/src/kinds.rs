//! The Entra kinds table: one row per kind.
//!
//! Each [`EntraKind`] row is a core kind table row plus the Graph columns:
//!
//! - the core descriptor ([`KindSpec`]: natural key, dependencies, secret, volatile and
//!   reference fields, restore support);
//! - how it is listed, as a core [`ListSpec`] read by the table engine
//!   ([`butterfly_core::table`]): the path under `/v1.0`, the application permission that
//!   reads it, items in an OData `value` array (or one object for singletons), pages by
//!   `@odata.nextLink`, `$top`, the id member, extra query pairs, what a 404 means and how
//!   items are shaped (OData annotations dropped, directory objects typed);
//! - the Graph columns: `$select`, how a restore writes it, the parent listing's `$expand`
//!   that reads it, and how `/delta` tracks it.
//!
//! Sub-resources (group members, application owners…) have a parent kind; their ids are
//! `{parent id}/{own id}`.
//!
//! Directory objects in mixed collections (members, owners) and polymorphic principals
//! (role assignments, app role assignments) are stored with a typed member —
//! `{"user": id}`, `{"group": id}`, `{"servicePrincipal": id}` — so each reference names
//! the right kind and restore can remap it.

use butterfly_core::kind::{
    ArrayKey, Category, KindSpec, ReferenceField, ResourceKind, RestoreSupport, SecretField,
};
use butterfly_core::resource::Reference;
use butterfly_core::table::{self, Items, ListSpec, Paging, TableKind};
use butterfly_core::{Error, Resource, Result};
use serde_json::{Map, Value, json};

/// How a restore writes a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST {path}` creates; `PATCH {path}/{id}` updates.
    PostPatch,
    /// `POST {path}` creates; nothing to update.
    PostOnly,
    /// `POST {path}/$ref` with `@odata.id` of the member.
    Ref,
    /// Cannot be written.
    None,
}

/// How Graph's change tracking (`/delta`) reads a kind when the previous snapshot is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delta {
    /// Not tracked: read in full on every backup.
    None,
    /// `{path}/delta` rounds continuing the previous backup's cursor (users, groups).
    Collection,
    /// A relationship of the parent's delta round, answered as `{relationship}@delta` (group
    /// members and owners); the relationship is the last segment of the row's path. The
    /// parent's round `$select`s it: "You can additionally track other changes like
    /// ownership ... by selecting any group relationship of type directoryObject collection".
    Relation,
}

/// One row of the table.
#[derive(Debug)]
pub struct EntraKind {
    /// The core descriptor.
    pub spec: KindSpec,
    /// How it is listed (path under `/v1.0` with `{0}` the parent id, permission, items,
    /// paging, `$top`, id member, extra query, 404 meaning, shape), read by the core table
    /// engine.
    pub list: ListSpec,
    /// `$select` of the properties kept (empty: Graph's default set).
    pub select: &'static [&'static str],
    /// How a restore writes it.
    pub write: Write,
    /// For sub-resources: the parent's relationship of that name can be read with the
    /// parent listing's `$expand`, 20 objects at most per parent (Graph's limit for
    /// directory objects). Parents at the limit are read one by one.
    pub expand: Option<&'static str>,
    /// How `/delta` reads it on an incremental backup.
    pub delta: Delta,
}

impl ResourceKind for EntraKind {
    fn id(&self) -> &str {
        self.spec.id
    }
    fn display_name(&self) -> &str {
        self.spec.display_name
    }
    fn category(&self) -> Category {
        self.spec.category
    }
    fn depends_on(&self) -> &[&str] {
        self.spec.depends_on
    }
    fn parent(&self) -> Option<&str> {
        self.spec.parent
    }
    fn natural_key(&self) -> &[&str] {
        self.spec.natural_key
    }
    fn secret_fields(&self) -> &[SecretField] {
        self.spec.secret_fields
    }
    fn volatile_fields(&self) -> &[&str] {
        self.spec.volatile_fields
    }
    fn reference_fields(&self) -> &[ReferenceField] {
        self.spec.reference_fields
    }
    fn array_keys(&self) -> &[ArrayKey] {
        self.spec.array_keys
    }
    fn structural_fields(&self) -> &[&str] {
        self.spec.structural_fields
    }
    /// Restorable exactly when the write column can write it.
    fn restore_support(&self) -> RestoreSupport {
        butterfly_core::kind::restorability(self.write != Write::None, self.spec.restore, READ_ONLY)
    }
    fn restore_note(&self) -> Option<&str> {
        self.spec.restore_note
    }

    /// Only GUIDs are references: conditional access lists mix ids with keywords (`All`,
    /// `None`, `GuestsOrExternalUsers`, `AllTrusted`) that must be written back as they are.
    fn references_of(&self, body: &Value) -> Vec<Reference> {
        let mut out = self.spec.references_of(body);
        out.retain(|r| is_guid(&r.id));
        out
    }
}

impl TableKind for EntraKind {
    fn list_spec(&self) -> &ListSpec {
        &self.list
    }
}

/// Whether `s` is a GUID (`8-4-4-4-12` hex digits): the shape of every directory object id.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Why a kind without a write column is not restored.
const READ_ONLY: &str = "butterfly does not restore this kind yet: re-apply it from the diff";
const VOLATILE: &[&str] = &[
    "/createdDateTime",
    "/modifiedDateTime",
    "/lastModifiedDateTime",
    "/deletedDateTime",
];

const fn spec(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        volatile_fields: VOLATILE,
        ..KindSpec::new(id, name, category)
    }
}

const fn named(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        natural_key: &["/displayName"],
        ..spec(id, name, category)
    }
}

/// An OData collection at `path` read with `permission`: items in `value`, pages by
/// `@odata.nextLink`, OData annotations but the type dropped.
const fn graph(path: &'static str, permission: &'static str) -> ListSpec {
    ListSpec::new(path, permission)
        .items(Items::Member("value"))
        .paging(Paging::ODataNextLink)
        .shape(plain)
}

/// One object at `path` read with `permission`; a 404 means it was never configured.
const fn single(path: &'static str, permission: &'static str) -> ListSpec {
    graph(path, permission).singleton().absent_is_empty()
}

const fn row(spec: KindSpec, list: ListSpec) -> EntraKind {
    EntraKind {
        spec,
        list,
        select: &[],
        write: Write::None,
        expand: None,
        delta: Delta::None,
    }
}

/// `$expand` of the principal's type on role assignments (its id only).
const EXPAND_PRINCIPAL: &[(&str, &str)] = &[("$expand", "principal($select=id)")];

use Category::*;

const MEMBER_REFS: &[ReferenceField] = &[
    ReferenceField {
        pointer: "/user",
        kind: "entra.user",
    },
    ReferenceField {
        pointer: "/group",
        kind: "entra.group",
    },
    ReferenceField {
        pointer: "/servicePrincipal",
        kind: "entra.service_principal",
    },
];

const PRINCIPAL_REFS: &[ReferenceField] = &[
    ReferenceField {
        pointer: "/principal/user",
        kind: "entra.user",
    },
    ReferenceField {
        pointer: "/principal/group",
        kind: "entra.group",
    },
    ReferenceField {
        pointer: "/principal/servicePrincipal",
        kind: "entra.service_principal",
    },
];

const fn principal_refs(last: ReferenceField) -> [ReferenceField; 4] {
    [
        PRINCIPAL_REFS[0],
        PRINCIPAL_REFS[1],
        PRINCIPAL_REFS[2],
        last,
    ]
}

const APP_ROLE_REFS: &[ReferenceField] = &principal_refs(ReferenceField {
    pointer: "/resourceId",
    kind: "entra.service_principal",
});

const ROLE_REFS: &[ReferenceField] = &principal_refs(ReferenceField {
    pointer: "/roleDefinitionId",
    kind: "entra.role_definition",
});

const CREDENTIAL_SECRETS: &[SecretField] = &[
    SecretField {
        pointer: "/passwordCredentials/*/secretText",
        secret: "client secret",
    },
    SecretField {
        pointer: "/keyCredentials/*/key",
        secret: "certificate or key material",
    },
];

const fn member_row(
    id: &'static str,
    name: &'static str,
    parent: &'static str,
    path: &'static str,
    permission: &'static str,
) -> EntraKind {
    EntraKind {
        select: &["id"],
        write: Write::Ref,
        ..row(
            KindSpec {
                parent: Some(parent),
                depends_on: &["entra.user", "entra.group", "entra.service_principal"],
                reference_fields: MEMBER_REFS,
                volatile_fields: &[],
                restore: RestoreSupport::CreateOnly,
                ..KindSpec::new(id, name, Directory)
            },
            graph(path, permission).page_size("$top", 999).shape(member),
        )
    }
}

/// The user properties a backup keeps (`$select`: Graph's default set omits most of them).
pub const USER_SELECT: &[&str] = &[
    "id",
    "accountEnabled",
    "ageGroup",
    "businessPhones",
    "city",
    "companyName",
    "country",
    "createdDateTime",
    "creationType",
    "department",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeType",
    "externalUserState",
    "givenName",
    "identities",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesImmutableId",
    "onPremisesSyncEnabled",
    "otherMails",
    "passwordPolicies",
    "postalCode",
    "preferredLanguage",
    "proxyAddresses",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

/// Users, disabled accounts included (Graph lists them with `accountEnabled: false`).
pub static USER: EntraKind = EntraKind {
    delta: Delta::Collection,
    select: USER_SELECT,
    write: Write::PostPatch,
    ..row(
        KindSpec {
            natural_key: &["/userPrincipalName"],
            volatile_fields: &[
                "/createdDateTime",
                "/deletedDateTime",
                "/lastPasswordChangeDateTime",
                "/refreshTokensValidFromDateTime",
                "/signInSessionsValidFromDateTime",
                "/externalUserStateChangeDateTime",
                "/onPremisesLastSyncDateTime",
                "/signInActivity",
            ],
            restore: RestoreSupport::CreateAndUpdate,
            restore_note: Some(
                "users are created disabled with a random password that must be changed at the next sign-in; MFA methods and licences are not restored",
            ),
            ..KindSpec::new("entra.user", "Users", Directory)
        },
        graph("users", "User.Read.All").page_size("$top", 999),
    )
};

/// The group properties a backup keeps (the same `$select` for the listing and for
/// `groups/delta`, so both give the same bodies).
pub const GROUP_SELECT: &[&str] = &[
    "id",
    "classification",
    "createdDateTime",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesSyncEnabled",
    "preferredDataLocation",
    "preferredLanguage",
    "proxyAddresses",
    "renewedDateTime",
    "resourceBehaviorOptions",
    "resourceProvisioningOptions",
    "securityEnabled",
    "securityIdentifier",
    "theme",
    "visibility",
];

/// Groups (security, Microsoft 365, mail-enabled, dynamic).
pub static GROUP: EntraKind = EntraKind {
    delta: Delta::Collection,
    select: GROUP_SELECT,
    write: Write::PostPatch,
    ..row(
        KindSpec {
            natural_key: &["/displayName", "/mailNickname"],
            volatile_fields: &[
                "/createdDateTime",
                "/deletedDateTime",
                // Issued by the directory for each new object.
                "/securityIdentifier",
                "/renewedDateTime",
                "/expirationDateTime",
                "/onPremisesLastSyncDateTime",
            ],
            restore: RestoreSupport::CreateAndUpdate,
            ..KindSpec::new("entra.group", "Groups", Directory)
        },
        graph("groups", "Group.Read.All").page_size("$top", 999),
    )
};

/// Group members (users, groups, service principals, devices).
pub static GROUP_MEMBER: EntraKind = EntraKind {
    delta: Delta::Relation,
    ..member_row(
        "entra.group_member",
        "Group members",
        "entra.group",
        "groups/{0}/members",
        "Group.Read.All",
    )
};

/// Group owners.
pub static GROUP_OWNER: EntraKind = EntraKind {
    delta: Delta::Relation,
    ..member_row(
        "entra.group_owner",
        "Group owners",
        "entra.group",
        "groups/{0}/owners",
        "Group.Read.All",
    )
};

/// Application registrations. `appId` is new in every tenant, so the display name is the key
/// across tenants (duplicates are reported ambiguous by the planner).
pub static APPLICATION: EntraKind = EntraKind {
    write: Write::PostPatch,
    ..row(
        KindSpec {
            natural_key: &["/displayName"],
            secret_fields: CREDENTIAL_SECRETS,
            array_keys: &[
                ArrayKey {
                    pointer: "/passwordCredentials",
                    key: "keyId",
                },
                ArrayKey {
                    pointer: "/keyCredentials",
                    key: "keyId",
                },
                ArrayKey {
                    pointer: "/appRoles",
                    key: "id",
                },
            ],
            restore: RestoreSupport::CreateAndUpdate,
            restore_note: Some(
                "re-created applications get a new appId and no credentials: add secrets or certificates and update the apps that use them",
            ),
            ..named("entra.application", "Applications", Application)
        },
        graph("applications", "Application.Read.All").page_size("$top", 999),
    )
};

/// Application owners (read with the applications listing's `$expand=owners`).
pub static APPLICATION_OWNER: EntraKind = EntraKind {
    expand: Some("owners"),
    ..member_row(
        "entra.application_owner",
        "Application owners",
        "entra.application",
        "applications/{0}/owners",
        "Application.Read.All",
    )
};

/// Federated identity credentials of applications (workload identity federation; read with
/// the applications listing's `$expand=federatedIdentityCredentials`).
pub static FEDERATED_CREDENTIAL: EntraKind = EntraKind {
    expand: Some("federatedIdentityCredentials"),
    ..row(
        KindSpec {
            parent: Some("entra.application"),
            natural_key: &["/name"],
            ..spec(
                "entra.federated_identity_credential",
                "Federated identity credentials",
                Application,
            )
        },
        graph(
            "applications/{0}/federatedIdentityCredentials",
            "Application.Read.All",
        ),
    )
};

/// Service principals (enterprise applications). `appId` is the key: it is global for
/// Microsoft and multi-tenant apps.
pub static SERVICE_PRINCIPAL: EntraKind = EntraKind {
    write: Write::PostPatch,
    ..row(
        KindSpec {
            natural_key: &["/appId"],
            secret_fields: CREDENTIAL_SECRETS,
            array_keys: &[
                ArrayKey {
                    pointer: "/passwordCredentials",
                    key: "keyId",
                },
                ArrayKey {
                    pointer: "/keyCredentials",
                    key: "keyId",
                },
            ],
            restore: RestoreSupport::CreateAndUpdate,
            ..spec("entra.service_principal", "Service principals", Application)
        },
        graph("servicePrincipals", "Application.Read.All").page_size("$top", 999),
    )
};

/// Who is assigned to a service principal's app roles (`appRoleAssignedTo`; read with the
/// service principals listing's `$expand=appRoleAssignedTo`).
pub static APP_ROLE_ASSIGNMENT: EntraKind = EntraKind {
    expand: Some("appRoleAssignedTo"),
    write: Write::PostOnly,
    ..row(
        KindSpec {
            parent: Some("entra.service_principal"),
            depends_on: &["entra.user", "entra.group"],
            reference_fields: APP_ROLE_REFS,
            // Copies of the principal's and resource's names, kept current by Graph.
            volatile_fields: &[
                "/createdDateTime",
                "/deletedDateTime",
                "/principalDisplayName",
                "/resourceDisplayName",
            ],
            // One principal can hold several roles of the same resource.
            structural_fields: &["/appRoleId"],
            restore: RestoreSupport::CreateOnly,
            ..spec(
                "entra.app_role_assignment",
                "App role assignments",
                Application,
            )
        },
        graph(
            "servicePrincipals/{0}/appRoleAssignedTo",
            "Application.Read.All",
        )
        .page_size("$top", 999)
        .shape(principal),
    )
};

/// Delegated permission grants (admin and user consent).
pub static OAUTH2_GRANT: EntraKind = row(
    KindSpec {
        depends_on: &["entra.service_principal", "entra.user"],
        reference_fields: &[
            ReferenceField {
                pointer: "/clientId",
                kind: "entra.service_principal",
            },
            ReferenceField {
                pointer: "/resourceId",
                kind: "entra.service_principal",
            },
            ReferenceField {
                pointer: "/principalId",
                kind: "entra.user",
            },
        ],
        ..spec(
            "entra.oauth2_permission_grant",
            "OAuth2 permission grants",
            Application,
        )
    },
    graph(
        "oauth2PermissionGrants",
        "DelegatedPermissionGrant.Read.All",
    ),
);

/// Conditional access policies. Applications in the conditions are `appId`s (global for
/// Microsoft apps) and are written back as they are.
pub static CA_POLICY: EntraKind = EntraKind {
    write: Write::PostPatch,
    ..row(
        KindSpec {
            depends_on: &[
                "entra.user",
                "entra.group",
                "entra.named_location",
                "entra.role_definition",
                "entra.authentication_strength_policy",
            ],
            reference_fields: &[
                ReferenceField {
                    pointer: "/conditions/users/includeUsers",
                    kind: "entra.user",
                },
                ReferenceField {
                    pointer: "/conditions/users/excludeUsers",
                    kind: "entra.user",
                },
                ReferenceField {
                    pointer: "/conditions/users/includeGroups",
                    kind: "entra.group",
                },
                ReferenceField {
                    pointer: "/conditions/users/excludeGroups",
                    kind: "entra.group",
                },
                ReferenceField {
                    pointer: "/conditions/users/includeRoles",
                    kind: "entra.role_definition",
                },
                ReferenceField {
                    pointer: "/conditions/users/excludeRoles",
                    kind: "entra.role_definition",
                },
                ReferenceField {
                    pointer: "/conditions/locations/includeLocations",
                    kind: "entra.named_location",
                },
                ReferenceField {
                    pointer: "/conditions/locations/excludeLocations",
                    kind: "entra.named_location",
                },
                ReferenceField {
                    pointer: "/grantControls/authenticationStrength/id",
                    kind: "entra.authentication_strength_policy",
                },
            ],
            restore: RestoreSupport::CreateAndUpdate,
            restore_note: Some(
                "conditional access policies are re-created in the state they were backed up in: review them before users sign in",
            ),
            ..named(
                "entra.conditional_access_policy",
                "Conditional access policies",
                Policy,
            )
        },
        graph("identity/conditionalAccess/policies", "Policy.Read.All"),
    )
};

/// Named locations (IP ranges, countries).
pub static NAMED_LOCATION: EntraKind = EntraKind {
    write: Write::PostPatch,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..named("entra.named_location", "Named locations", Security)
        },
        graph(
            "identity/conditionalAccess/namedLocations",
            "Policy.Read.All",
        ),
    )
};

/// The authentication methods policy (tenant-wide settings).
pub static AUTH_METHODS_POLICY: EntraKind = row(
    spec(
        "entra.authentication_methods_policy",
        "Authentication methods policy",
        Security,
    ),
    single("policies/authenticationMethodsPolicy", "Policy.Read.All"),
);

/// The method configurations of the authentication methods policy (FIDO2, Authenticator…).
pub static AUTH_METHOD_CONFIG: EntraKind = row(
    KindSpec {
        natural_key: &["/id"],
        depends_on: &["entra.group"],
        reference_fields: &[
            ReferenceField {
                pointer: "/includeTargets/*/id",
                kind: "entra.group",
            },
            ReferenceField {
                pointer: "/excludeTargets/*/id",
                kind: "entra.group",
            },
        ],
        ..spec(
            "entra.authentication_method_configuration",
            "Authentication method configurations",
            Security,
        )
    },
    graph(
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        "Policy.Read.All",
    ),
);

/// Authentication strength policies (built-in and custom).
pub static AUTH_STRENGTH: EntraKind = row(
    named(
        "entra.authentication_strength_policy",
        "Authentication strength policies",
        Security,
    ),
    graph("policies/authenticationStrengthPolicies", "Policy.Read.All"),
);

/// Activated directory roles.
pub static DIRECTORY_ROLE: EntraKind = row(
    KindSpec {
        natural_key: &["/roleTemplateId"],
        ..spec("entra.directory_role", "Directory roles", Authorization)
    },
    graph("directoryRoles", "RoleManagement.Read.Directory"),
);

/// Role definitions (built-in ones keep their template id as id in every tenant).
pub static ROLE_DEFINITION: EntraKind = row(
    named("entra.role_definition", "Role definitions", Authorization),
    graph(
        "roleManagement/directory/roleDefinitions",
        "RoleManagement.Read.Directory",
    ),
);

/// Active role assignments.
pub static ROLE_ASSIGNMENT: EntraKind = EntraKind {
    write: Write::PostOnly,
    ..row(
        KindSpec {
            depends_on: &[
                "entra.user",
                "entra.group",
                "entra.service_principal",
                "entra.role_definition",
            ],
            reference_fields: ROLE_REFS,
            restore: RestoreSupport::CreateOnly,
            ..spec("entra.role_assignment", "Role assignments", Authorization)
        },
        graph(
            "roleManagement/directory/roleAssignments",
            "RoleManagement.Read.Directory",
        )
        .query(EXPAND_PRINCIPAL)
        .shape(principal),
    )
};

/// Eligible role assignments (Privileged Identity Management; needs Entra ID P2).
pub static ROLE_ELIGIBILITY: EntraKind = EntraKind {
    ..row(
        KindSpec {
            depends_on: &[
                "entra.user",
                "entra.group",
                "entra.service_principal",
                "entra.role_definition",
            ],
            reference_fields: ROLE_REFS,
            ..spec(
                "entra.role_eligibility_schedule",
                "Role eligibility schedules (PIM)",
                Authorization,
            )
        },
        graph(
            "roleManagement/directory/roleEligibilitySchedules",
            "RoleManagement.Read.Directory",
        )
        .query(EXPAND_PRINCIPAL)
        .shape(principal),
    )
};

/// Administrative units.
pub static ADMIN_UNIT: EntraKind = EntraKind {
    write: Write::PostPatch,
    ..row(
        KindSpec {
            restore: RestoreSupport::CreateAndUpdate,
            ..named(
                "entra.administrative_unit",
                "Administrative units",
                Directory,
            )
        },
        graph(
            "directory/administrativeUnits",
            "AdministrativeUnit.Read.All",
        ),
    )
};

/// Members of administrative units.
pub static ADMIN_UNIT_MEMBER: EntraKind = member_row(
    "entra.administrative_unit_member",
    "Administrative unit members",
    "entra.administrative_unit",
    "directory/administrativeUnits/{0}/members",
    "AdministrativeUnit.Read.All",
);

/// The cross-tenant access policy (allowed cloud endpoints).
pub static CROSS_TENANT_POLICY: EntraKind = row(
    spec(
        "entra.cross_tenant_access_policy",
        "Cross-tenant access policy",
        Settings,
    ),
    single("policies/crossTenantAccessPolicy", "Policy.Read.All"),
);

/// The default cross-tenant access settings (B2B collaboration and direct connect defaults).
pub static CROSS_TENANT_DEFAULT: EntraKind = row(
    spec(
        "entra.cross_tenant_access_default",
        "Cross-tenant access defaults (B2B collaboration)",
        Settings,
    ),
    single(
        "policies/crossTenantAccessPolicy/default",
        "Policy.Read.All",
    ),
);

/// Partner-specific cross-tenant access settings.
pub static CROSS_TENANT_PARTNER: EntraKind = EntraKind {
    ..row(
        KindSpec {
            natural_key: &["/tenantId"],
            ..spec(
                "entra.cross_tenant_access_partner",
                "Cross-tenant access partners",
                Settings,
            )
        },
        graph(
            "policies/crossTenantAccessPolicy/partners",
            "Policy.Read.All",
        )
        .id_field("tenantId"),
    )
};

/// External identity providers (Google, Facebook, SAML/WS-Fed federation).
pub static IDENTITY_PROVIDER: EntraKind = row(
    KindSpec {
        secret_fields: &[SecretField {
            pointer: "/clientSecret",
            secret: "identity provider client secret",
        }],
        ..named("entra.identity_provider", "Identity providers", Integration)
    },
    graph("identity/identityProviders", "IdentityProvider.Read.All"),
);

/// Domains of the tenant (the id is the domain name).
pub static DOMAIN: EntraKind = row(
    KindSpec {
        natural_key: &["/id"],
        ..spec("entra.domain", "Domains", Settings)
    },
    graph("domains", "Domain.Read.All"),
);

/// The organization (tenant profile).
pub static ORGANIZATION: EntraKind = row(
    KindSpec {
        volatile_fields: &[
            "/createdDateTime",
            "/onPremisesLastSyncDateTime",
            "/onPremisesLastPasswordSyncDateTime",
        ],
        ..spec("entra.organization", "Organization", Settings)
    },
    graph("organization", "Organization.Read.All"),
);

/// Company branding of the sign-in pages (absent when never configured).
pub static BRANDING: EntraKind = EntraKind {
    ..row(
        KindSpec {
            parent: Some("entra.organization"),
            ..spec(
                "entra.organizational_branding",
                "Organizational branding",
                Branding,
            )
        },
        single("organization/{0}/branding", "Organization.Read.All").concurrency(4),
    )
};

/// Token lifetime policies.
pub static TOKEN_LIFETIME: EntraKind = row(
    named(
        "entra.token_lifetime_policy",
        "Token lifetime policies",
        Policy,
    ),
    graph("policies/tokenLifetimePolicies", "Policy.Read.All"),
);

/// Token issuance policies.
pub static TOKEN_ISSUANCE: EntraKind = row(
    named(
        "entra.token_issuance_policy",
        "Token issuance policies",
        Policy,
    ),
    graph("policies/tokenIssuancePolicies", "Policy.Read.All"),
);

/// The authorization policy (guest access, who may invite, default user permissions).
pub static AUTHORIZATION_POLICY: EntraKind = row(
    spec(
        "entra.authorization_policy",
        "Authorization policy (B2B invitations, default permissions)",
        Settings,
    ),
    single("policies/authorizationPolicy", "Policy.Read.All"),
);

/// Security defaults.
pub static SECURITY_DEFAULTS: EntraKind = row(
    spec("entra.security_defaults", "Security defaults", Security),
    single(
        "policies/identitySecurityDefaultsEnforcementPolicy",
        "Policy.Read.All",
    ),
);

butterfly_core::kind_table!(EntraKind:
    USER,
    GROUP,
    GROUP_MEMBER,
    GROUP_OWNER,
    APPLICATION,
    APPLICATION_OWNER,
    FEDERATED_CREDENTIAL,
    SERVICE_PRINCIPAL,
    APP_ROLE_ASSIGNMENT,
    OAUTH2_GRANT,
    CA_POLICY,
    NAMED_LOCATION,
    AUTH_METHODS_POLICY,
    AUTH_METHOD_CONFIG,
    AUTH_STRENGTH,
    DIRECTORY_ROLE,
    ROLE_DEFINITION,
    ROLE_ASSIGNMENT,
    ROLE_ELIGIBILITY,
    ADMIN_UNIT,
    ADMIN_UNIT_MEMBER,
    CROSS_TENANT_POLICY,
    CROSS_TENANT_DEFAULT,
    CROSS_TENANT_PARTNER,
    IDENTITY_PROVIDER,
    DOMAIN,
    ORGANIZATION,
    BRANDING,
    TOKEN_LIFETIME,
    TOKEN_ISSUANCE,
    AUTHORIZATION_POLICY,
    SECURITY_DEFAULTS,
);

/// The parent's relationship a row lists: the last segment of its path (`members` of
/// `groups/{0}/members`), as a [`Delta::Relation`] row finds it in its parent's delta round.
pub fn relation(row: &EntraKind) -> &'static str {
    row.list.path.rsplit('/').next().unwrap_or(row.list.path)
}

/// The relationships of `row` that its `/delta` rounds track: the [`relation`] of each
/// [`Delta::Relation`] row under it (`members` and `owners` of groups).
pub fn tracked_relations(row: &EntraKind) -> impl Iterator<Item = &'static str> {
    let id = row.spec.id;
    ROWS.iter()
        .filter(move |r| r.delta == Delta::Relation && r.spec.parent == Some(id))
        .map(|r| relation(r))
}

/// The member name of a directory object type (`#microsoft.graph.user` → `user`).
pub fn object_type(odata_type: &str) -> &str {
    match odata_type.trim_start_matches("#microsoft.graph.") {
        "" => "directoryObject",
        t => t,
    }
}

fn principal_type(item: &Map<String, Value>) -> &str {
    if let Some(t) = item
        .get("principal")
        .and_then(|p| p.get("@odata.type"))
        .and_then(Value::as_str)
    {
        return object_type(t);
    }
    match item.get("principalType").and_then(Value::as_str) {
        Some("User") => "user",
        Some("Group") => "group",
        Some("ServicePrincipal") => "servicePrincipal",
        Some(other) => other,
        None => "directoryObject",
    }
}

/// The shape of most rows: as Graph returns them, without OData annotations but the type.
fn plain(_own: &str, mut map: Map<String, Value>) -> Value {
    // Most items carry no annotation at all: look before rebuilding the map.
    if map.keys().any(|k| k.contains('@')) {
        map.retain(|k, _| {
            (!k.starts_with("@odata.") || k.as_str() == "@odata.type")
                && !k.ends_with("@odata.context")
        });
    }
    Value::Object(map)
}

/// A directory object in a mixed collection: kept as `{"@odata.type": t, "<type>": id}`.
fn member(own: &str, map: Map<String, Value>) -> Value {
    let t = map
        .get("@odata.type")
        .and_then(Value::as_str)
        .unwrap_or("#microsoft.graph.directoryObject");
    json!({ "@odata.type": t, object_type(t): own })
}

/// A polymorphic principal: `principalId` becomes `principal: {"<type>": id}`, the type read
/// from `principalType` (app role assignments) or the expanded `principal`.
fn principal(_own: &str, mut map: Map<String, Value>) -> Value {
    let t = principal_type(&map).to_string();
    map.retain(|k, _| !k.starts_with("@odata.") && k.as_str() != "principal");
    if let Some(pid) = map.remove("principalId") {
        map.insert("principal".into(), json!({ t: pid }));
    }
    Value::Object(map)
}

/// Parses one Graph item of a row into a resource, consuming it: the core
/// [`table::parse_page`] of a one-item answer (delta changes, expanded relationships, single
/// objects read by id).
pub fn parse_item(row: &EntraKind, parent_id: Option<&str>, item: Value) -> Result<Resource> {
    let answer = match row.list.items {
        Items::Singleton => item,
        _ => Value::Array(vec![item]),
    };
    table::parse_page(row, parent_id, None, answer)?
        .pop()
        .ok_or_else(|| Error::invalid_data(format!("{}: the item was skipped", row.spec.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let kinds: Vec<&dyn ResourceKind> = all().to_vec();
        butterfly_core::kind::topological_order(&kinds).unwrap();
        for r in ROWS {
            assert!(r.spec.id.starts_with("entra."), "{}", r.spec.id);
            if let Some(p) = r.spec.parent {
                assert!(
                    row_of(p).is_some(),
                    "{} names unknown parent {p}",
                    r.spec.id
                );
                assert!(r.list.path.contains("{0}"), "{}", r.spec.id);
            }
            for d in r.spec.depends_on {
                assert!(row_of(d).is_some(), "{} depends on unknown {d}", r.spec.id);
            }
        }
    }

    #[test]
    fn every_descriptor_column_reaches_the_engines() {
        // The trait is implemented by hand (to filter references): it must forward the spec.
        for r in ROWS {
            let k: &dyn ResourceKind = *r;
            assert_eq!(
                k.structural_fields(),
                r.spec.structural_fields,
                "{}",
                r.spec.id
            );
            assert_eq!(k.natural_key(), r.spec.natural_key);
            assert_eq!(k.volatile_fields(), r.spec.volatile_fields);
            assert_eq!(k.secret_fields(), r.spec.secret_fields);
            assert_eq!(k.depends_on(), r.spec.depends_on);
            assert_eq!(k.parent(), r.spec.parent);
        }
        assert_eq!(APP_ROLE_ASSIGNMENT.structural_fields(), &["/appRoleId"]);
    }

    #[test]
    fn keywords_are_not_references() {
        let body = json!({"conditions": {"users": {
            "includeUsers": ["All"],
            "excludeUsers": ["GuestsOrExternalUsers", "5f4a3b2c-1d0e-4f9a-8b7c-6d5e4f3a2b1c"]
        }}});
        let refs = CA_POLICY.references_of(&body);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].pointer, "/conditions/users/excludeUsers/1");
    }

    #[test]
    fn rows_are_graph_listings() {
        for r in ROWS {
            let list = &r.list;
            assert!(list.shape.is_some(), "{}", r.spec.id);
            if list.items == Items::Singleton {
                // A singleton's 404 means never configured.
                assert_eq!(list.absent, table::Absent::Empty, "{}", r.spec.id);
            } else {
                assert_eq!(list.items, Items::Member("value"), "{}", r.spec.id);
                assert_eq!(list.paging, Paging::ODataNextLink, "{}", r.spec.id);
            }
            if let Some((param, _)) = list.page_size {
                assert_eq!(param, "$top", "{}", r.spec.id);
            }
        }
        assert_eq!(BRANDING.list.concurrency, 4);
        let tracked: Vec<&str> = tracked_relations(&GROUP).collect();
        assert_eq!(tracked, ["members", "owners"]);
        assert_eq!(tracked_relations(&USER).count(), 0);
        assert_eq!(relation(&GROUP_OWNER), "owners");
    }

    #[test]
    fn singletons_take_constant_ids_and_annotations_are_dropped() {
        let body = json!({"@odata.context": "https://graph/$metadata#branding", "id": "0",
            "@odata.type": "#microsoft.graph.organizationalBranding",
            "signInPageText": "Hi", "bannerLogo@odata.mediaContentType": "image/png"});
        let r = table::parse_page(&BRANDING, Some("org"), None, body).unwrap();
        assert_eq!(r[0].id, "org/organizational_branding");
        assert_eq!(
            *r[0].body,
            json!({"id": "0", "@odata.type": "#microsoft.graph.organizationalBranding",
                "signInPageText": "Hi", "bannerLogo@odata.mediaContentType": "image/png"})
        );
        let page =
            json!({"@odata.context": "x", "value": [{"tenantId": "t1", "a@odata.context": "y"}]});
        let r = table::parse_page(&CROSS_TENANT_PARTNER, None, None, page).unwrap();
        assert_eq!(r[0].id, "t1");
        assert_eq!(*r[0].body, json!({"tenantId": "t1"}));
        let err = table::parse_page(&DOMAIN, None, None, json!({"nope": []})).unwrap_err();
        assert!(err.to_string().contains("value"), "{err}");
    }

    #[test]
    fn members_and_principals_are_typed() {
        let item = json!({"@odata.type": "#microsoft.graph.group", "id": "g2"});
        let r = parse_item(&GROUP_MEMBER, Some("g1"), item).unwrap();
        assert_eq!(r.id, "g1/g2");
        assert_eq!(r.body["group"], "g2");
        let item = json!({"id": "a1", "principalId": "5f4a3b2c-1d0e-4f9a-8b7c-6d5e4f3a2b1c",
            "principalType": "ServicePrincipal", "appRoleId": "x"});
        let r = parse_item(&APP_ROLE_ASSIGNMENT, Some("sp"), item).unwrap();
        assert_eq!(r.references[0].kind, "entra.service_principal");
    }
}
