import numpy as np
import pytest
from keras import layers

from vae_lab import architecture, encoder


def test_deeper_encoder_has_the_course_parameter_counts():
    model = encoder.build_encoder()
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert model.count_params() == 1_028_568
    assert non_trainable == 280


def test_every_convolution_is_followed_by_batch_normalization():
    model = encoder.build_encoder()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer",
        *["Conv2D", "BatchNormalization"] * 4,
        "Flatten",
        "Dense",
        "BatchNormalization",
        "Dense",
        "Dense",
        "Sampling",
    ]
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    assert [conv.filters for conv in convs] == [8, 16, 32, 64]
    assert {conv.kernel_size for conv in convs} == {(3, 3)}


def test_outputs_are_z_mean_z_log_var_and_z(digit_batch):
    model = encoder.build_encoder(latent_dim=3)
    assert [t.name for t in model.outputs] != []
    assert model.output_names == ["z_mean", "z_log_var", "z"]
    z_mean, z_log_var, z = model.predict(digit_batch, verbose=0)
    assert z_mean.shape == z_log_var.shape == z.shape == (8, 3)


def test_baseline_filters_build_the_smaller_encoder():
    model = encoder.build_encoder(filters=architecture.BASELINE_FILTERS)
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    assert [conv.filters for conv in convs] == [8, 16]
    # Flatten of 28*28*16, times 20 units, dominates the count.
    assert model.count_params() == 80 + 32 + 1168 + 64 + 250_900 + 80 + 84


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"latent_dim": 0}, ValueError, "latent_dim must be at least 1"),
        ({"latent_dim": 2.0}, TypeError, "latent_dim must be an integer"),
        ({"filters": ()}, ValueError, "at least one convolution"),
        ({"filters": "8,16"}, TypeError, "sequence of integers"),
        ({"filters": (8, 1.5)}, TypeError, "each entry of filters"),
        ({"filters": (8, 0)}, ValueError, "each entry of filters must be at least"),
        ({"image_shape": (28, 28)}, ValueError, r"\(height, width, channels\)"),
        ({"dense_units": -3}, ValueError, "dense_units must be at least 1"),
    ],
)
def test_bad_settings_are_refused_before_building(kwargs, error, message):
    with pytest.raises(error, match=message):
        encoder.build_encoder(**kwargs)
