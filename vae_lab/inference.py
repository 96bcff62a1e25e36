"""Use a trained VAE: encode, decode, reconstruct, and walk the latent space.

These functions return NumPy arrays and never draw; `vae_lab.plots` draws.
Reconstructions decode `z_mean` rather than a sampled `z`, so they show what
the model has learnt instead of one random draw around it.
"""

import numpy as np

from vae_lab import checks, data, model


def encode(vae, images, batch_size=256):
    """Returns `(z_mean, z_log_var)` of `images` as NumPy arrays."""
    images = data.check_images(images, vae.input_shape[1:])
    z_mean, z_log_var, _ = model.encoder_of(vae).predict(
        images, batch_size=batch_size, verbose=0
    )
    return z_mean, z_log_var


def decode(vae, z, batch_size=256):
    """Returns the decoded images of latent points `z` of shape `(N, latent_dim)`."""
    z = np.asarray(z, dtype="float32")
    latent_dim = model.decoder_of(vae).input_shape[-1]
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(
            f"z must have shape (N, {latent_dim}). Received: shape={z.shape}."
        )
    return model.decoder_of(vae).predict(z, batch_size=batch_size, verbose=0)


def reconstruct(vae, images, batch_size=256):
    """Encodes `images` to `z_mean` and decodes them again."""
    z_mean, _ = encode(vae, images, batch_size)
    return decode(vae, z_mean, batch_size)


def latent_grid(n=20, span=3.0):
    """Returns the coordinates of an `n` x `n` grid over `[-span, span]^2`.

    Returns:
        A tuple `(values, z)`: the `n` values along each axis, increasing,
        and the `n * n` points, row by row from the top (largest `z[1]`),
        so that they read like the picture they make.
    """
    checks.check_int("n", n, minimum=2)
    checks.check_fraction("span", span, high=100.0)
    values = np.linspace(-span, span, n, dtype="float32")
    rows = [[(x, y) for x in values] for y in values[::-1]]
    return values, np.array(rows, dtype="float32").reshape(-1, 2)


def manifold(vae, n=20, span=3.0):
    """Decodes a grid over the 2-D latent space into one big image.

    Args:
        vae: A model from `build_vae` with `latent_dim=2`.
        n: Digits along each side.
        span: The grid covers `[-span, span]` on both axes; under the prior
            `N(0, I)`, 3 covers nearly all of the probability mass.

    Returns:
        A tuple `(image, values)`: a `(n * height, n * width)` array and the
        grid values along each axis.

    Raises:
        ValueError: If the latent space is not 2-D.
    """
    latent_dim = model.decoder_of(vae).input_shape[-1]
    if latent_dim != 2:
        raise ValueError(
            f"The manifold needs a 2-D latent space. Received a model with "
            f"latent_dim={latent_dim}; plot a 2-D slice by decoding your own z."
        )
    values, z = latent_grid(n, span)
    digits = decode(vae, z)[..., 0]
    height, width = digits.shape[1:]
    image = digits.reshape(n, n, height, width).transpose(0, 2, 1, 3)
    return image.reshape(n * height, n * width), values


def interpolate(vae, start_image, end_image, steps=10):
    """Decodes `steps` points on the line between two images' `z_mean`.

    Args:
        vae: A model from `build_vae`.
        start_image: One image, `(height, width, channels)`.
        end_image: Another image of the same shape.
        steps: Points on the line, both ends included.

    Returns:
        A tuple `(images, z)`: the decoded images and their latent points.
    """
    checks.check_int("steps", steps, minimum=2)
    pair = np.stack([np.asarray(start_image), np.asarray(end_image)])
    z_mean, _ = encode(vae, pair)
    weights = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    z = (1.0 - weights) * z_mean[0] + weights * z_mean[1]
    return decode(vae, z), z
