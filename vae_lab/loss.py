"""The VAE loss: a reconstruction term plus the KL divergence, in nats.

For one image `x` with pixels `x_i` in `[0, 1]` and decoded probabilities
`p_i`, the loss is

    reconstruction_loss = -sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)]
    kl_loss = -0.5 * sum_j (1 + z_log_var_j - z_mean_j^2 - exp(z_log_var_j))

where `i` runs over the 784 pixels and `j` over the `latent_dim` dimensions.
Both terms are averaged over the batch, so every figure is in nats per image.

Why sum over pixels before the batch mean: the KL term is a sum over latent
dimensions for one image, and the two terms must be on the same per-image
scale to balance as the ELBO says. Keras's built-in binary cross-entropy
takes a mean over the last axis instead, which would shrink the
reconstruction term 784 times and let the KL term flatten the latent space.

Keras 3 cannot attach a loss that reads `z_mean` and `z_log_var` to a
functional model directly (`model.add_loss` on a symbolic tensor and a loss
function that closes over symbolic tensors both fail), so the KL term comes
from `KLDivergence`, a pass-through layer that calls `add_loss`. The compiled
loss is the reconstruction term, and Keras adds the layer's loss to it; this
keeps plain `model.fit(x, x, validation_split=0.2)` working on any backend.
"""

import keras
from keras import layers, ops

#: Probabilities are clipped to [EPSILON, 1 - EPSILON] so log() stays finite.
EPSILON = 1e-7


@keras.saving.register_keras_serializable(package="vae_lab")
def reconstruction_loss(y_true, y_pred):
    """Binary cross-entropy summed over all pixels of each image.

    Args:
        y_true: Target images in `[0, 1]`, shape `(batch, height, width,
            channels)`.
        y_pred: Decoded pixel probabilities of the same shape.

    Returns:
        A tensor of shape `(batch,)`: nats per image.
    """
    y_true = ops.cast(y_true, y_pred.dtype)
    y_pred = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    per_pixel = -(y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred))
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=1)


def kl_divergence(z_mean, z_log_var):
    """KL divergence from `N(z_mean, exp(z_log_var))` to `N(0, I)`.

    Args:
        z_mean: Tensor of shape `(batch, latent_dim)`.
        z_log_var: Log-variances of the same shape.

    Returns:
        A tensor of shape `(batch,)`: nats per image, summed over dimensions.
    """
    terms = 1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var)
    return -0.5 * ops.sum(terms, axis=1)


@keras.saving.register_keras_serializable(package="vae_lab")
class ReconstructionLoss(keras.losses.Loss):
    """`reconstruction_loss` as a Keras loss, averaged over the batch."""

    def __init__(self, name="reconstruction_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return reconstruction_loss(y_true, y_pred)


def reconstruction_metric():
    """Returns a metric that reports the reconstruction term on its own."""
    return keras.metrics.MeanMetricWrapper(
        reconstruction_loss, name="reconstruction_loss"
    )


@keras.saving.register_keras_serializable(package="vae_lab")
class KLDivergence(layers.Layer):
    """Adds the KL term to the model's loss and passes `z` through unchanged.

    The layer sits between the encoder and the decoder, so it is on the path
    of every forward pass. It also keeps a `kl_loss` metric, which puts
    `kl_loss` and `val_kl_loss` into the training history; the model from
    `vae_lab.model.build_vae` updates it through `update_metric`.

    Args:
        kl_weight: Factor on the KL term; 1.0 gives the VAE's ELBO, other
            values give a beta-VAE.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: A list `[z_mean, z_log_var, z]`.

    Returns:
        `z`, unchanged.
    """

    def __init__(self, kl_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.kl_weight = float(kl_weight)
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    def call(self, inputs):
        z_mean, z_log_var, z = inputs
        kl_loss = kl_divergence(z_mean, z_log_var)
        self.add_loss(self.kl_weight * ops.mean(kl_loss))
        # The metric is updated later in the same step, by `update_metric`:
        # under JAX, Keras hands a metric's state to the loss computation but
        # not to the layers' calls, so updating it here fails on that backend.
        self.latest_kl_loss = kl_loss
        return z

    def update_metric(self):
        """Adds the KL term of the latest call to the `kl_loss` metric.

        `vae_lab.model.VariationalAutoencoder` calls this from its
        `compute_loss`, once per training or evaluation step, which works on
        every backend. Does nothing if the layer has not been called.
        """
        kl_loss = getattr(self, "latest_kl_loss", None)
        if kl_loss is not None:
            self.kl_tracker.update_state(kl_loss)
            self.latest_kl_loss = None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[2])

    def get_config(self):
        return {**super().get_config(), "kl_weight": self.kl_weight}
