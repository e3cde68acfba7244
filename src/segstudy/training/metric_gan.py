"""Study A's GAN: the U-Net generator G is trained to maximise the quality that a learned
discriminator D predicts for its masks (the MetricGAN idea, Fu et al. 2019).

Each ``train_step``:

1. D steps (``d_steps``): D is fitted by MSE to the *true* quality (``segstudy.metrics.quality``,
   the function evaluation uses) of three masks per image: G's current output, the ground
   truth (quality 1) and a perturbed ground truth (a random fraction of pixels flipped), so
   D sees the whole range and not only G's neighbourhood. With a replay set
   (``replay_capacity`` > 0, MetricGAN+'s "historical set"), a fourth term: ``replay_batch``
   past outputs of G drawn from the set with the quality they had, so D does not forget
   where G has been; after the D steps, ``round(replay_fraction * batch)`` (at least one) of
   this step's outputs enter the set, oldest out first.
2. One G step: ``mean((D(G(x), x) - 1)^2) + supervised_weight * supervised_loss(y, G(x))``;
   ``supervised_weight = 0`` is the paper's pure metric objective. For the first
   ``d_warmup_steps`` steps G's learning rate is 0: an untrained D would otherwise send G
   random gradients and undo the pre-trained U-Net before D has learnt anything.

Logged: ``g_loss``, ``d_loss``, ``d_error`` (mean |D − true quality| on G's outputs) and
``quality`` (mean true quality of G's outputs in the batch).

A target in ``segstudy.metrics.HOST_ONLY`` (``vrand``: cells are connected components) is
computed by numpy on the host inside the step (``tf.numpy_function`` / ``jax.pure_callback``):
D still learns it by regression, and G's only gradient is D's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from segstudy.config import GAN_TARGETS
from segstudy.metrics import HOST_ONLY, quality
from segstudy.params import choice


def check_metric(name: str) -> str:
    """A discriminator target's name, refused like any other choice (``params.choice``)."""
    return choice(name, GAN_TARGETS, "gan.metric")


def host_quality(fn: Callable[[Any, Any], Any], mask: Any, target: Any) -> Any:
    """``fn(mask, target)`` (numpy in, one float32 per sample out) on backend tensors, inside
    a traced training step of either backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        out = tf.numpy_function(fn, [mask, target], tf.float32, stateful=False)
        return tf.reshape(out, tf.shape(mask)[:1])
    if backend == "jax":
        import jax

        shape = jax.ShapeDtypeStruct((mask.shape[0],), "float32")
        return jax.pure_callback(fn, shape, mask, target)
    return ops.convert_to_tensor(fn(ops.convert_to_numpy(mask), ops.convert_to_numpy(target)))


class _OptimizerPair:
    """What Keras' JAX trainer reads of ``model.optimizer``: the variables of G's and D's."""

    built = True

    def __init__(self, *optimizers: keras.optimizers.Optimizer):
        self.optimizers = optimizers

    @property
    def variables(self) -> list:
        return [v for opt in self.optimizers for v in opt.variables]

    def build(self, variables: Any) -> None:  # built in MetricGAN.compile
        pass


