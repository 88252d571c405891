"""The guided paths: each page's claim, step by step (see :mod:`.guide`).

The texts quote the page's live numbers (``{slope:.2f}``: the page's ``facts()``); each
step's ``check`` is what ``tests/explorables/test_paths.py`` asserts once the step has been
shown on the page's model, and ``claim`` says it in words.
"""

from __future__ import annotations

import math

from .guide import Question, Step
from .lab_model import PRESETS

# -- dropout ------------------------------------------------------------------------------------
DROPOUT = (
    Step("Drop units at random",
         "Each square is one unit of layer {layer} for one example. *Show me* drags the rate from "
         "0 to 0.7: at p = **{p:.2f}**, **{dropped}** of {width} units are switched off (×) and every "
         "survivor is multiplied by **{mult:.2f}**.",
         show={"mode": "train", "scale": True, "layer": 1}, glide=("p", 0.0, 0.7), figure="units",
         claim="at p = 0.7 about 70% of the units are dropped (65-75% over the batch) and the survivors are "
               "scaled by 1/0.3",
         check=lambda f: 65 <= f["share"] <= 75 and math.isclose(f["mult"], 1 / 0.3)),
    Step("Test time: nothing dropped, the same signal",
         "The read-out sums a layer's units for 16 examples: across is its test-time value (every unit "
         "on), up its training-time value averaged over K = {k} random masks.",
         show={"p": 0.7, "scale": True, "mode": "train", "k": 64}, figure="readout",
         question=Question(
             "Only 30% of the units survive at p = 0.7. Averaged over many masks, how big is the "
             "training-time output next to the test-time one?",
             ("about 0.3×, a third", "about the same", "about 3.3×, much bigger"), 1,
             "The cloud's slope is **{slope:.2f}**: each survivor counts 1/(1−p) = {mult:.2f} times, which on "
             "average makes up exactly for the units that were dropped."),
         claim="with scaling, the slope of training average over test output is within 0.1 of 1",
         check=lambda f: abs(f["slope"] - 1) < 0.1),
    Step("Forget the scaling",
         "Without the 1/(1−p) factor the slope is **{slope:.2f}**, close to 1 − p = {keep:.2f}: a network "
         "trained this way would see its signal jump **{jump:.1f}×** the moment it is deployed.",
         intro=('*Show me* unticks *Scale the survivors*: the units that survive training then keep their plain '
                'value.'),
         show={"p": 0.7, "scale": False, "mode": "train", "k": 64}, figure="readout",
         claim="without scaling the slope is within 0.05 of 1 - p",
         check=lambda f: abs(f["slope"] - f["keep"]) < 0.05),
    Step("Almost everything off",
         "At p = **{p:.2f}** only **{survivors}** of {width} units of this example survive, and each "
         "carries {mult:.1f}× its value: the few that are left glow hot.",
         intro='Back to the unit grid, with nearly every unit dropped.',
         show={"scale": True, "mode": "train", "layer": 1}, glide=("p", 0.7, 0.9), figure="units",
         question=Question(
             "Push p to 0.9. By how much is each surviving unit multiplied?",
             ("×1.1", "×9", "×10"), 2,
             "1/(1 − 0.9) = 10: one unit in ten survives and stands in for all ten."),
         claim="at p = 0.9 the multiplier is 10 and at least 80% of the example's units are dropped",
         check=lambda f: math.isclose(f["mult"], 10) and f["dropped"] >= 0.8 * f["width"]),
    Step("Back to the full network",
         "At p = **{p:.2f}** no unit is dropped ({dropped} of {width}) and the slope is {slope:.2f}: this is "
         "the whole network. Every rate in between trains a different thinned network each step, with "
         "the same signal on average: that is the regularization regime.",
         intro='*Show me* drags the rate back down from 0.9 to 0.',
         show={"scale": True, "mode": "train"}, glide=("p", 0.9, 0.0), figure="units",
         claim="at p = 0 nothing is dropped and training equals test exactly (slope 1)",
         check=lambda f: f["dropped"] == 0 and abs(f["slope"] - 1) < 1e-6),
    Step("Every layer",
         "Training mode adds zeros at every layer: at p = {p:.2f}, layer 10 is **{zeros_last:.0f}%** zeros. "
         "The survivors' noise compounds through the ReLUs, so layer 10's mean is **{mean_last_train:.2g}** in "
         "training against {mean_last_test:.2g} at test time.",
         show={"p": 0.5, "scale": True, "mode": "train"}, figure="layers",
         claim="at p = 0.5 the last layer's training-time mean is above its test-time mean",
         check=lambda f: f["mean_last_train"] > f["mean_last_test"]),
)

