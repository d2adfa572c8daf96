"""List users, groups, group members, applications, service principals and app role assignments
with the official Microsoft Graph Python SDK (`msgraph-sdk` on PyPI), the straightforward way,
against a Graph base URL (the butterfly fake tenant).

usage: graph_sdk_list.py GRAPH_URL TOKEN_URL CLIENT_ID CLIENT_SECRET
  GRAPH_URL   e.g. http://127.0.0.1:18182/v1.0
  TOKEN_URL   e.g. http://127.0.0.1:18182/{tenant}/oauth2/v2.0/token
Prints one line:
`sdk <seconds> users=N groups=N members=N apps=N sps=N assignments=N user_cpu_ms=F cpu=F`
where user_cpu_ms is the process CPU time of the users listing divided by the users listed and
cpu the process CPU time of the whole run, in seconds.

What is customised, and why (everything else is the SDK as shipped):
- The credential. azure-identity's ClientSecretCredential accepts only an https authority
  (`normalize_authority` raises for http) and MSAL validates the authority against Microsoft
  hosts, so `FakeEntraSecretCredential` below does the same client-credentials POST that
  ClientSecretCredential would, with httpx, and caches the token until it expires. It is a
  plain azure.core AsyncTokenCredential handed to GraphServiceClient like any credential;
  kiota's AzureIdentityAuthenticationProvider allows http for 127.0.0.1 by itself.
- The base URL: `request_adapter.base_url` is set to GRAPH_URL instead of
  https://graph.microsoft.com/v1.0.
- `$top=999` on every listing (the SDK's default page is 100) and on users the same `$select`
  butterfly sends, so both clients ask for the same pages and the same properties.
Retries are the SDK's default RetryHandler (429/503/504, Retry-After, 3 retries).
"""
import asyncio
import sys
import time

import httpx
from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient

# The properties butterfly-entra selects for users (butterfly-entra/src/kinds.rs USER_SELECT).
USER_SELECT = [
    "id", "accountEnabled", "ageGroup", "businessPhones", "city", "companyName", "country",
    "createdDateTime", "creationType", "department", "displayName", "employeeHireDate",
    "employeeId", "employeeType", "externalUserState", "givenName", "identities", "jobTitle",
    "mail", "mailNickname", "mobilePhone", "officeLocation", "onPremisesImmutableId",
    "onPremisesSyncEnabled", "otherMails", "passwordPolicies", "postalCode", "preferredLanguage",
    "proxyAddresses", "state", "streetAddress", "surname", "usageLocation", "userPrincipalName",
    "userType",
]


class FakeEntraSecretCredential(AsyncTokenCredential):
    """Client-credentials grant with a client secret against any token URL (what
    azure.identity.aio.ClientSecretCredential does against login.microsoftonline.com)."""

    def __init__(self, token_url, client_id, client_secret):
        self._url = token_url
        self._id = client_id
        self._secret = client_secret
        self._http = httpx.AsyncClient(timeout=30)
        self._token = None

    async def get_token(self, *scopes, claims=None, tenant_id=None, enable_cae=False, **kwargs):
        if self._token is not None and self._token.expires_on - 300 > time.time():
            return self._token
        resp = await self._http.post(self._url, data={
            "grant_type": "client_credentials",
            "client_id": self._id,
            "client_secret": self._secret,
            "scope": " ".join(scopes),
        })
        resp.raise_for_status()
        body = resp.json()
        self._token = AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))
        return self._token

    async def close(self):
        await self._http.aclose()


def config(builder_class, **query):
    """A GET request configuration with `$top=999` (and any other query options), as the SDK's
    docs build one: the generated builder's `...GetQueryParameters` in a RequestConfiguration."""
    qp_class = getattr(builder_class, f"{builder_class.__name__}GetQueryParameters")
    return RequestConfiguration(query_parameters=qp_class(top=999, **query))


async def drain(builder, **query):
    """Every item of a collection: the first page, then `with_url(odata_next_link)` until the last."""
    page = await builder.get(request_configuration=config(type(builder), **query))
    items = list(page.value or [])
    while page.odata_next_link:
        page = await builder.with_url(page.odata_next_link).get()
        items.extend(page.value or [])
    return items


async def main(graph_url, token_url, client_id, client_secret):
    credential = FakeEntraSecretCredential(token_url, client_id, client_secret)
    client = GraphServiceClient(credentials=credential, scopes=["https://graph.microsoft.com/.default"])
    client.request_adapter.base_url = graph_url
    started = time.monotonic()
    cpu_started = time.process_time()
    users = await drain(client.users, select=USER_SELECT)
    user_cpu = time.process_time() - cpu_started
    groups = await drain(client.groups)
    members = 0
    for g in groups:
        members += len(await drain(client.groups.by_group_id(g.id).members))
    apps = await drain(client.applications)
    sps = await drain(client.service_principals)
    assignments = 0
    for sp in sps:
        assignments += len(await drain(client.service_principals.by_service_principal_id(sp.id).app_role_assigned_to))
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu_started
    await credential.close()
    per_user = 1000 * user_cpu / max(len(users), 1)
    print(f"sdk {elapsed:.2f} users={len(users)} groups={len(groups)} members={members} apps={len(apps)} "
          f"sps={len(sps)} assignments={assignments} user_cpu_ms={per_user:.2f} cpu={cpu:.2f}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
