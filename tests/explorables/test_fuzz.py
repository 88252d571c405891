"""Property-based fuzzing of every explorable's controls, through the URL and through the state.

Each page is built once, bound to a fake address bar, and then driven by hypothesis:

* **URL**: raw query strings — valid values, out-of-range, NaN, infinite, empty, too long and
  wrongly typed ones, unknown and repeated keys, percent-encoded keys and values, invalid UTF-8
  and stray ``&``/``=``/``%`` — set as the location's ``search``, as the browser reports it.
  Nothing may raise; every control must hold a valid value; each key whose (last) value had to be
  adjusted or ignored is named in the page's visible URL note, and a link with only valid values
  shows no note.
* **state**: values set directly on the state object, singly or several at once with
  ``state.param.update``. A bad value must raise ``ValueError``/``TypeError`` and change nothing —
  neither the state nor any plot's data (no half-updated page).

After every example, no data source of the page may hold NaN or inf and every visible figure's
ranges must be finite and non-empty.
"""

from __future__ import annotations

import math
import re
import urllib.parse

import numpy as np
import param
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deeptricks.explorables.state import ExplorableState
from page_checks import (PAGES, alert_says, assert_page_valid, build, check_param_value, reset,
                         source_snapshot, state_values)

pytestmark = pytest.mark.slow

URL_EXAMPLES = 15
STATE_EXAMPLES = 8
FUZZ = settings(max_examples=URL_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", params=list(PAGES))
def built(request):
    return build(request.param)


# -- values for one parameter, valid or not --------------------------------------------

WORDS = st.sampled_from(["abc", "NaN?", "0x10", "1,5", "one", "true-ish", "\u00b2", "\u221e", "--1", "1e", ".",
                         "+-0", "0..1", "\U0001f600", "<script>", "'; drop", "\x00", "\u202e1"])
BOOL_BAD = st.sampled_from(["maybe", "2", "-1", "truee", "nan", "\u2713", "oui", "0.0", "t r u e"])
TOO_LONG = st.sampled_from(["9" * 250, "x" * 201, "1" + "0" * 400])


def _valid(p: param.Parameter):
    """(query text, value it must give) for a value the control accepts as is."""
    if isinstance(p, param.Boolean):
        return st.sampled_from([("true", True), ("false", False), ("on", True), ("OFF", False),
                                ("1", True), ("0", False), ("Yes", True), ("no", False)])
    if isinstance(p, param.Integer):
        lo, hi = p.bounds
        return st.integers(lo, hi).flatmap(lambda v: st.sampled_from([(str(v), v), (f"{v}.0", v), (f"+{v}", v)]))
    if isinstance(p, param.Number):
        lo, hi = p.bounds
        return st.floats(lo, hi, allow_nan=False).map(lambda v: (repr(v), v))
    if isinstance(p, param.Selector):
        from deeptricks.ui.urlsync import serialize_value
        objs = [o for o in p.objects]
        return st.sampled_from(objs).map(lambda o: (serialize_value(p, o), o))
    raise AssertionError(f"no strategy for {p!r}")


def _invalid(p: param.Parameter):
    """Query text the control must not take as is: the page must adjust or ignore it, with a note."""
    common = st.one_of(st.just(""), TOO_LONG)
    if isinstance(p, param.Boolean):
        return st.one_of(common, BOOL_BAD, WORDS)
    if isinstance(p, param.Number):
        lo, hi = p.bounds
        big = st.floats(1e-6, 1e300)
        outside = st.one_of(big.map(lambda d: lo - d - 1e-9 * abs(lo)), big.map(lambda d: hi + d + 1e-9 * abs(hi)))
        if isinstance(p, param.Integer):
            outside = st.one_of(st.integers(1, 10**30).map(lambda d: lo - d), st.integers(1, 10**30).map(lambda d: hi + d))
            halves = st.integers(lo, hi - 1).map(lambda v: f"{v}.5")          # not whole: rounded, with a note
            return st.one_of(common, WORDS, halves, outside.map(str),
                             st.sampled_from(["nan", "inf", "-inf", "1e999", "-1e400", "NaN", "Infinity"]))
        return st.one_of(common, WORDS, outside.map(repr),
                         st.sampled_from(["nan", "inf", "-inf", "1e999", "-1e400", "NaN", "Infinity"]))
    if isinstance(p, param.Selector):
        names = {str(o).lower() for o in p.objects}
        nums = {float(o) for o in p.objects if isinstance(o, (int, float)) and not isinstance(o, bool)}

        def not_a_choice(t):
            t = t.strip()
            if t.lower() in names:
                return False
            try:
                return float(t) not in nums
            except (ValueError, OverflowError):
                return True
        return st.one_of(common, WORDS.filter(not_a_choice), st.sampled_from(["nan", "0.0123", "3", "none!"]).filter(not_a_choice))
    raise AssertionError(f"no strategy for {p!r}")


# Arbitrary text without lone surrogates (which cannot be percent-encoded).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


def _encode(text: str, style: int) -> str:
    if style == 0:
        return urllib.parse.quote(text, safe="")
    if style == 1:                                    # every byte percent-encoded
        return "".join(f"%{b:02X}" for b in text.encode("utf-8"))
    return urllib.parse.quote_plus(text, safe="")


JUNK = st.sampled_from(["", "&", "=", "==", "%", "%zz", "%C0%AF", "%FF%FE=%80", "utm_source=a%20b", "zz=1=2",
                        "%00=%00", "&&&", "?", "#frag", "=%", "a[]=1"])


@st.composite
def queries(draw, b):
    """A raw query string and, per synced query key, whether its last value is valid (with the
    value it must give) or must be noted."""
    mapping = {key: pname for pname, key in b.sync.mapping.items()}
    keys = sorted(mapping)
    if b.name == "lab":                 # a preset overrides the other values: covered by the lab tests
        valid_keys = [k for k in keys if k != "preset"]
    else:
        valid_keys = keys
    items = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["valid", "invalid", "unknown", "other key"]))
        if kind == "other key":
            items.append((draw(TEXT.filter(lambda k: k not in mapping)), draw(TEXT), "unknown"))
            continue
        key = draw(st.sampled_from(valid_keys if kind == "valid" else keys))
        p = b.state.param[mapping[key]]
        if kind == "valid":
            text, value = draw(_valid(p))
            items.append((key, text, ("valid", value)))
        elif kind == "invalid":
            items.append((key, draw(_invalid(p)), ("invalid", None)))
        else:
            items.append((key, draw(TEXT), "unknown"))
    parts = [f"{_encode(k, draw(st.integers(0, 2)))}={_encode(v, draw(st.integers(0, 2)))}" for k, v, _ in items]
    for junk in draw(st.lists(JUNK, max_size=3)):
        parts.insert(draw(st.integers(0, len(parts))), junk)
    query = draw(st.sampled_from(["?", "", "??"])) + "&".join(parts)
    last = {k: kind for k, _, kind in items if k in mapping}   # the last value of a repeated key wins
    return query, last, mapping


