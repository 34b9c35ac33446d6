"""The matcher's decision phase: a logistic model fitted to cross-validation samples, and
the fit that produces them (`bot.match.fit`)."""

import dataclasses
import json
import random
from pathlib import Path

import pytest

from bot.kb import knowledge
from bot.kb.knowledge import KnowledgeBase
from bot.match import decide, fit
from bot.match.decide import FEATURES, NEVER, Decider, Sample
from bot.match.matcher import unfitted
from bot.match.subjects import SubjectFinder

SCORE = FEATURES.index("score")
LEAD = FEATURES.index("lead")


def _sample(score: float, lead: float, right: bool) -> Sample:
    features = [0.0] * len(FEATURES)
    features[SCORE], features[LEAD] = score, lead
    return Sample(tuple(features), right)


def _samples(seed: int = 3) -> list[Sample]:
    """Right answers score high with a lead; wrong ones and out-of-scope ones do not."""
    rng = random.Random(seed)
    right = [_sample(rng.uniform(0.5, 1), rng.uniform(0.1, 0.5), True) for _ in range(300)]
    wrong = [_sample(rng.uniform(0.2, 0.6), rng.uniform(0, 0.15), False) for _ in range(100)]
    outside = [_sample(rng.uniform(0.1, 0.5), rng.uniform(0, 0.3), False) for _ in range(60)]
    return right + wrong + outside


def test_fitted_weights_favour_a_high_score_and_a_lead() -> None:
    decider = decide.fit(_samples())
    strong, weak = _sample(0.9, 0.4, True), _sample(0.3, 0.02, False)
    assert decider.probability(strong.features) > 0.9 > decider.probability(weak.features)
    assert decider.sure(strong.features) and not decider.sure(weak.features)


def test_the_fitted_probability_is_calibrated_on_its_samples() -> None:
    """Among the samples it gives 0.45-0.9, about that share is right: the threshold means
    what it says."""
    samples = _samples()
    decider = decide.fit(samples)
    middle = [s for s in samples if 0.45 <= decider.probability(s.features) < 0.9]
    mean = sum(decider.probability(s.features) for s in middle) / len(middle)
    right = sum(s.right for s in middle) / len(middle)
    assert abs(mean - right) < 0.15, (mean, right)
    answered = [s for s in samples if decider.sure(s.features)]
    assert sum(s.right for s in answered) / len(answered) > 0.9


def test_a_heavier_sample_counts_more() -> None:
    """Out-of-scope examples weigh more in the fit: weighting the wrong answers lowers the
    probability the same ranking gets."""
    samples = _samples()
    heavy = [s if s.right else dataclasses.replace(s, weight=10.0) for s in samples]
    middle = _sample(0.55, 0.15, True).features
    assert decide.fit(heavy).probability(middle) < decide.fit(samples).probability(middle)


def test_a_decider_survives_its_json_and_refuses_other_features() -> None:
    decider = decide.fit(_samples())
    raw = json.loads(json.dumps(decider.as_json()))
    assert Decider.from_json(raw) == decider
    raw["features"] = ["score"]
    assert Decider.from_json(raw) is None


def test_never_answers() -> None:
    assert not NEVER.sure(_sample(1.0, 1.0, True).features)


def test_fit_with_no_samples_is_undecided() -> None:
    assert decide.fit([]).probability(_sample(1.0, 1.0, True).features) == 0.5


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return knowledge.load()


def test_every_alternate_and_example_is_held_out_exactly_once(kb: KnowledgeBase) -> None:
    seen: list[tuple[str, str | None]] = []
    for fold in range(fit.FOLDS):
        fold_kb, held = fit._fold(kb, fold, fit.FOLDS)
        assert set(fold_kb.entries) == set(kb.entries)  # every entry stays, with its question
        for text, entry_id in held:
            kept = fold_kb.entries[entry_id].alternates if entry_id else fold_kb.out_of_scope
            assert text not in kept
        seen += held
    expected = [(a, e.id) for e in kb.entries.values() for a in e.alternates]
    expected += [(q, None) for q in kb.out_of_scope]
    assert sorted(seen, key=str) == sorted(expected, key=str)


def test_adding_an_entry_leaves_the_other_entries_folds_alone(kb: KnowledgeBase) -> None:
    first = next(iter(kb.entries.values()))
    extra = dataclasses.replace(first, id="aaa-new-entry")
    bigger = dataclasses.replace(kb, entries={"aaa-new-entry": extra, **kb.entries})
    for fold in range(fit.FOLDS):
        before = set(fit._fold(kb, fold, fit.FOLDS)[1])
        after = {(t, e) for t, e in fit._fold(bigger, fold, fit.FOLDS)[1] if e != "aaa-new-entry"}
        assert before == after


def test_the_fit_is_cached_by_the_knowledge_base(kb: KnowledgeBase, tmp_path: Path) -> None:
    small = dataclasses.replace(
        kb, entries={i: kb.entries[i] for i in ("port-25", "port-465", "port-587")}, port_entries={}
    )
    first = fit.decider_for(small, tmp_path, unfitted)
    [path] = tmp_path.glob("decider-*.json")
    fit._FITTED.clear()
    assert fit.decider_for(small, tmp_path, unfitted) == first  # read back from the file
    path.write_text("{not json")
    fit._FITTED.clear()
    assert fit.decider_for(small, tmp_path, unfitted) == first  # refitted, same result
    two = {i: small.entries[i] for i in ("port-25", "port-465")}
    fewer = dataclasses.replace(small, entries=two)
    fit.decider_for(fewer, tmp_path, unfitted)
    assert len(list(tmp_path.glob("decider-*.json"))) == 2


def test_the_report_names_the_hardest_entries(kb: KnowledgeBase) -> None:
    small = dataclasses.replace(
        kb, entries={i: kb.entries[i] for i in ("port-25", "port-465", "port-587")}, port_entries={}
    )
    decider, results = fit.refit(small, None, unfitted)
    lines = list(fit.report(results, decider))
    assert lines[0].startswith(f"{sum(len(e.alternates) for e in small.entries.values())} held-out")
    assert any("port-465" in line for line in lines)


def test_subjects_are_found_as_whole_names() -> None:
    finder = SubjectFinder(
        {
            "go": ("go", "golang"),
            "microsoft-365": ("outlook", "office 365"),
            "outlook": ("outlook",),
            "gmail": ("gmail.com",),
        }
    )
    assert finder.named("Golang net/smtp on 465") == {"go"}
    assert finder.named("let's go") == {"go"}  # a name in the table counts wherever it is
    assert finder.named("gopher cargo") == frozenset()
    assert finder.named("OUTLOOK keeps asking") == {"microsoft-365", "outlook"}
    assert finder.named("Office   365 smtp") == {"microsoft-365"}
    assert finder.named("outlook.office365.com") == frozenset()
    assert finder.named("smtp.gmail.com and jane@gmail.com") == {"gmail"}  # a domain, in a host
    assert finder.named("gmail.community") == frozenset()
    assert SubjectFinder({}).named("anything") == frozenset()
