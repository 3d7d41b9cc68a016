"""Queries over the knowledge base's class hierarchy: the classes above an entry, the way up to
one of them, the causes an entry rolls up to, and the classes below one. Each walk visits each
class once and uses no recursion, so deep or wide hierarchies cost time linear in their size."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from rlscheck.knowledge.store import ById

# (pre-order, post-order, the step each was first reached from) of a walk up from an entry
Walk = Tuple[List[str], List[str], Dict[str, Optional[str]]]


class ClassGraph:
    """Mixed into the knowledge base: needs `entries` (by id), `children` ({class: [members]})
    and a `_walks` dict for memoised walks."""

    if TYPE_CHECKING:
        entries: ById
        _walks: dict[str, Walk]

        @property
        def children(self) -> dict[str, list[str]]: ...

    def parents(self, entry: dict[str, Any]) -> list[str]:
        return entry.get("parents", []) + entry.get("classes", [])

    def _walk(self, entry_id: str) -> Walk:
        """The entry and every class above it, each visited once (depth first, parents in the
        order listed), without recursion: (pre-order, post-order, the step each was first
        reached from). Post-order lists every class after all classes above it."""
        found = self._walks.get(entry_id)
        if found is not None:
            return found
        order: list[str] = [entry_id]
        post: list[str] = []
        came_from: dict[str, str | None] = {entry_id: None}
        frames = [(entry_id, iter(self._ups(entry_id)))]
        while frames:
            step, ups = frames[-1]
            for parent in ups:
                if parent not in came_from:
                    came_from[parent] = step
                    order.append(parent)
                    frames.append((parent, iter(self._ups(parent))))
                    break
            else:
                frames.pop()
                post.append(step)
        found = (order, post, came_from)
        if len(self._walks) < 10_000:
            self._walks[entry_id] = found
        return found

    def _ups(self, entry_id: str) -> list[str]:
        return [parent for parent in self.parents(self.entries[entry_id]) if parent in self.entries]

    def ancestors(self, entry_id: str) -> list[str]:
        """The entry, then every class above it, each once, nearest ways first."""
        return self._walk(entry_id)[0]

    def path_to(self, entry_id: str, step: str) -> list[str]:
        """The way up from an entry to one of its classes by which the class was first reached:
        [entry id, ..., step]."""
        came_from = self._walk(entry_id)[2]
        path = [step]
        while path[-1] != entry_id:
            path.append(came_from[path[-1]])  # type: ignore[arg-type]  # only entry_id came from None
        return path[::-1]

    def topmost(self, entry_id: str, linked: Callable[[dict[str, Any]], object]) -> list[tuple[str, list[str]]]:
        """[(class, path)] for each step above (or at) an entry for which `linked(entry)` holds
        and from which at least one way up meets no other such step: the causes an entry rolls
        up to. Linear in the classes above the entry."""
        order, post, _ = self._walk(entry_id)
        is_linked = {step: bool(linked(self.entries[step])) for step in order}
        clear: dict[str, bool] = {}  # no linked step at or above it on at least one way up

        def clear_above(step: str) -> bool:
            ups = self._ups(step)
            return not ups or any(clear.get(up, False) for up in ups)

        for step in post:
            clear[step] = not is_linked[step] and clear_above(step)
        return [(step, self.path_to(entry_id, step)) for step in order if is_linked[step] and clear_above(step)]

    def withdrawal_block(self, entry_id: str) -> tuple[dict[str, Any], list[str], int] | None:
        """(block, path, index in path) of the nearest withdrawal link of an entry or its
        classes, or None: stopping it is then not linked."""
        for step in self.ancestors(entry_id):
            block = self.entries[step].get("withdrawal")
            if block:
                path = self.path_to(entry_id, step)
                return block, path, len(path) - 1
        return None

    def effective_relation(self, entry_id: str) -> str | None:
        """The entry's own relation, or failing that the nearest class relation."""
        from rlscheck.knowledge.schema import FINDING_RELATIONS  # here, not at the top: completion needs no schema

        for step in self.ancestors(entry_id):
            relation = self.entries[step].get("relation")
            if relation:
                return relation if step == entry_id else ("cause-class" if relation in FINDING_RELATIONS else relation)
        return None

    def descendants(self, entry_id: str) -> list[str]:
        seen: dict[str, None] = {}
        stack = [entry_id]
        while stack:
            for child in self.children.get(stack.pop(), []):
                if child not in seen:
                    seen[child] = None
                    stack.append(child)
        return list(seen)