def _bn_range(f: dict) -> str:
    """How the BatchNorm layers' std reads: one number when they all round alike."""
    if f["bn_hi"] - f["bn_lo"] < 0.005:
        return "**{bn_lo:.2f}** at every layer"
    return "between **{bn_lo:.2f}** and **{bn_hi:.2f}**"


# -- batch norm -----------------------------------------------------------------------------------
BATCH_NORM = (
    Step("Two nets, one switch",
         lambda f: "Both nets have the same weights; only the right one normalizes every layer. Without "
                   "BatchNorm the values' std goes from **{std_first:.2f}** at layer 1 to **{std_last:.3g}** at "
                   "layer {depth}; with it the std is " + _bn_range(f) + ".",
         show={"bn": True, "depth": 10, "gain": 1.5, "activation": "relu", "mode": "train"}, figure="compare",
         claim="at the start settings the plain net's last layer has over 10x the std of its first, while every "
               "BatchNorm layer's std is within 0.05 of 1",
         check=lambda f: f["std_last"] > 10 * f["std_first"] and 0.95 < f["bn_lo"] <= f["bn_hi"] < 1.05),
    Step("Switch BatchNorm off and go deeper",
         "With BatchNorm off both columns show the plain net. At depth {depth} its last layer's std is "
         "**{std_last:.3g}**: each layer multiplies it by about {per_layer:.2f} at this weight scale.",
         intro='*Show me* unticks BatchNorm and stacks 30 layers instead of 10.',
         show={"bn": False, "gain": 1.5, "activation": "relu", "mode": "train"}, glide=("depth", 10, 30),
         figure="compare",
         question=Question(
             "Turn BatchNorm off and stack 30 layers instead of 10. What happens to the deepest layer's values?",
             ("they stay about standard", "they drift to extreme values", "they all become 0"), 1,
             "Nothing pulls them back: the std grows by a factor at every layer, so after {depth} layers it is "
             "**{std_growth:.3g}×** layer 1's."),
         claim="at depth 30 without BatchNorm the last layer's std is over 1000x the first layer's",
         check=lambda f: not f["bn"] and f["std_growth"] > 1e3),
    Step("Switch it back on",
         lambda f: "With BatchNorm the std of all {depth} layers is " + _bn_range(f) + ", even at weight scale "
                   "{gain:.2f}: each layer's values are standardized before the next layer sees them.",
         intro='*Show me* ticks BatchNorm again and lowers the weight scale from 1.5 to 0.5.',
         show={"bn": True, "depth": 30, "activation": "relu", "mode": "train"}, glide=("gain", 1.5, 0.5),
         figure="compare",
         claim="at depth 30 and weight scale 0.5 every BatchNorm layer's std is within 0.05 of 1",
         check=lambda f: f["bn"] and 0.95 < f["bn_lo"] <= f["bn_hi"] < 1.05),
    Step("One example, many batches",
         "The same example is normalized in 20 random batches of {batch}. Its output scatters by **{one_spread:.2f}** "
         "(at a batch of 16: {spread16:.2f}): small batches give noisy statistics.",
         intro=('The same example goes through the first BatchNorm layer in 20 random batches; each dot is its '
                'value in one of them.'),
         show={"mode": "train", "warmup": 0}, glide=("batch", 16, 2), figure="batch-noise",
         question=Question(
             "Which batch size makes one example's normalized value jitter most from batch to batch?",
             ("a batch of 2", "a batch of 16", "a batch of 256"), 0,
             "With two examples the mean and std come from almost nothing, so the example's value depends "
             "on its partner. That noise is one reason BatchNorm also regularizes."),
         claim="the example's spread over batches is larger at a batch of 2 than at 16",
         check=lambda f: f["batch"] == 2 and f["one_spread"] > 1.5 * f["spread16"]),
    Step("Eval mode needs its running averages",
         "In eval mode BatchNorm uses running averages instead of the batch's statistics. After **{warmup}** "
         "warm-up updates the last layer's std is **{eval_last:.3g}** in eval mode against {train_last:.2f} in "
         "training mode.",
         intro="*Show me* switches to eval mode and runs the running averages' warm-up from 0 to 60 updates.",
         show={"mode": "eval", "bn": True, "depth": 10, "gain": 1.5, "activation": "relu", "batch": 16},
         glide=("warmup", 0, 60), figure="running-stats",
         claim="after 60 updates eval mode's last-layer std is within 10% of training mode's (at 0 it is not)",
         check=lambda f: abs(f["eval_last"] / f["train_last"] - 1) < 0.1),
)

