"""The SDK's six TokenStore methods over the connections table, with the SDK's own FileStore semantics.

What the SDK passes and expects (read from zohocrmsdk's FileStore and OAuthToken.get_token):
- `find_token(token)` matches, in this order of precedence on what the *probe* carries:
  a user signature (by its name); else an access token with no client id/secret (by that access token);
  else a refresh or grant token with client id and secret (the first row whose grant token or refresh token
  equals the probe's). The match fills in every field the probe lacks and the probe itself is returned.
- `save_token(token)`: a token with an id updates that row; without one, the `find_token` rules pick the
  row to update; otherwise a new row is inserted and the token gets its id (a string).
  Unlike FileStore, a token whose id no longer exists is refused rather than written back: the SDK saves
  after a refresh, and a logout that happened meanwhile must stay a logout.
- `delete_token`, `find_token_by_id`: an unknown id raises SDKException.

Token values are found through their keyed hashes, never compared in clear.
"""

from __future__ import annotations

from typing import Any

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.crm.api.exception.sdk_exception import SDKException
from zohocrmsdk.src.com.zoho.crm.api.user_signature import UserSignature
from zohocrmsdk.src.com.zoho.crm.api.util.constants import Constants

from store.crypto import TokenCipher
from store.database import StoreDatabase
from store.models import row_key
from store.prepared import PreparedQuery, slot


