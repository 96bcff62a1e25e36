"""The opt-in bfloat16 path: what computes in which precision, and that it trains."""

import numpy as np
import pytest

from vae_lab import cli, config, inference, loss, model

FLOAT32_LAYERS = {"z_mean", "z_log_var", "z", "decoder_output"}


def _layers(vae):
    for part in (model.encoder_of(vae), model.decoder_of(vae)):
        yield from (
            layer for layer in part.layers if layer.weights or layer.name == "z"
        )


def test_mixed_policy_keeps_heads_sampling_and_output_in_float32():
    vae = model.build_vae(dtype_policy="mixed_bfloat16")
    for layer in _layers(vae):
        expected = "float32" if layer.name in FLOAT32_LAYERS else "bfloat16"
        assert layer.compute_dtype == expected, layer.name
        assert all(weight.dtype == "float32" for weight in layer.weights)
    assert vae.count_params() == 1_028_568 + 412_961


def test_default_policy_is_float32_everywhere():
    vae = model.build_vae()
    assert {layer.compute_dtype for layer in _layers(vae)} == {"float32"}


def test_mixed_model_computes_the_same_loss_and_learns(small_dataset):
    images = small_dataset.x_train[:256]
    start = model.build_vae(filters=(8, 16), seed=0).get_weights()
    losses = {}
    for policy in ("float32", "mixed_bfloat16"):
        vae = model.compile_vae(model.build_vae(filters=(8, 16), dtype_policy=policy))
        vae.set_weights(start)
        z_mean, _ = inference.encode(vae, images)
        losses[policy] = float(
            np.mean(loss.reconstruction_loss(images, inference.decode(vae, z_mean)))
        )
    # Same weights, same images: bfloat16 arithmetic moves the loss a little.
    assert losses["mixed_bfloat16"] == pytest.approx(losses["float32"], rel=0.02)
    history = vae.fit(images, images, epochs=3, batch_size=64, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < history["loss"][0]
    assert vae.predict(images[:4], verbose=0).dtype == np.float32


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match=r"Received: dtype_policy='float16'"):
        model.build_vae(dtype_policy="float16")
    with pytest.raises(ValueError, match="dtype_policy must be one of"):
        config.get_preset("smoke").replace(dtype_policy="bf16")


def test_command_line_flag_sets_the_policy():
    parser = cli.build_parser()
    args = parser.parse_args(["train", "--mixed-precision"])
    assert args.mixed_precision is True
    assert parser.parse_args(["train"]).mixed_precision is False
    stored = config.get_preset("cpu").replace(dtype_policy="mixed_bfloat16")
    assert config.TrainingConfig.from_json(stored.to_json()) == stored
