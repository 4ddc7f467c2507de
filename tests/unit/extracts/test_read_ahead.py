"""read_ahead gives the items of an iterator in order, raises where it would, and closes it."""

from __future__ import annotations

import threading

import pytest

from rfd_lib.extracts.read_ahead import read_ahead


def test_items_come_in_order_and_are_made_in_another_thread():
    made_in = []

    def items():
        for number in range(50):
            made_in.append(threading.current_thread().name)
            yield number

    assert list(read_ahead(items())) == list(range(50))
    assert all(name.startswith("rfd-read-ahead") for name in made_in)


def test_an_error_is_raised_when_its_item_is_asked_for_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("the third")

    got = []
    with pytest.raises(ValueError, match="the third"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_closes_the_source_and_makes_at_most_one_more_item():
    made, closed = [], []

    def items():
        try:
            for number in range(100):
                made.append(number)
                yield number
        finally:
            closed.append(True)

    ahead = read_ahead(items())
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()
    assert closed == [True]
    assert len(made) <= 3


def test_an_empty_source_gives_nothing():
    assert list(read_ahead(iter(()))) == []
