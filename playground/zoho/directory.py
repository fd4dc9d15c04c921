"""Who exists at the emulated Zoho: API clients, users, their orgs and their CRM permissions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

LOCATIONS = ("us", "eu", "in", "au", "jp", "cn", "ca", "sa", "uk")


@dataclass(frozen=True)
class OAuthClient:
    """A client registered in the (emulated) Zoho API Console."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    name: str = "Zoho Slack Bot"


@dataclass(frozen=True)
class ZohoUser:
    """A Zoho account. `zuid` is the accounts id, `crm_user_id` the id CRM shows (Owner, Created_By)."""

    email: str
    full_name: str
    zuid: str
    org_id: str
    org_name: str
    zgid: str
    location: str
    crm_user_id: str
    has_crm: bool = True


@dataclass(frozen=True)
class Permissions:
    """What a user's CRM profile lets them do with Leads."""

    create: bool = True
    read: bool = True
    update: bool = True
    delete: bool = True

    def allows(self, operation: str) -> bool:
        """True iff `operation` (create|read|update|delete) is allowed."""
        return bool(getattr(self, operation))


@dataclass
class Org:
    """One CRM organisation; its Leads are shared by all its users."""

    org_id: str
    name: str
    zgid: str
    created_time: str
    user_emails: list[str] = field(default_factory=list)


class Directory:
    """Registry of clients, users and orgs. Plain data, no I/O."""

    def __init__(self) -> None:
        self.clients: dict[str, OAuthClient] = {}
        self.users: dict[str, ZohoUser] = {}
        self.orgs: dict[str, Org] = {}
        self.permissions: dict[str, Permissions] = {}
        self._seq = itertools.count(1)

    def register_client(self, client_id: str, client_secret: str, redirect_uri: str | list[str]) -> OAuthClient:
        """Register (or replace) a client; `redirect_uri` may be one URI or several."""
        uris = (redirect_uri,) if isinstance(redirect_uri, str) else tuple(redirect_uri)
        client = OAuthClient(client_id=client_id, client_secret=client_secret, redirect_uris=uris)
        self.clients[client_id] = client
        return client

    def add_user(
        self,
        email: str,
        full_name: str,
        org_name: str,
        org_id: str | None,
        location: str,
        has_crm: bool,
        created_time: str,
    ) -> ZohoUser:
        """Add a user to the org named `org_name` (or with `org_id`), creating the org if new.

        Raises ValueError for a duplicate email or an unknown location.
        """
        key = email.lower()
        if key in self.users:
            raise ValueError(f"user {email} already exists")
        if location not in LOCATIONS:
            raise ValueError(f"unknown location {location!r}; one of {', '.join(LOCATIONS)}")
        org = self._find_or_create_org(org_name, org_id, created_time)
        n = next(self._seq)
        user = ZohoUser(
            email=email,
            full_name=full_name,
            zuid=str(700000000 + n),
            org_id=org.org_id,
            org_name=org.name,
            zgid=org.zgid,
            location=location,
            crm_user_id=str(5725767000000411000 + n),
            has_crm=has_crm,
        )
        self.users[key] = user
        org.user_emails.append(email)
        self.permissions[key] = Permissions()
        return user

    def user(self, email: str) -> ZohoUser | None:
        """The user with that email (case-insensitive), or None."""
        return self.users.get(email.lower())

    def require_user(self, email: str) -> ZohoUser:
        """The user with that email; raises KeyError if unknown."""
        user = self.user(email)
        if user is None:
            raise KeyError(f"no Zoho user {email}")
        return user

    def org_users(self, org_id: str) -> list[ZohoUser]:
        """All users of one org, in the order they were added."""
        org = self.orgs[org_id]
        return [self.users[e.lower()] for e in org.user_emails]

    def set_permissions(self, email: str, permissions: Permissions) -> None:
        """Replace a user's Leads permissions; raises KeyError for an unknown user."""
        self.require_user(email)
        self.permissions[email.lower()] = permissions

    def permissions_of(self, email: str) -> Permissions:
        """A user's Leads permissions (all allowed unless set otherwise)."""
        return self.permissions.get(email.lower(), Permissions())

    def _find_or_create_org(self, org_name: str, org_id: str | None, created_time: str) -> Org:
        if org_id is not None and org_id in self.orgs:
            return self.orgs[org_id]
        if org_id is None:
            for org in self.orgs.values():
                if org.name == org_name:
                    return org
        n = len(self.orgs) + 1
        new_id = org_id if org_id is not None else str(60000000 + n)
        org = Org(org_id=new_id, name=org_name, zgid=str(663820000 + n), created_time=created_time)
        self.orgs[new_id] = org
        return org
