import numpy as np
import pytest
from keras import layers

from vae_lab import decoder, encoder, model


def test_deeper_decoder_has_the_course_parameter_count():
    assert decoder.build_decoder().count_params() == 412_961


def test_decoder_mirrors_the_encoder():
    built = decoder.build_decoder()
    deconvs = [
        layer for layer in built.layers if isinstance(layer, layers.Conv2DTranspose)
    ]
    assert [layer.filters for layer in deconvs] == [64, 32, 16, 8, 1]
    assert deconvs[-1].name == "decoder_output"
    norms = [x for x in built.layers if isinstance(x, layers.BatchNormalization)]
    # One after the Dense layer and one after each mirrored deconvolution.
    assert len(norms) == 5
    assert built.output_shape == (None, 28, 28, 1)


@pytest.mark.parametrize(
    ("filters", "image_shape", "strides"),
    [
        ((8, 16), (28, 28, 1), 1),
        ((8, 16, 32, 64), (28, 28, 1), 1),
        ((4,), (20, 12, 3), 1),
        ((8, 16), (28, 28, 1), 2),
    ],
)
def test_output_shape_always_equals_input_shape(filters, image_shape, strides):
    vae = model.build_vae(filters=filters, image_shape=image_shape, strides=strides)
    assert vae.output_shape[1:] == image_shape


def test_impossible_sizes_are_explained():
    with pytest.raises(ValueError, match="multiples of 8. Received: image_shape"):
        decoder.build_decoder(filters=(8, 16, 32), strides=2)


def _weighted_layers(submodel):
    return [layer for layer in submodel.layers if layer.trainable_weights]


def test_every_layer_is_on_the_path_from_input_to_output(digit_batch):
    """Perturbing any layer's weights must change what the model computes.

    A report of this model once shipped with two decoder layers built but
    never connected; such a layer would leave every output unchanged here.
    """
    vae = model.build_vae()
    the_encoder, the_decoder = model.encoder_of(vae), model.decoder_of(vae)
    z = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")

    def outputs():
        z_mean, z_log_var, _ = the_encoder(digit_batch, training=False)
        decoded = the_decoder(z, training=False)
        return [np.asarray(t) for t in (z_mean, z_log_var, decoded)]

    before = outputs()
    checked = []
    for layer in _weighted_layers(the_encoder) + _weighted_layers(the_decoder):
        weight = layer.trainable_weights[0]
        original = weight.numpy()
        weight.assign(original + 0.5)
        changed = any(
            not np.allclose(a, b) for a, b in zip(before, outputs(), strict=True)
        )
        weight.assign(original)
        assert changed, f"{layer.name} does not influence any output"
        checked.append(layer.name)
    # 4 convolutions, 5 normalisations, Dense, 2 heads; Dense, 5 norms, 5 deconvs.
    assert len(checked) == 12 + 11


def test_whole_vae_contains_both_parts_and_the_kl_layer():
    vae = model.build_vae()
    assert [layer.name for layer in vae.layers] == [
        "image",
        "encoder",
        "kl_divergence",
        "decoder",
    ]
    assert vae.count_params() == 1_028_568 + 412_961
    assert encoder.build_encoder().count_params() == 1_028_568
