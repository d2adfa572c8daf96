//! The seeded tenant generator: same seed, same tenant.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::{Coll, DIRECTORY, EntraTenant, EntraTenantSpec, PERMISSIONS};
use crate::fake::sentinel;

/// splitmix64 of `a` and `b`.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_add(b.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A version-4 GUID from 128 random bits.
pub(crate) fn guid_from(x: u64, y: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        0x8000 | ((y >> 48) & 0x3fff),
        y & 0xffff_ffff_ffff
    )
}

/// Standard base64 (for `Edm.Binary` values and JWT parts use [`b64url`]).
pub(crate) fn b64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// base64url without padding.
pub(crate) fn b64url(data: &[u8]) -> String {
    b64(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// Decodes base64url (padding optional); `None` on bad input.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Some(out)
}

/// Microsoft Graph's first-party app id and the tenant that owns it.
pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// Built-in role templates (real template ids).
pub(crate) const ROLE_TEMPLATES: &[(&str, &str)] = &[
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
    ),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
    ),
    (
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "Conditional Access Administrator",
    ),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader"),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
    ),
    (
        "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        "Groups Administrator",
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
    ),
];

fn ts(day: u64) -> String {
    format!(
        "20{:02}-{:02}-{:02}T{:02}:00:00Z",
        21 + day % 5,
        1 + day % 12,
        1 + day % 28,
        day % 24
    )
}

struct Gen {
    rng: ChaCha8Rng,
    t: EntraTenant,
    n: u64,
}

impl Gen {
    fn guid(&mut self) -> String {
        self.n += 1;
        let x: u64 = self.rng.random();
        guid_from(x, mix(x, self.n))
    }
    fn sentinel(&mut self, what: &str) -> String {
        let s = sentinel(&mut self.rng, what);
        self.t.sentinels.push(s.clone());
        s
    }
    fn coll(&mut self, path: &str) -> &mut Coll {
        let key = if path == "policies/crossTenantAccessPolicy/partners" {
            "tenantId"
        } else {
            "id"
        };
        self.t
            .colls
            .entry(path.to_string())
            .or_insert_with(|| Coll::new(key))
    }
    fn push(&mut self, path: &str, item: Value) -> String {
        let key = self.coll(path).key;
        let id = item[key].as_str().unwrap_or_default().to_string();
        if let Some((name, _)) = DIRECTORY.iter().find(|(c, _)| *c == path) {
            self.t.types.insert(id.clone(), name);
        }
        self.coll(path).push(item);
        id
    }
    fn rel(&mut self, path: String, ids: Vec<String>) {
        self.t.rels.insert(path, ids);
    }
    fn password_credential(&mut self, name: &str, day: u64) -> Value {
        // The secret itself is never returned by Graph after addPassword; it is planted so a
        // test can prove a client never stores what it should not have.
        let secret = self.sentinel("client-secret");
        let hint: String = secret.chars().take(3).collect();
        json!({"customKeyIdentifier": null, "displayName": name, "endDateTime": ts(day + 700), "hint": hint,
            "keyId": self.guid(), "secretText": null, "startDateTime": ts(day)})
    }
    fn key_credential(&mut self, day: u64) -> Value {
        let key = b64(self.sentinel("key-credential").as_bytes());
        self.t.sentinels.push(key.clone());
        let thumb = b64(&self.rng.random::<[u8; 16]>());
        json!({"customKeyIdentifier": thumb, "displayName": "CN=signing", "endDateTime": ts(day + 365), "key": key,
            "keyId": self.guid(), "startDateTime": ts(day), "type": "AsymmetricX509Cert", "usage": "Verify"})
    }
}

const DEPTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Finance",
    "Support",
    "Legal",
    "Marketing",
    "IT",
];
const CITIES: &[&str] = &["Seattle", "London", "Berlin", "Paris", "Tokyo", "Sydney"];

