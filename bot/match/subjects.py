"""Which subjects (a provider, a server, a framework, a client, a tool) a question names.

The table comes from the knowledge base's `subjects.yaml`; names are matched as whole words
in the lower-cased text, so "go" in "go to settings" is not Go unless the table says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping


class SubjectFinder:
    """One regular expression over every name; a name may stand for several subjects."""

    def __init__(self, subjects: Mapping[str, tuple[str, ...]]) -> None:
        self.by_name: dict[str, set[str]] = {}
        for subject, names in subjects.items():
            for name in names:
                self.by_name.setdefault(" ".join(name.lower().split()), set()).add(subject)
        alternatives = "|".join(re.escape(n) for n in sorted(self.by_name, key=len, reverse=True))
        # a domain name also counts inside a host name: "gmail.com" in "pop.gmail.com"
        self.pattern = (
            re.compile(rf"(?<![\w.-])(?:[a-z0-9-]+\.(?=[\w-]*\.))*({alternatives})(?![\w-]|\.\w)")
            if alternatives
            else None
        )

    def named(self, text: str) -> frozenset[str]:
        """The subjects `text` names."""
        if self.pattern is None:
            return frozenset()
        found: set[str] = set()
        for match in self.pattern.finditer(" ".join(text.lower().split())):
            found |= self.by_name[match.group(1)]
        return frozenset(found)
