import keras
import numpy as np
import pytest
from keras import layers

from vae_lab import batch_norm, model


def _tiny_model():
    inputs = keras.Input(shape=(3,))
    hidden = layers.Dense(4, name="dense")(inputs)
    outputs = layers.BatchNormalization(name="bn")(hidden)
    return keras.Model(inputs, outputs)


def test_moving_statistics_become_the_average_of_batch_statistics():
    tiny = _tiny_model()
    images = np.random.default_rng(0).normal(2.0, 3.0, size=(40, 3)).astype("f4")
    kernel = tiny.get_layer("dense").get_weights()
    used = batch_norm.recalibrate_batch_norm(tiny, images, batch_size=10)
    hidden = images @ kernel[0] + kernel[1]
    batches = hidden.reshape(4, 10, 4)
    norm = tiny.get_layer("bn")
    assert used == 4
    np.testing.assert_allclose(
        norm.moving_mean.numpy(), batches.mean(axis=1).mean(axis=0), rtol=1e-4
    )
    np.testing.assert_allclose(
        norm.moving_variance.numpy(), batches.var(axis=1).mean(axis=0), rtol=1e-3
    )
    assert norm.momentum == 0.99
    # Trained weights are untouched.
    for before, after in zip(
        kernel, tiny.get_layer("dense").get_weights(), strict=True
    ):
        assert np.array_equal(before, after)


def test_max_batches_limits_the_pass():
    tiny = _tiny_model()
    images = np.ones((50, 3), "float32")
    assert batch_norm.recalibrate_batch_norm(tiny, images, 10, max_batches=2) == 2


def test_finds_every_normalisation_in_the_nested_vae():
    assert len(batch_norm.batch_norm_layers(model.build_vae())) == 10
    assert len(batch_norm.batch_norm_layers(model.build_vae(filters=(8, 16)))) == 6


def test_recalibration_closes_the_gap_after_short_training(small_dataset):
    keras.utils.set_random_seed(1)
    vae = model.compile_vae(model.build_vae(filters=(8, 16)))
    images = small_dataset.x_train
    vae.fit(images, images, epochs=2, batch_size=32, verbose=0)

    def inference_loss():
        return vae.evaluate(images, images, verbose=0, return_dict=True)[
            "reconstruction_loss"
        ]

    before = inference_loss()
    batch_norm.recalibrate_batch_norm(vae, images, batch_size=32)
    after = inference_loss()
    assert after < before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"max_batches": 1.5}, "max_batches must be an integer"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        batch_norm.recalibrate_batch_norm(_tiny_model(), np.ones((4, 3)), **kwargs)
