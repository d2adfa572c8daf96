//! The Entra kinds table: one row per kind.
//!
//! Each [`EntraKind`] row holds the core descriptor ([`KindSpec`]: natural key, dependencies,
//! secret, volatile and reference fields, restore support) and the Graph specifics: the path
//! under `/v1.0`, page size, `$select`, the application permission needed to read it, how
//! items are shaped and how a restore writes it. Sub-resources (group members, application
//! owners…) have a parent kind; their ids are `{parent id}/{own id}`.
//!
//! Directory objects in mixed collections (members, owners) and polymorphic principals
//! (role assignments, app role assignments) are stored with a typed member —
//! `{"user": id}`, `{"group": id}`, `{"servicePrincipal": id}` — so each reference names
//! the right kind and restore can remap it.

use butterfly_core::kind::{
    ArrayKey, Category, KindRef, KindSpec, ReferenceField, ResourceKind, RestoreSupport,
    SecretField,
};
use butterfly_core::resource::Reference;
use butterfly_core::{Error, Resource, Result};
use serde_json::{Map, Value, json};

/// How a kind is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// An OData collection (`{"value": [...]}`), following `@odata.nextLink`; `top` is sent
    /// when set.
    Collection {
        /// Page size to ask for (the documented maximum).
        top: Option<u32>,
    },
    /// One object.
    Singleton,
}

/// How items of a kind are shaped before they are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// As Graph returns them.
    Plain,
    /// A directory object in a mixed collection: kept as `{"@odata.type": t, "<type>": id}`.
    Member,
    /// A polymorphic principal: `principalId` becomes `principal: {"<type>": id}`, the type
    /// read from `principalType` (app role assignments) or the expanded `principal`.
    Principal,
}

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

/// One row of the table.
#[derive(Debug)]
pub struct EntraKind {
    /// The core descriptor.
    pub spec: KindSpec,
    /// Path under `/v1.0`; `{0}` is the parent id.
    pub path: &'static str,
    /// How it is listed.
    pub listing: Listing,
    /// The least-privileged Graph application permission that reads it.
    pub permission: &'static str,
    /// `$select` of the properties kept (empty: Graph's default set).
    pub select: &'static [&'static str],
    /// Extra query parameters of the listing.
    pub query: &'static [(&'static str, &'static str)],
    /// How items are shaped.
    pub shape: Shape,
    /// How a restore writes it.
    pub write: Write,
    /// Graph's member holding the id (`id`; `tenantId` for partner configurations).
    pub id_field: &'static str,
    /// For sub-resources: the parent's relationship of that name can be read with the
    /// parent listing's `$expand`, 20 objects at most per parent (Graph's limit for
    /// directory objects). Parents at the limit are read one by one.
    pub expand: Option<&'static str>,
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
    fn restore_support(&self) -> RestoreSupport {
        self.spec.restore
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

/// Whether `s` is a GUID (`8-4-4-4-12` hex digits): the shape of every directory object id.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

const READ_ONLY: RestoreSupport = RestoreSupport::None {
    reason: "butterfly does not restore this kind yet: re-apply it from the diff",
};
const VOLATILE: &[&str] = &[
    "/createdDateTime",
    "/modifiedDateTime",
    "/lastModifiedDateTime",
    "/deletedDateTime",
];

const fn spec(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        volatile_fields: VOLATILE,
        restore: READ_ONLY,
        ..KindSpec::new(id, name, category)
    }
}

const fn named(id: &'static str, name: &'static str, category: Category) -> KindSpec {
    KindSpec {
        natural_key: &["/displayName"],
        ..spec(id, name, category)
    }
}

const fn row(spec: KindSpec, path: &'static str, permission: &'static str) -> EntraKind {
    EntraKind {
        spec,
        path,
        listing: Listing::Collection { top: None },
        permission,
        select: &[],
        query: &[],
        shape: Shape::Plain,
        write: Write::None,
        id_field: "id",
        expand: None,
    }
}

const fn singleton(spec: KindSpec, path: &'static str, permission: &'static str) -> EntraKind {
    EntraKind {
        listing: Listing::Singleton,
        ..row(spec, path, permission)
    }
}

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
        listing: Listing::Collection { top: Some(999) },
        select: &["id"],
        shape: Shape::Member,
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
            path,
            permission,
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
    listing: Listing::Collection { top: Some(999) },
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
        "users",
        "User.Read.All",
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
    listing: Listing::Collection { top: Some(999) },
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
        "groups",
        "Group.Read.All",
    )
};