@FUZZ
@given(data=st.data())
def test_url_query_fuzz(built, data):
    b = built
    query, last, mapping = data.draw(queries(b))
    b.location.search = query                                   # as the browser reports its address
    notes = b.sync.notes
    assert all(isinstance(n, str) and n for n in notes)
    for pname in b.sync.mapping:
        check_param_value(b.state.param[pname], getattr(b.state, pname))
    for key, kind in last.items():
        named = [n for n in notes if re.match(rf"{re.escape(key)}[=: ]", n)]
        if kind == "unknown":
            continue
        if kind[0] == "invalid":
            assert named, (query, key, notes)
            assert alert_says(b.sync, key), (query, key, b.sync.alert.object)
        else:
            assert not named, (query, key, notes)
            pname = mapping[key]
            if b.name == "lab" and pname == "layer":   # the lab follows at most its deepest block
                s = b.state
                assert s.layer == min(kind[1], max(s.depth, s.b_depth if s.compare else 0))
            else:
                assert getattr(b.state, pname) == kind[1], (query, key)
    if all(kind != "unknown" and kind[0] == "valid" for kind in last.values()):
        assert not b.sync.alert.visible and notes == [], (query, notes)   # unknown keys pass silently
    assert_page_valid(b)
    # the address bar now holds the values in use: reading it back changes nothing and notes nothing
    before = state_values(b.state, b.sync.mapping)
    b.location.search = b.location.search + "&"
    assert state_values(b.state, b.sync.mapping) == before and b.sync.notes == []