# -- layer norm -----------------------------------------------------------------------------------
LAYER_NORM = (
    Step("Batch norm averages a column",
         "The table is a batch: {n_examples} examples (rows) × {n_features} features (columns). Batch norm "
         "takes feature {feature} across the batch: mean **{mean:.2f}**, std **{std:.2f}**. After it, that "
         "column has mean {out_mean:.2f} and std {out_std:.2f}.",
         intro=('The table is a batch: {n_examples} examples (rows) × {n_features} features (columns). *Show me* '
                'frames the numbers batch norm averages.'),
         show={"method": "batch", "feature": 3}, figure="axes",
         claim="batch norm's output column has mean 0 and std 1",
         check=lambda f: abs(f["out_mean"]) < 1e-6 and abs(f["out_std"] - 1) < 1e-3),
    Step("Layer norm averages a row",
         "Layer norm takes one example across its own {n_features} features: example {example} has mean "
         "**{mean:.2f}** and std **{std:.2f}**; after it the row has mean {out_mean:.2f} and std {out_std:.2f}. "
         "No other example is involved.",
         intro='*Show me* switches to layer norm, which averages a row instead.',
         show={"method": "layer", "example": 2}, figure="axes",
         claim="layer norm's output row has mean 0 and std 1",
         check=lambda f: abs(f["out_mean"]) < 1e-6 and abs(f["out_std"] - 1) < 1e-3),
    Step("Shrink the batch",
         "Example 1 is the same in every batch; only its companions change. At a batch of {batch}, batch "
         "norm's output for it has moved **{moved:.2f}** from its value in the batch of {pool}; layer norm's "
         "has moved {ln_shift:.2f}.",
         intro='Example 1 is the same in every batch; only its companions change.',
         glide=("batch", 8, 2), figure="shrink-batch",
         question=Question(
             "Shrink the batch from 8 examples to 2. Whose output for example 1 changes?",
             ("batch norm's", "layer norm's", "both", "neither"), 0,
             "Batch norm's statistics come from the batch, so new companions move its output; layer norm only "
             "ever looks at example 1 itself."),
         claim="at a batch of 2 batch norm's output moved by more than 0.1 and layer norm's by exactly 0",
         check=lambda f: f["moved"] > 0.1 and f["ln_shift"] == 0),
    Step("A batch of one",
         "With one example batch norm has nothing to average over in training mode: the page (like PyTorch) "
         "refuses. Layer norm works as before: it has moved {ln_shift:.2f}.",
         intro='*Show me* shrinks the batch to example 1 alone.',
         show={"batch": 1}, figure="shrink-batch",
         claim="batch norm is undefined at a batch of 1 while layer norm is unchanged",
         check=lambda f: f["undefined"] and f["ln_shift"] == 0),
    Step("A deep stack",
         "Without normalization the std goes from {plain_first:.2f} at layer 1 to **{plain_last:.3g}** at "
         "layer {depth}; with layer norm after every layer it is **{ln_last:.2f}**, at any depth.",
         intro='*Show me* deepens the stack from 10 to 30 layers, with and without layer norm.',
         show={"gain": 1.5}, glide=("depth", 10, 30), figure="depth",
         claim="at depth 30 the plain stack's last std is over 1000x its first; layer norm's is within 0.05 of 1",
         check=lambda f: f["plain_last"] > 1e3 * f["plain_first"] and abs(f["ln_last"] - 1) < 0.05),
)