class SdkTokens:
    """OAuthToken rows for the SDK, in one store's connections table."""

    def __init__(self, database: StoreDatabase, cipher: TokenCipher) -> None:
        self._database = database
        self._cipher = cipher
        self._row = row = database.models.connection
        self._by_signature = PreparedQuery(
            database, row.select().where(row.user_signature == slot("signature")).limit(1)
        )
        self._by_access = PreparedQuery(
            database, row.select().where(row.access_token_hash == slot("access")).order_by(row.id).limit(1)
        )
        self._by_grant_or_refresh = PreparedQuery(
            database,
            row.select()
            .where((row.grant_token_hash == slot("grant")) | (row.refresh_token_hash == slot("refresh")))
            .order_by(row.id)
            .limit(1),
        )
        self._by_id = PreparedQuery(database, row.select().where(row.id == slot("id")).limit(1))

    # find ---------------------------------------------------------------------------------------------

    def find(self, token: Any) -> Any:
        if not isinstance(token, OAuthToken):
            return token
        found = self._database.run(lambda: self._match(token))
        if found is None:
            return None
        self._merge(token, found)
        return token

    def _match(self, token: OAuthToken) -> Any:
        signature = token.get_user_signature()
        if signature is not None:
            name = signature.get_name()
            return self._by_signature.first(signature=name) if name else None
        access = token.get_access_token()
        if access is not None and token.get_client_id() is None and token.get_client_secret() is None:
            return self._by_access.first(access=self._cipher.lookup_hash(access)) if access else None
        grant, refresh = token.get_grant_token(), token.get_refresh_token()
        if (grant is not None or refresh is not None) and (
            token.get_client_id() is not None and token.get_client_secret() is not None
        ):
            if not grant and not refresh:
                return None
            # A hash no row can hold stands in for the missing value.
            return self._by_grant_or_refresh.first(
                grant=self._cipher.lookup_hash(grant) if grant else "-",
                refresh=self._cipher.lookup_hash(refresh) if refresh else "-",
            )
        return None

    # save ---------------------------------------------------------------------------------------------

    def save(self, token: Any) -> None:
        if not isinstance(token, OAuthToken):
            return
        row = self._row

        def work() -> None:
            if token.get_id() is not None:
                key = row_key(token.get_id())
                found = self._by_id.first(id=key) if key is not None else None
                if found is None:
                    raise SDKException(
                        Constants.TOKEN_STORE,
                        f"no stored token has id {token.get_id()!r} (it was deleted, e.g. by a logout)",
                    )
            else:
                found = self._match(token)
            if found is not None:
                self._merge(token, found)
                row.update(self._columns(token)).where(row.id == found.id).execute()
                return
            held = (token.get_refresh_token(), token.get_grant_token(), token.get_access_token())
            if all(value is None for value in held):
                raise SDKException(Constants.TOKEN_STORE, "a token needs a refresh, grant or access token")
            values = self._columns(token)
            values["created_at_ms"] = values["updated_at_ms"]
            new_id = row.insert(values).execute()
            token.set_id(str(new_id))

        self._database.run(work, write=True)

    def _columns(self, token: OAuthToken) -> dict[str, Any]:
        signature = token.get_user_signature()
        cipher = self._cipher
        values: dict[str, Any] = {
            "user_signature": _text(signature.get_name()) if signature is not None else None,
            "client_id": _text(token.get_client_id()),
            "redirect_url": _text(token.get_redirect_url()),
            "api_domain": _text(token.get_api_domain()),
            "access_expires_at_ms": _millis(token.get_expires_in()),
            "client_secret_enc": _encrypted(cipher, token.get_client_secret()),
            "updated_at_ms": self._database.now_ms(),
        }
        for name, value in (
            ("refresh_token", token.get_refresh_token()),
            ("access_token", token.get_access_token()),
            ("grant_token", token.get_grant_token()),
        ):
            value = _text(value)
            values[f"{name}_enc"] = cipher.encrypt(value) if value else None
            values[f"{name}_hash"] = cipher.lookup_hash(value) if value else None
        return values

    # delete, list -------------------------------------------------------------------------------------

    def delete(self, token_id: str) -> None:
        row = self._row
        key = row_key(token_id)

        def work() -> int:
            return row.delete().where(row.id == key).execute() if key is not None else 0

        if self._database.run(work, write=True) != 1:
            raise SDKException(Constants.TOKEN_STORE, f"no stored token has id {token_id!r}")

    def get_all(self) -> list[OAuthToken]:
        row = self._row
        found = self._database.run(lambda: list(row.select().order_by(row.id).dicts()))
        return [self._to_token(_Record(values)) for values in found]

    def delete_all(self) -> None:
        row = self._row
        self._database.run(lambda: row.delete().execute(), write=True)

    def find_by_id(self, token_id: str) -> OAuthToken:
        key = row_key(token_id)
        found = self._database.run(lambda: self._by_id.first(id=key)) if key is not None else None
        if found is None:
            raise SDKException(Constants.TOKEN_STORE, f"no stored token has id {token_id!r}")
        return self._to_token(found)

    # rows <-> tokens ----------------------------------------------------------------------------------

    def _to_token(self, found: Any) -> OAuthToken:
        token = object.__new__(OAuthToken)
        for setter in (
            token.set_id,
            token.set_user_signature,
            token.set_client_id,
            token.set_client_secret,
            token.set_refresh_token,
            token.set_access_token,
            token.set_grant_token,
            token.set_redirect_url,
            token.set_expires_in,
            token.set_api_domain,
        ):
            setter(None)
        self._merge(token, found)
        return token

    def _merge(self, token: OAuthToken, found: Any) -> None:
        """Fill in what `token` lacks from the row `found` (FileStore's set_merge_data)."""
        decrypt = self._cipher.decrypt
        if token.get_id() is None:
            token.set_id(str(found.id))
        if token.get_user_signature() is None and found.user_signature:
            token.set_user_signature(UserSignature(found.user_signature))
        if token.get_client_id() is None:
            token.set_client_id(found.client_id or None)
        if token.get_client_secret() is None and found.client_secret_enc:
            token.set_client_secret(decrypt(found.client_secret_enc))
        if token.get_refresh_token() is None and found.refresh_token_enc:
            token.set_refresh_token(decrypt(found.refresh_token_enc))
        if token.get_access_token() is None and found.access_token_enc:
            token.set_access_token(decrypt(found.access_token_enc))
        if token.get_grant_token() is None and found.grant_token_enc:
            token.set_grant_token(decrypt(found.grant_token_enc))
        if token.get_expires_in() is None and found.access_expires_at_ms is not None:
            token.set_expires_in(str(found.access_expires_at_ms))
        if token.get_redirect_url() is None:
            token.set_redirect_url(found.redirect_url or None)
        if token.get_api_domain() is None:
            token.set_api_domain(found.api_domain or None)


class _Record:
    """Attribute access over a row dict (the shape PreparedQuery.first returns)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _text(value: Any) -> str | None:
    """FileStore keeps empty strings as "absent"; so do we."""
    if value is None:
        return None
    text = str(value)
    return text if text else None


def _encrypted(cipher: TokenCipher, value: Any) -> str | None:
    text = _text(value)
    return cipher.encrypt(text) if text else None


def _millis(value: Any) -> int | None:
    """The SDK keeps expiry as a string of epoch milliseconds."""
    text = _text(value)
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None
