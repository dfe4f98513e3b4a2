"""botocore's event emitter, copied cheaply: each client starts from a copy of its session's emitter.

botocore gives every client it makes a copy of the session's event handlers: the whole handler tree
(about 200 nodes of nested dicts, copied node by node) and an empty cache of event-name aliases, which
the client then fills again, one string search per event name. A sweep makes a client per service and
region, over two hundred per account, most used for one or two calls: the copying and re-aliasing were
about a fifth of a sweep's CPU, and a sweep of many accounts is bound by its CPU (one interpreter lock).

Here the tree is shared by the session and its clients and copied only along the path a registration
writes (copy on write); the alias cache, a pure function of the event name, is shared by all copies.
What a client registers (its retry handler, its signer) stays its own and never reaches the session or
another client: a test checks. This relies on botocore's emitter internals (`_PrefixTrie`, its nodes
`{"chunk", "children", "values"}`, `EventAliaser._alias_name_cache`), stable since botocore 1.4; where a
botocore lacks them, `share_events` leaves the session as it is and clients are made the usual way.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import botocore.session
from botocore import hooks

log = logging.getLogger(__name__)

_hooks: Any = hooks  # the private parts below are not in botocore's type stubs
_Node = dict[str, Any]
_OWNER = "triage-owner"  # the key marking which tree may write a node in place


class _CopyOnWriteTrie(_hooks._PrefixTrie):  # type: ignore[misc]
    """botocore's handler tree, shared with its copies until one of them writes.

    A node may be written in place only by the tree whose token it carries; any other tree writing there
    copies the node first (and so, going down from the root, every node on the written path).
    """

    _root: _Node

    def __init__(self) -> None:
        super().__init__()
        self._token = object()
        self._root[_OWNER] = self._token

    def __copy__(self) -> _CopyOnWriteTrie:
        twin = self.__class__.__new__(self.__class__)
        twin._root = self._root
        twin._token = object()
        self._token = object()  # what was this tree's alone is shared now: both copy before writing
        return twin

    def _own(self, node: _Node) -> _Node:
        if node.get(_OWNER) is self._token:
            return node
        values = node["values"]
        return {**node, "children": dict(node["children"]), "values": copy.copy(values) if values else values,
                _OWNER: self._token}

    def _own_path(self, key: str) -> None:
        """Own the root and the nodes along `key` as far as they exist."""
        self._root = self._own(self._root)
        current = self._root
        for part in key.split("."):
            child = current["children"].get(part)
            if child is None:
                break
            child = self._own(child)
            current["children"][part] = child
            current = child

    def append_item(self, key: str, value: Any, section: int = _hooks._MIDDLE) -> None:
        self._own_path(key)
        current = self._root
        for part in key.split("."):
            child = current["children"].get(part)
            if child is None:
                child = {"chunk": part, "values": None, "children": {}, _OWNER: self._token}
                current["children"][part] = child
            current = child
        if current["values"] is None:
            current["values"] = _hooks.NodeList([], [], [])
        current["values"][section].append(value)

    def remove_item(self, key: str, value: Any) -> None:
        self._own_path(key)
        super().remove_item(key, value)


class _CopyOnWriteEmitter(hooks.HierarchicalEmitter):
    def __init__(self) -> None:
        super().__init__()
        self._handlers = _CopyOnWriteTrie()


class _SharedAliases(hooks.EventAliaser):
    def __copy__(self) -> _SharedAliases:
        twin = super().__copy__()
        mine: Any = self
        shared: Any = twin
        shared._alias_name_cache = mine._alias_name_cache  # same names, same aliases: one cache for all
        return twin


def sharing_session() -> botocore.session.Session:
    """A botocore session whose clients copy its event handlers cheaply (see the module's docstring)."""
    core = botocore.session.Session(event_hooks=_CopyOnWriteEmitter())
    share_events(core)
    return core


def share_events(core: botocore.session.Session) -> None:
    """Put the sharing alias cache on `core` (made with a `_CopyOnWriteEmitter`); a botocore of another
    shape is left as it is."""
    events: Any = getattr(core, "_events", None)
    if type(events) is not hooks.EventAliaser or not hasattr(events, "_alias_name_cache"):
        log.debug("botocore's session has no EventAliaser of the known shape; clients are copied the usual way")
        return
    parts: Any = events
    shared = _SharedAliases(parts._emitter, parts._event_aliases)
    core._events = shared  # type: ignore[attr-defined]
    core.register_component("event_emitter", shared)
