"""`search/query.py`: a query holds at most a few wildcards."""

from __future__ import annotations

import pytest

from search.query import MAX_WILDCARDS, QueryRefused, validate_query


def test_a_query_holds_at_most_a_few_wildcards() -> None:
    validate_query(" ".join(f"wor{letter}*" for letter in "abcd"[:MAX_WILDCARDS]))
    # The query: 24 three-letter wildcards.
    for text in (" ".join(["abc*"] * 24), " ".join(f"wor{c}*" for c in "abcde")):
        with pytest.raises(QueryRefused) as refused:
            validate_query(text)
        assert refused.value.code == "too_many_wildcards"
