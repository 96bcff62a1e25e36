"""The comparison point: the same VAE written the straightforward way.

This is how a Keras user would usually write the course's model after
reading the keras.io VAE example: a subclassed `keras.Model` that owns an
encoder and a decoder, computes both loss terms in its own `train_step` under
`tf.GradientTape`, tracks them with `keras.metrics.Mean`, and is compiled
with nothing but an optimizer. It is written here from scratch, with the same
layers, sizes and batch size as `vae_lab.model.build_vae`, so the two
differ only in how training is wired, not in the work per image.

It is TensorFlow-only on purpose (that is what makes it "plain"), and it
lives in `bench/`, never in the package.
"""

import keras
import tensorflow as tf
from keras import layers, ops


class PlainSampling(layers.Layer):
    """Draws `z = z_mean + exp(z_log_var / 2) * epsilon` with its own seed."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1234)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def plain_encoder(latent_dim, filters):
    """Conv2D + BatchNormalization per filter, Dense(20) + BN, two heads."""
    images = keras.Input(shape=(28, 28, 1))
    x = images
    for count in filters:
        x = layers.Conv2D(count, 3, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    z_mean = layers.Dense(latent_dim)(x)
    z_log_var = layers.Dense(latent_dim)(x)
    z = PlainSampling()([z_mean, z_log_var])
    return keras.Model(images, [z_mean, z_log_var, z])


def plain_decoder(latent_dim, filters):
    """Dense + BN, Reshape, Conv2DTranspose + BN per filter, sigmoid output."""
    latent = keras.Input(shape=(latent_dim,))
    x = layers.Dense(28 * 28 * filters[-1], activation="relu")(latent)
    x = layers.BatchNormalization()(x)
    x = layers.Reshape((28, 28, filters[-1]))(x)
    for count in reversed(filters):
        x = layers.Conv2DTranspose(count, 3, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
    output = layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(latent, output)


class PlainVAE(keras.Model):
    """A subclassed VAE with hand-written training and evaluation steps."""

    def __init__(self, latent_dim=2, filters=(8, 16, 32, 64), **kwargs):
        super().__init__(**kwargs)
        self.encoder = plain_encoder(latent_dim, filters)
        self.decoder = plain_decoder(latent_dim, filters)
        self.total_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_tracker, self.reconstruction_tracker, self.kl_tracker]

    def _loss_terms(self, images, training):
        z_mean, z_log_var, z = self.encoder(images, training=training)
        reconstruction = self.decoder(z, training=training)
        pixel_loss = keras.losses.binary_crossentropy(images, reconstruction)
        reconstruction_loss = ops.mean(ops.sum(pixel_loss, axis=(1, 2)))
        kl_terms = 1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var)
        kl_loss = ops.mean(-0.5 * ops.sum(kl_terms, axis=1))
        return reconstruction_loss, kl_loss

    def _update(self, reconstruction_loss, kl_loss):
        self.total_tracker.update_state(reconstruction_loss + kl_loss)
        self.reconstruction_tracker.update_state(reconstruction_loss)
        self.kl_tracker.update_state(kl_loss)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        images = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            reconstruction_loss, kl_loss = self._loss_terms(images, training=True)
            total_loss = reconstruction_loss + kl_loss
        gradients = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(
            zip(gradients, self.trainable_weights, strict=True)
        )
        return self._update(reconstruction_loss, kl_loss)

    def test_step(self, data):
        images = data[0] if isinstance(data, tuple) else data
        return self._update(*self._loss_terms(images, training=False))


def build_reference(latent_dim=2, filters=(8, 16, 32, 64)):
    """Returns a `PlainVAE` compiled the way a plain user would: Adam only."""
    vae = PlainVAE(latent_dim, tuple(filters))
    vae.compile(optimizer=keras.optimizers.Adam())
    return vae
