"""Find the knowledge entry for messy Slack text, or say honestly that there is none.

Scoring, per entry:
- *phrase*: rapidfuzz similarity of the question to the entry's closest phrasing
  (token_sort_ratio and a length-damped token_set_ratio, so a one-word subset never scores 100);
- *coverage*: how much of the question's meaning (IDF-weighted content words, typos mapped
  with rapidfuzz) the entry's vocabulary covers;
- *entities*: agreement on port numbers and concepts (a question about 587 is never
  answered with the 465 entry; a Gmail question never with the Outlook one).
The decision needs a clear winner; close runners-up become "did you mean".
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.answers import Answer, Suggestion
from bot.entities import CONCEPTS, PROVIDERS, Entities, canonical_words, extract
from bot.knowledge import Entry, KnowledgeBase
from bot.normalize import strip_slack

ANSWER_AT = 62.0
MARGIN = 5.0
SUGGEST_AT = 45.0
SUGGEST_WITHIN = 12.0
MAX_SUGGESTIONS = 3
TYPO_CUTOFF = 84.0
PHRASE_CUTOFF = 30.0
RERANK = 40

STOPWORDS = frozenset(
    """
    a an the is are am was were be been being do does did doing to of in on at by for from
    with and or but if so as it its this that these those there here i me my we our us you
    your he she they them their his her what whats which who whom why how when where can could
    should would will shall may might must need needs have has had any some all just really
    actually please pls plz thanks thank thx hi hey hello yo guys team folks ok okay yes no
    not dont im youre about into than then also too very vs versus like get got use using used
    one way still now yeah yep right sure kindly sir someone anyone something anything tell
    know say says said let lets want wanted trying try help question q s t re ve ll d m
    """.split()
)
PORT_WORDS = frozenset(
    """
    port ports number no tcp what whats is the for used use meaning mean means about tell me
    explain info information on default standard
    """.split()
)


@dataclass(frozen=True, slots=True)
class _Phrasing:
    entry_index: int
    text: str
    words: int


class Matcher:
    """An index over every phrasing of every entry; `ask` is synchronous and pure.

    Ranking is retrieve-then-rerank: an inverted index finds the entries that share a
    content word or a port with the question (IDF-weighted coverage), and only the best
    `RERANK` of those are scored with rapidfuzz, so cost grows slowly with the base's size.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.entries: list[Entry] = sorted(kb.entries.values(), key=lambda e: e.id)
        self.phrasings: list[list[_Phrasing]] = []
        self.postings: dict[str, list[int]] = defaultdict(list)
        self.port_postings: dict[int, list[int]] = defaultdict(list)
        self.profiles: list[frozenset[str]] = []
        self.mentions: list[frozenset[str]] = []
        for index, entry in enumerate(self.entries):
            self._index_entry(index, entry)
        n = len(self.entries)
        self.idf = {
            word: math.log((n + 1) / (len(hits) + 0.5)) for word, hits in self.postings.items()
        }
        self.unknown_idf = math.log(n + 1) * 0.6
        self.vocab_list = sorted(self.postings)

    def _index_entry(self, index: int, entry: Entry) -> None:
        vocab: set[str] = set(canonical_words(" ".join(entry.tags)))
        vocab.update(str(p) for p in entry.ports)
        counts: Counter[str] = Counter()
        phrasings = []
        for text in entry.phrasings:
            words = canonical_words(strip_slack(text))
            processed = utils.default_process(" ".join(words))
            phrasings.append(_Phrasing(index, processed, len(processed.split())))
            vocab.update(w for w in words if w not in STOPWORDS)
            counts.update(set(words) & CONCEPTS)
        self.phrasings.append(phrasings)
        for word in vocab:
            self.postings[word].append(index)
        for port in entry.ports:
            self.port_postings[port].append(index)
        needed = max(2, 0.34 * len(entry.phrasings))
        self.profiles.append(frozenset(c for c, k in counts.items() if k >= needed))
        self.mentions.append(frozenset(counts))

    def ask(self, question: str) -> Answer:
        """Decide: answered (sure), ambiguous (close runners-up), or no_match."""
        text = strip_slack(question)
        entities = extract(text, self.kb.ports)
        words = canonical_words(text)
        port_answer = self._port_question(question, words, entities)
        if port_answer:
            return port_answer
        ranked = self._rank(words, entities)
        return self._decide(question, ranked, entities)

    def _port_question(self, question: str, words: list[str], entities: Entities) -> Answer | None:
        """Bare or near-bare port questions, and questions only about non-mail ports."""
        if not entities.ports:
            return None
        answerable = [p for p in entities.ports if self.kb.entry_for_port(p)]
        rest = [w for w in words if w not in PORT_WORDS and not w.isdigit()]
        if len(entities.ports) == 1 and answerable and not rest:
            entry = self.kb.entry_for_port(answerable[0])
            return self._answer(question, "answered", 100.0, entry, (), entities.ports)
        if answerable:
            return None
        notes = " ".join(self.kb.port_note(p) for p in entities.ports)
        suggestions = self._suggest_from(self._rank(words, entities), limit=MAX_SUGGESTIONS)
        return self._answer(question, "no_match", 0.0, None, suggestions, entities.ports, notes)

    def _rank(self, words: list[str], entities: Entities) -> list[tuple[float, int]]:
        content = self._fix_typos([w for w in words if w not in STOPWORDS])
        if not content:
            return []
        coverage = self._coverage(content, entities)
        candidates = heapq.nlargest(RERANK, coverage, key=coverage.__getitem__)
        phrase = self._phrase_scores(" ".join(words), candidates)
        scores = []
        for index in candidates:
            score = 0.45 * phrase.get(index, 0.0) + 55.0 * coverage[index]
            score += self._entity_adjustment(self.entries[index], index, entities)
            scores.append((max(0.0, min(100.0, score)), index))
        scores.sort(key=lambda pair: (-pair[0], self.entries[pair[1]].id))
        return scores

    def _coverage(self, content: list[str], entities: Entities) -> dict[int, float]:
        """Share of the question's IDF weight that each entry's vocabulary covers."""
        total = 0.0
        covered: dict[int, float] = defaultdict(float)
        for word in content:
            weight = self.idf.get(word, self.unknown_idf)
            total += weight
            for index in self.postings.get(word, ()):
                covered[index] += weight
        for port in entities.ports:
            for index in self.port_postings.get(port, ()):
                covered.setdefault(index, 0.0)
        return {index: value / total for index, value in covered.items()}

    def _phrase_scores(self, query: str, candidates: list[int]) -> dict[int, float]:
        """Best phrasing score per candidate entry. Phrasings were run through
        `default_process` once at index time, so only the query is processed here."""
        best: dict[int, float] = {}
        query = utils.default_process(query)
        pool = [p for index in candidates for p in self.phrasings[index]]
        if not query or not pool:
            return best
        choices = [p.text for p in pool]
        query_len = len(query.split())
        for scorer, damped in ((fuzz.token_sort_ratio, False), (fuzz.token_set_ratio, True)):
            hits = process.extract(
                query,
                choices,
                scorer=scorer,
                processor=None,
                limit=None,
                score_cutoff=PHRASE_CUTOFF,
            )
            for _, score, position in hits:
                phrasing = pool[position]
                if damped:
                    shorter, longer = sorted((query_len, phrasing.words))
                    score *= 0.55 + 0.45 * shorter / longer
                if score > best.get(phrasing.entry_index, 0.0):
                    best[phrasing.entry_index] = score
        return best

    def _fix_typos(self, content: list[str]) -> list[str]:
        """Map unknown words to a close knowledge-base word ("encyrption" -> "encryption")."""
        fixed = []
        for word in content:
            if word in self.idf or len(word) < 4 or word.isdigit():
                fixed.append(word)
                continue
            match = process.extractOne(
                word, self.vocab_list, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
            )
            fixed.append(match[0] if match else word)
        return fixed

    def _entity_adjustment(self, entry: Entry, index: int, entities: Entities) -> float:
        adjust = 0.0
        asked = set(entities.ports)
        if asked:
            shared = asked & set(entry.ports)
            if shared:
                adjust += 10.0 * len(shared) / len(asked | set(entry.ports)) + 4.0
            elif entry.ports:
                adjust -= 18.0
            else:
                adjust -= 4.0
        for concept in entities.concepts & PROVIDERS:
            if concept not in self.mentions[index]:
                adjust -= 15.0
        for concept in self.profiles[index] & PROVIDERS:
            if concept not in entities.concepts:
                adjust -= 12.0
        missing = self.profiles[index] - entities.concepts - PROVIDERS
        adjust -= 3.0 * len(missing)
        return adjust

    def _decide(self, question: str, ranked: list[tuple[float, int]], entities: Entities) -> Answer:
        if not ranked or ranked[0][0] < SUGGEST_AT:
            suggestions = self._suggest_from(ranked, limit=MAX_SUGGESTIONS, floor=30.0)
            return self._answer(
                question,
                "no_match",
                ranked[0][0] if ranked else 0.0,
                None,
                suggestions,
                entities.ports,
            )
        top_score, top_index = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        if top_score >= ANSWER_AT and top_score - runner_up >= MARGIN:
            return self._answer(
                question, "answered", top_score, self.entries[top_index], (), entities.ports
            )
        close = [(s, i) for s, i in ranked if s >= top_score - SUGGEST_WITHIN and s >= SUGGEST_AT]
        suggestions = self._suggest_from(close, limit=MAX_SUGGESTIONS)
        return self._answer(question, "ambiguous", top_score, None, suggestions, entities.ports)

    def _suggest_from(
        self,
        ranked: list[tuple[float, int]],
        limit: int,
        floor: float = SUGGEST_AT - SUGGEST_WITHIN,
    ) -> tuple[Suggestion, ...]:
        return tuple(
            Suggestion(self.entries[i], round(s, 1)) for s, i in ranked[:limit] if s >= floor
        )

    def _answer(
        self,
        question: str,
        status: str,
        score: float,
        entry: Entry | None,
        suggestions: tuple[Suggestion, ...],
        ports: Sequence[int],
        note: str = "",
    ) -> Answer:
        involved = list(ports) + (list(entry.ports) if entry else [])
        return Answer(
            question=question,
            status=status,
            score=round(score, 1),
            entry=entry,
            suggestions=suggestions,
            ports=self.kb.port_rows(involved),
            note=note,
        )
