"""The reparameterisation step: draw `z` so that gradients reach the encoder.

Sampling `z ~ N(z_mean, sigma^2)` directly is not differentiable in `z_mean`
and `z_log_var`. The trick is to draw the randomness on its own, `epsilon ~
N(0, 1)`, and move it into place: `z = z_mean + sigma * epsilon`. The encoder
predicts the log-variance `z_log_var = log(sigma^2)` rather than sigma itself,
because a log can be any real number while sigma must stay positive, so
`sigma = exp(z_log_var / 2)`.

The layer is a `keras.layers.Lambda`, as in the course, around a named and
registered function, so that a saved model reloads in Keras's safe mode.
It owns its `keras.random.SeedGenerator`: under JAX, seed state that no layer
owns is frozen into the traced training step and every step would then reuse
the same noise.
"""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="vae_lab")
def sample_z(inputs, seed_generator=None):
    """Draws `z = z_mean + exp(z_log_var / 2) * epsilon`, `epsilon ~ N(0, 1)`.

    Args:
        inputs: A pair `(z_mean, z_log_var)` of tensors of shape
            `(batch, latent_dim)`.
        seed_generator: A `keras.random.SeedGenerator` owned by a layer; it
            makes every call draw fresh noise under every backend.

    Returns:
        A tensor `z` of shape `(batch, latent_dim)`.
    """
    z_mean, z_log_var = inputs
    epsilon = keras.random.normal(ops.shape(z_mean), seed=seed_generator)
    return z_mean + ops.exp(0.5 * z_log_var) * epsilon


@keras.saving.register_keras_serializable(package="vae_lab")
class Sampling(layers.Lambda):
    """A `Lambda` layer around `sample_z` that owns its seed state.

    Args:
        seed: Integer seed of the layer's noise, or `None` to take it from
            `keras.utils.set_random_seed`.
        function: The sampling function; keep the default `sample_z`.
        **kwargs: Passed to `keras.layers.Lambda`, such as `name="z"`.
    """

    def __init__(self, seed=None, function=sample_z, **kwargs):
        kwargs.pop("arguments", None)
        kwargs.pop("output_shape", None)
        super().__init__(function, **kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, mask=None, training=None):
        return self.function(inputs, seed_generator=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.pop("arguments", None)
        config["seed"] = self.seed
        return config