/// Generates a tenant. Same spec, same tenant.
pub(crate) fn generate(spec: &EntraTenantSpec) -> EntraTenant {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
        t: EntraTenant {
            seed: spec.seed,
            ..EntraTenant::default()
        },
        n: 0,
    };
    let tenant_id = g.guid();
    let domain = format!("contoso{}.onmicrosoft.com", spec.seed);
    let client_id = g.guid();
    let client_secret = format!("fake~{}~{}", spec.seed, b64url(&g.rng.random::<[u8; 24]>()));
    g.t.tenant_id = tenant_id.clone();
    g.t.domain = domain.clone();
    g.t.client_id = client_id.clone();
    g.t.client_secret = client_secret.clone();

    // Users: members, guests (~5%), disabled accounts (~7%).
    let n = spec.users.max(1);
    let mut users: Vec<String> = Vec::with_capacity(n);
    g.coll("users").items.reserve(n);
    for i in 0..n {
        let id = g.guid();
        let roll = g.rng.random_range(0..100u32);
        let guest = i > 0 && roll < 5;
        let enabled = i == 0 || !(5..12).contains(&roll);
        let dept = DEPTS[i % DEPTS.len()];
        let (upn, mail) = if guest {
            (
                format!("guest{i}_fabrikam.example#EXT#@{domain}"),
                format!("guest{i}@fabrikam.example"),
            )
        } else {
            (format!("user{i}@{domain}"), format!("user{i}@{domain}"))
        };
        let day = i as u64;
        let user = json!({
            "id": id, "businessPhones": if i % 3 == 0 { json!(["+1 555 0100"]) } else { json!([]) },
            "displayName": format!("First{i} Last{i}"), "givenName": format!("First{i}"), "surname": format!("Last{i}"),
            "jobTitle": if guest { Value::Null } else { json!(format!("{dept} specialist")) }, "mail": mail,
            "mobilePhone": null, "officeLocation": if guest { Value::Null } else { json!(CITIES[i % CITIES.len()]) },
            "preferredLanguage": "en-US", "userPrincipalName": upn, "accountEnabled": enabled,
            "userType": if guest { "Guest" } else { "Member" }, "department": if guest { Value::Null } else { json!(dept) },
            "createdDateTime": ts(day), "deletedDateTime": null, "usageLocation": "US", "companyName": if guest { "Fabrikam" } else { "Contoso" },
            "employeeId": if guest { Value::Null } else { json!(format!("E{i:06}")) }, "mailNickname": format!("user{i}"),
            "otherMails": [], "proxyAddresses": if guest { json!([]) } else { json!([format!("SMTP:{mail}")]) },
            "identities": [{"signInType": "userPrincipalName", "issuer": domain, "issuerAssignedId": upn}],
            "creationType": if guest { json!("Invitation") } else { Value::Null },
            "externalUserState": if guest { json!(if roll < 3 { "Accepted" } else { "PendingAcceptance" }) } else { Value::Null },
            "externalUserStateChangeDateTime": if guest { json!(ts(day + 1)) } else { Value::Null },
            "onPremisesSyncEnabled": null, "onPremisesImmutableId": null, "ageGroup": null, "city": CITIES[i % CITIES.len()],
            "country": "United States", "passwordPolicies": null, "showInAddressList": null
        });
        g.push("users", user);
        users.push(id);
    }

    // Groups: ~2% of users, sizes Zipf-skewed; security, Microsoft 365, dynamic.
    let group_count = (n / 50).max(8);
    let mut groups = Vec::with_capacity(group_count);
    for i in 0..group_count {
        let id = g.guid();
        let kind = i % 10;
        let (types, mail_enabled, security, rule) = match (i, kind) {
            (0..=2, _) => (json!(["DynamicMembership"]), false, true, Some(DEPTS[i])),
            (_, 6 | 7) => (json!(["Unified"]), true, false, None),
            _ => (json!([]), false, true, None),
        };
        let name = match rule {
            Some(d) => format!("Dynamic {d}"),
            None if types == json!(["Unified"]) => format!("Team {i}"),
            None => format!("Security group {i}"),
        };
        let nick = format!("group{i}");
        g.push("groups", json!({
            "id": id, "deletedDateTime": null, "classification": null, "createdDateTime": ts(i as u64), "creationOptions": [],
            "description": format!("{name} (generated)"), "displayName": name, "expirationDateTime": null, "groupTypes": types,
            "isAssignableToRole": if i == 3 { json!(true) } else { Value::Null },
            "mail": if mail_enabled { json!(format!("{nick}@{domain}")) } else { Value::Null }, "mailEnabled": mail_enabled, "mailNickname": nick,
            "membershipRule": rule.map(|d| format!("(user.department -eq \"{d}\")")),
            "membershipRuleProcessingState": rule.map(|_| "On"), "onPremisesDomainName": null, "onPremisesLastSyncDateTime": null,
            "onPremisesNetBiosName": null, "onPremisesSamAccountName": null, "onPremisesSecurityIdentifier": null, "onPremisesSyncEnabled": null,
            "preferredDataLocation": null, "preferredLanguage": null, "proxyAddresses": if mail_enabled { json!([format!("SMTP:{nick}@{domain}")]) } else { json!([]) },
            "renewedDateTime": ts(i as u64), "resourceBehaviorOptions": [], "resourceProvisioningOptions": [], "securityEnabled": security,
            "securityIdentifier": format!("S-1-12-1-{}", 1000 + i), "theme": null, "uniqueName": null,
            "visibility": if mail_enabled { json!("Private") } else { Value::Null }, "onPremisesProvisioningErrors": [], "serviceProvisioningErrors": []
        }));
        let members: Vec<String> = match rule {
            Some(_) => (i..n)
                .step_by(DEPTS.len())
                .map(|u| users[u].clone())
                .collect(),
            None => {
                let size = ((n as f64 * 0.25) / ((i as f64) - 2.0).powf(1.2))
                    .round()
                    .clamp(1.0, n as f64) as usize
                    + g.rng.random_range(0..3);
                let size = size.min(n);
                let start = g.rng.random_range(0..n);
                (0..size).map(|k| users[(start + k) % n].clone()).collect()
            }
        };
        g.rel(format!("groups/{id}/members"), members);
        if rule.is_none() {
            let owners = (0..1 + i % 2)
                .map(|k| users[(i * 7 + k) % n].clone())
                .collect();
            g.rel(format!("groups/{id}/owners"), owners);
        }
        groups.push(id);
    }
    // Nested groups.
    for i in 4..group_count.min(12) {
        let child = groups[(i + 1) % group_count].clone();
        if let Some(m) = g.t.rels.get_mut(&format!("groups/{}/members", groups[i])) {
            m.push(child);
        }
    }

    // Microsoft Graph's service principal with the app roles (permissions) this fake knows.
    let graph_sp = g.guid();
    let role_id = |name: &str| {
        guid_from(
            mix(0x6ea9, name.len() as u64) ^ name.bytes().fold(0u64, |h, b| mix(h, u64::from(b))),
            mix(7, name.bytes().map(u64::from).sum()),
        )
    };
    let graph_roles: Vec<Value> = PERMISSIONS
        .iter()
        .map(|p| json!({"allowedMemberTypes": ["Application"], "description": format!("Allows the app to {p} without a signed-in user."),
            "displayName": p, "id": role_id(p), "isEnabled": true, "origin": "Application", "value": p}))
        .collect();
    g.push("servicePrincipals", sp_json(&graph_sp, GRAPH_APP_ID, "Microsoft Graph", MICROSOFT_TENANT, json!(graph_roles),
        json!([{"adminConsentDescription": "Allows users to sign in and read their profile.", "adminConsentDisplayName": "Sign in and read user profile",
            "id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "isEnabled": true, "origin": null, "type": "User",
            "userConsentDescription": "Allows you to sign in and read your profile.", "userConsentDisplayName": "Sign you in and read your profile", "value": "User.Read"}])));

    // Applications with owners, credentials, federated credentials; their service principals.
    let app_count = (n / 200).clamp(5, 500);
    let mut sps = Vec::new();
    let mut app_ids = Vec::new();
    for i in 0..=app_count {
        let id = g.guid();
        let backup = i == app_count;
        let app_id = if backup { client_id.clone() } else { g.guid() };
        let name = if backup {
            "butterfly-backup".to_string()
        } else {
            format!("Line-of-business app {i}")
        };
        let mut passwords = Vec::new();
        if backup {
            passwords.push(json!({"customKeyIdentifier": null, "displayName": "backup", "endDateTime": ts(900), "hint": client_secret.chars().take(3).collect::<String>(),
                "keyId": g.guid(), "secretText": null, "startDateTime": ts(200)}));
        } else {
            for k in 0..i % 3 {
                let p = g.password_credential(&format!("secret {k}"), i as u64 + k as u64);
                passwords.push(p);
            }
        }
        let keys: Vec<Value> = if i % 4 == 1 || backup {
            vec![g.key_credential(i as u64)]
        } else {
            vec![]
        };
        let roles: Vec<Value> = if i % 3 == 0 {
            vec![
                json!({"allowedMemberTypes": ["User"], "description": "Readers", "displayName": "Reader", "id": g.guid(), "isEnabled": true, "origin": "Application", "value": "App.Reader"}),
            ]
        } else {
            vec![]
        };
        let scopes = if i % 5 == 0 {
            json!([{"adminConsentDescription": "Access the API", "adminConsentDisplayName": "Access the API", "id": g.guid(), "isEnabled": true,
                "type": "User", "userConsentDescription": "Access the API", "userConsentDisplayName": "Access the API", "value": "access_as_user"}])
        } else {
            json!([])
        };
        let required = if backup {
            json!([{"resourceAppId": GRAPH_APP_ID, "resourceAccess": PERMISSIONS.iter().map(|p| json!({"id": role_id(p), "type": "Role"})).collect::<Vec<_>>()}])
        } else {
            json!([{"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}])
        };
        let mut app = json!({
            "id": id, "deletedDateTime": null, "appId": app_id, "applicationTemplateId": null, "disabledByMicrosoftStatus": null,
            "createdDateTime": ts(i as u64), "displayName": name, "description": null, "groupMembershipClaims": if i % 2 == 0 { json!("SecurityGroup") } else { Value::Null },
            "identifierUris": [format!("api://{app_id}")], "isDeviceOnlyAuthSupported": null, "isFallbackPublicClient": null, "notes": null,
            "publisherDomain": domain, "serviceManagementReference": null, "signInAudience": if i % 7 == 3 { "AzureADMultipleOrgs" } else { "AzureADMyOrg" },
            "tags": [], "tokenEncryptionKeyId": null, "defaultRedirectUri": null, "certification": null, "optionalClaims": null, "addIns": [],
            "api": {"acceptMappedClaims": null, "knownClientApplications": [], "requestedAccessTokenVersion": 2, "oauth2PermissionScopes": scopes, "preAuthorizedApplications": []},
            "appRoles": roles, "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null},
            "keyCredentials": keys, "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"}, "passwordCredentials": passwords,
            "publicClient": {"redirectUris": []}, "requiredResourceAccess": required,
            "verifiedPublisher": {"displayName": null, "verifiedPublisherId": null, "addedDateTime": null},
            "web": {"homePageUrl": null, "logoutUrl": null, "redirectUris": [format!("https://app{i}.contoso.example/signin-oidc")],
                "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": i % 2 == 1}},
            "spa": {"redirectUris": []}
        });
        app["requestSignatureVerification"] = Value::Null;
        app["samlMetadataUrl"] = Value::Null;
        app["servicePrincipalLockConfiguration"] = json!({"isEnabled": true, "allProperties": true, "credentialsWithUsageVerify": true,
            "credentialsWithUsageSign": true, "identifierUris": false, "tokenEncryptionKeyId": true});
        g.push("applications", app);
        g.rel(
            format!("applications/{id}/owners"),
            vec![users[(i * 13) % n].clone()],
        );
        if i % 4 == 2 {
            let fid = g.guid();
            g.push(&format!("applications/{id}/federatedIdentityCredentials"), json!({"id": fid, "name": format!("github-{i}"),
                "issuer": "https://token.actions.githubusercontent.com", "subject": format!("repo:contoso/app{i}:environment:Production"),
                "description": "Deploys from GitHub Actions", "audiences": ["api://AzureADTokenExchange"]}));
        }
        let sp = g.guid();
        let mut sp_item = sp_json(&sp, &app_id, &name, &tenant_id, json!(roles), scopes);
        sp_item["appRoleAssignmentRequired"] = json!(i % 3 == 0);
        if i % 6 == 5 {
            sp_item["keyCredentials"] = json!([g.key_credential(i as u64 + 3)]);
        }
        g.push("servicePrincipals", sp_item);
        g.rel(
            format!("servicePrincipals/{sp}/owners"),
            vec![users[(i * 13) % n].clone()],
        );
        if let Some(r) = roles.first() {
            let role = r["id"].as_str().unwrap_or_default().to_string();
            for k in 0..3 {
                let principal = users[(i * 31 + k) % n].clone();
                let a = assignment(&mut g, &role, &principal, "User", &sp, &name);
                g.push(&format!("servicePrincipals/{sp}/appRoleAssignedTo"), a);
            }
            let a = assignment(
                &mut g,
                &role,
                &groups[4 % group_count].clone(),
                "Group",
                &sp,
                &name,
            );
            g.push(&format!("servicePrincipals/{sp}/appRoleAssignedTo"), a);
        }
        sps.push((sp.clone(), name.clone()));
        app_ids.push(app_id);
    }
    // Application permissions granted to the backup app (and one to a daemon app).
    let (backup_sp, backup_name) = sps[app_count].clone();
    for p in PERMISSIONS
        .iter()
        .filter(|p| p.contains(".Read.") || p.ends_with(".Read.Directory"))
    {
        let a = assignment(
            &mut g,
            &role_id(p),
            &backup_sp,
            "ServicePrincipal",
            &graph_sp,
            "Microsoft Graph",
        );
        g.push(
            &format!("servicePrincipals/{graph_sp}/appRoleAssignedTo"),
            a,
        );
    }
    let a = assignment(
        &mut g,
        &role_id("User.Read.All"),
        &sps[1].0,
        "ServicePrincipal",
        &graph_sp,
        "Microsoft Graph",
    );
    g.push(
        &format!("servicePrincipals/{graph_sp}/appRoleAssignedTo"),
        a,
    );
    let _ = backup_name;
    // Delegated permission grants.
    for (i, (sp, _)) in sps.iter().enumerate().take(app_count) {
        if i % 2 == 0 {
            let id = b64url(&g.rng.random::<[u8; 32]>());
            let (consent, principal) = if i % 4 == 0 {
                ("AllPrincipals", Value::Null)
            } else {
                ("Principal", json!(users[i % n]))
            };
            g.push(
                "oauth2PermissionGrants",
                json!({"id": id, "clientId": sp, "consentType": consent, "principalId": principal,
                "resourceId": graph_sp, "scope": "User.Read openid profile offline_access"}),
            );
        }
    }

    // Named locations.
    let corp = g.guid();
    g.push("identity/conditionalAccess/namedLocations", json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": corp, "displayName": "Corporate network",
        "createdDateTime": ts(3), "modifiedDateTime": ts(4), "isTrusted": true,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"}, {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/48"}]}));
    let vpn = g.guid();
    g.push("identity/conditionalAccess/namedLocations", json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": vpn, "displayName": "VPN egress",
        "createdDateTime": ts(5), "modifiedDateTime": ts(5), "isTrusted": false, "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.16/28"}]}));
    let blocked = g.guid();
    g.push("identity/conditionalAccess/namedLocations", json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": blocked, "displayName": "Blocked countries",
        "createdDateTime": ts(6), "modifiedDateTime": ts(7), "countriesAndRegions": ["KP", "IR", "SY"], "includeUnknownCountriesAndRegions": false, "countryLookupMethod": "clientIpAddress"}));

    // Authentication strength policies: the three built-in ones and a custom one.
    for (id, name, combos, kind) in [
        (
            "00000000-0000-0000-0000-000000000002",
            "Multifactor authentication",
            vec![
                "windowsHelloForBusiness",
                "fido2",
                "x509CertificateMultiFactor",
                "deviceBasedPush",
                "temporaryAccessPassOneTime",
                "temporaryAccessPassMultiUse",
                "password,microsoftAuthenticatorPush",
                "password,softwareOath",
                "password,hardwareOath",
                "password,sms",
                "password,voice",
            ],
            "builtIn",
        ),
        (
            "00000000-0000-0000-0000-000000000003",
            "Passwordless MFA",
            vec![
                "windowsHelloForBusiness",
                "fido2",
                "x509CertificateMultiFactor",
                "deviceBasedPush",
            ],
            "builtIn",
        ),
        (
            "00000000-0000-0000-0000-000000000004",
            "Phishing-resistant MFA",
            vec![
                "windowsHelloForBusiness",
                "fido2",
                "x509CertificateMultiFactor",
            ],
            "builtIn",
        ),
    ] {
        g.push("policies/authenticationStrengthPolicies", json!({"id": id, "createdDateTime": "2021-12-01T00:00:00Z", "modifiedDateTime": "2021-12-01T00:00:00Z",
            "displayName": name, "description": format!("Built-in: {name}"), "policyType": kind, "requirementsSatisfied": "mfa", "allowedCombinations": combos, "combinationConfigurations": []}));
    }
    let custom_strength = g.guid();
    g.push("policies/authenticationStrengthPolicies", json!({"id": custom_strength, "createdDateTime": ts(8), "modifiedDateTime": ts(9), "displayName": "FIDO2 or TAP",
        "description": "Keys for admins, TAP for onboarding", "policyType": "custom", "requirementsSatisfied": "mfa",
        "allowedCombinations": ["fido2", "temporaryAccessPassOneTime"], "combinationConfigurations": []}));

    // Conditional access policies naming users, groups, roles, applications, locations.
    let admin = users[0].clone();
    let breakglass = users[1 % n].clone();
    let ca = |state: &str,
              name: &str,
              users_c: Value,
              apps: Value,
              locations: Value,
              grant: Value,
              session: Value,
              client_types: Value,
              day: u64| {
        json!({"displayName": name, "state": state, "createdDateTime": ts(day), "modifiedDateTime": ts(day + 1), "templateId": null,
            "conditions": {"userRiskLevels": [], "signInRiskLevels": [], "clientAppTypes": client_types, "servicePrincipalRiskLevels": [],
                "platforms": null, "locations": locations, "devices": null, "clientApplications": null, "applications": apps, "users": users_c},
            "grantControls": grant, "sessionControls": session})
    };
    let users_c = |inc_users: Value,
                   exc_users: Value,
                   inc_groups: Value,
                   exc_groups: Value,
                   inc_roles: Value| {
        json!({"includeUsers": inc_users, "excludeUsers": exc_users, "includeGroups": inc_groups, "excludeGroups": exc_groups,
            "includeRoles": inc_roles, "excludeRoles": [], "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null})
    };
    let apps_c = |inc: Value| json!({"includeApplications": inc, "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": [], "applicationFilter": null});
    let grant = |controls: Value, strength: Value| json!({"operator": "OR", "builtInControls": controls, "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": strength});
    let policies = vec![
        ca(
            "enabled",
            "Require MFA for administrators",
            users_c(
                json!([]),
                json!([breakglass]),
                json!([]),
                json!([]),
                json!([
                    ROLE_TEMPLATES[0].0,
                    ROLE_TEMPLATES[1].0,
                    ROLE_TEMPLATES[2].0
                ]),
            ),
            apps_c(json!(["All"])),
            Value::Null,
            grant(json!(["mfa"]), Value::Null),
            Value::Null,
            json!(["all"]),
            10,
        ),
        ca(
            "enabled",
            "Block legacy authentication",
            users_c(
                json!(["All"]),
                json!([breakglass]),
                json!([]),
                json!([]),
                json!([]),
            ),
            apps_c(json!(["All"])),
            Value::Null,
            grant(json!(["block"]), Value::Null),
            Value::Null,
            json!(["exchangeActiveSync", "other"]),
            11,
        ),
        ca(
            "enabledForReportingButNotEnforced",
            "MFA outside the corporate network",
            users_c(
                json!([]),
                json!([admin]),
                json!([groups[4 % group_count]]),
                json!([groups[5 % group_count]]),
                json!([]),
            ),
            apps_c(json!(["All"])),
            json!({"includeLocations": ["All"], "excludeLocations": [corp, "AllTrusted"]}),
            grant(json!(["mfa"]), Value::Null),
            Value::Null,
            json!(["browser", "mobileAppsAndDesktopClients"]),
            12,
        ),
        ca(
            "enabled",
            "Block sign-ins from blocked countries",
            users_c(
                json!(["All"]),
                json!([breakglass]),
                json!([]),
                json!([]),
                json!([]),
            ),
            apps_c(json!(["All"])),
            json!({"includeLocations": [blocked], "excludeLocations": []}),
            grant(json!(["block"]), Value::Null),
            Value::Null,
            json!(["all"]),
            13,
        ),
        ca(
            "enabled",
            "Phishing-resistant MFA for privileged roles",
            users_c(
                json!([]),
                json!([]),
                json!([]),
                json!([]),
                json!([ROLE_TEMPLATES[7].0]),
            ),
            apps_c(json!(["All"])),
            Value::Null,
            grant(
                json!([]),
                json!({"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA", "policyType": "builtIn", "requirementsSatisfied": "mfa",
                "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"], "createdDateTime": "2021-12-01T00:00:00Z", "modifiedDateTime": "2021-12-01T00:00:00Z", "description": null, "combinationConfigurations": []}),
            ),
            Value::Null,
            json!(["all"]),
            14,
        ),
        ca(
            "disabled",
            "Compliant device for line-of-business apps",
            users_c(
                json!(["All"]),
                json!([]),
                json!([]),
                json!([groups[6 % group_count]]),
                json!([]),
            ),
            apps_c(json!([app_ids[0], app_ids[1 % app_ids.len()]])),
            Value::Null,
            grant(
                json!(["compliantDevice", "domainJoinedDevice"]),
                Value::Null,
            ),
            json!({"applicationEnforcedRestrictions": null, "cloudAppSecurity": null, "persistentBrowser": null, "disableResilienceDefaults": null,
                "signInFrequency": {"value": 8, "type": "hours", "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased", "isEnabled": true}}),
            json!(["all"]),
            15,
        ),
        ca(
            "enabled",
            "Guests sign in with MFA",
            users_c(
                json!(["GuestsOrExternalUsers"]),
                json!([]),
                json!([]),
                json!([]),
                json!([]),
            ),
            apps_c(json!(["All"])),
            Value::Null,
            grant(
                json!([]),
                json!({"id": custom_strength, "displayName": "FIDO2 or TAP"}),
            ),
            Value::Null,
            json!(["all"]),
            16,
        ),
    ];
    for mut p in policies {
        p["id"] = json!(g.guid());
        g.push("identity/conditionalAccess/policies", p);
    }

    // Authentication methods policy and its method configurations.
    let all = json!([{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}]);
    g.t.singletons.insert("policies/authenticationMethodsPolicy".into(), json!({"id": "authenticationMethodsPolicy", "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
        "lastModifiedDateTime": ts(20), "policyVersion": "1.5", "policyMigrationState": "migrationComplete", "reconfirmationInDays": 0,
        "registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {"snoozeDurationInDays": 1, "enforceRegistrationAfterAllowedSnoozes": true, "state": "default",
            "excludeTargets": [], "includeTargets": [{"id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}]}}}));
    let cfg = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations";
    for item in [
        json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2", "state": "enabled", "isSelfServiceRegistrationAllowed": true,
            "isAttestationEnforced": true, "keyRestrictions": {"isEnforced": false, "enforcementType": "block", "aaGuids": []}, "includeTargets": all, "excludeTargets": []}),
        json!({"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration", "id": "MicrosoftAuthenticator", "state": "enabled", "isSoftwareOathEnabled": false,
            "excludeTargets": [{"id": groups[7 % group_count], "targetType": "group"}],
            "featureSettings": {"displayAppInformationRequiredState": {"state": "enabled", "includeTarget": {"targetType": "group", "id": "all_users"}, "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}},
                "displayLocationInformationRequiredState": {"state": "default", "includeTarget": {"targetType": "group", "id": "all_users"}, "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}}},
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "authenticationMode": "any"}]}),
        json!({"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms", "state": "disabled", "excludeTargets": [],
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "isUsableForSignIn": true}]}),
        json!({"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "id": "TemporaryAccessPass", "state": "enabled", "defaultLifetimeInMinutes": 60,
            "defaultLength": 8, "minimumLifetimeInMinutes": 60, "maximumLifetimeInMinutes": 480, "isUsableOnce": false, "includeTargets": all, "excludeTargets": []}),
        json!({"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "id": "Email", "state": "enabled", "allowExternalIdToUseEmailOtp": "default", "includeTargets": [], "excludeTargets": []}),
        json!({"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethodConfiguration", "id": "SoftwareOath", "state": "disabled", "includeTargets": all, "excludeTargets": []}),
        json!({"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "id": "Voice", "state": "disabled", "isOfficePhoneAllowed": false, "includeTargets": all, "excludeTargets": []}),
        json!({"@odata.type": "#microsoft.graph.x509CertificateAuthenticationMethodConfiguration", "id": "X509Certificate", "state": "disabled", "excludeTargets": [],
            "certificateUserBindings": [{"x509CertificateField": "PrincipalName", "userProperty": "userPrincipalName", "priority": 1}],
            "authenticationModeConfiguration": {"x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor", "rules": []},
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}]}),
    ] {
        g.push(cfg, item);
    }

    // Tenant-wide policies.
    g.t.singletons.insert("policies/authorizationPolicy".into(), json!({"id": "authorizationPolicy", "deletedDateTime": null, "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.", "allowInvitesFrom": "adminsAndGuestInviters",
        "allowedToSignUpEmailBasedSubscriptions": true, "allowedToUseSSPR": true, "allowEmailVerifiedUsersToJoinOrganization": false,
        "allowUserConsentForRiskyApps": null, "blockMsolPowerShell": false, "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "defaultUserRolePermissions": {"allowedToCreateApps": false, "allowedToCreateSecurityGroups": true, "allowedToCreateTenants": false,
            "allowedToReadBitlockerKeysForOwnedDevice": true, "allowedToReadOtherUsers": true, "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-low"]}}));
    g.t.singletons.insert("policies/identitySecurityDefaultsEnforcementPolicy".into(), json!({"id": "00000000-0000-0000-0000-000000000005", "deletedDateTime": null,
        "displayName": "Security Defaults", "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft.", "isEnabled": false}));
    let lifetime = g.guid();
    g.push("policies/tokenLifetimePolicies", json!({"id": lifetime, "deletedDateTime": null, "displayName": "Web apps 8 hours", "description": null, "isOrganizationDefault": false,
        "definition": ["{\"TokenLifetimePolicy\":{\"Version\":1,\"AccessTokenLifetime\":\"08:00:00\"}}"]}));
    let issuance = g.guid();
    g.push("policies/tokenIssuancePolicies", json!({"id": issuance, "deletedDateTime": null, "displayName": "SAML SHA-256", "description": null, "isOrganizationDefault": false,
        "definition": ["{\"TokenIssuancePolicy\":{\"Version\":1,\"SigningAlgorithm\":\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\",\"TokenResponseSigningPolicy\":\"TokenOnly\",\"SamlTokenVersion\":\"2.0\"}}"]}));
    // Cross-tenant access (B2B collaboration and direct connect).
    let b2b = |access: &str| {
        json!({"usersAndGroups": {"accessType": access, "targets": [{"target": "AllUsers", "targetType": "user"}]},
        "applications": {"accessType": access, "targets": [{"target": "AllApplications", "targetType": "application"}]}})
    };
    g.t.singletons.insert("policies/crossTenantAccessPolicy".into(), json!({"id": "crossTenantAccessPolicy", "deletedDateTime": null, "displayName": "CrossTenantAccessPolicy",
        "description": null, "allowedCloudEndpoints": []}));
    g.t.singletons.insert("policies/crossTenantAccessPolicy/default".into(), json!({"id": "crossTenantAccessPolicyDefault", "isServiceDefault": false,
        "inboundTrust": {"isMfaAccepted": true, "isCompliantDeviceAccepted": false, "isHybridAzureADJoinedDeviceAccepted": false},
        "b2bCollaborationInbound": b2b("allowed"), "b2bCollaborationOutbound": b2b("allowed"), "b2bDirectConnectInbound": b2b("blocked"), "b2bDirectConnectOutbound": b2b("blocked"),
        "automaticUserConsentSettings": {"inboundAllowed": false, "outboundAllowed": false},
        "invitationRedemptionIdentityProviderConfiguration": {"primaryIdentityProviderPrecedenceOrder": ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"], "fallbackIdentityProvider": "defaultConfiguredIdp"},
        "tenantRestrictions": {"usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]}, "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications", "targetType": "application"}]}}}));
    for k in 0..2 {
        let partner = g.guid();
        g.push("policies/crossTenantAccessPolicy/partners", json!({"tenantId": partner, "isServiceProvider": k == 1, "isInMultiTenantOrganization": false,
            "inboundTrust": {"isMfaAccepted": true, "isCompliantDeviceAccepted": k == 0, "isHybridAzureADJoinedDeviceAccepted": false},
            "b2bCollaborationInbound": if k == 0 { b2b("allowed") } else { Value::Null }, "b2bCollaborationOutbound": null,
            "b2bDirectConnectInbound": if k == 0 { b2b("allowed") } else { Value::Null }, "b2bDirectConnectOutbound": null,
            "automaticUserConsentSettings": {"inboundAllowed": k == 0, "outboundAllowed": false}, "tenantRestrictions": null}));
    }

    // Roles: definitions, activated directory roles with members, assignments, eligibility.
    for (tid, name) in ROLE_TEMPLATES {
        g.push("roleManagement/directory/roleDefinitions", json!({"id": tid, "templateId": tid, "displayName": name, "description": format!("{name} (built-in)"),
            "isBuiltIn": true, "isEnabled": true, "resourceScopes": ["/"], "version": "1", "inheritsPermissionsFrom": [],
            "rolePermissions": [{"allowedResourceActions": [format!("microsoft.directory/{}/allProperties/allTasks", name.split(' ').next().unwrap_or("x").to_lowercase())], "condition": null}]}));
    }
    let custom_role = g.guid();
    g.push("roleManagement/directory/roleDefinitions", json!({"id": custom_role, "templateId": custom_role, "displayName": "App credential rotator",
        "description": "Rotates application secrets", "isBuiltIn": false, "isEnabled": true, "resourceScopes": ["/"], "version": null, "inheritsPermissionsFrom": [],
        "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/applications/credentials/update"], "condition": null}]}));
    let mut aus = Vec::new();
    let au_count = (n / 1000).clamp(2, 20);
    for k in 0..au_count {
        let id = g.guid();
        let dynamic = k == 0;
        g.push("directory/administrativeUnits", json!({"id": id, "deletedDateTime": null, "displayName": format!("Region {k}"), "description": format!("Users of region {k}"),
            "isMemberManagementRestricted": null, "visibility": if k == 1 { json!("HiddenMembership") } else { Value::Null },
            "membershipType": if dynamic { json!("Dynamic") } else { Value::Null },
            "membershipRule": if dynamic { json!("(user.city -eq \"Seattle\")") } else { Value::Null },
            "membershipRuleProcessingState": if dynamic { json!("On") } else { Value::Null }}));
        let mut members: Vec<String> = (0..(n / au_count).min(300))
            .map(|j| users[(k * (n / au_count) + j) % n].clone())
            .collect();
        members.dedup();
        if !dynamic {
            members.push(groups[(k + 4) % group_count].clone());
        }
        g.rel(
            format!("directory/administrativeUnits/{id}/members"),
            members,
        );
        aus.push(id);
    }
    for (k, (tid, name)) in ROLE_TEMPLATES.iter().enumerate().take(5) {
        let id = g.guid();
        g.push("directoryRoles", json!({"id": id, "deletedDateTime": null, "description": format!("{name} (built-in)"), "displayName": name, "roleTemplateId": tid}));
        let members: Vec<String> = (0..1 + k % 3)
            .map(|j| users[(k * 5 + j) % n].clone())
            .collect();
        for m in &members {
            let aid = b64url(&g.rng.random::<[u8; 24]>());
            g.push("roleManagement/directory/roleAssignments", json!({"id": aid, "principalId": m, "roleDefinitionId": tid, "directoryScopeId": "/", "appScopeId": null, "condition": null}));
        }
        g.rel(format!("directoryRoles/{id}/members"), members);
    }
    let aid = b64url(&g.rng.random::<[u8; 24]>());
    g.push("roleManagement/directory/roleAssignments", json!({"id": aid, "principalId": users[9 % n], "roleDefinitionId": ROLE_TEMPLATES[5].0,
        "directoryScopeId": format!("/administrativeUnits/{}", aus[0]), "appScopeId": null, "condition": null}));
    let aid = b64url(&g.rng.random::<[u8; 24]>());
    g.push(
        "roleManagement/directory/roleAssignments",
        json!({"id": aid, "principalId": backup_sp, "roleDefinitionId": custom_role,
        "directoryScopeId": "/", "appScopeId": null, "condition": null}),
    );
    for k in 0..3 {
        let id = g.guid();
        g.push("roleManagement/directory/roleEligibilitySchedules", json!({"id": id, "principalId": users[(20 + k) % n], "roleDefinitionId": ROLE_TEMPLATES[k * 2].0,
            "directoryScopeId": "/", "appScopeId": null, "memberType": "Direct", "status": "Provisioned", "createdUsing": id, "createdDateTime": ts(30 + k as u64), "modifiedDateTime": null,
            "scheduleInfo": {"startDateTime": ts(30 + k as u64), "recurrence": null, "expiration": if k == 0 { json!({"type": "noExpiration", "endDateTime": null, "duration": null}) } else { json!({"type": "afterDateTime", "endDateTime": ts(400), "duration": null}) }}}));
    }

    // Identity providers, domains, organization and branding.
    let google_secret = g.sentinel("idp-client-secret");
    g.push("identity/identityProviders", json!({"@odata.type": "#microsoft.graph.socialIdentityProvider", "id": "Google-OAUTH", "displayName": "Google",
        "identityProviderType": "Google", "clientId": "123456789-fake.apps.googleusercontent.com", "clientSecret": google_secret}));
    let fb_secret = g.sentinel("idp-client-secret");
    g.push("identity/identityProviders", json!({"@odata.type": "#microsoft.graph.socialIdentityProvider", "id": "Facebook-OAUTH", "displayName": "Facebook",
        "identityProviderType": "Facebook", "clientId": "1000000000000001", "clientSecret": fb_secret}));
    g.push("identity/identityProviders", json!({"@odata.type": "#microsoft.graph.builtInIdentityProvider", "id": "MSASignup-OAUTH", "displayName": "MSA", "identityProviderType": "MicrosoftAccount", "state": null}));
    for (name, default, initial) in [
        (domain.clone(), false, true),
        ("contoso.example".to_string(), true, false),
        ("fabrikam-partner.example".to_string(), false, false),
    ] {
        let verified = name != "fabrikam-partner.example";
        g.push("domains", json!({"id": name, "authenticationType": "Managed", "availabilityStatus": null, "isAdminManaged": true, "isDefault": default, "isInitial": initial,
            "isRoot": true, "isVerified": verified, "manufacturer": null, "model": null, "passwordNotificationWindowInDays": 14, "passwordValidityPeriodInDays": 2147483647,
            "state": null, "supportedServices": if verified { json!(["Email", "OfficeCommunicationsOnline"]) } else { json!([]) }}));
    }
    g.push("organization", json!({"id": tenant_id, "deletedDateTime": null, "businessPhones": ["+1 555 0100"], "city": "Seattle", "country": null, "countryLetterCode": "US",
        "createdDateTime": "2020-01-15T10:00:00Z", "defaultUsageLocation": null, "displayName": format!("Contoso {}", spec.seed), "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": null, "onPremisesSyncEnabled": null, "partnerTenantType": null, "postalCode": "98101", "preferredLanguage": "en",
        "securityComplianceNotificationMails": [], "securityComplianceNotificationPhones": [], "state": "WA", "street": "1 Microsoft Way",
        "technicalNotificationMails": [format!("admin@{domain}")], "tenantType": "AAD", "assignedPlans": [], "provisionedPlans": [], "privacyProfile": null,
        "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": domain, "type": "Managed"},
            {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": "contoso.example", "type": "Managed"}]}));
    g.t.singletons.insert(format!("organization/{tenant_id}/branding"), json!({"id": "0", "backgroundColor": "#0F6CBD", "backgroundImageRelativeUrl": null,
        "bannerLogoRelativeUrl": null, "cdnList": ["aadcdn.msftauthimages.net", "aadcdn.msauthimages.net"], "customAccountResetCredentialsUrl": null,
        "customCannotAccessYourAccountText": null, "customCannotAccessYourAccountUrl": null, "customForgotMyPasswordText": null, "customPrivacyAndCookiesText": null,
        "customPrivacyAndCookiesUrl": null, "customResetItNowText": null, "customTermsOfUseText": null, "customTermsOfUseUrl": null, "faviconRelativeUrl": null,
        "headerBackgroundColor": null, "signInPageText": "Welcome to Contoso", "squareLogoRelativeUrl": null, "squareLogoDarkRelativeUrl": null,
        "usernameHintText": "someone@contoso.example",
        "loginPageTextVisibilitySettings": {"hideCannotAccessYourAccount": null, "hideAccountResetCredentials": false, "hideTermsOfUse": true, "hidePrivacyAndCookies": true, "hideForgotMyPassword": null, "hideResetItNow": null}}));

    // In larger tenants, relationships longer than Graph expands (20 objects): one
    // application with 25 owners and 25 federated credentials, one service principal with 30
    // app role assignments. Generated last, so that everything else stays as it was (and
    // smaller tenants are unchanged).
    if n >= LONG_RELATIONS_FROM {
        long_relations(&mut g, &users, &sps);
    }

    g.t.id_counter = g.n;
    g.t
}

/// From this many users on, the tenant has an application and a service principal with
/// relationships longer than `$expand` returns (an application with 25 owners and 25 federated credentials, a service principal with 30 app role assignments).
pub const LONG_RELATIONS_FROM: usize = 500;

/// Line-of-business app 2 (it has a federated credential) gets 25 owners and 25 federated
/// credentials; the service principal of app 3 (it has an app role) 30 assignments.
fn long_relations(g: &mut Gen, users: &[String], sps: &[(String, String)]) {
    let n = users.len();
    let app = g.t.colls["applications"].items[2]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let owners_path = format!("applications/{app}/owners");
    let mut owners = g.t.rels.get(&owners_path).cloned().unwrap_or_default();
    for k in 0..n {
        if owners.len() >= 25 {
            break;
        }
        let u = users[(300 + k) % n].clone();
        if !owners.contains(&u) {
            owners.push(u);
        }
    }
    g.rel(owners_path, owners);
    let fics = format!("applications/{app}/federatedIdentityCredentials");
    let have = g.t.colls.get(&fics).map_or(0, |c| c.items.len());
    for k in have..25 {
        let fid = g.guid();
        g.push(&fics, json!({"id": fid, "name": format!("github-2-env-{k}"),
            "issuer": "https://token.actions.githubusercontent.com", "subject": format!("repo:contoso/app2:environment:env{k}"),
            "description": "Deploys from GitHub Actions", "audiences": ["api://AzureADTokenExchange"]}));
    }
    let (sp, name) = sps[3].clone();
    let role = g.t.colls["servicePrincipals"]
        .get(&sp)
        .and_then(|s| s["appRoles"][0]["id"].as_str())
        .unwrap_or_default()
        .to_string();
    let assigned = format!("servicePrincipals/{sp}/appRoleAssignedTo");
    let mut principals: Vec<String> = g.t.colls.get(&assigned).map_or_else(Vec::new, |c| {
        c.items
            .iter()
            .filter_map(|a| a["principalId"].as_str().map(str::to_string))
            .collect()
    });
    let mut k = 0;
    while principals.len() < 30 && k < n {
        let u = users[(200 + k) % n].clone();
        k += 1;
        if principals.contains(&u) {
            continue;
        }
        let a = assignment(g, &role, &u, "User", &sp, &name);
        g.push(&assigned, a);
        principals.push(u);
    }
}

/// The properties Graph answers a create with, before the request's own (as the cassettes
/// show: every property, most of them null or empty).
pub(crate) fn template(store: &str, tenant_id: &str, domain: &str) -> Option<Value> {
    Some(match store {
        "applications" => {
            json!({"deletedDateTime": null, "applicationTemplateId": null, "disabledByMicrosoftStatus": null, "description": null,
            "groupMembershipClaims": null, "identifierUris": [], "isDeviceOnlyAuthSupported": null, "isFallbackPublicClient": null, "notes": null,
            "publisherDomain": domain, "serviceManagementReference": null, "signInAudience": "AzureADMyOrg", "tags": [], "tokenEncryptionKeyId": null,
            "defaultRedirectUri": null, "certification": null, "optionalClaims": null, "addIns": [], "requestSignatureVerification": null, "samlMetadataUrl": null,
            "servicePrincipalLockConfiguration": null,
            "api": {"acceptMappedClaims": null, "knownClientApplications": [], "requestedAccessTokenVersion": null, "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
            "appRoles": [], "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null},
            "keyCredentials": [], "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"}, "passwordCredentials": [],
            "publicClient": {"redirectUris": []}, "requiredResourceAccess": [], "verifiedPublisher": {"displayName": null, "verifiedPublisherId": null, "addedDateTime": null},
            "web": {"homePageUrl": null, "logoutUrl": null, "redirectUris": [], "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}},
            "spa": {"redirectUris": []}})
        }
        "servicePrincipals" => sp_json("", "", "", tenant_id, json!([]), json!([])),
        "groups" => {
            json!({"deletedDateTime": null, "classification": null, "creationOptions": [], "description": null, "expirationDateTime": null,
            "groupTypes": [], "isAssignableToRole": null, "mail": null, "membershipRule": null, "membershipRuleProcessingState": null,
            "onPremisesDomainName": null, "onPremisesLastSyncDateTime": null, "onPremisesNetBiosName": null, "onPremisesSamAccountName": null,
            "onPremisesSecurityIdentifier": null, "onPremisesSyncEnabled": null, "preferredDataLocation": null, "preferredLanguage": null,
            "proxyAddresses": [], "renewedDateTime": null, "resourceBehaviorOptions": [], "resourceProvisioningOptions": [], "securityIdentifier": null,
            "theme": null, "visibility": null, "onPremisesProvisioningErrors": [], "serviceProvisioningErrors": []})
        }
        "users" => {
            json!({"businessPhones": [], "givenName": null, "jobTitle": null, "mail": null, "mobilePhone": null, "officeLocation": null,
            "preferredLanguage": null, "surname": null, "userType": "Member", "deletedDateTime": null, "department": null, "otherMails": [],
            "proxyAddresses": [], "identities": [], "creationType": null, "externalUserState": null, "onPremisesSyncEnabled": null})
        }
        _ => return None,
    })
}

fn sp_json(
    id: &str,
    app_id: &str,
    name: &str,
    owner_tenant: &str,
    roles: Value,
    scopes: Value,
) -> Value {
    json!({"id": id, "deletedDateTime": null, "accountEnabled": true, "alternativeNames": [], "appDisplayName": name, "appDescription": null, "appId": app_id,
        "applicationTemplateId": null, "appOwnerOrganizationId": owner_tenant, "appRoleAssignmentRequired": false, "createdDateTime": null, "description": null,
        "disabledByMicrosoftStatus": null, "displayName": name, "homepage": null, "loginUrl": null, "logoutUrl": null, "notes": null, "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": null, "preferredTokenSigningKeyThumbprint": null, "replyUrls": [], "servicePrincipalNames": [app_id],
        "servicePrincipalType": "Application", "signInAudience": "AzureADMyOrg", "tags": ["WindowsAzureActiveDirectoryIntegratedApp"], "tokenEncryptionKeyId": null,
        "samlSingleSignOnSettings": null, "addIns": [], "appRoles": roles, "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null},
        "keyCredentials": [], "oauth2PermissionScopes": scopes, "passwordCredentials": [], "resourceSpecificApplicationPermissions": [],
        "verifiedPublisher": {"displayName": null, "verifiedPublisherId": null, "addedDateTime": null}})
}

fn assignment(
    g: &mut Gen,
    role: &str,
    principal: &str,
    ptype: &str,
    resource: &str,
    resource_name: &str,
) -> Value {
    let id = b64url(&g.rng.random::<[u8; 32]>());
    json!({"id": id, "deletedDateTime": null, "appRoleId": role, "createdDateTime": ts(40), "principalDisplayName": format!("{ptype} {}", &principal[..8]),
        "principalId": principal, "principalType": ptype, "resourceDisplayName": resource_name, "resourceId": resource})
}
