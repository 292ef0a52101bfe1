#!/usr/bin/env python3
"""Select the demo's bundled sample from the Customer Support on Twitter rows (docs/demo.md#the-sample).

Deterministic: complete reply threads only (every tweet a thread points to is in the file), started by a
customer, taken round-robin across brands in order of their first tweet until the budget of rows is
reached. The rows are written unchanged, in the dataset's own CSV format, so the twcs importer reads them.

    python scripts/make_demo_sample.py ../shared/data/twcs_sample.csv src/careline/demo/sample_twcs.csv
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path

COLUMNS = ["", "tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id", "in_response_to_tweet_id"]
MAX_THREAD = 8  # long threads would dominate a few hundred rows


def _id(value: str) -> str:
    value = value.strip()
    return value[:-2] if value.endswith(".0") else value


def _created(row: dict[str, str]) -> datetime:
    return datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")


def read_rows(source: Path) -> list[dict[str, str]]:
    """Well-formed records only (the published file has one record split by a line break)."""
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        if next(reader) != COLUMNS:
            raise SystemExit(f"{source}: not the twcs format")
        return [dict(zip(COLUMNS, fields, strict=True)) for fields in reader if len(fields) == len(COLUMNS)]


def complete_threads(rows: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """Reply threads whose every parent and every reply is in the file, each in time order."""
    by_id = {r["tweet_id"]: r for r in rows}

    def root(tweet_id: str) -> str:
        seen = set()
        while tweet_id not in seen:
            seen.add(tweet_id)
            parent = _id(by_id[tweet_id]["in_response_to_tweet_id"])
            if not parent or parent not in by_id:
                return tweet_id
            tweet_id = parent
        return tweet_id

    threads: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        threads[root(row["tweet_id"])].append(row)
    complete = []
    for root_id, members in threads.items():
        first = by_id[root_id]
        references = {_id(first["in_response_to_tweet_id"])} - {""}
        for member in members:
            references |= {_id(r) for r in member["response_tweet_id"].split(",") if r.strip()}
        if references <= by_id.keys() and first["inbound"] == "True" and 2 <= len(members) <= MAX_THREAD:
            has_brand = any(m["inbound"] == "False" for m in members)
            if has_brand:
                complete.append(sorted(members, key=lambda r: (_created(r), int(r["tweet_id"]))))
    return sorted(complete, key=lambda t: (_created(t[0]), int(t[0]["tweet_id"])))


def select(threads: list[list[dict[str, str]]], budget: int) -> list[list[dict[str, str]]]:
    """Round-robin across brands so that many brands (and topics) appear; stop at the row budget."""
    by_brand: dict[str, list[list[dict[str, str]]]] = defaultdict(list)
    for thread in threads:
        brand = next(m["author_id"] for m in thread if m["inbound"] == "False")
        by_brand[brand].append(thread)
    chosen: list[list[dict[str, str]]] = []
    total = 0
    while any(by_brand.values()):
        for brand in sorted(by_brand):
            if by_brand[brand] and total + len(by_brand[brand][0]) <= budget:
                thread = by_brand[brand].pop(0)
                chosen.append(thread)
                total += len(thread)
            elif by_brand[brand]:
                by_brand[brand].clear()
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--rows", type=int, default=360, help="row budget")
    args = parser.parse_args()
    threads = select(complete_threads(read_rows(args.source)), args.rows)
    rows = sorted((r for t in threads for r in t), key=lambda r: int(r[""]))
    with args.target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([r[c] for c in COLUMNS] for r in rows)
    brands = {m["author_id"] for t in threads for m in t if m["inbound"] == "False"}
    print(f"{len(rows)} rows, {len(threads)} threads, {len(brands)} brands -> {args.target}")


if __name__ == "__main__":
    main()
