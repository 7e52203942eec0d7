"""A memo keyed by object identity, for values Ansible shares between hosts.

Ansible hands every host of a group the same group_vars objects, and those may be unhashable
(lists, dicts). Keying on id() is then cheap and exact, provided the object stays alive: the memo
keeps a reference to each key object, so an id cannot be reused while the memo lives.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class IdentityMemo:
    """compute(*objects) once per tuple of objects (by identity) for the life of the memo. A result
    of None is not kept: a check that reports an error and returns None runs again for the next
    caller, so every host sharing a bad value gets its own error. Use one memo per computation."""

    def __init__(self):
        self._hits: dict[tuple[int, ...], tuple[tuple, Any]] = {}

    def get(self, compute: Callable[..., Any], *objects: Any) -> Any:
        key = tuple(map(id, objects))
        hit = self._hits.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], objects, strict=True)):
            return hit[1]
        result = compute(*objects)
        if result is not None:
            self._hits[key] = (objects, result)
        return result
