"""Endpoint rules of RFC 3261 §8: what a UAS checks before it processes a request
(``sippet.endpoint.uas``) and how a UAC builds requests and reacts to final responses
(``sippet.endpoint.uac``). Pure functions and small sans-I/O classes; responses come from
``sippet.responses``. See docs/endpoint.md."""

from __future__ import annotations

from sippet.endpoint.uac import (
    Authenticator,
    FollowUp,
    LocalAddress,
    RedirectTargets,
    build_request,
    next_request,
    redirect_request,
    retry_after,
)
from sippet.endpoint.uas import ALL_CHECKS, Check, MergedRequests, UASPolicy, check_request

__all__ = [
    "ALL_CHECKS",
    "Authenticator",
    "Check",
    "FollowUp",
    "LocalAddress",
    "MergedRequests",
    "RedirectTargets",
    "UASPolicy",
    "build_request",
    "check_request",
    "next_request",
    "redirect_request",
    "retry_after",
]