/// Group members (users, groups, service principals, devices).
pub static GROUP_MEMBER: EntraKind = member_row(
    "entra.group_member",
    "Group members",
    "entra.group",
    "groups/{0}/members",
    "Group.Read.All",
);

/// Group owners.
pub static GROUP_OWNER: EntraKind = member_row(
    "entra.group_owner",
    "Group owners",
    "entra.group",
    "groups/{0}/owners",
    "Group.Read.All",
);

/// Application registrations. `appId` is new in every tenant, so the display name is the key
/// across tenants (duplicates are reported ambiguous by the planner).
pub static APPLICATION: EntraKind = EntraKind {
    listing: Listing::Collection { top: Some(999) },
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
        "applications",
        "Application.Read.All",
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
        "applications/{0}/federatedIdentityCredentials",
        "Application.Read.All",
    )
};

/// Service principals (enterprise applications). `appId` is the key: it is global for
/// Microsoft and multi-tenant apps.
pub static SERVICE_PRINCIPAL: EntraKind = EntraKind {
    listing: Listing::Collection { top: Some(999) },
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
        "servicePrincipals",
        "Application.Read.All",
    )
};

/// Who is assigned to a service principal's app roles (`appRoleAssignedTo`; read with the
/// service principals listing's `$expand=appRoleAssignedTo`).
pub static APP_ROLE_ASSIGNMENT: EntraKind = EntraKind {
    expand: Some("appRoleAssignedTo"),
    shape: Shape::Principal,
    listing: Listing::Collection { top: Some(999) },
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
        "servicePrincipals/{0}/appRoleAssignedTo",
        "Application.Read.All",
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
    "oauth2PermissionGrants",
    "DelegatedPermissionGrant.Read.All",
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
        "identity/conditionalAccess/policies",
        "Policy.Read.All",
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
        "identity/conditionalAccess/namedLocations",
        "Policy.Read.All",
    )
};

/// The authentication methods policy (tenant-wide settings).
pub static AUTH_METHODS_POLICY: EntraKind = singleton(
    spec(
        "entra.authentication_methods_policy",
        "Authentication methods policy",
        Security,
    ),
    "policies/authenticationMethodsPolicy",
    "Policy.Read.All",
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
    "policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
    "Policy.Read.All",
);

/// Authentication strength policies (built-in and custom).
pub static AUTH_STRENGTH: EntraKind = row(
    named(
        "entra.authentication_strength_policy",
        "Authentication strength policies",
        Security,
    ),
    "policies/authenticationStrengthPolicies",
    "Policy.Read.All",
);

/// Activated directory roles.
pub static DIRECTORY_ROLE: EntraKind = row(
    KindSpec {
        natural_key: &["/roleTemplateId"],
        ..spec("entra.directory_role", "Directory roles", Authorization)
    },
    "directoryRoles",
    "RoleManagement.Read.Directory",
);

/// Role definitions (built-in ones keep their template id as id in every tenant).
pub static ROLE_DEFINITION: EntraKind = row(
    named("entra.role_definition", "Role definitions", Authorization),
    "roleManagement/directory/roleDefinitions",
    "RoleManagement.Read.Directory",
);

/// Active role assignments.
pub static ROLE_ASSIGNMENT: EntraKind = EntraKind {
    shape: Shape::Principal,
    query: &[("$expand", "principal($select=id)")],
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
        "roleManagement/directory/roleAssignments",
        "RoleManagement.Read.Directory",
    )
};

