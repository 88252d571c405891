"""The lab's training session without Panel: start / pause / step / reset, rebuilding on new
settings, stopping cleanly on NaN, and probes that never change the run they look at."""

import numpy as np
import pytest

from deeptricks.explorables.lab_model import (GRID, MIN_GRID, STAT_EVERY, LabSession, Run, RunConfig,
                                              SpeedMeter, grid_size, make_data, plane_extent)

SMALL = RunConfig(depth=3, width=8, n_train=64, batch_size=16)


class FakeClock:
    """Advances by ``dt`` every time it is read."""

    def __init__(self, dt):
        self.t, self.dt = 0.0, dt

    def __call__(self):
        self.t += self.dt
        return self.t


def losses(session, i=0):
    return np.array(session.runs[i].trainer.history["batch_loss"])


def test_start_pause_step_reset():
    s = LabSession(SMALL)
    assert s.status == "ready" and s.step_count == 0
    assert s.advance(1.0) == 0                       # not running: nothing happens
    assert s.start() and s.status == "running"
    n = s.advance(budget=0.05, clock=FakeClock(0.01))
    assert n == 5 and s.step_count == 5            # stops when the budget is spent
    assert s.pause() and s.status == "paused"
    assert s.advance(1.0) == 0 and s.step_count == 5
    assert s.step_once() == 1 and s.step_count == 6 and s.status == "paused"
    s.start()
    assert s.step_once() == 1 and s.status == "paused"   # a single step pauses a running session
    gen = s.generation
    s.reset()
    assert s.status == "ready" and s.step_count == 0 and s.generation == gen + 1
    assert s.runs[0].trainer.history["step"] == []


def test_advance_takes_at_least_one_step():
    s = LabSession(SMALL)
    s.start()
    assert s.advance(budget=0.0) == 1


def test_reset_replays_the_same_run():
    s = LabSession(SMALL)
    s.run(40)
    first = losses(s)
    s.reset()
    s.run(40)
    np.testing.assert_array_equal(losses(s), first)


def test_steps_do_not_depend_on_how_they_are_grouped():
    a, b = LabSession(SMALL), LabSession(SMALL)
    a.run(30)
    b.start()
    clock = FakeClock(0.01)
    while b.step_count < 30:
        b.advance(budget=0.035, clock=clock)      # 3-4 steps per "tick"
    np.testing.assert_array_equal(losses(a), losses(b)[:30])


def test_looking_never_changes_the_run():
    cfg = SMALL.replace(norm="batch", dropout=0.3)
    plain, probed = LabSession(cfg), LabSession(cfg)
    plain.run(30)
    for _ in range(30):
        probed.step_once()
        r = probed.runs[0]
        r.boundary(), r.pre_activations_now(), r.lesion(), r.stat_points(), r.recent_grad_norms()
    np.testing.assert_array_equal(losses(plain), losses(probed))
    np.testing.assert_array_equal(plain.runs[0].net.norms[0].running_mean,
                                  probed.runs[0].net.norms[0].running_mean)


def test_new_settings_rebuild_and_a_running_session_keeps_running():
    s = LabSession(SMALL)
    s.start()
    s.advance(budget=0.05, clock=FakeClock(0.01))
    assert s.step_count > 0
    assert not s.configure(SMALL)                  # nothing changed: nothing happens
    assert s.step_count > 0
    assert s.configure(SMALL.replace(depth=5))     # architecture changed mid-training
    assert s.status == "running" and s.step_count == 0 and s.runs[0].config.depth == 5
    assert len(s.runs[0].net.blocks) == 5
    s.advance(budget=0.02, clock=FakeClock(0.01))
    assert s.configure(SMALL.replace(dataset="circles"))   # data changed mid-training
    assert s.runs[0].data.name == "circles" and s.step_count == 0 and s.running
    s.pause()
    assert s.configure(SMALL.replace(dataset="xor"))
    assert s.status == "ready"                     # a paused session comes back ready


def test_compare_mode_runs_two_nets_in_lockstep_on_the_same_data():
    s = LabSession(SMALL, SMALL.replace(norm="batch", residual=True))
    assert s.compare and len(s.runs) == 2
    assert s.runs[0].data is s.runs[1].data
    np.testing.assert_array_equal(s.runs[0].net.linears[0].params["W"], s.runs[1].net.linears[0].params["W"])
    s.run(12)
    assert [r.step_count for r in s.runs] == [12, 12]
    assert s.configure(SMALL, None)
    assert not s.compare


def test_nan_loss_stops_training_with_a_message():
    s = LabSession(SMALL.replace(norm="none", optimizer="sgd", lr=5.0, gain=3.0, batch_size=64))
    s.start()
    clock = FakeClock(0.001)
    for _ in range(50):
        s.advance(budget=0.01, clock=clock)
        if s.status == "stopped":
            break
    assert s.status == "stopped"
    assert s.messages and "NaN or infinite" in s.messages[0]
    assert not s.start() and s.step_once() == 0
    p = s.runs[0].boundary()
    assert p.shape == (GRID, GRID) and np.isfinite(p).all()
    s.reset()
    assert s.status == "ready" and not s.messages


