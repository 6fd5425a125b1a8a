"""The exceptions of affiliate_sdk.

Every error the SDK raises is an :class:`AffiliateError`. Its ``code`` is the stable
machine-readable code shared with the HTTP API (``{"error": {"code": ...}}``) and the
JavaScript package (``Error.code``). Messages never contain keys or whole tokens.
"""

from __future__ import annotations

from typing import ClassVar, Dict, Optional, Tuple, Type

__all__ = [
    "AffiliateError",
    "InvalidSignature",
    "Expired",
    "Malformed",
    "UnknownCampaign",
    "UnknownPartner",
    "NotAttributable",
    "Conflict",
    "InvalidTransition",
    "NotFound",
    "StoreError",
]


class AffiliateError(Exception):
    """Base class of every error the SDK raises."""

    code: ClassVar[str] = "error"


class InvalidSignature(AffiliateError):
    """A link signature or token tag did not verify, or its key id is not in the keyring."""

    code = "invalid_signature"


class Expired(AffiliateError):
    """A correctly signed token outside its window (or issued too far in the future)."""

    code = "expired"


class Malformed(AffiliateError, ValueError):
    """Input without the required shape: a bad code, sid, amount, currency, id, URL ...

    It is also a :class:`ValueError`.
    """

    code = "malformed"
    #: The input that was refused (``"campaign code"``, ``"amount"``, ``"token"`` ...).
    field: Optional[str] = None


class UnknownCampaign(AffiliateError, LookupError):
    """No campaign with this code was added to the tracker."""

    code = "unknown_campaign"


class UnknownPartner(AffiliateError, LookupError):
    """No partner with this code was added to the tracker."""

    code = "unknown_partner"


class NotAttributable(AffiliateError):
    """The evidence credits no partner (no valid token, click id, coupon or binding)."""

    code = "not_attributable"


class Conflict(AffiliateError):
    """A conflicting write: an order id recorded before with another amount, currency or
    kind, a code that exists, or an idempotency key used before with other arguments."""

    code = "conflict"


class InvalidTransition(AffiliateError):
    """A status change the lifecycle does not allow (``paid`` to ``pending`` ...)."""

    code = "invalid_transition"


class NotFound(AffiliateError, LookupError):
    """Nothing is recorded under this order id."""

    code = "not_found"


class StoreError(AffiliateError):
    """The store could not read or durably write; nothing was acknowledged."""

    code = "store_unavailable"


class Forbidden(AffiliateError, PermissionError):
    """The caller is known but may not do this."""

    code = "forbidden"


class Unauthorized(Forbidden):
    """No valid credential came with the call (a missing, wrong or revoked postback
    key); nothing was read or changed. A ``Forbidden``, as it was before it had its
    own code, so ``except Forbidden`` still catches it."""

    code = "unauthorized"


class ManagedByConfig(AffiliateError):
    """The campaign or partner is an entry of the server's configuration file."""

    code = "managed_by_config"


#: Every error code of the SDK and its HTTP API, in the Rust core's order.
ERROR_CODES: Tuple[str, ...] = (
    "malformed",
    "invalid_signature",
    "expired",
    "unknown_campaign",
    "unknown_partner",
    "not_attributable",
    "conflict",
    "invalid_transition",
    "unauthorized",
    "not_found",
    "store_unavailable",
    "forbidden",
    "managed_by_config",
)

#: The exception class of each error code; the native module raises through this table.
BY_CODE: Dict[str, Type[AffiliateError]] = {
    cls.code: cls
    for cls in (
        InvalidSignature,
        Expired,
        Malformed,
        UnknownCampaign,
        UnknownPartner,
        NotAttributable,
        Conflict,
        InvalidTransition,
        NotFound,
        StoreError,
        Forbidden,
        Unauthorized,
        ManagedByConfig,
    )
}
