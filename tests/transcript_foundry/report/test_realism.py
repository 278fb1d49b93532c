"""Realism statistics on inputs with known answers, and the classifier test on the real MiniLM."""

import json
import random
from pathlib import Path

import pytest

from transcript_foundry.quality.coherence.embedding import default_encoder
from transcript_foundry.report.realism import (
    ReferenceError,
    classifier_auc,
    ks_statistic,
    load_reference,
    realism,
    style,
)


def test_the_shipped_reference_loads_with_its_licence() -> None:
    lines = load_reference()
    assert len(lines) == 913 + 407 + 1130
    folder = Path(__import__("transcript_foundry.report.realism").report.realism.REFERENCE_DIR)
    assert (folder / "LICENSE.md").exists() and (folder / "NOTICE").exists()


def test_a_reference_file_of_another_shape_is_refused_naming_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "ref.jsonl"
    bad.write_text(json.dumps({"utterance": "hi"}) + "\n" + json.dumps({"said": "x"}) + "\n")
    with pytest.raises(ReferenceError, match=r"ref.jsonl:2: needs an 'utterance' or 'text' string field"):
        load_reference(bad)
    text = tmp_path / "ref.txt"
    text.write_text("first line\n\nsecond line\n")
    assert load_reference(text) == ["first line", "second line"]
    with pytest.raises(ReferenceError, match="does not exist"):
        load_reference(tmp_path / "missing.jsonl")


def test_style_by_hand() -> None:
    # words: um i i need uh help -> 2 fillers in 6 words; "I I" is a repetition; starts lower case
    assert style(["um I I need, uh, help"]) == {
        "fillers_per_100_words": 33.33,
        "disfluent_turns": 1.0,
        "lowercase_start": 1.0,
        "no_final_punctuation": 1.0,
    }
    assert style(["I need help."])["fillers_per_100_words"] == 0.0


def test_length_statistics() -> None:
    assert ks_statistic([3, 4, 5], [3, 4, 5])[0] == 0.0
    assert ks_statistic([1, 2, 3], [10, 11, 12])[0] == 1.0
    result = realism(["one two three"] * 5, ["one two three"] * 5, encode=None)
    assert result["length"]["ks_statistic"] == 0.0 and result["vocabulary"]["jaccard"] == 1.0
    assert result["classifier_auc"] is None


@pytest.mark.slow
def test_the_classifier_cannot_tell_real_from_real_and_tells_scripted_from_real() -> None:
    real = load_reference()
    rng = random.Random(7)
    sample = rng.sample(real, 240)
    same = classifier_auc(sample[:120], sample[120:], default_encoder())
    scripted = [
        f"Thank you for calling, this is {name}. Your member ID {n} is verified and your claim is on file."
        for name in ("Dana", "Lee", "Sam", "Ines", "Omar", "Kai")
        for n in range(20)
    ]
    apart = classifier_auc(scripted, sample[120:], default_encoder())
    assert same is not None and apart is not None
    assert same < 0.7, same  # drawn from one pool: near 0.5
    assert apart > 0.95, apart