# -- the state object ---------------------------------------------------------------------

def _bad_values(p: param.Parameter):
    """Python values the control must refuse."""
    junk = st.sampled_from([None, "0.5", b"1", [1], {"a": 1}, object(), 1j, np.array([0.5, 0.6])])
    if isinstance(p, param.Boolean):
        return st.one_of(junk, st.sampled_from([0, 1, 1.0, "true", math.nan]))
    if isinstance(p, param.Number):
        lo, hi = p.bounds
        vals = [math.nan, math.inf, -math.inf, True, False, lo - 1, hi + 1, lo - 1e-9 * max(1, abs(lo)) - 1e-12,
                hi + 1e-9 * max(1, abs(hi)) + 1e-12, 1e308, -1e308, 10**400]
        if isinstance(p, param.Integer):
            vals += [lo + 0.5, float(lo), "3"]
        return st.one_of(junk, st.sampled_from(vals))
    if isinstance(p, param.Selector):
        return st.one_of(junk, st.sampled_from(["zzz", "", 0.0123, 3, True]).filter(lambda v: v not in p.objects))
    raise AssertionError(p)


def _good_value(p: param.Parameter):
    return _valid(p).map(lambda tv: tv[1])


@st.composite
def state_changes(draw, b):
    names = [n for n in b.sync.mapping if not (b.name == "lab" and n == "preset")]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    values, n_bad = {}, 0
    for n in chosen:
        p = b.state.param[n]
        if draw(st.booleans()):
            values[n] = draw(_bad_values(p))
            n_bad += 1
        else:
            values[n] = draw(_good_value(p))
    return values, n_bad


@settings(max_examples=STATE_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_state_fuzz(built, data):
    b = built
    values, n_bad = data.draw(state_changes(b))
    names = list(b.sync.mapping)
    before, snap = state_values(b.state, names), source_snapshot(b.sources)
    single = len(values) == 1 and data.draw(st.booleans())
    try:
        if single:
            (name, value), = values.items()
            setattr(b.state, name, value)
        else:
            b.state.param.update(**values)
    except (ValueError, TypeError):
        assert n_bad, values                                   # a good value was refused
        after = state_values(b.state, names)
        assert after == before or all(                         # nothing changed: not even half of it
            (a != a and c != c) or a == c for a, c in zip(after.values(), before.values())), (values, before, after)
        assert source_snapshot(b.sources) == snap, "a refused change redrew the page"
    else:
        assert not n_bad, f"accepted bad values {values}"
    for pname in names:
        check_param_value(b.state.param[pname], getattr(b.state, pname))
    assert_page_valid(b)


def test_reset_through_the_link_restores_the_defaults(built):
    """After the fuzzing, an empty link plus the defaults gives a clean page with no note."""
    reset(built)
    assert not built.sync.alert.visible
    assert_page_valid(built)


class _Toy(ExplorableState):
    p = param.Number(0.5, bounds=(0.0, 0.9))
    n = param.Integer(3, bounds=(1, 10))
    mode = param.Selector(default="train", objects=["train", "test"])
    on = param.Boolean(True)


def test_state_base_refuses_booleans_for_numbers_and_half_updates():
    s, seen = _Toy(), []
    s.param.watch(lambda *events: seen.append(sorted(e.name for e in events)), ["p", "n", "mode", "on"])
    for name, value in [("n", True), ("p", False), ("n", np.bool_(True))]:
        with pytest.raises(ValueError, match=f"[.']{name}'"):
            setattr(s, name, value)
    with pytest.raises(ValueError, match="[.']n'"):
        s.param.update(p=0.2, mode="test", n=11)          # the last value is out of range
    with pytest.raises(ValueError, match="not a parameter"):
        s.param.update(p=0.2, nope=1)
    assert (s.p, s.n, s.mode, s.on, seen) == (0.5, 3, "train", True, [])
    s.on = False                                           # booleans still go to Boolean parameters
    s.param.update(p=0.2, n=np.int64(4))
    assert (s.p, s.n, s.on) == (0.2, 4, False) and seen == [["on"], ["n", "p"]]
    with s.param.update(mode="test"):                      # the context-manager form still restores
        assert s.mode == "test"
    assert s.mode == "train"
