"""The encoder: an image in, the parameters of a Gaussian over `z` out."""

import keras
from keras import layers

from vae_lab import architecture, checks, sampling


def build_encoder(
    latent_dim=2,
    filters=architecture.DEEPER_FILTERS,
    image_shape=(28, 28, 1),
    dense_units=20,
    strides=1,
    seed=None,
    dtype_policy="float32",
):
    """Builds the convolutional encoder with its sampling layer `z`.

    Each entry of `filters` adds a 3x3 `Conv2D` (ReLU, `same` padding) and a
    `BatchNormalization`. The course's deeper model uses `(8, 16, 32, 64)`:
    the extra 32- and 64-filter layers see wider neighbourhoods and can
    describe strokes and loops, and normalising each layer's outputs keeps
    their scale steady so the deeper stack trains at the same learning rate.
    A `Dense(dense_units)` layer with its own `BatchNormalization` then feeds
    two heads of size `latent_dim`: `z_mean` and `z_log_var`. The course
    calls the second head "sigma", but it is the log of the variance; see
    `vae_lab.sampling` for why.

    Args:
        latent_dim: Size of the latent space; 2 lets us plot it.
        filters: Filters of each convolution, in order.
        image_shape: `(height, width, channels)` of one image.
        dense_units: Width of the dense layer before the two heads.
        strides: Stride of every convolution. The course uses 1, so all
            layers keep the full 28x28 resolution.
        seed: Seed of the sampling layer's noise (see `sampling.Sampling`).
        dtype_policy: Keras dtype policy of the convolutions, normalisations
            and the dense layer: `"float32"`, or `"mixed_bfloat16"` to compute
            them in bfloat16 with float32 weights. The two heads and `z`
            always compute in float32, so the KL term and the sampling keep
            their precision.

    Returns:
        A `keras.Model` named `encoder` with outputs `[z_mean, z_log_var, z]`.

    Raises:
        ValueError: If an argument cannot give a working model.
    """
    filters = architecture.check_architecture(latent_dim, filters, image_shape, strides)
    checks.check_int("dense_units", dense_units)
    images = keras.Input(shape=tuple(image_shape), name="image")
    x = images
    for index, count in enumerate(filters, start=1):
        x = layers.Conv2D(
            count,
            3,
            strides=strides,
            padding="same",
            activation="relu",
            name=f"encoder_conv_{index}",
            dtype=dtype_policy,
        )(x)
        x = layers.BatchNormalization(name=f"encoder_bn_{index}", dtype=dtype_policy)(x)
    x = layers.Flatten(name="encoder_flatten")(x)
    x = layers.Dense(
        dense_units, activation="relu", name="encoder_dense", dtype=dtype_policy
    )(x)
    x = layers.BatchNormalization(name="encoder_dense_bn", dtype=dtype_policy)(x)
    z_mean = layers.Dense(latent_dim, name="z_mean", dtype="float32")(x)
    # A log-variance, not sigma: any real output is a valid log-variance.
    z_log_var = layers.Dense(latent_dim, name="z_log_var", dtype="float32")(x)
    z = sampling.Sampling(seed=seed, name="z", dtype="float32")([z_mean, z_log_var])
    return keras.Model(images, [z_mean, z_log_var, z], name="encoder")
