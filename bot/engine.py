"""The answering engine: the knowledge base and its matcher, loaded and indexed once."""

from __future__ import annotations

from pathlib import Path

from bot import knowledge
from bot.answers import Answer, PortCard
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher


class Engine:
    """What every adapter calls: `ask` for questions, `port_card` for a port number."""

    def __init__(self, kb: KnowledgeBase, cache_dir: Path | None = None) -> None:
        self.kb = kb
        self.matcher = Matcher(kb, cache_dir)

    @classmethod
    def load(cls, directory: Path | None = None, cache_dir: Path | None = None) -> Engine:
        """Load, validate and index the knowledge base (raises knowledge.KnowledgeError);
        `cache_dir` keeps what indexing learns, for a faster next start."""
        return cls(knowledge.load(directory), cache_dir)

    def ask(self, question: str) -> Answer:
        """Answer free text: answered, ambiguous (did you mean) or no_match."""
        return self.matcher.ask(question)

    def entry_answer(self, entry_id: str) -> Answer | None:
        """One entry as an answer (a "did you mean" or related-question click), if it exists."""
        entry = self.kb.entries.get(entry_id)
        if entry is None:
            return None
        return Answer(entry.question, "answered", 100.0, entry, (), self.kb.port_rows(entry.ports))

    def port_card(self, port: int) -> PortCard:
        """The port-table row, the entry about the port, and a one-line note."""
        info = self.kb.ports.get(port)
        return PortCard(
            port=port, info=info, entry=self.kb.entry_for_port(port), note=self.kb.port_note(port)
        )