class MetricGAN(keras.Model):
    """Generator + quality-regressing discriminator; ``fit`` trains both (TensorFlow or JAX)."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, metric: str,
                 mask_range: tuple[float, float], power: float = 1.0,
                 supervised_loss: Callable[[Any, Any], Any] | None = None,
                 supervised_weight: float = 0.0, d_steps: int = 1,
                 perturb_max: float = 0.5, seed: int = 0, empty_iou: float = 1.0,
                 replay_fraction: float = 0.0, replay_capacity: int = 0, replay_batch: int = 4,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.generator, self.discriminator = generator, discriminator
        self.metric, self.power = check_metric(metric), float(power)
        self.mask_range = (float(mask_range[0]), float(mask_range[1]))
        self.empty_iou = float(empty_iou)  # the IoU target of an empty mask on an empty truth
        self.supervised_loss, self.supervised_weight = supervised_loss, float(supervised_weight)
        self.d_steps, self.perturb_max = int(d_steps), float(perturb_max)
        self.replay_fraction, self.replay_batch = float(replay_fraction), int(replay_batch)
        self.replay_capacity = int(replay_capacity) if replay_fraction > 0 else 0
        self.trackers = {k: keras.metrics.Mean(name=k)
                         for k in ("g_loss", "d_loss", "d_error", "quality")}

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer) -> None:
        super().compile()
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        # Build optimizer state eagerly: variables cannot be created inside the traced step.
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)
        if keras.backend.backend() == "jax":
            # JAX's fit threads `model.optimizer.variables` through each step: both optimizers'.
            self.optimizer = _OptimizerPair(g_optimizer, d_optimizer)

    @property
    def metrics(self) -> list:
        return list(self.trackers.values())

    def call(self, x: Any, training: bool = False) -> Any:
        return self.generator(x, training=training)

    def build_replay(self, mask_shape: tuple[int, ...], input_shape: tuple[int, ...],
                     batch_size: int) -> None:
        """The replay set's variables (saved and restored with the model's weights, so a resumed
        run keeps its history): masks, their inputs, their true quality, and how many were
        written. Call once, with one sample's shapes and the batch size, before ``fit``."""
        if not self.replay_capacity:
            return
        cap = self.replay_capacity
        self.replay_k = max(1, round(self.replay_fraction * batch_size))  # written per step

        def var(shape: tuple[int, ...], name: str, dtype: str = "float32") -> Any:
            return self.add_weight(shape=shape, initializer="zeros", trainable=False,
                                   name=name, dtype=dtype)
        self.replay_masks = var((cap, *mask_shape), "replay_masks")
        self.replay_inputs = var((cap, *input_shape), "replay_inputs")
        self.replay_quality = var((cap,), "replay_quality")
        self.replay_written = var((), "replay_written", "int32")

    def remember(self, x: Any, fake: Any, q_fake: Any) -> None:
        """Write the first ``round(replay_fraction * batch_size)`` (≥ 1) of this step's outputs
        into the replay set's ring (the batch is in random order already)."""
        if not self.replay_capacity:
            return
        k = self.replay_k
        at = ops.expand_dims((self.replay_written + ops.arange(k, dtype="int32"))
                             % self.replay_capacity, -1)
        rows = ops.arange(k, dtype="int32") % ops.shape(fake)[0]  # a short last batch repeats
        for var, new in ((self.replay_masks, fake), (self.replay_inputs, x),
                         (self.replay_quality, q_fake)):
            var.assign(ops.scatter_update(var, at, ops.cast(ops.take(new, rows, axis=0),
                                                            var.dtype)))
        self.replay_written.assign(self.replay_written + k)

    def replayed(self) -> tuple[Any, Any, Any, Any]:
        """``replay_batch`` past (mask, input, quality) drawn uniformly from the filled part of
        the set, and 1.0 once anything was written (else 0.0: the term is off)."""
        filled = ops.minimum(self.replay_written, self.replay_capacity)
        draw = keras.random.uniform((self.replay_batch,), seed=self.seed_generator)
        idx = ops.cast(draw * ops.cast(ops.maximum(filled, 1), "float32"), "int32")
        idx = ops.minimum(idx, ops.maximum(filled - 1, 0))
        return (ops.take(self.replay_masks, idx, axis=0), ops.take(self.replay_inputs, idx, axis=0),
                ops.take(self.replay_quality, idx, axis=0),
                ops.cast(filled > 0, "float32"))

    def true_quality(self, mask: Any, target: Any) -> Any:
        """Per-sample target for D: the evaluation's metric, mapped to [0, 1], to ``power``."""
        if self.metric in HOST_ONLY:
            return host_quality(
                lambda m, t: quality(self.metric, m, t, self.mask_range, self.power,
                                     empty=self.empty_iou).astype("float32"), mask, target)
        return quality(self.metric, mask, target, self.mask_range, self.power, xp=ops,
                       empty=self.empty_iou)

    def judge(self, mask: Any, x: Any, training: bool = False) -> Any:
        inp = ops.concatenate([ops.cast(mask, x.dtype), x], axis=-1)
        return ops.cast(self.discriminator(inp, training=training)[:, 0], "float32")

    def perturb(self, y: Any) -> Any:
        lo, hi = self.mask_range
        batch = ops.shape(y)[0]
        rate = keras.random.uniform((batch, 1, 1, 1), 0.0, self.perturb_max,
                                    seed=self.seed_generator)
        flip = keras.random.uniform(ops.shape(y), seed=self.seed_generator) < rate
        return ops.where(flip, lo + hi - y, y)

    def build(self, input_shape: Any = None) -> None:  # sub-models are built already
        self.built = True

    def d_loss(self, x: Any, y: Any, fake: Any, q_fake: Any, pert: Any, q_pert: Any) -> Any:
        """D's regression loss: MSE to the true quality of G's mask, the truth and a perturbed
        truth, averaged."""
        d_fake = self.judge(fake, x, training=True)
        d_real = self.judge(y, x, training=True)
        d_pert = self.judge(pert, x, training=True)
        loss = (ops.mean(ops.square(d_fake - q_fake)) + ops.mean(ops.square(d_real - 1.0))
                + ops.mean(ops.square(d_pert - q_pert)))
        if not self.replay_capacity:
            return loss / 3.0
        masks, inputs, q_old, on = self.replayed()
        d_old = self.judge(masks, ops.cast(inputs, x.dtype), training=True)
        return (loss + on * ops.mean(ops.square(d_old - q_old))) / (3.0 + on)

    def g_loss(self, x: Any, y: Any) -> tuple[Any, Any]:
        """G's loss (D's verdict pushed to 1, plus the optional supervised term) and G's mask."""
        fake = ops.cast(self.generator(x, training=True), "float32")
        loss = ops.mean(ops.square(self.judge(fake, x) - 1.0))
        if self.supervised_weight and self.supervised_loss is not None:
            loss = loss + self.supervised_weight * ops.mean(self.supervised_loss(y, fake))
        return loss, fake

    def _log(self, g_loss: Any, d_loss: Any, fake: Any, q_fake: Any, x: Any, y: Any) -> dict:
        d_err = ops.mean(ops.abs(self.judge(fake, x) - self.true_quality(fake, y)))
        for k, v in (("g_loss", g_loss), ("d_loss", d_loss), ("d_error", d_err),
                     ("quality", ops.mean(q_fake))):
            self.trackers[k].update_state(v)
        return {k: m.result() for k, m in self.trackers.items()}

    def train_step(self, *args: Any) -> Any:
        # Keras calls train_step(data) on TensorFlow and train_step(state, data) on JAX, whose
        # steps are pure functions of the variables' values.
        if keras.backend.backend() == "jax":
            return self._jax_train_step(*args)
        return self._tf_train_step(*args)

    def _tf_train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        x, y = data
        y = ops.cast(y, "float32")
        fake, q_fake = self._fake_and_quality(x, y)
        d_loss = ops.zeros(())
        for _ in range(self.d_steps):
            pert, q_pert = self._perturbed_and_quality(y)
            with tf.GradientTape() as tape:
                d_loss = self.d_loss(x, y, fake, q_fake, pert, q_pert)
            d_vars = self.discriminator.trainable_variables
            grads = tape.gradient(d_loss, d_vars)
            self.d_optimizer.apply_gradients(zip(grads, d_vars, strict=True))
        self.remember(x, fake, q_fake)
        with tf.GradientTape() as tape:
            g_loss, fake = self.g_loss(x, y)
        g_vars = self.generator.trainable_variables
        grads = tape.gradient(g_loss, g_vars)
        self.g_optimizer.apply_gradients(zip(grads, g_vars, strict=True))
        return self._log(g_loss, d_loss, fake, q_fake, x, y)

    def _jax_train_step(self, state: Any, data: Any) -> tuple[dict[str, Any], Any]:
        """The TensorFlow step, as a pure function: every variable's value is looked up in (and
        written back to) ``values``, keyed by the variable, through Keras' ``StatelessScope``."""
        import jax

        trainable, non_trainable, optimizer_values, metric_values = state
        model_vars = [*self.trainable_variables, *self.non_trainable_variables,
                      *self.metrics_variables, *self.optimizer.variables]
        values = dict(zip(map(id, model_vars),
                          [*trainable, *non_trainable, *metric_values, *optimizer_values],
                          strict=True))

        def run(fn: Callable[[], Any], vals: dict) -> tuple[Any, dict]:
            with keras.StatelessScope(state_mapping=[(v, vals[id(v)]) for v in model_vars]) as s:
                out = fn()
            return out, {id(v): s.get_current_value(v) for v in model_vars}

        def step(opt: keras.optimizers.Optimizer, part: keras.Model,
                 loss: Callable[[], Any], vals: dict) -> tuple[Any, Any, dict]:
            """One optimizer step on ``part``'s trainable variables for ``loss``."""
            tvars = part.trainable_variables

            def loss_of(weights: list) -> tuple[Any, tuple[Any, dict]]:
                trial = {**vals, **dict(zip(map(id, tvars), weights, strict=True))}
                (value, aux), new = run(loss, trial)
                return value, (aux, new)

            (value, (aux, vals)), grads = jax.value_and_grad(loss_of, has_aux=True)(
                [vals[id(v)] for v in tvars])
            new_weights, new_opt = opt.stateless_apply(
                [vals[id(v)] for v in opt.variables], grads, [vals[id(v)] for v in tvars])
            vals.update(zip(map(id, tvars), new_weights, strict=True))
            vals.update(zip(map(id, opt.variables), new_opt, strict=True))
            return value, aux, vals

        x, y = data
        y = ops.cast(y, "float32")
        (fake, q_fake), values = run(lambda: self._fake_and_quality(x, y), values)
        d_loss = ops.zeros(())
        for _ in range(self.d_steps):
            (pert, q_pert), values = run(lambda: self._perturbed_and_quality(y), values)
            d_loss, _, values = step(
                self.d_optimizer, self.discriminator,
                lambda: (self.d_loss(x, y, fake, q_fake, pert, q_pert), None),  # noqa: B023
                values)
        _, values = run(lambda: self.remember(x, fake, q_fake), values)
        g_loss, fake, values = step(self.g_optimizer, self.generator,
                                    lambda: self.g_loss(x, y), values)
        logs, values = run(lambda: self._log(g_loss, d_loss, fake, q_fake, x, y), values)
        new_state = tuple([values[id(v)] for v in group] for group in (
            self.trainable_variables, self.non_trainable_variables, self.optimizer.variables,
            self.metrics_variables))
        return logs, new_state

    def _fake_and_quality(self, x: Any, y: Any) -> tuple[Any, Any]:
        fake = ops.cast(self.generator(x, training=True), "float32")
        return fake, self.true_quality(fake, y)

    def _perturbed_and_quality(self, y: Any) -> tuple[Any, Any]:
        pert = self.perturb(y)
        return pert, self.true_quality(pert, y)