# -- residual connections ---------------------------------------------------------------------------
RESIDUAL = (
    Step("The gradient on its way down",
         "Both nets have {depth} sigmoid blocks. Block 1 receives **{plain_ratio:.2g}×** the gradient of the "
         "last block in the plain net, and **{res_ratio:.2f}×** in the residual net.",
         intro=('Both nets have {depth} sigmoid blocks and the same weights. The chart follows the gradient from '
                'the last block (right) down to block 1 (left).'),
         show={"depth": 50, "activation": "sigmoid", "norm": "none", "gain": 1.0}, figure="gradients",
         question=Question(
             "In a plain net of 50 sigmoid blocks, how big is block 1's gradient next to the last block's?",
             ("about the same", "about a tenth", "smaller than 10⁻²⁰"), 2,
             "A sigmoid's slope is at most ¼, so every block shrinks the gradient; fifty of them leave "
             "{plain_ratio:.2g}. The residual net's shortcut passes it down unshrunk."),
         claim="at depth 50 with sigmoid the plain ratio is below 1e-20 and the residual one above 0.1",
         check=lambda f: f["plain_ratio"] < 1e-20 and f["res_ratio"] > 0.1),
    Step("Add depth",
         "*Show me* grows both nets from 1 to 50 blocks. At depth **{depth}** the plain net's first block gets "
         "**{plain_ratio:.2g}×** the last block's gradient; the residual net's gets {res_ratio:.2f}×.",
         show={"activation": "sigmoid", "norm": "none", "gain": 1.0}, glide=("depth", 1, 50), figure="gradients",
         claim="the plain ratio falls with depth (at 50 it is below 1e-20) while the residual one stays above 0.1",
         check=lambda f: f["depth"] == 50 and f["plain_ratio"] < 1e-20 and f["res_ratio"] > 0.1),
    Step("The +1",
         "Back through y = x + F(x) the gradient is the sum of two terms. In the median block, the block's own "
         "term is **{path_ratio:.2g}×** the shortcut's: the +1 carries the gradient down.",
         show={"residual": True, "depth": 50, "activation": "sigmoid", "norm": "none", "gain": 1.0},
         figure="plus-one",
         claim="in the median block the block term is smaller than the shortcut term",
         check=lambda f: f["path_ratio"] < 1),
    Step("A block can step aside",
         "With tanh, *Show me* shrinks the blocks' weights to 0.01. At scale **{gain:.2g}** the residual net "
         "changes its input by **{res_change:.2g}** in all, the plain net by {plain_change:.2g}: tiny "
         "residual blocks are identities, tiny plain blocks still replace their input.",
         intro="*Show me* picks tanh and shrinks the blocks' weights from 1 to 0.01.",
         show={"activation": "tanh", "norm": "none", "depth": 50}, glide=("gain", 1.0, 0.01), figure="identity",
         claim="at weight scale 0.01 with tanh the residual net changes its input by under 0.2, the plain net by over 0.5",
         check=lambda f: f["res_change"] < 0.2 and f["plain_change"] > 0.5),
    Step("Does the deep net train?",
         lambda f: (
             "Three nets trained on two half-moons, final losses: a shallow plain net {loss_shallow:.3f}, a plain "
             "net of {depth} blocks **{loss_plain:.3f}** (a coin toss scores 0.693) and a residual net of "
             "{depth} blocks **{loss_res:.3f}**." if f["trained"] else
             "*Show me* trains three nets on two half-moons for a few seconds: a shallow plain net, and a plain "
             "net and a residual net of {depth} blocks. Watch which losses fall."),
         show={"depth": 50, "activation": "sigmoid", "norm": "none", "gain": 1.0}, then="run_training",
         figure="training",
         claim="the deep plain net stays near a coin toss's loss (above 0.6) while the residual net of the same "
               "depth ends below 0.1",
         check=lambda f: f["trained"] and f["loss_plain"] > 0.6 and f["loss_res"] < 0.1),
)


