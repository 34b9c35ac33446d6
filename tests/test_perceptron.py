"""The matcher's second opinion: an averaged perceptron and its on-disk cache."""

from pathlib import Path

from bot.match.perceptron import Perceptron, trained

EXAMPLES = [
    (frozenset({"encrypt", "587"}), 0),
    (frozenset({"secure", "587", "tls"}), 0),
    (frozenset({"submission", "587"}), 1),
    (frozenset({"what", "587", "submission"}), 1),
    (frozenset({"blocked", "isp", "25"}), 2),
    (frozenset({"cloud", "blocked", "25"}), 2),
]


def test_learns_what_tells_siblings_apart() -> None:
    model = Perceptron.train(EXAMPLES, classes=3, epochs=10)
    assert model.favourite(model.scores({"587", "secure"})) == 0
    assert model.favourite(model.scores({"587", "submission"})) == 1
    assert model.favourite(model.scores({"isp", "blocked"})) == 2
    assert model.favourite(model.scores({"unknown"})) is None


def test_training_is_deterministic() -> None:
    first = Perceptron.train(EXAMPLES, classes=3)
    assert Perceptron.train(EXAMPLES, classes=3).weights == first.weights


def test_cache_is_reused_and_keyed_by_the_examples(tmp_path: Path) -> None:
    model = trained(EXAMPLES, 3, tmp_path)
    [path] = tmp_path.glob("perceptron-*.json")
    assert trained(EXAMPLES, 3, tmp_path).weights == model.weights
    trained(EXAMPLES[:-1], 3, tmp_path)
    assert len(list(tmp_path.glob("perceptron-*.json"))) == 2
    path.write_text("{not json")
    assert trained(EXAMPLES, 3, tmp_path).weights == model.weights


def test_unwritable_cache_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    model = trained(EXAMPLES, 3, blocker / "cache")
    assert model.favourite(model.scores({"isp"})) == 2
