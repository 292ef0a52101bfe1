"""Personal data in public posts: Luhn-checked cards, emails, phone numbers, configured references; masking."""

from __future__ import annotations

import ast
import csv
import sys
from collections import Counter
from pathlib import Path

import pytest

import careline.triage.pii
from careline.triage.pii import MAX_PATTERN_LENGTH, PiiDetector, PiiFinding, luhn_valid

# Booking references as customers actually write them (all from the airline file): a keyword, then six characters.
BOOKING = (
    r"(?i:conf(?:irmation)?|booking|record locator|pnr|reservation)\W{0,3}(?:(?i:code|number|no)\W{0,3})?"
    r"(?P<ref>[A-Z0-9]{6})"
)


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector({"booking": BOOKING})


def spans(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in detector.find(text)]


# cards


def test_the_issue_example_is_one_card_masked_to_its_last_four_digits(detector: PiiDetector) -> None:
    text = "@AcmeAir my card 4111 1111 1111 1111 was charged twice!!"
    assert detector.find(text) == [PiiFinding("card", 17, 36)]
    assert detector.mask(text) == "@AcmeAir my card •••• •••• •••• 1111 was charged twice!!"


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",
        "4111-1111-1111-1111",
        "5555 5555 5555 4444",
        "3782 822463 10005",
        "4222222222222",
        "6011000990139424",
    ],
)
def test_luhn_valid_numbers_of_13_to_19_digits_are_cards(detector: PiiDetector, number: str) -> None:
    assert spans(detector, f"paid with {number}, refund please") == [("card", number)]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 declined",  # one digit off: fails Luhn
        "order 1234567890123456 never arrived",  # fails Luhn
        "flight 1234 5678 was late",  # too short
        "call 0011 800-55558000 from Australia",  # from the airline file: passes Luhn, but no card starts with 0
        "see twitter.com/united/status/4111111111111111",  # inside a URL
        "ref 41111111111111111111111",  # 23 digits: longer than any card
        "total 4111111111111111.50",  # a decimal
    ],
)
def test_numbers_that_are_not_cards(detector: PiiDetector, text: str) -> None:
    assert [kind for kind, _ in spans(detector, text)] == []


def test_luhn_checksum() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


# emails


def test_emails_are_found_and_masked_to_their_first_letter_and_domain(detector: PiiDetector) -> None:
    text = "@AcmeAir reply to jane.doe+care@example.co.uk &amp; Jennifer.Cascino@gmail.com"
    assert spans(detector, text) == [("email", "jane.doe+care@example.co.uk"), ("email", "Jennifer.Cascino@gmail.com")]
    assert detector.mask(text) == "@AcmeAir reply to j•••@example.co.uk &amp; J•••@gmail.com"


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeAir @united thanks!",  # handles
        "RT @user: email me at __email__ &amp; DM me",  # the datasets' placeholder and an HTML entity
        "meet me @ the gate",
        "not@domain",  # no top-level domain
        "&lt;3 &#39;thanks&#39; &quot;great&quot;",
    ],
)
def test_handles_placeholders_and_entities_are_not_emails(detector: PiiDetector, text: str) -> None:
    assert detector.find(text) == []


# phones


@pytest.mark.parametrize(
    ("text", "number", "masked"),
    [
        ("@AcmeAir call me on (415) 555-0132 please", "(415) 555-0132", "•••-•••-0132"),
        ("I'm in London: +44 20 7946 0958", "+44 20 7946 0958", "•••-•••-0958"),
        ("they said 1-800-433-7300", "1-800-433-7300", "•••-•••-7300"),
        ("Contact: +49 1708733216", "+49 1708733216", "•••-•••-3216"),
    ],
)
def test_us_and_international_phone_numbers(detector: PiiDetector, text: str, number: str, masked: str) -> None:
    assert spans(detector, text) == [("phone", number)]
    assert detector.mask(text) == text.replace(number, masked)


@pytest.mark.parametrize(
    "text",
    [
        "flight 2134 at 12:30 for $199.99",
        "on 2/24/2015 11:35 the gate changed",
        "tweet 570306133677760513 was deleted",
        "UA1116 delayed 45 min, 3 hours on the tarmac, seat 12C",
        "1234 5678",
    ],
)
def test_times_dates_prices_flights_and_tweet_ids_are_not_phones(detector: PiiDetector, text: str) -> None:
    assert detector.find(text) == []


def test_without_a_default_region_only_international_numbers_are_phones() -> None:
    detector = PiiDetector(default_region=None)
    assert spans(detector, "(415) 555-0132 or +44 20 7946 0958") == [("phone", "+44 20 7946 0958")]


def test_an_international_number_whose_digits_pass_luhn_stays_a_phone(detector: PiiDetector) -> None:
    assert luhn_valid("8613800138002")
    assert spans(detector, "call +86 138 0013 8002") == [("phone", "+86 138 0013 8002")]


# references


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("@united Conf# NPBHD0 still no seat", "NPBHD0"),
        ("@united PNR A3ZZ0F please fix", "A3ZZ0F"),
        ("Confirmation number: NJV4BP", "NJV4BP"),
        ("conf code: F6DK04 and nothing", "F6DK04"),
        ("record locator BSUXLU", "BSUXLU"),
    ],
)
def test_a_configured_pattern_finds_only_its_named_group(detector: PiiDetector, text: str, reference: str) -> None:
    assert spans(detector, text) == [("reference", reference)]
    assert detector.find(text)[0].pattern == "booking"
    assert detector.mask(text) == text.replace(reference, "•••••" + reference[-2:])


