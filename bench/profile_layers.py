"""Where a training step of the deeper model spends its time, layer by layer.

For each layer of `vae_lab`'s deeper model that does real work, the script
times one forward and backward pass at batch size 128 on its own, inside a
compiled `tf.function`, in float32 and in bfloat16 (the compute type of the
mixed_bfloat16 policy), and prints the share of the total. The layers run on
random inputs of the right shape, so this shows the cost of the arithmetic,
not of the data. TensorFlow backend only.

Run: .venv/bin/python bench/profile_layers.py
"""

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from vae_lab import model  # noqa: E402

WORK_LAYERS = (
    keras.layers.Conv2D,
    keras.layers.Conv2DTranspose,
    keras.layers.Dense,
    keras.layers.BatchNormalization,
)


def time_layer(layer, input_shape, dtype, repeats=5):
    """Median seconds of one forward and backward pass through a copy of `layer`."""
    copy = layer.__class__.from_config({**layer.get_config(), "dtype": dtype})
    inputs = tf.random.uniform((128, *input_shape[1:]), dtype=dtype)
    copy(inputs)

    @tf.function
    def step(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = tf.cast(copy(inputs), "float32")
            total = tf.reduce_sum(outputs * outputs)
        return tape.gradient(total, [inputs, *copy.trainable_weights])

    step(inputs)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        step(inputs)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main():
    vae = model.build_vae()
    rows = []
    for part in (model.encoder_of(vae), model.decoder_of(vae)):
        for layer in part.layers:
            if isinstance(layer, WORK_LAYERS):
                shape = layer.input.shape
                rows.append(
                    (
                        layer.name,
                        time_layer(layer, shape, "float32"),
                        time_layer(layer, shape, "bfloat16"),
                    )
                )
    total32 = sum(row[1] for row in rows)
    total16 = sum(row[2] for row in rows)
    print(f"{'layer':20s} {'float32 ms':>10s} {'share':>6s} {'bfloat16 ms':>11s}")
    for name, seconds32, seconds16 in rows:
        print(
            f"{name:20s} {seconds32 * 1e3:10.1f} {seconds32 / total32:6.1%} "
            f"{seconds16 * 1e3:11.1f}"
        )
    print(f"{'sum':20s} {total32 * 1e3:10.1f} {'':6s} {total16 * 1e3:11.1f}")


if __name__ == "__main__":
    main()