/// Eligible role assignments (Privileged Identity Management; needs Entra ID P2).
pub static ROLE_ELIGIBILITY: EntraKind = EntraKind {
    shape: Shape::Principal,
    query: &[("$expand", "principal($select=id)")],
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
        "roleManagement/directory/roleEligibilitySchedules",
        "RoleManagement.Read.Directory",
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
        "directory/administrativeUnits",
        "AdministrativeUnit.Read.All",
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
pub static CROSS_TENANT_POLICY: EntraKind = singleton(
    spec(
        "entra.cross_tenant_access_policy",
        "Cross-tenant access policy",
        Settings,
    ),
    "policies/crossTenantAccessPolicy",
    "Policy.Read.All",
);

/// The default cross-tenant access settings (B2B collaboration and direct connect defaults).
pub static CROSS_TENANT_DEFAULT: EntraKind = singleton(
    spec(
        "entra.cross_tenant_access_default",
        "Cross-tenant access defaults (B2B collaboration)",
        Settings,
    ),
    "policies/crossTenantAccessPolicy/default",
    "Policy.Read.All",
);

/// Partner-specific cross-tenant access settings.
pub static CROSS_TENANT_PARTNER: EntraKind = EntraKind {
    id_field: "tenantId",
    ..row(
        KindSpec {
            natural_key: &["/tenantId"],
            ..spec(
                "entra.cross_tenant_access_partner",
                "Cross-tenant access partners",
                Settings,
            )
        },
        "policies/crossTenantAccessPolicy/partners",
        "Policy.Read.All",
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
    "identity/identityProviders",
    "IdentityProvider.Read.All",
);

/// Domains of the tenant (the id is the domain name).
pub static DOMAIN: EntraKind = row(
    KindSpec {
        natural_key: &["/id"],
        ..spec("entra.domain", "Domains", Settings)
    },
    "domains",
    "Domain.Read.All",
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
    "organization",
    "Organization.Read.All",
);

/// Company branding of the sign-in pages (absent when never configured).
pub static BRANDING: EntraKind = EntraKind {
    listing: Listing::Singleton,
    ..row(
        KindSpec {
            parent: Some("entra.organization"),
            ..spec(
                "entra.organizational_branding",
                "Organizational branding",
                Branding,
            )
        },
        "organization/{0}/branding",
        "Organization.Read.All",
    )
};

/// Token lifetime policies.
pub static TOKEN_LIFETIME: EntraKind = row(
    named(
        "entra.token_lifetime_policy",
        "Token lifetime policies",
        Policy,
    ),
    "policies/tokenLifetimePolicies",
    "Policy.Read.All",
);

/// Token issuance policies.
pub static TOKEN_ISSUANCE: EntraKind = row(
    named(
        "entra.token_issuance_policy",
        "Token issuance policies",
        Policy,
    ),
    "policies/tokenIssuancePolicies",
    "Policy.Read.All",
);

/// The authorization policy (guest access, who may invite, default user permissions).
pub static AUTHORIZATION_POLICY: EntraKind = singleton(
    spec(
        "entra.authorization_policy",
        "Authorization policy (B2B invitations, default permissions)",
        Settings,
    ),
    "policies/authorizationPolicy",
    "Policy.Read.All",
);

/// Security defaults.
pub static SECURITY_DEFAULTS: EntraKind = singleton(
    spec("entra.security_defaults", "Security defaults", Security),
    "policies/identitySecurityDefaultsEnforcementPolicy",
    "Policy.Read.All",
);

macro_rules! table {
    ($($row:ident),* $(,)?) => {
        /// Every Entra row, in table order.
        pub static ROWS: &[&EntraKind] = &[$(&$row),*];
        static KINDS: &[KindRef] = &[$(&$row),*];
    };
}

table![
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
];

/// Every Entra kind, as core descriptors.
pub fn all() -> &'static [KindRef] {
    KINDS
}

/// The row of a kind id.
pub fn row_of(id: &str) -> Option<&'static EntraKind> {
    ROWS.iter().copied().find(|r| r.spec.id == id)
}

/// The list path of a row under a parent id.
pub fn list_path(row: &EntraKind, parent_id: Option<&str>) -> String {
    match parent_id {
        Some(p) => row.path.replace("{0}", p),
        None => row.path.to_string(),
    }
}

/// The constant id of a singleton kind (its id without the `entra.` prefix): the same in
/// every tenant, so singletons match across tenants.
pub fn singleton_id(row: &EntraKind) -> &'static str {
    row.spec.id.strip_prefix("entra.").unwrap_or(row.spec.id)
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

