"""Find the knowledge entry for messy Slack text, or say honestly that there is none.

Pipeline for one question (index, rank, decide):
1. Slack markup is stripped, synonyms are folded into concepts ("smpt" -> smtp, "o365" ->
   outlook), ports are extracted, and the subjects it names are found (`bot.match.subjects`:
   postfix, laravel, gmail...). A bare or near-bare port ("465", "what's tcp 995 for")
   answers with that port's entry; a question only about non-mail ports says what they are.
2. Terms (stopwords and negated words dropped, light stemming, typos mapped onto the base's
   vocabulary with rapidfuzz) are scored by TF-IDF cosine against each entry's profile, where a
   term weighs more the more of the entry's phrasings use it (its tags and answer text count a
   little), and against its two nearest phrasings. An inverted index with bounded postings keeps
   this cheap at 10,000 entries.
3. The best few entries are compared with their nearest phrasings by rapidfuzz
   (token_sort_ratio, and token_set_ratio damped by the length difference, since it gives 100
   to any one-word subset); a phrasing matched (almost) exactly is decisive.
4. Entities adjust the score: an entry about other ports than the question's is pushed down
   (a question about 587 never lands on 465); an entry `about` a subject rises when the
   question names it and sinks when it names another (or, for a provider, none). A specific
   concept the question names (starttls, udp, firewall, test...) lifts the entries most of whose
   phrasings use it and sinks those that never do.
5. A second opinion, an averaged perceptron trained on the phrasings (terms, ports and
   question words such as "why" or "which"), nudges the finalists toward its choice.
6. The knowledge base's out-of-scope examples (DNS records, mailbox admin, other ports...)
   are indexed like entries, one per topic: when one wins, the answer is an honest "outside
   what I cover".
7. The decision (`bot.match.decide`) is a logistic model over the ranking's signals, fitted by
   cross-validation over the phrasings (`bot.match.fit`); close runners-up become "did you mean",
   and weak matches an honest no_match with the nearest topics.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process, utils

from bot.kb.knowledge import Entry, KnowledgeBase
from bot.match import decide, fit
from bot.match.answers import MAX_SUGGESTIONS, Answer, Status, Suggestion
from bot.match.decide import CLOSE, FEATURES, NEVER, Decider
from bot.match.entities import (
    CONCEPTS,
    FAMILIES,
    PROVIDERS,
    Entities,
    canonical_words,
    extract,
    find_ports,
    stem,
)
from bot.match.normalize import strip_slack
from bot.match.perceptron import Example, Perceptron, trained
from bot.match.subjects import SubjectFinder

OPINION_WEIGHT = 30.0
TRAIN_LIMIT = 20_000  # phrasings; a larger base is matched without the second opinion
SUGGEST_AT = 40.0  # a top score this high makes a "did you mean" rather than nothing
SUGGEST_WITHIN = 12.0
FAVOURITE_FLOOR = 20.0  # the second opinion's choice is offered from this score
TYPO_CUTOFF = 84.0
OUT_OF_SCOPE = "(out of scope)"  # not a valid entry id, so it never clashes with one
OUTSIDE_NOTE = (
    "That looks outside what I cover: email ports, TLS for mail, and mail server and client "
    "settings."
)
PHRASE_CUTOFF = 30.0
EXACT = 100 * decide.EXACT
SHORTLIST = 7
POSTINGS = 400
RERANK = 5
PHRASE_POOL = 4
TERM_PHRASINGS = 30  # per entry and term, the phrasings where the term weighs most
TYPO_CACHE = 10_000
COSINE_WEIGHT = 50.0
PHRASE_WEIGHT = 0.4
UNKNOWN_WEIGHT = 0.3
TAG_WEIGHT = 0.3
TEXT_WEIGHT = 0.1
IDF_POWER = 0.5
PORT_MATCH = 12.0
PORT_HOME = 3.0
PORT_MISMATCH = 15.0
SUBJECT_MISMATCH = 15.0
SUBJECT_MATCH = 8.0
SUBJECT_UNNAMED = 5.0  # an entry about a product, for a question that names none
CONCEPT_MATCH = 5.0
CONCEPT_MISMATCH = 6.0
ANCHORS = frozenset(
    {
        "smtp",
        "send",
        "receive",
        "imap",
        "pop3",
        "starttls",
        "tls",
        "ssl",
        "implicit",
        "plaintext",
        "encrypt",
    }
)
# A question about a provider's mail settings, not just its sending or receiving.
SETTINGS_ANCHORS = ANCHORS - {"send", "receive"}
# Concepts too broad to tell entries apart (providers have their own adjustment).
GENERAL_CONCEPTS = PROVIDERS | {"smtp", "send", "receive"}

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
NEGATIONS = frozenset({"not", "without", "except", "non", "never"})
# Words that add nothing to "what is port N": with only these around it, a port number is a
# near-bare port question (stemmed, as `terms` returns them).
PORT_WORDS = frozenset(
    """
    port number no tcp meaning mean explain info information default standard mail email
    server client protocol service traffic run for thing deal
    """.split()
)


def terms(words: Iterable[str]) -> list[str]:
    """Content terms: stopwords, numbers (ports are entities) and negated words ("not
    receiving") dropped, the rest stemmed, with a concept's family term added beside it."""
    out = []
    previous = ""
    for word in words:
        negated, previous = previous in NEGATIONS, word
        if word in STOPWORDS or word.isdigit() or negated:
            continue
        out.append(stem(word))
        if word in FAMILIES:
            out.append(FAMILIES[word])
    return out


@dataclass(frozen=True, slots=True)
class _Phrasing:
    text: str
    words: int


class Matcher:
    """An index over every phrasing of every entry; `ask` is synchronous and pure.

    Ranking is retrieve-then-rerank: an inverted index gives the TF-IDF cosine of every
    entry that shares a term with the question, and only the best `RERANK` of those are
    scored with rapidfuzz, so the cost grows slowly with the size of the knowledge base.
    """

    def __init__(
        self, kb: KnowledgeBase, cache_dir: Path | None = None, decider: Decider | None = None
    ) -> None:
        """`decider`: the last phase's model; fitted to `kb` by cross-validation (and cached
        in `cache_dir`) when not given."""
        self.kb = kb
        self.subjects = SubjectFinder(
            {
                subject: names + (kb.providers[subject].domains if subject in kb.providers else ())
                for subject, names in kb.subjects.items()
            }
        )
        self.provider_subjects = frozenset(kb.subjects) & frozenset(kb.providers)
        self.settings_entries = frozenset(
            [p.entry for p in kb.providers.values() if p.entry] + list(kb.ranked_records)
        )
        """The providers' settings entries (Gmail's, Outlook's, the records'): they answer a
        question naming their provider only when it is about mail settings, not its calendar
        or licences."""
        ranked = [*kb.entries.values(), *kb.ranked_records.values()]
        self.entries: list[Entry] = sorted(ranked, key=lambda e: e.id)
        topics: dict[str, list[str]] = defaultdict(list)
        for question in kb.out_of_scope:
            topics[kb.out_of_scope_topics.get(question, "")].append(question)
        self.outsides = frozenset(range(len(self.entries), len(self.entries) + len(topics)))
        """The indices standing for the out-of-scope examples, one per topic."""
        self.entries += [_out_of_scope_entry(questions) for questions in topics.values()]
        self.phrasings: list[list[_Phrasing]] = []
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.port_postings: dict[int, list[int]] = defaultdict(list)
        self.choices: list[list[str]] = []
        self.exact: dict[str, int] = {}
        self.profiles_tf: list[dict[str, float]] = []
        self.profiles: list[frozenset[str]] = []
        self.mentions: list[frozenset[str]] = []
        learn = sum(len(e.phrasings) for e in self.entries) <= TRAIN_LIMIT
        examples: list[Example] = []
        phrase_postings: list[dict[str, list[int]]] = []
        for index, entry in enumerate(self.entries):
            generated = entry.id in kb.ranked_records  # the second opinion learns no templates
            learned, postings = self._index_entry(index, entry, learn and not generated)
            examples += learned
            phrase_postings.append(postings)
        self.second = trained(examples, len(self.entries), cache_dir) if learn else None
        for hits in self.postings.values():
            hits.sort(key=lambda hit: -hit[1])
        n = len(self.entries)
        self.idf = {
            term: math.log((n + 1) / (len(hits) + 0.5)) ** IDF_POWER
            for term, hits in self.postings.items()
        }
        self.unknown_idf = UNKNOWN_WEIGHT * math.log(n + 1)
        squares = [0.0] * n
        for term, hits in self.postings.items():
            for index, tf in hits:
                squares[index] += (tf * self.idf[term]) ** 2
        self.norms = [math.sqrt(v) or 1.0 for v in squares]
        self.phrase_shares = [
            self._shares(postings, index) for index, postings in enumerate(phrase_postings)
        ]
        self._typos: dict[str, str] = {}
        self.vocab_list = sorted(self.postings)
        positions = {entry.id: index for index, entry in enumerate(self.entries)}
        self.home = {port: positions[entry_id] for port, entry_id in kb.port_entries.items()}
        self.decider = decider or fit.decider_for(kb, cache_dir, unfitted)

    def _index_entry(
        self, index: int, entry: Entry, learn: bool
    ) -> tuple[list[Example], dict[str, list[int]]]:
        """Index one entry (term weight: the square root of the share of its phrasings that
        use the term); return its phrasings as training examples for the second opinion, and
        which phrasings use each term."""
        examples = []
        counts: Counter[str] = Counter()
        concepts: Counter[str] = Counter()
        profile: dict[str, float] = {}
        phrasings = []
        postings: dict[str, list[int]] = defaultdict(list)
        for text in entry.phrasings:
            plain = strip_slack(text, for_matching=True)
            words = canonical_words(plain)
            processed = utils.default_process(" ".join(words))
            phrasings.append(_Phrasing(processed, len(processed.split())))
            found = frozenset(terms(words))
            if learn:
                ports = find_ports(plain, self.kb.ports, words)
                examples.append((found | _port_features(ports) | _cues(words), index))
            for term in found:
                postings[term].append(len(phrasings) - 1)
            counts.update(found)
            concepts.update(set(words) & CONCEPTS)
        total = len(entry.phrasings)
        extra = set(terms(canonical_words(" ".join(entry.tags))))
        weighted: dict[str, float] = dict(counts)
        for term in extra:
            weighted[term] = weighted.get(term, 0.0) + TAG_WEIGHT * total
        answer = strip_slack(f"{entry.short} {entry.detail}", for_matching=True)
        for term in set(terms(canonical_words(answer))):
            weighted[term] = weighted.get(term, 0.0) + TEXT_WEIGHT * total
        for term, count in weighted.items():
            tf = math.sqrt(min(1.0, count / total))
            self.postings[term].append((index, tf))
            profile[term] = tf
        for port in entry.ports:
            self.port_postings[port].append(index)
        self.phrasings.append(phrasings)
        self.choices.append([p.text for p in phrasings])
        for phrasing in phrasings:
            self.exact.setdefault(phrasing.text, index)
        self.profiles_tf.append(profile)
        needed = max(2, 0.34 * total)
        self.profiles.append(frozenset(c for c, k in concepts.items() if k >= needed))
        self.mentions.append(frozenset(concepts))
        return examples, dict(postings)

    def ask(self, question: str) -> Answer:
        """Decide: answered (sure), ambiguous (close runners-up), or no_match."""
        text, words, entities = self._read(question)
        port_answer = self._port_question(question, words, entities)
        if port_answer:
            return port_answer
        return self._decide(question, self.rank(text, words, entities), entities)

    def held_out(self, question: str) -> Ranking | None:
        """The ranking the decision sees for `question`, or None when the question never
        reaches the decision (a bare port); for fitting the decision (`bot.match.fit`)."""
        text, words, entities = self._read(question)
        if self._port_question(question, words, entities):
            return None
        return self.rank(text, words, entities)

    def _read(self, question: str) -> tuple[str, list[str], Entities]:
        """The question without Slack markup, its canonical words, and its entities."""
        text = strip_slack(question, for_matching=True)
        words = canonical_words(text)
        return text, words, extract(text, self.kb.ports, words)

    def entry_id(self, index: int) -> str:
        return self.entries[index].id

    def rank(self, text: str, words: list[str], entities: Entities) -> Ranking:
        """The ranking of one question (`text` stripped of Slack markup, `words` its
        canonical words); `features` are what the decision is fitted on."""
        named = self.subjects.named(text)
        ranked, favourite, detail = self._rank(words, entities, named)
        features = self._features(ranked, favourite, detail, entities, named)
        return Ranking(ranked, favourite, features, named)

    def _port_question(self, question: str, words: list[str], entities: Entities) -> Answer | None:
        """Bare or near-bare port questions, and questions only about non-mail ports (the
        note says what they are; nearest topics only when the question says more)."""
        if not entities.ports:
            return None
        answerable = [p for p in entities.ports if self.kb.entry_for_port(p)]
        rest = [t for t in terms(words) if t not in PORT_WORDS]
        if len(entities.ports) == 1 and answerable and not rest:
            entry = self.kb.entry_for_port(answerable[0])
            return self._answer(question, "answered", 100.0, entry, (), entities.ports)
        if answerable:
            return None
        notes = " ".join(self.kb.port_note(p) for p in entities.ports)
        suggestions: tuple[Suggestion, ...] = ()
        if rest:  # "port 22?" needs only the note; "send mail over 8080?" has neighbours
            ranked = self._rank(words, entities, self.subjects.named(question))[0]
            suggestions = self._suggest_from(ranked, limit=MAX_SUGGESTIONS)
        return self._answer(question, "no_match", 0.0, None, suggestions, entities.ports, notes)

    def _rank(
        self, words: list[str], entities: Entities, named: frozenset[str]
    ) -> tuple[list[tuple[float, int]], int | None, _Detail]:
        """(score, entry index) for the finalists, best first, and the second opinion's
        favourite. Entries sharing a term or a port are shortlisted by profile cosine,
        re-scored with their nearest phrasings, compared phrase by phrase with rapidfuzz,
        and nudged toward the entry the second opinion prefers among them."""
        query = self._fix_typos(terms(words))
        weights, norm = self._query_weights(query)
        unknown = 1.0 - len(weights) / len(set(query)) if query else 0.0
        if not weights and not entities.ports:
            return [], None, _Detail({}, {}, unknown, len(set(query)), {})
        profile = self._profile_cosine(weights, norm)
        for port in entities.ports:
            for index in itertools.islice(self.port_postings.get(port, ()), POSTINGS):
                profile.setdefault(index, 0.0)
        nearest = {
            i: self._nearest(i, weights, norm)
            for i in heapq.nlargest(SHORTLIST, profile, key=profile.__getitem__)
        }
        cosine = {i: (profile[i] + near[0]) / 2 for i, near in nearest.items()}
        finalists = heapq.nlargest(RERANK, cosine, key=cosine.__getitem__)
        exact = self.exact.get(utils.default_process(" ".join(words)))
        opinions = self._opinions(query, entities, words)
        favourite = Perceptron.favourite(opinions) if opinions else None
        extras: list[int | None] = [*(self.home.get(p) for p in entities.ports), exact, favourite]
        for extra in extras:
            if extra is not None and extra not in finalists:
                finalists.append(extra)
                if extra not in nearest:
                    nearest[extra] = self._nearest(extra, weights, norm)
                    cosine[extra] = (profile.get(extra, 0.0) + nearest[extra][0]) / 2
        pools = {index: nearest[index][1] for index in finalists}
        phrase = self._phrase_scores(" ".join(words), pools)
        opinion = _nudges(opinions, finalists)
        mail = _about_mail_settings(entities)
        scores = []
        for index in finalists:
            if index == exact or phrase.get(index, 0.0) >= EXACT:
                scores.append((100.0, index))
                continue
            score = COSINE_WEIGHT * cosine[index] + PHRASE_WEIGHT * phrase.get(index, 0.0)
            score += self._entity_adjustment(self.entries[index], index, entities, mail, named)
            score += opinion.get(index, 0.0)
            scores.append((max(0.0, min(100.0, score)), index))
        scores.sort(key=lambda pair: (-pair[0], self.entries[pair[1]].id))
        evidence = {
            i: sum(math.sqrt(w) for t, w in weights.items() if t in self.profiles_tf[i])
            for i in finalists
        }
        return scores, favourite, _Detail(cosine, phrase, unknown, len(set(query)), evidence)

    def _opinions(self, query: list[str], entities: Entities, words: list[str]) -> dict[int, float]:
        """The second opinion's score for every entry its features speak for."""
        if self.second is None:
            return {}
        return self.second.scores(set(query) | _port_features(entities.ports) | _cues(words))

    def _query_weights(self, query: list[str]) -> tuple[dict[str, float], float]:
        """Squared IDF of each known term, and the query's norm (unknown terms count too)."""
        weights = {}
        total = 0.0
        for term in set(query):
            idf = self.idf.get(term)
            if idf is None:
                total += self.unknown_idf**2
            else:
                weights[term] = idf * idf
                total += weights[term]
        return weights, math.sqrt(total) or 1.0

    def _profile_cosine(self, weights: dict[str, float], norm: float) -> dict[int, float]:
        """Cosine between the question and the entry profiles sharing a term with it. Each
        term's postings are read in decreasing weight, at most `POSTINGS` of them, so a common
        term costs the same in a base of 30 entries or 10,000; the shortlisted entries are
        then scored exactly."""
        rough: dict[int, float] = defaultdict(float)
        truncated = False
        for term, weight in weights.items():
            postings = self.postings[term]
            truncated = truncated or len(postings) > POSTINGS
            for index, tf in itertools.islice(postings, POSTINGS):
                rough[index] += tf * weight
        if not truncated or len(rough) <= SHORTLIST:
            return {index: dot / (norm * self.norms[index]) for index, dot in rough.items()}
        return {
            index: sum(self.profiles_tf[index].get(t, 0.0) * w for t, w in weights.items())
            / (norm * self.norms[index])
            for index in heapq.nlargest(SHORTLIST * 4, rough, key=rough.__getitem__)
        }

    def _shares(
        self, postings: dict[str, list[int]], index: int
    ) -> dict[str, list[tuple[int, float]]]:
        """Per term, each phrasing using it with the term's share of that phrasing's norm
        (idf squared over the norm), so a question's cosine with a phrasing is a plain sum."""
        squares = [0.0] * len(self.phrasings[index])
        for term, positions in postings.items():
            for position in positions:
                squares[position] += self.idf[term] ** 2
        norms = [math.sqrt(v) or 1.0 for v in squares]
        return {
            term: heapq.nlargest(
                TERM_PHRASINGS,
                [(p, self.idf[term] ** 2 / norms[p]) for p in positions],
                key=itemgetter(1),
            )
            for term, positions in postings.items()
        }

    def _nearest(
        self, index: int, weights: dict[str, float], norm: float
    ) -> tuple[float, list[int]]:
        """The mean cosine of the entry's two phrasings nearest to the question, and the
        positions of its `PHRASE_POOL` nearest phrasings (the first ones when none shares a
        term), which are all that is worth comparing with rapidfuzz."""
        cosines: dict[int, float] = {}
        known = cosines.get
        shares = self.phrase_shares[index]
        for term in weights:
            for position, share in shares.get(term, ()):
                cosines[position] = known(position, 0.0) + share
        if not cosines:
            return 0.0, list(range(min(PHRASE_POOL, len(self.phrasings[index]))))
        nearest = sorted(cosines.items(), key=itemgetter(1), reverse=True)[:PHRASE_POOL]
        best_two = sum(cosine for _, cosine in nearest[:2])
        return best_two / (2 * norm), [position for position, _ in nearest]

    def _phrase_scores(self, query: str, pools: dict[int, list[int]]) -> dict[int, float]:
        """Best phrasing score per candidate entry, over its nearest phrasings: token_sort_ratio,
        or token_set_ratio damped by the length difference (a short question inside a long
        phrasing, or the reverse, is not a match). Phrasings were run through
        `default_process` at index time, so only the question is processed here."""
        query = utils.default_process(query)
        if not query:
            return {}
        query_len = len(query.split())
        owners = [(index, p) for index, pool in pools.items() for p in pool]
        choices = [self.choices[index][p] for index, p in owners]
        options: dict[str, Any] = {"processor": None, "score_cutoff": PHRASE_CUTOFF}
        best: dict[int, float] = dict.fromkeys(pools, 0.0)
        for _, score, at in process.extract_iter(
            query, choices, scorer=fuzz.token_sort_ratio, **options
        ):
            index = owners[at][0]
            best[index] = max(best[index], score)
        for _, score, at in process.extract_iter(
            query, choices, scorer=fuzz.token_set_ratio, **options
        ):
            index, position = owners[at]
            shorter, longer = sorted((query_len, self.phrasings[index][position].words))
            best[index] = max(best[index], score * (0.55 + 0.45 * shorter / longer))
        return best

    def _fix_typos(self, content: list[str]) -> list[str]:
        """Map unknown words to a close knowledge-base word ("encyrption" -> "encryption")."""
        return [self._typo(word) for word in content]

    def _typo(self, word: str) -> str:
        if word in self.idf or len(word) < 4 or word.isdigit():
            return word
        if word not in self._typos:
            if len(self._typos) >= TYPO_CACHE:
                self._typos.clear()
            match = process.extractOne(
                word, self.vocab_list, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
            )
            self._typos[word] = match[0] if match else word
        return self._typos[word]

    def _entity_adjustment(
        self, entry: Entry, index: int, entities: Entities, mail: bool, named: frozenset[str]
    ) -> float:
        """Ports, concepts and providers: agreement lifts an entry, contradiction sinks it. An
        entry about other ports sinks by PORT_MISMATCH shared among its ports, so the 465 entry
        sinks for a 587 question while a general entry listing many ports barely moves. A named
        provider lifts its settings entry only when the question is about `mail` settings."""
        adjust = 0.0
        asked = set(entities.ports)
        if asked:
            shared = asked & set(entry.ports)
            if shared:
                adjust += PORT_MATCH * len(shared) / len(asked | set(entry.ports))
                if any(self.kb.port_entries.get(p) == entry.id for p in shared):
                    adjust += PORT_HOME
            elif entry.ports:
                adjust -= PORT_MISMATCH / len(entry.ports)
        specific = entities.concepts - GENERAL_CONCEPTS
        adjust += CONCEPT_MATCH * len(specific & self.profiles[index])
        adjust -= CONCEPT_MISMATCH * len(specific - self.mentions[index])
        about = set(entry.about)
        if about & named:
            adjust += SUBJECT_MATCH if mail or not about & self.provider_subjects else 0.0
        elif about and (named or about & self.provider_subjects):
            adjust -= SUBJECT_MISMATCH
        elif about:
            adjust -= SUBJECT_UNNAMED
        return adjust

    def _decide(self, question: str, ranking: Ranking, entities: Entities) -> Answer:
        ranked, favourite = ranking.scores, ranking.favourite
        top_score = ranked[0][0] if ranked else 0.0
        if ranked and ranked[0][1] in self.outsides:
            suggestions = self._suggest_from(ranked, limit=MAX_SUGGESTIONS, floor=30.0)
            return self._answer(
                question, "no_match", top_score, None, suggestions, entities.ports, OUTSIDE_NOTE
            )
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        if ranked and (
            decide.exactly(top_score, runner_up)
            or self._alone(ranked[0][1], runner_up, entities)
            or self.decider.sure(ranking.features)
        ):
            entry = self.entries[ranked[0][1]]
            return self._answer(question, "answered", top_score, entry, (), entities.ports)
        named = self._named_in_tie(ranking.named, ranked)
        if named is not None and self.decider.sure_but_tied(ranking.features):
            score, entry = next(s for s, i in ranked if i == named), self.entries[named]
            return self._answer(question, "answered", score, entry, (), entities.ports)
        if top_score < SUGGEST_AT:
            suggestions = self._suggest_from(ranked, limit=MAX_SUGGESTIONS, floor=30.0)
            suggestions = self._with_favourite(suggestions, ranked, favourite)
            return self._answer(question, "no_match", top_score, None, suggestions, entities.ports)
        close = [(s, i) for s, i in ranked if s >= top_score - SUGGEST_WITHIN and s >= SUGGEST_AT]
        suggestions = self._with_favourite(
            self._suggest_from(close, limit=MAX_SUGGESTIONS), ranked, favourite
        )
        return self._answer(question, "ambiguous", top_score, None, suggestions, entities.ports)

    def _named_in_tie(self, named: frozenset[str], ranked: list[tuple[float, int]]) -> int | None:
        """Of entries tied with the top one (within `CLOSE`), the one about a subject the
        question names (`named`) when every other is a general entry: "could not connect to
        SMTP host in phpmailer" is PHPMailer's entry, not the general timeout one. A tie with
        the out-of-scope examples is no tie a subject breaks."""
        top = ranked[0][0] if ranked else 0.0
        tied = [i for s, i in ranked if s >= top - 100 * CLOSE]
        if len(tied) < 2 or self.outsides.intersection(tied):
            return None
        specific = [i for i in tied if named & set(self.entries[i].about)]
        general = [i for i in tied if not self.entries[i].about]
        return (
            specific[0]
            if len(specific) == 1 and len(specific) + len(general) == len(tied)
            else None
        )

    def _with_favourite(
        self,
        suggestions: tuple[Suggestion, ...],
        ranked: list[tuple[float, int]],
        favourite: int | None,
    ) -> tuple[Suggestion, ...]:
        """Offer the second opinion's choice too, unless nothing supports it."""
        if favourite is None or favourite in self.outsides:
            return suggestions
        entry = self.entries[favourite]
        score = next((s for s, i in ranked if i == favourite), 0.0)
        if score < FAVOURITE_FLOOR or any(s.entry is entry for s in suggestions):
            return suggestions
        return (*suggestions[: MAX_SUGGESTIONS - 1], Suggestion(entry, round(score, 1)))

    def _alone(self, top: int, runner_up: float, entities: Entities) -> bool:
        """The entry of the question's one port, and no other entry shares a word with the
        question ("saw 143 in a pcap, what is it"): nothing else is a plausible answer."""
        ports = entities.ports
        return len(ports) == 1 and self.home.get(ports[0]) == top and runner_up == 0.0

    def _features(
        self,
        ranked: list[tuple[float, int]],
        favourite: int | None,
        detail: _Detail,
        entities: Entities,
        named: frozenset[str],
    ) -> tuple[float, ...]:
        """The signals `bot.match.decide.FEATURES` names, for the top-ranked entry."""
        if not ranked:
            return (0.0,) * len(FEATURES)
        top_score, top = ranked[0]
        entry = self.entries[top]
        runner_up_score, runner_up = ranked[1] if len(ranked) > 1 else (0.0, None)
        related = runner_up is not None and (
            self.entries[runner_up].id in entry.related
            or entry.id in self.entries[runner_up].related
        )
        about = set(entry.about)
        values = {
            "score": top_score / 100,
            "lead": (top_score - runner_up_score) / 100,
            "agreed": float(favourite == top),
            "disputed": float(favourite is not None and favourite != top),
            "port_anchored": float(bool(set(entities.ports) & set(entry.ports))),
            "anchored": float(bool(entities.concepts & ANCHORS & self.mentions[top])),
            "related": float(related),
            "off_settings": float(
                entry.id in self.settings_entries and not _about_mail_settings(entities)
            ),
            "phrase": detail.phrase.get(top, 0.0) / 100,
            "cosine": detail.cosine.get(top, 0.0),
            "unknown": detail.unknown,
            "subject_named": float(bool(about & named)),
            "other_subject": float(bool(about and named and not about & named)),
            "lead_score": (top_score - runner_up_score) * top_score / 10_000,
            "terms": min(1.0, detail.terms / 10),
        }
        values["port_lead"] = values["port_anchored"] * values["agreed"] * values["lead"]
        values["size"] = math.log1p(len(self.phrasings[top])) / math.log1p(100)
        values["evidence"] = min(1.0, detail.evidence.get(top, 0.0) / 10)
        return tuple(values[name] for name in FEATURES)

    def _suggest_from(
        self,
        ranked: list[tuple[float, int]],
        limit: int,
        floor: float = SUGGEST_AT - SUGGEST_WITHIN,
    ) -> tuple[Suggestion, ...]:
        return tuple(
            Suggestion(self.entries[i], round(s, 1))
            for s, i in [pair for pair in ranked if pair[1] not in self.outsides][:limit]
            if s >= floor
        )

    def _answer(
        self,
        question: str,
        status: Status,
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


@dataclass(frozen=True, slots=True)
class _Detail:
    """Per finalist, its TF-IDF cosine and best phrasing score; the share of unknown terms."""

    cosine: dict[int, float]
    phrase: dict[int, float]
    unknown: float
    terms: int
    evidence: dict[int, float]
    """Per finalist, the summed IDF of the question's terms its profile has."""


@dataclass(frozen=True, slots=True)
class Ranking:
    """The finalists (score, entry index) best first, the second opinion's favourite, and the
    decision's features."""

    scores: list[tuple[float, int]]
    favourite: int | None
    features: tuple[float, ...]
    named: frozenset[str] = frozenset()
    """The subjects the question names."""


def unfitted(kb: KnowledgeBase) -> Matcher:
    """A matcher for one cross-validation fold: only its ranking is used."""
    return Matcher(kb, decider=NEVER)


def _about_mail_settings(entities: Entities) -> bool:
    """A port, a protocol word, or configuration words beside sending, receiving or a mail
    client: what a provider's settings entry answers (not its calendar or licences)."""
    if "test" in entities.concepts:  # "telnet smtp.gmail.com 587 fails, how else to test"
        return False
    moving_mail = bool(entities.concepts & {"send", "receive"})
    return bool(
        entities.ports
        or entities.concepts & SETTINGS_ANCHORS
        or (entities.settings and (moving_mail or entities.client))
    )


def _out_of_scope_entry(questions: Sequence[str]) -> Entry:
    """The knowledge base's out-of-scope examples, indexed like an entry that never answers."""
    return Entry(
        id=OUT_OF_SCOPE,
        question=questions[0],
        alternates=tuple(questions[1:]),
        short="",
        detail="",
        ports=(),
        tags=(),
        sources=(),
        related=(),
        reviewed=dt.date.min,
    )


def _port_features(ports: Iterable[int]) -> frozenset[str]:
    """The second opinion's port features: each port, and whether several are compared."""
    found = frozenset(f"port:{port}" for port in ports)
    return found | {"ports:several"} if len(found) > 1 else found


CUES = frozenset("how why which should best can does is what when where recommend ok safe".split())


def _cues(words: Iterable[str]) -> frozenset[str]:
    return frozenset(f"cue:{w}" for w in words if w in CUES)


def _nudges(opinions: dict[int, float], finalists: list[int]) -> dict[int, float]:
    """Score nudges for the finalists: 0 for the second opinion's best among them, down to
    -OPINION_WEIGHT for its worst."""
    ours = [opinions.get(index, 0.0) for index in finalists]
    low, high = min(ours, default=0.0), max(ours, default=0.0)
    if high == low:
        return {}
    return {
        index: OPINION_WEIGHT * (value - high) / (high - low)
        for index, value in zip(finalists, ours, strict=True)
    }
