"""Assemble the encoder, the KL layer and the decoder into one trainable VAE."""

import keras

from vae_lab import architecture, config, decoder, encoder, loss

#: The precisions the model can compute in; see `build_vae`.
DTYPE_POLICIES = config.DTYPE_POLICIES


def build_vae(
    latent_dim=2,
    filters=architecture.DEEPER_FILTERS,
    image_shape=(28, 28, 1),
    dense_units=20,
    strides=1,
    kl_weight=1.0,
    seed=None,
    dtype_policy="float32",
):
    """Builds the whole VAE as one functional model.

    The graph is `image -> encoder -> [z_mean, z_log_var, z] -> KLDivergence
    -> z -> decoder -> reconstruction`. The two parts stay reachable as
    `model.get_layer("encoder")` and `model.get_layer("decoder")`, and
    `encoder_of` and `decoder_of` return them.

    Args:
        latent_dim: Size of the latent space.
        filters: Filters of the encoder's convolutions; the decoder mirrors
            them. `(8, 16, 32, 64)` is the course's deeper model and
            `(8, 16)` its baseline.
        image_shape: `(height, width, channels)` of one image.
        dense_units: Width of the encoder's dense layer.
        strides: Stride of every convolution (the course uses 1).
        kl_weight: Factor on the KL term (1.0 for a plain VAE).
        seed: Seed of the sampling noise; `None` follows
            `keras.utils.set_random_seed`.
        dtype_policy: `"float32"` (the default), or `"mixed_bfloat16"` to
            compute the convolutions, normalisations and dense layers in
            bfloat16 with float32 weights. On a CPU with bfloat16 arithmetic
            (AVX512_BF16) this trained the deeper model 1.3 to 1.9 times as
            fast (`bench/RESULTS.md`); on one without, expect it slower.

    Returns:
        An uncompiled `keras.Model` named `vae`; see `compile_vae`.
    """
    if dtype_policy not in DTYPE_POLICIES:
        raise ValueError(
            f"dtype_policy must be one of {DTYPE_POLICIES}. "
            f"Received: dtype_policy={dtype_policy!r}."
        )
    the_encoder = encoder.build_encoder(
        latent_dim, filters, image_shape, dense_units, strides, seed, dtype_policy
    )
    the_decoder = decoder.build_decoder(
        latent_dim, filters, image_shape, strides, dtype_policy
    )
    images = keras.Input(shape=tuple(image_shape), name="image")
    z_mean, z_log_var, z = the_encoder(images)
    z = loss.KLDivergence(kl_weight, name="kl_divergence")([z_mean, z_log_var, z])
    reconstruction = the_decoder(z)
    return VariationalAutoencoder(images, reconstruction, name="vae")


@keras.saving.register_keras_serializable(package="vae_lab")
class VariationalAutoencoder(keras.Model):
    """The functional VAE of `build_vae`, which also reports the KL term.

    It is a plain functional model (built from inputs and outputs, trained
    with `fit(x, x)`) with one addition: its `compute_loss` updates the
    `kl_loss` metric of each `loss.KLDivergence` layer. Keras passes metric
    state to `compute_loss` on every backend, but under JAX not to the
    layers' own calls, so the metric cannot be updated inside the layer.
    """

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """Returns Keras's total loss and updates the `kl_loss` metric."""
        total = super().compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training
        )
        for layer in self.layers:
            if isinstance(layer, loss.KLDivergence):
                layer.update_metric()
        return total


def compile_vae(model, learning_rate=1e-3):
    """Compiles `model` with Adam, the VAE loss and its two terms as metrics.

    After this, `fit` and `evaluate` report `loss` (reconstruction plus KL),
    `reconstruction_loss` and `kl_loss`, each in nats per image, and their
    `val_` twins when there is validation data.

    On TensorFlow, XLA compilation is turned off: on a 2-core CPU it was
    never faster for this model and up to half as fast per training step
    (`bench/RESULTS.md`). JAX keeps Keras's
    default, which compiles, because JAX without compilation is far slower.

    Args:
        model: A model from `build_vae`.
        learning_rate: Adam's learning rate.

    Returns:
        The same model, compiled.
    """
    jit_compile = False if keras.backend.backend() == "tensorflow" else "auto"
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=loss.ReconstructionLoss(),
        metrics=[loss.reconstruction_metric()],
        jit_compile=jit_compile,
    )
    return model


def encoder_of(model):
    """Returns the encoder inside a model from `build_vae`."""
    return model.get_layer("encoder")


def decoder_of(model):
    """Returns the decoder inside a model from `build_vae`."""
    return model.get_layer("decoder")
