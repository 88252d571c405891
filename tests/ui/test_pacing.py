"""The pacer: at most one live update in flight, answered by the browser; lies ignored."""

import pytest

from deeptricks.ui.pacing import Pacer


def shown(pacer: Pacer) -> Pacer:
    """As if rendered into a browser's page (the pacer only holds back where it is drawn)."""
    pacer.get_root()
    return pacer


def test_a_pacer_on_no_page_lets_every_push_through():
    p = Pacer()
    for _ in range(5):
        assert p.ready(now=0.0)
        p.sent(now=0.0)
    assert p.seq == 0 and p.skipped == 0


def test_an_unanswered_update_holds_the_next_until_the_browser_answers():
    p = shown(Pacer(max_wait=1.0))
    assert p.ready(now=10.0)
    p.sent(now=10.0)
    assert p.seq == 1
    assert not p.ready(now=10.1) and not p.ready(now=10.5)
    assert p.skipped == 2
    p._handle_msg({"drawn": 1})
    assert p.ready(now=10.6)


def test_a_browser_that_never_answers_still_gets_an_update_every_max_wait():
    p = shown(Pacer(max_wait=1.0))
    p.sent(now=0.0)
    assert not p.ready(now=0.99)
    assert p.ready(now=1.0)
    p.sent(now=1.0)
    assert not p.ready(now=1.5) and p.seq == 2


@pytest.mark.parametrize("msg", [{"drawn": 5}, {"drawn": -1}, {"drawn": True}, {"drawn": "1"},
                                 {"drawn": 1.0}, {"other": 1}, "drawn", None, [1]])
def test_answers_a_browser_could_not_have_sent_are_ignored(msg):
    p = shown(Pacer())
    p.sent(now=0.0)
    p._handle_msg(msg)
    assert p.drawn == 0 and not p.ready(now=0.1)
