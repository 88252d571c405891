"""ui.controls.choice_slider: one Bokeh slider over a Selector's options, kept in step both ways."""

import param
import pytest

from deeptricks.ui import choice_slider


class Settings(param.Parameterized):
    lr = param.Selector(default=0.01, objects=[0.001, 0.01, 0.1, 1.0], label="Learning rate")
    size = param.Selector(default=64, objects=[16, 64, 256])
    one = param.Selector(default="a", objects=["a"])
    many = param.ListSelector(default=["a"], objects=["a", "b"])
    depth = param.Integer(3)


def test_the_slider_moves_over_the_options_and_shows_them():
    s = Settings()
    slider = choice_slider(s.param.lr)
    assert (slider.start, slider.end, slider.step, slider.value) == (0, 3, 1, 1)
    assert slider.label == "Learning rate"
    assert slider.format.args["labels"] == ["0.001", "0.01", "0.1", "1"]
    assert "labels[Math.round(tick)]" in slider.format.code
    assert choice_slider(s.param.size).label == "Size"            # param's own label


def test_slider_and_parameter_follow_each_other():
    s = Settings()
    slider = choice_slider(s.param.lr)
    seen = []
    s.param.watch(lambda e: seen.append(e.new), "lr")
    slider.value = 3
    assert s.lr == 1.0 and seen == [1.0]
    s.lr = 0.001
    assert slider.value == 0 and seen == [1.0, 0.001]                # no echo back
    other = Settings()
    choice_slider(other.param.lr).value = 2
    assert other.lr == 0.1 and s.lr == 0.001                         # each slider its own state


@pytest.mark.parametrize("name, error", [("one", ValueError), ("many", TypeError), ("depth", TypeError)])
def test_anything_but_a_selector_of_two_or_more_options_is_refused(name, error):
    with pytest.raises(error, match=name if error is ValueError else "Selector"):
        choice_slider(Settings().param[name])