def test_a_reference_pattern_matches_whole_words_only() -> None:
    detector = PiiDetector({"booking": "[A-Z0-9]{6}"})
    text = "booking ABC123, not xABC123 nor ABC1234567 nor ABC_123456"
    assert spans(detector, text) == [("reference", "ABC123")]


def test_a_card_beats_a_reference_over_the_same_digits() -> None:
    detector = PiiDetector({"account": r"\d{16}"})
    assert detector.find("acct 4111111111111111") == [PiiFinding("card", 5, 21)]
    assert spans(detector, "acct 1234567890123456") == [("reference", "1234567890123456")]


def test_an_email_beats_a_reference_inside_it() -> None:
    detector = PiiDetector({"member": "[A-Z]{2}[0-9]{4}"})
    assert spans(detector, "AB1234@example.com or AB1234") == [("email", "AB1234@example.com"), ("reference", "AB1234")]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("[A-Z", "'booking' is not a valid regular expression"),
        ("(ABC", "'booking' is not a valid regular expression"),
        ("", "'booking' is empty"),
        ("[A-Z]*", "'booking' matches the empty string"),
        ("(?:ABC)?", "'booking' matches the empty string"),
        (r"\b", "'booking' matches the empty string"),
        ("A" * (MAX_PATTERN_LENGTH + 1), f"'booking' is longer than {MAX_PATTERN_LENGTH} characters"),
        ("(a+)+b", "'booking' repeats a group that already repeats"),
        (r"(\w*x){2,}", "'booking' repeats a group that already repeats"),
        ("((ab)*c)*", "'booking' repeats a group that already repeats"),
        ("(?i)[a-z]{6}", "'booking' cannot be used as a whole word: global flags"),
    ],
)
def test_bad_reference_patterns_are_refused_naming_the_pattern(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("*", r"\*")):
        PiiDetector({"booking": pattern})


@pytest.mark.parametrize("pattern", [r"(\d{3}-){2}\d{4}", "[(+)*]{6}", r"\(AB\)+", "(AB|CD)[0-9]+", "(?:[A-Z]{2}){3}"])
def test_safe_patterns_with_groups_and_classes_are_accepted(pattern: str) -> None:
    PiiDetector({"ok": pattern})


def test_a_pattern_needs_a_name() -> None:
    with pytest.raises(ValueError, match="non-empty name"):
        PiiDetector({" ": "[A-Z]{6}"})


# several at once, and the real data


def test_findings_are_sorted_and_masked_together(detector: PiiDetector) -> None:
    text = "PNR A3ZZ0F, card 4111-1111-1111-1111, mail j@x.io, phone (415) 555-0132"
    assert [f.kind for f in detector.find(text)] == ["reference", "card", "email", "phone"]
    assert detector.mask(text) == "PNR •••••0F, card •••• •••• •••• 1111, mail j•••@x.io, phone •••-•••-0132"
    assert detector.mask(text, []) == text


def test_long_adversarial_texts_finish(detector: PiiDetector) -> None:
    for text in ("a" * 20_000 + "@", "1 " * 10_000, "a." * 10_000 + "@b", "-" * 10_000 + "4"):
        detector.find(text)


def test_the_airline_file_has_few_and_real_findings(data_dir: Path, detector: PiiDetector) -> None:
    with (data_dir / "airline_tweets.csv").open(encoding="utf-8", newline="") as file:
        texts = [row["text"] for row in csv.DictReader(file)]
    assert len(texts) == 11_739
    counts: Counter[str] = Counter()
    flagged = 0
    for text in texts:
        findings = detector.find(text)
        flagged += bool(findings)
        counts.update(f.kind for f in findings)
        assert all(a.end <= b.start for a, b in zip(findings, findings[1:], strict=False))
    # Measured: 0 cards, 14 emails, 27 phones (each a real number: airline help lines and customers' own),
    # 18 booking references with the BOOKING pattern; 59 tweets flagged in all (0.5%).
    assert counts["card"] == 0
    assert 10 <= counts["email"] <= 20
    assert 20 <= counts["phone"] <= 40
    assert 10 <= counts["reference"] <= 30
    assert flagged < len(texts) // 100


def test_the_customer_support_sample_with_email_placeholders(data_dir: Path, detector: PiiDetector) -> None:
    with (data_dir / "twcs_sample.csv").open(encoding="utf-8", newline="") as file:
        texts = [row["text"] for row in csv.DictReader(file) if row["text"]]
    with_placeholder = [text for text in texts if "__email__" in text]
    assert with_placeholder
    assert all(f.kind != "email" for text in with_placeholder for f in detector.find(text))
    assert sum(len(detector.find(text)) for text in texts) < len(texts) // 100


def test_the_detector_imports_only_the_standard_library_and_phonenumbers() -> None:
    tree = ast.parse(Path(careline.triage.pii.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} - set(sys.stdlib_module_names) == {"phonenumbers"}