# -- the lab: one step per preset ---------------------------------------------------------------
def _lab(key: str, title: str, intro: str, after: str, *, running: str = "", **kw) -> Step:
    """A lab step: "Show me" loads preset ``key`` (with ``show``'s changes) and trains it for its
    length. Until then the card reads ``intro``; while training, ``running`` (default ``after``)
    with the step count; once the run pauses, ``after``."""
    steps = PRESETS[key].steps

    def text(f: dict) -> str:
        if f["preset"] != key or f["steps"] == 0:
            return intro + " *Show me* loads the preset again and trains it."
        if f["done"]:
            return after
        return "Step {steps:,} of %d: " % steps + (running or after)

    show = {"preset": key, **kw.pop("show", {})}
    return Step(title, text, intro=intro + f" *Show me* loads the preset and trains it for {steps:,} steps.",
                show=show, then="run_preset", figure=kw.pop("figure", key), **kw)


LAB = (
    _lab("dropout", "Dropout closes the gap",
         "Sixty noisy points, some with the wrong label, and a net with 128 units per layer: A without dropout, "
         "B with dropout 0.5.",
         "A, without dropout: training loss **{a_train:.3f}**, test loss **{a_test:.2f}** (its lowest was "
         "{a_test_min:.2f}). B, with dropout: training {b_train:.3f}, test **{b_test:.2f}**. Compare each net's "
         "solid (training) and dashed (test) line.",
         question=Question(
             "Net A drives its training loss towards zero. What does its test loss do meanwhile?",
             ("it falls too", "it turns round and climbs", "it stays at a coin toss's 0.69"), 1,
             "A learns the mislabelled points one by one, and every point it memorises costs it on the test "
             "set. Dropout keeps B from leaning on any single unit."),
         claim="A's training loss ends below 0.05 while its test loss ends above twice its lowest, and B's test "
               "loss ends below half of A's",
         check=lambda f: f["a_train"] < 0.05 and f["a_test"] > 2 * f["a_test_min"] and f["b_test"] < 0.5 * f["a_test"]),
    _lab("batchnorm", "Batch norm tolerates a higher learning rate",
         "Eight layers trained by plain SGD at a learning rate of 1.0: A without normalization, B with batch norm.",
         "Training loss: A (no normalization) **{a_train:.2f}**, where a coin toss scores 0.69; B (batch norm) "
         "**{b_train:.3f}**, with {b_train_acc:.0f}% of the training points right.",
         question=Question(
             "At a learning rate of 1.0, which of the two nets trains?",
             ("neither: the rate is far too high", "only A, without normalization", "only B, with batch norm",
              "both"), 2,
             "Batch norm standardizes each layer's input after every step, so a large step cannot blow up the "
             "layers above it; without it the same step throws the net off."),
         claim="A ends above a training loss of 0.6 (or diverged) while B ends below 0.3 with over 90% right",
         check=lambda f: (f["a_stopped"] or f["a_train"] > 0.6) and f["b_train"] < 0.3 and f["b_train_acc"] > 90),
    _lab("tiny-batch", "When a trick hurts: batch norm with a tiny batch",
         "Batches of two examples: A normalizes with batch norm, B with layer norm.",
         "On the test points A (batch norm) gets **{a_test_acc:.0f}%** right with a loss of {a_test:.2f}; B "
         "(layer norm) **{b_test_acc:.0f}%** with {b_test:.2f}.",
         question=Question(
             "Trained on batches of only two examples, which net does better on the test points?",
             ("A, with batch norm", "B, with layer norm", "about the same"), 1,
             "Over two examples every normalized value is −1 or +1, and the running averages used at test time "
             "describe no batch A ever trained on. Layer norm never looks at the batch."),
         claim="A's test loss ends above twice B's and its test accuracy over 10 points lower",
         check=lambda f: f["a_test"] > 2 * f["b_test"] and f["a_test_acc"] < f["b_test_acc"] - 10),
    _lab("degradation", "The degradation problem",
         "Two plain tanh stacks on the spirals: A has 2 layers, B has 30 and could represent everything A can.",
         "Training loss: A (2 layers) **{a_train:.2f}**, B (30 layers) **{b_train:.2f}**. B's test loss, "
         "{b_test:.2f}, sits beside its training loss: B does not overfit, it fails to train.",
         question=Question(
             "Which of the two reaches the lower *training* loss?",
             ("A, the 2-layer stack", "B, the 30-layer stack", "they end level"), 0,
             "Depth made B hard to optimize, not prone to overfitting: its gradient fades through 30 tanh "
             "layers before it reaches the first ones."),
         claim="B's training loss ends more than 0.3 above A's",
         check=lambda f: f["b_train"] > f["a_train"] + 0.3),
    _lab("degradation", "Residual connections fix it",
         "The same two stacks, now with residual connections in B's 30 layers.",
         "With shortcuts the 30-layer stack reaches a training loss of **{b_train:.2f}**, against the 2-layer "
         "stack's {a_train:.2f}: each block only has to learn a change to its input, and the gradient reaches "
         "every block through the shortcuts.",
         show={"b_residual": True},
         claim="with residual connections B's training loss ends at or below A's",
         check=lambda f: f["b_train"] <= f["a_train"]),
    _lab("ensemble", "Residual nets behave like ensembles",
         "Two 16-layer nets with batch norm learn the moons: A plain, B residual. After training, each block is "
         "deleted in turn at test time.",
         "With one block deleted, the median test accuracy is **{b_deleted:.0f}%** for B (residual; "
         "{b_full:.0f}% whole) and **{a_deleted:.0f}%** for A (plain; {a_full:.0f}% whole).",
         running="test accuracy A {a_test_acc:.0f}%, B {b_test_acc:.0f}%. The block-deletion chart is final when "
                 "the run pauses.",
         question=Question(
             "Once both nets are trained, delete one block at test time. Which net keeps its accuracy?",
             ("A, the plain net", "B, the residual net", "both", "neither"), 1,
             "B's signal reaches the output along many paths of different lengths, like an ensemble of "
             "shallower nets; deleting a block removes only some of them. A's layers form one chain."),
         claim="both nets end above 95% whole; B's median with one block deleted is within 3 points of whole, "
               "A's below 70%",
         check=lambda f: (f["a_full"] > 95 and f["b_full"] > 95 and f["b_deleted"] >= f["b_full"] - 3
                          and f["a_deleted"] < 70)),
    _lab("shuffled-labels", "What the tricks don't fix",
         "The training labels are shuffled at random; a residual net with batch norm and 128 units per layer "
         "trains on them. The test labels are the true ones.",
         "Training accuracy **{a_train_acc:.0f}%**, test accuracy **{a_test_acc:.0f}%**: the net memorised the "
         "random labels and learned nothing that carries to a new point. The tricks make a net trainable; they "
         "cannot put signal into the data.",
         question=Question(
             "With random training labels, how high does this net drive its *training* accuracy?",
             ("about 50%, a coin toss", "about 75%", "about 100%"), 2,
             "It has capacity to spare and carves a small island around every training point; nothing in the "
             "data ties a label to a place, so on test points it guesses."),
         claim="training accuracy ends at 97% or more while test accuracy stays between 35% and 65%",
         check=lambda f: f["a_train_acc"] >= 97 and 35 <= f["a_test_acc"] <= 65),
)
