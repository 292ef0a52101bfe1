"""Training triage's models on the real airline tweets: determinism, the stored artefact, a quality floor."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import recall_score

from careline.triage.classifier import (
    LABELS,
    LEXICAL_FEATURES,
    DomainGatedSentiment,
    OnTextFeatures,
    TextFeatures,
    familiar_share,
    lexical_features,
    normalise,
    stack_inputs,
)
from careline.triage.training import (
    CharWithinWordCounts,
    TrainedModels,
    TrainingDataError,
    load,
    read_airline,
    save,
    split,
    train,
)

pytestmark = pytest.mark.slow  # tens of seconds: run first (tests/conftest.py)

# Measured on the fixed split (seed 0): accuracy 0.822, negative recall 0.926, reason macro-F1 0.573, and
# TweetEval macro-recall 0.548 (never trained on; the first TF-IDF model had 0.458, VADER has 0.598).
ACCURACY_FLOOR = 0.80
NEGATIVE_RECALL_FLOOR = 0.90
REASON_MACRO_F1_FLOOR = 0.54
TWEETEVAL_MACRO_RECALL_FLOOR = 0.52


@pytest.fixture(scope="module")
def airline_csv(data_dir: Path) -> Path:
    return data_dir / "airline_tweets.csv"


@pytest.fixture(scope="module")
def models(airline_csv: Path) -> TrainedModels:
    return train(airline_csv)


def _subset(source: Path, target: Path, rows: int) -> Path:
    with source.open(encoding="utf-8", newline="") as src, target.open("w", encoding="utf-8", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for _, row in zip(range(rows), reader, strict=False):
            writer.writerow(row)
    return target


def test_training_twice_gives_identical_predictions(data_dir: Path, tmp_path: Path) -> None:
    small = _subset(data_dir / "airline_tweets.csv", tmp_path / "small.csv", 1500)
    texts = [t.text for t in split(read_airline(small)).test][:200]
    first, second = train(small), train(small)
    assert [a.probabilities for a in first.sentiment.assess_many(texts)] == [
        a.probabilities for a in second.sentiment.assess_many(texts)
    ]
    assert first.category.predict_many(texts) == second.category.predict_many(texts)


def test_the_held_out_split_meets_the_floors(models: TrainedModels) -> None:
    metrics = models.manifest["metrics"]
    assert metrics["sentiment_accuracy"] >= ACCURACY_FLOOR
    assert metrics["negative_recall"] >= NEGATIVE_RECALL_FLOOR
    assert metrics["reason_macro_f1"] >= REASON_MACRO_F1_FLOOR


def test_the_sentiment_model_carries_over_to_general_tweets(models: TrainedModels, data_dir: Path) -> None:
    texts = (data_dir / "tweeteval_sentiment_val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [LABELS[int(n)] for n in (data_dir / "tweeteval_sentiment_val_labels.txt").read_text().split()]
    predicted = [s.label for s in models.sentiment.analyse_many(texts)]
    assert recall_score(labels, predicted, average="macro") >= TWEETEVAL_MACRO_RECALL_FLOOR


def test_unfamiliar_text_is_judged_by_the_general_member_without_the_airline_priors(models: TrainedModels) -> None:
    gated = models.sentiment.pipeline
    assert isinstance(gated, DomainGatedSentiment)
    unfamiliar = normalise("Dark Souls 3 April launch date confirmed with new trailer: embrace the darkness.")
    familiar = normalise("@united my flight was delayed and I missed my connection")
    assert (
        familiar_share(unfamiliar, gated.vocabulary)
        <= gated.gate[0]
        < gated.gate[1]
        <= familiar_share(familiar, gated.vocabulary)
    )
    lexical_member = gated.stack.named_estimators_["lexical"]
    general = lexical_member.predict_proba(stack_inputs(gated.features, [unfamiliar]))[0] / gated.priors
    np.testing.assert_allclose(gated.predict_proba([unfamiliar])[0], general / general.sum())
    np.testing.assert_allclose(
        gated.predict_proba([familiar]), gated.stack.predict_proba(stack_inputs(gated.features, [familiar]))
    )


def test_lexical_features_score_polarity_and_cues() -> None:
    rows = lexical_features(["so happy with the crew today 👍", "NOT happy, lost my bag again!!! 👎", ""])
    angry, happy = dict(zip(LEXICAL_FEATURES, rows[1], strict=True)), dict(zip(LEXICAL_FEATURES, rows[0], strict=True))
    assert rows.shape == (3, len(LEXICAL_FEATURES)) and np.all(np.abs(rows) <= 1)
    assert happy["vader_compound"] > 0.5 and happy["emoji_positive"] > 0 and happy["negations"] == 0
    assert angry["vader_compound"] < 0 and angry["emoji_negative"] > 0 and angry["negations"] > 0
    assert angry["exclamations"] > 0 and angry["shouting"] > 0
    assert not rows[2].any()


def test_counting_char_ngrams_word_by_word_gives_the_vectorizers_counts(airline_csv: Path) -> None:
    data = split(read_airline(airline_csv))
    texts = [normalise(t.text) for t in data.train[:2000]]
    plain = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2).fit(texts)
    by_word = CharWithinWordCounts(analyzer="char_wb", ngram_range=(2, 5), min_df=2).fit(texts)
    batch = [normalise(t.text) for t in data.test[:300]] + ["", " \t ", "ÉTÉ  à\nParis", "AGAIN!!! again"]
    expected, counted = plain.transform(batch), by_word.transform(batch)
    assert by_word.vocabulary_ == plain.vocabulary_
    assert counted.shape == expected.shape and counted.dtype == expected.dtype and (counted != expected).nnz == 0
    assert by_word.transform([]).shape == (0, len(plain.vocabulary_))


def test_familiar_share_ignores_placeholders_and_counts_known_words() -> None:
    vocabulary = frozenset({"flight", "delayed"})
    assert familiar_share("@USER my flight delayed URL", vocabulary) == 2 / 3
    assert familiar_share("@USER URL !!", vocabulary) == 1.0


def test_the_split_is_deduplicated_and_disjoint(airline_csv: Path) -> None:
    data = split(read_airline(airline_csv))
    train_ids, test_ids = {t.tweet_id for t in data.train}, {t.tweet_id for t in data.test}
    assert not train_ids & test_ids
    assert len(train_ids) == len(data.train) and len(test_ids) == len(data.test)


def test_save_and_load_round_trip(models: TrainedModels, airline_csv: Path, tmp_path: Path) -> None:
    save(models, tmp_path / "models")
    loaded = load(tmp_path / "models")
    texts = [t.text for t in split(read_airline(airline_csv)).test][:200]
    assert loaded.manifest == models.manifest
    assert loaded.sentiment.analyse_many(texts) == models.sentiment.analyse_many(texts)
    assert loaded.category.classify_many(texts) == models.category.classify_many(texts)
    # Stored together, the two models still count each batch's n-grams once.
    assert isinstance(loaded.category.pipeline, OnTextFeatures)
    assert loaded.category.pipeline.features is loaded.sentiment.pipeline.features


def test_the_shared_counts_of_a_batch_serve_any_part_of_it(models: TrainedModels, airline_csv: Path) -> None:
    features = models.sentiment.pipeline.features
    assert isinstance(features, TextFeatures)
    batch = [normalise(t.text) for t in split(read_airline(airline_csv)).test][:300]
    counted = features.transform(batch)
    part = batch[::-3]
    fresh = TextFeatures(features.vectorizers).transform(part)
    assert (features.transform(part) != fresh).nnz == 0  # taken from the last batch's rows, in the part's order
    unseen = ["@USER a text not in the batch"]
    assert (features.transform(unseen) != TextFeatures(features.vectorizers).transform(unseen)).nnz == 0
    assert features.transform([]).shape == (0, counted.shape[1])
    assert [block.stop - block.start for block in features.blocks] == [len(v.vocabulary_) for v in features.vectorizers]


def test_sentiment_label_score_and_angry_flag(models: TrainedModels) -> None:
    furious = models.sentiment.assess("@united you lost my bag AGAIN!!! worst airline ever &amp; nobody cares")
    assert furious.sentiment.label == "negative" and furious.sentiment.score < -0.5 and furious.angry
    happy = models.sentiment.analyse("@SouthwestAir thank you, the crew was wonderful today")
    assert happy.label == "positive" and 0.5 < happy.score <= 1
    charged = models.sentiment.assess("@AcmeAir my card 4111 1111 1111 1111 was charged twice!!")
    assert charged.sentiment.label == "negative" and charged.angry  # the issue's own example of an angry post
    calm = models.sentiment.assess("@united my flight was cancelled, can you rebook me on the next one?")
    assert not calm.angry
    assert set(calm.probabilities) == set(LABELS)
    assert models.sentiment.analyse_many([]) == []


def test_category_is_none_below_the_threshold(models: TrainedModels) -> None:
    category, confidence = models.category.classify("@AmericanAir my luggage never arrived, lost bag")
    assert category == "Lost Luggage" and confidence >= models.category.min_confidence
    default, models.category.min_confidence = models.category.min_confidence, 1.01
    try:
        assert models.category.classify("@AmericanAir my luggage never arrived, lost bag")[0] is None
    finally:
        models.category.min_confidence = default


def test_normalise_decodes_entities_and_replaces_mentions_and_links() -> None:
    assert normalise("@united &amp; http://t.co/x1 ok") == "@USER  &  URL  ok"


def test_a_file_with_the_wrong_columns_is_refused(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,sentiment,body\n1,negative,late again\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="airline_sentiment"):
        train(wrong)


def test_an_unknown_sentiment_label_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("tweet_id,airline_sentiment,negativereason,text\n1,furious,,late again\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="furious"):
        train(bad)


def test_loading_from_an_empty_directory_says_to_train(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="careline train"):
        load(tmp_path)


def _rewritten(source: Path, target: Path, keep: Any, change: Any = None) -> Path:
    """The rows of the airline file that ``keep`` accepts, each passed through ``change``."""
    with source.open(encoding="utf-8", newline="") as src, target.open("w", encoding="utf-8", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for row in reader:
            if keep(row):
                writer.writerow(change(row) if change else row)
    return target


def test_a_file_without_enough_of_each_sentiment_is_refused(airline_csv: Path, tmp_path: Path) -> None:
    negatives_only = _rewritten(airline_csv, tmp_path / "neg.csv", lambda r: r["airline_sentiment"] == "negative")
    with pytest.raises(TrainingDataError, match=r"each sentiment.*neutral \(0\), positive \(0\)"):
        train(negatives_only)


def test_without_two_reasons_only_the_sentiment_model_is_trained(airline_csv: Path, tmp_path: Path) -> None:
    rows = iter(range(10**6))
    no_reasons = _rewritten(
        airline_csv, tmp_path / "plain.csv", lambda r: next(rows) < 1200, lambda r: {**r, "negativereason": ""}
    )
    trained = train(no_reasons)
    assert trained.category is None and trained.manifest["metrics"]["reason_macro_f1"] is None
    save(trained, tmp_path / "models")
    assert load(tmp_path / "models").category is None


def test_a_reason_seen_once_is_split_by_its_sentiment(airline_csv: Path, tmp_path: Path) -> None:
    seen = {"Lost Luggage": 0}

    def once(row: dict[str, str]) -> bool:
        if row["negativereason"] == "Lost Luggage":
            seen["Lost Luggage"] += 1
            return seen["Lost Luggage"] == 1
        return True

    tweets = read_airline(_rewritten(airline_csv, tmp_path / "once.csv", once))
    data = split(tweets)
    assert sum(t.reason == "Lost Luggage" for t in data.train + data.test) == 1
