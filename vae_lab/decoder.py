"""The decoder: a point `z` in, an image of pixel probabilities out."""

import keras
from keras import layers

from vae_lab import architecture


def build_decoder(
    latent_dim=2,
    filters=architecture.DEEPER_FILTERS,
    image_shape=(28, 28, 1),
    strides=1,
    dtype_policy="float32",
):
    """Builds the decoder that mirrors `build_encoder` with the same filters.

    A `Dense` layer (ReLU) with `BatchNormalization` lifts `z` to the size of
    the encoder's last feature map, a `Reshape` turns it into that map, and
    one 3x3 `Conv2DTranspose` with `BatchNormalization` per entry of
    `filters`, in reverse order, walks back to the image. A final sigmoid
    `Conv2DTranspose` named `decoder_output` gives one probability per pixel
    and channel, so the output shape equals `image_shape`.

    Args:
        latent_dim: Size of the latent space.
        filters: The encoder's filters, in the encoder's order.
        image_shape: `(height, width, channels)` of one image.
        strides: The encoder's stride.
        dtype_policy: Keras dtype policy of every layer but the output, as in
            `build_encoder`; the sigmoid output always computes in float32.

    Returns:
        A `keras.Model` named `decoder`.

    Raises:
        ValueError: If an argument cannot give a working model.
    """
    filters = architecture.check_architecture(latent_dim, filters, image_shape, strides)
    height, width, channels = image_shape
    scale = strides ** len(filters)
    map_shape = (height // scale, width // scale, filters[-1])
    latent = keras.Input(shape=(latent_dim,), name="z_sample")
    x = layers.Dense(
        map_shape[0] * map_shape[1] * map_shape[2],
        activation="relu",
        name="decoder_dense",
        dtype=dtype_policy,
    )(latent)
    x = layers.BatchNormalization(name="decoder_dense_bn", dtype=dtype_policy)(x)
    x = layers.Reshape(map_shape, name="decoder_reshape")(x)
    for index, count in enumerate(reversed(filters), start=1):
        x = layers.Conv2DTranspose(
            count,
            3,
            strides=strides,
            padding="same",
            activation="relu",
            name=f"decoder_deconv_{index}",
            dtype=dtype_policy,
        )(x)
        x = layers.BatchNormalization(name=f"decoder_bn_{index}", dtype=dtype_policy)(x)
    reconstruction = layers.Conv2DTranspose(
        channels,
        3,
        padding="same",
        activation="sigmoid",
        name="decoder_output",
        dtype="float32",
    )(x)
    return keras.Model(latent, reconstruction, name="decoder")