/// Shapes one Graph item into the body kept for a row (drops OData annotations but the
/// type of directory objects). Takes the item by value: no copy of its members is made.
pub fn shape_item(row: &EntraKind, item: Value) -> Result<(String, Value)> {
    let Value::Object(mut map) = item else {
        return Err(Error::invalid_data(format!(
            "{}: an item is not a JSON object",
            row.spec.id
        )));
    };
    let own = match row.listing {
        Listing::Singleton => singleton_id(row).to_string(),
        Listing::Collection { .. } => map
            .get(row.id_field)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::invalid_data(format!(
                    "{}: an item has no {:?}",
                    row.spec.id, row.id_field
                ))
            })?
            .to_string(),
    };
    let body = match row.shape {
        Shape::Member => {
            let t = map
                .get("@odata.type")
                .and_then(Value::as_str)
                .unwrap_or("#microsoft.graph.directoryObject");
            json!({ "@odata.type": t, object_type(t): own })
        }
        Shape::Principal => {
            let t = principal_type(&map).to_string();
            map.retain(|k, _| !k.starts_with("@odata.") && k.as_str() != "principal");
            if let Some(pid) = map.remove("principalId") {
                map.insert("principal".into(), json!({ t: pid }));
            }
            Value::Object(map)
        }
        Shape::Plain => {
            // Most items carry no annotation at all: look before rebuilding the map.
            if map.keys().any(|k| k.contains('@')) {
                map.retain(|k, _| {
                    (!k.starts_with("@odata.") || k.as_str() == "@odata.type")
                        && !k.ends_with("@odata.context")
                });
            }
            Value::Object(map)
        }
    };
    Ok((own, body))
}

/// The items of one page body: `value` of a collection, or the object of a singleton.
pub fn page_items<'v>(row: &EntraKind, body: &'v Value) -> Result<Vec<&'v Value>> {
    match row.listing {
        Listing::Singleton => Ok(vec![body]),
        Listing::Collection { .. } => body
            .get("value")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .ok_or_else(|| not_a_collection(row)),
    }
}

fn not_a_collection(row: &EntraKind) -> Error {
    Error::invalid_data(format!(
        "{}: expected an OData collection with a \"value\" array",
        row.spec.id
    ))
}

/// Parses one page body of a kind into resources, consuming it. This is the one parsing path
/// of the client, used by backups and (through [`parse_page`]) by the fidelity test over the
/// recorded cassettes.
pub fn parse_page_owned(
    row: &EntraKind,
    parent_id: Option<&str>,
    body: Value,
) -> Result<Vec<Resource>> {
    let items = match (row.listing, body) {
        (Listing::Singleton, body) => vec![body],
        (Listing::Collection { .. }, Value::Object(mut map)) => match map.remove("value") {
            Some(Value::Array(items)) => items,
            _ => return Err(not_a_collection(row)),
        },
        _ => return Err(not_a_collection(row)),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        // Delta pages mark deleted objects; they are not resources.
        if item.get("@removed").is_some() {
            continue;
        }
        out.push(parse_item_owned(row, parent_id, item)?);
    }
    Ok(out)
}

/// [`parse_page_owned`] of a borrowed body.
pub fn parse_page(row: &EntraKind, parent_id: Option<&str>, body: &Value) -> Result<Vec<Resource>> {
    parse_page_owned(row, parent_id, body.clone())
}

/// Parses one item into a resource, consuming it.
pub fn parse_item_owned(row: &EntraKind, parent_id: Option<&str>, item: Value) -> Result<Resource> {
    let (own, body) = shape_item(row, item)?;
    let id = match parent_id {
        Some(p) => format!("{p}/{own}"),
        None => own,
    };
    Ok(Resource::new(row, id, parent_id.map(str::to_string), body))
}

/// [`parse_item_owned`] of a borrowed item.
pub fn parse_item(row: &EntraKind, parent_id: Option<&str>, item: &Value) -> Result<Resource> {
    parse_item_owned(row, parent_id, item.clone())
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
                assert!(r.path.contains("{0}"), "{}", r.spec.id);
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
    fn members_and_principals_are_typed() {
        let item = json!({"@odata.type": "#microsoft.graph.group", "id": "g2"});
        let r = parse_item(&GROUP_MEMBER, Some("g1"), &item).unwrap();
        assert_eq!(r.id, "g1/g2");
        assert_eq!(r.body["group"], "g2");
        let item = json!({"id": "a1", "principalId": "5f4a3b2c-1d0e-4f9a-8b7c-6d5e4f3a2b1c",
            "principalType": "ServicePrincipal", "appRoleId": "x"});
        let r = parse_item(&APP_ROLE_ASSIGNMENT, Some("sp"), &item).unwrap();
        assert_eq!(r.references[0].kind, "entra.service_principal");
    }
}
