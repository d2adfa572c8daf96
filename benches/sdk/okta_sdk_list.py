"""List users, groups, group members, apps and app assignments with the official Okta Python
SDK (`okta` on PyPI), the straightforward way, against an org URL (the butterfly fake tenant).

usage: okta_sdk_list.py ORG_URL API_TOKEN
Prints one line: `sdk <seconds> <requests-ish> users=N groups=N members=N apps=N assignments=N`.
"""
import asyncio
import sys
import time

from okta.client import Client as OktaClient
from okta.pagination import PaginationHelper


async def drain(method, *args, **kwargs):
    """Every page of a listing: the SDK 3.x way, `after` cursors from the Link header."""
    items = []
    while True:
        page, resp, err = await method(*args, **kwargs)
        if err:
            raise SystemExit(f"error: {err}")
        items.extend(page or [])
        after = PaginationHelper.extract_next_cursor(resp.headers) if resp is not None else None
        if not after:
            return items
        kwargs["after"] = after


async def main(url, token):
    client = OktaClient({
        "orgUrl": url,
        "token": token,
        "testing": {"testingDisableHttpsCheck": True},
        "rateLimit": {"maxRetries": 20},
    })
    started = time.monotonic()
    users = await drain(client.list_users, limit=200)
    groups = await drain(client.list_groups)
    members = 0
    for g in groups:
        members += len(await drain(client.list_group_users, g.id, limit=1000))
    apps = await drain(client.list_applications, limit=200)
    assignments = 0
    for a in apps:
        assignments += len(await drain(client.list_application_users, a.id, limit=500))
        assignments += len(await drain(client.list_application_group_assignments, a.id))
    elapsed = time.monotonic() - started
    print(f"sdk {elapsed:.2f} users={len(users)} groups={len(groups)} members={members} apps={len(apps)} assignments={assignments}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
