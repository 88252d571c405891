import numpy as np
import pytest

from deeptricks.ui import UnitGrid, theme

from ui_checks import assert_source_finite


def test_grid_shape_and_fixed_scale(rng):
    u = UnitGrid(256, name="u", low=0.0, high=3.0)
    mapper, src, fig = u.mapper, u.source, u.figure
    for scale in (1.0, 1e3, 1e30):
        u.update(np.abs(rng.normal(size=256)) * scale)
        assert (u.mapper.low, u.mapper.high) == (0.0, 3.0)
    assert u.mapper is mapper and u.source is src and u.figure is fig
    d = src.data
    assert len(d["unit"]) == 256 and max(d["col"]) == 15 and max(d["row"]) == 15
    assert np.all((np.asarray(d["shown"]) >= 0) & (np.asarray(d["shown"]) <= 3))
    assert np.max(d["value"]) > 1e29  # the hover shows the true value, not the clipped colour
    assert "above the scale top" in u.flags[0]
    assert fig.name == "u-figure" and u.renderer.name == "u-cells"
    assert mapper.palette[0] == theme.HEAT_PALETTE[0]  # zero is dark
    assert mapper.high_color == theme.HEAT_PALETTE[-1]


def test_nonfinite_and_negative_values():
    u = UnitGrid(9, low=0.0, high=2.0)
    u.update([np.nan, np.inf, -np.inf, -5.0, 0.0, 1.0, 2.0, 7.0, 1e308])
    d = u.source.data
    assert_source_finite(u.source)
    assert list(d["shown"]) == [2.0, 2.0, 0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0]
    assert list(d["note"][:4]) == [" (really nan)", " (really inf)", " (really -inf)", ""]
    assert list(d["value"][3:5]) == [-5.0, 0.0]
    assert any("inf or nan" in f for f in u.flags)
    assert any("below the scale bottom" in f for f in u.flags)
    assert u._caption.visible


def test_non_square_and_empty():
    u = UnitGrid(100)
    u.update(np.ones(100))
    assert max(u.source.data["col"]) == 9 and u.figure.x_range.end == 9.5
    u.update(np.ones(512))
    assert max(u.source.data["col"]) == 22  # ceil(sqrt(512)) columns
    assert u.figure.y_range.start > u.figure.y_range.end  # row 0 at the top
    u.update([])
    assert len(u.source.data["unit"]) == 0 and "no units to show" in u.flags
    assert UnitGrid(10, ncols=5)._shape(10) == (2, 5)


def test_set_scale_and_validation():
    u = UnitGrid(4, low=0, high=1)
    u.set_scale(0, 10)
    assert u.high == 10
    u.set_scale(5, 1)  # ignored
    u.set_scale(0, np.inf)  # ignored
    assert (u.low, u.high) == (0, 10)
    with pytest.raises(ValueError):
        UnitGrid(4, low=1, high=1)


def test_steady_layout_keeps_the_caption_line_as_flags_come_and_go():
    u = UnitGrid(4, low=0.0, high=1.0).steady_layout()
    assert u._caption.visible and "visibility: hidden" in u._caption.object   # an empty line kept
    u.update([0.5, 2.0, 0.1, 0.2])
    assert u._caption.visible and "above the scale top" in u._caption.object
    assert "visibility: hidden" not in u._caption.object
    u.update([0.5, 0.5, 0.1, 0.2])
    assert u._caption.visible and "visibility: hidden" in u._caption.object
    plain = UnitGrid(4, low=0.0, high=1.0)
    plain.update([0.5, 0.5, 0.1, 0.2])
    assert not plain._caption.visible and plain._caption.object == ""          # default: nothing kept
