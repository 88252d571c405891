"""The guided paths: each page's claim, step by step (see :mod:`.guide`).

The texts quote the page's live numbers (``{slope:.2f}``: the page's ``facts()``); each
step's ``check`` is what ``tests/explorables/test_paths.py`` asserts once the step has been
shown on the page's model, and ``claim`` says it in words.
"""

from __future__ import annotations

import math

from .guide import Question, Step

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