def test_one_diverging_net_stops_while_the_other_trains_on():
    # (in this tiny net it is the batch-norm one that blows up at this rate)
    cfg = SMALL.replace(norm="none", optimizer="sgd", lr=2.0, gain=2.0, dropout=0.0)
    s = LabSession(cfg, cfg.replace(norm="batch"))
    s.run(100)
    a, b = s.runs
    assert b.stopped and not a.stopped and a.step_count == 100
    assert s.status == "paused"
    assert len(s.messages) == 1 and s.messages[0].startswith("B: Training stopped")


def test_batch_norm_with_a_batch_of_one_stops_with_its_reason():
    s = LabSession(SMALL.replace(norm="batch", batch_size=1))
    assert s.step_once() == 0
    assert s.status == "stopped" and "batch" in s.messages[0].lower()


def test_the_step_limit_stops_the_session():
    s = LabSession(SMALL, max_steps=25)
    s.start()
    while s.running:
        s.advance(budget=1.0)
    assert s.step_count == 25 and s.status == "stopped" and "25 steps" in s.messages[-1]


def test_shuffled_labels_keep_the_balance_and_the_test_set():
    true, shuffled = make_data(SMALL), make_data(SMALL.replace(shuffle_labels=True))
    np.testing.assert_array_equal(true.X_train, shuffled.X_train)
    np.testing.assert_array_equal(true.y_test, shuffled.y_test)
    assert np.bincount(true.y_train).tolist() == np.bincount(shuffled.y_train).tolist()
    assert 0.3 < np.mean(true.y_train == shuffled.y_train) < 0.7


def test_views_have_the_right_shapes():
    r = Run(SMALL)
    assert r.eval_points()[0].step == 0 and np.isfinite(r.initial.test_loss)
    for _ in range(25):
        r.step()
    pts = r.eval_points()
    assert [p.step for p in pts] == [0, 10, 20]
    stats = r.stat_points()
    assert [p.step for p in stats] == [10, 20]
    assert stats[0].grad_norms.shape == (3,) and stats[0].percentiles.shape == (3, 3)
    assert [p.step for p in r.stat_points(after_step=10)] == [20]
    expected = np.mean(r.trainer.history["grad_norms"][10:20], axis=0)
    np.testing.assert_allclose(stats[1].grad_norms, expected)
    assert r.recent_grad_norms().shape == (3,) and STAT_EVERY == 10
    p = r.boundary()
    assert p.shape == (GRID, GRID) and ((p >= 0) & (p <= 1)).all()
    pre = r.pre_activations_now()
    assert len(pre) == 3 and pre[0].shape == (64, 8)
    full, accs = r.lesion()
    assert 0 <= full <= 1 and accs.shape == (3,)
    assert plane_extent(r.data) >= np.abs(r.data.X_train).max()


def test_deleting_a_block_is_skipping_it():
    r = Run(SMALL.replace(residual=True, norm="none", dropout=0.0))
    for _ in range(20):
        r.step()
    net, X = r.net, r.trainer.X_test
    net.eval()
    h = net.stem.forward(X)
    for k, block in enumerate(net.blocks):
        if k != 1:
            h = block.forward(h)
    expected = np.mean(np.argmax(net.head.forward(h), axis=1) == r.data.y_test)
    net.train()
    assert r.lesion()[1][1] == pytest.approx(expected)


def test_the_boundary_grid_is_coarser_only_for_big_nets():
    assert grid_size(RunConfig()) == GRID
    assert grid_size(RunConfig(depth=16, width=32)) == GRID
    assert MIN_GRID < grid_size(RunConfig(depth=2, width=256)) < GRID
    assert grid_size(RunConfig(depth=50, width=256)) == MIN_GRID
    r = Run(RunConfig(depth=20, width=128, n_train=32))
    assert r.boundary().shape == (r.grid_n, r.grid_n) and r.grid_n < GRID


def test_invalid_configs_are_refused():
    with pytest.raises(ValueError):
        RunConfig(dataset="mnist")
    with pytest.raises(ValueError):
        RunConfig(depth=0)
    assert RunConfig().describe() == "6×32 relu, batch norm, dropout 0.1"


def test_speed_meter():
    m = SpeedMeter(window=1.0)
    assert m.rate() == 0.0
    for i in range(20):
        m.add(i * 0.1, i * 30)       # 300 steps/s
    assert m.rate() == pytest.approx(300)
    m.reset()
    assert m.rate() == 0.0


def _kept_rows(net) -> set:
    """The batch sizes of every array the net's layers still hold."""
    rows = set()
    for m in net.modules():
        for v in vars(m).values():
            for a in (v if isinstance(v, list) else [v]):
                if isinstance(a, np.ndarray) and a.ndim == 2:
                    rows.add(a.shape[0])
    return rows - {m.in_features for m in net.linears} - {2}     # weight matrices have these rows


def test_probes_keep_no_activations_of_the_sets_they_look_at():
    """A lab session would otherwise hold the test set's activations of every layer (~2.5 MB)."""
    cfg = SMALL.replace(n_train=48, dropout=0.2)
    r = Run(cfg)
    n_test, n_grid = len(r.data.X_test), r.grid_n ** 2
    assert _kept_rows(r.net) == set()                 # the initial evaluation kept nothing
    r.step()
    assert _kept_rows(r.net) <= {cfg.batch_size}      # a training step's own caches may stay
    r.boundary()
    pre = r.pre_activations_now()
    r.lesion()
    assert not _kept_rows(r.net) & {n_test, n_grid, cfg.n_train}
    assert len(pre) == cfg.depth and pre[0].shape == (cfg.n_train, cfg.width)
    assert r.step()                                   # and it trains on
