"""Recompute BatchNormalization's statistics once training has finished.

During training, each BatchNormalization layer normalises with the mean and
variance of the current batch, and keeps exponential moving averages of them
(momentum 0.99) for inference. Those averages remember roughly the last 100
steps, and the weights that produced them kept changing over those steps, so
they lag behind the final weights. With few steps, as in the `cpu` preset
(63 steps per epoch), the lag is large: the course's deeper model, trained for
8 epochs on 10,000 images, scored a validation loss of 216 nats per image in
inference mode against 174 in training mode, and decoded faint, blurred
digits. Its widest normalisation layer, after the decoder's Dense layer, has
50,176 features.

`recalibrate_batch_norm` replaces the moving averages with the plain average
of the batch statistics of the finished model over training images, without
touching any trained weight (the remedy known as "precise BatchNorm"). On the
run above it brought the validation loss from 216 to 175 in about 16 seconds.
"""

import numpy as np
from keras import layers

from vae_lab import checks


def batch_norm_layers(model):
    """Returns every BatchNormalization layer in `model`, nested models included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found.extend(batch_norm_layers(layer))
    return found


def recalibrate_batch_norm(model, images, batch_size=128, max_batches=100):
    """Sets each BatchNormalization layer's moving statistics to their average.

    The model runs forward in training mode over `images`, batch by batch, and
    the momentum of batch `k` (counting from 0) is set to `k / (k + 1)`, which
    turns Keras's exponential moving average into a plain running mean. Only
    the moving means and variances change; every trained weight stays as it is.

    Args:
        model: A Keras model, such as one from `vae_lab.model.build_vae`.
        images: Training images, as the model expects them.
        batch_size: Images per forward pass; use the training batch size.
        max_batches: At most this many batches are used.

    Returns:
        The number of batches used; 0 if the model has no BatchNormalization.
    """
    checks.check_int("batch_size", batch_size)
    checks.check_int("max_batches", max_batches)
    norms = batch_norm_layers(model)
    if not norms:
        return 0
    momenta = [layer.momentum for layer in norms]
    starts = range(0, len(images), batch_size)[:max_batches]
    try:
        for count, start in enumerate(starts):
            for layer in norms:
                layer.momentum = count / (count + 1)
            model(np.asarray(images[start : start + batch_size]), training=True)
    finally:
        for layer, momentum in zip(norms, momenta, strict=True):
            layer.momentum = momentum
    return len(starts)
