import numpy as np
import pytest

from vae_lab import loss, model


def _numpy_bce_sum(images, probabilities):
    p = np.clip(probabilities.astype("float64"), loss.EPSILON, 1 - loss.EPSILON)
    per_pixel = -(images * np.log(p) + (1 - images) * np.log(1 - p))
    return per_pixel.reshape(len(images), -1).sum(axis=1)


def _numpy_kl(z_mean, z_log_var):
    return -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)


def test_reconstruction_loss_matches_numpy(digit_batch):
    rng = np.random.default_rng(0)
    probabilities = rng.uniform(0.01, 0.99, digit_batch.shape).astype("float32")
    got = np.asarray(loss.reconstruction_loss(digit_batch, probabilities))
    assert got.shape == (8,)
    np.testing.assert_allclose(
        got, _numpy_bce_sum(digit_batch, probabilities), rtol=1e-4
    )


def test_reconstruction_loss_is_summed_over_all_784_pixels():
    images = np.zeros((1, 28, 28, 1), "float32")
    probabilities = np.full_like(images, 0.5)
    got = float(loss.reconstruction_loss(images, probabilities)[0])
    assert got == pytest.approx(784 * np.log(2), rel=1e-5)


def test_kl_divergence_matches_numpy_and_is_zero_at_the_prior():
    rng = np.random.default_rng(1)
    z_mean = rng.normal(size=(6, 2)).astype("float32")
    z_log_var = rng.normal(size=(6, 2)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(loss.kl_divergence(z_mean, z_log_var)),
        _numpy_kl(z_mean, z_log_var),
        rtol=1e-5,
    )
    zeros = np.zeros((3, 2), "float32")
    assert np.allclose(np.asarray(loss.kl_divergence(zeros, zeros)), 0.0)


def test_evaluate_reports_total_and_both_terms_matching_numpy(digit_batch):
    vae = model.compile_vae(model.build_vae(seed=0))
    result = vae.evaluate(digit_batch, digit_batch, verbose=0, return_dict=True)
    the_encoder = model.encoder_of(vae)
    z_mean, z_log_var, _ = (
        np.asarray(t) for t in the_encoder(digit_batch, training=False)
    )
    kl = _numpy_kl(z_mean, z_log_var).mean()
    assert result["kl_loss"] == pytest.approx(kl, rel=1e-4)
    # Evaluation decodes a sampled z, so only the split of the total is exact.
    assert result["loss"] == pytest.approx(
        result["reconstruction_loss"] + result["kl_loss"], rel=1e-5
    )
    assert 100 < result["reconstruction_loss"] < 784 * 2


def test_fit_with_validation_split_records_every_term(small_dataset):
    vae = model.compile_vae(model.build_vae())
    history = vae.fit(
        small_dataset.x_train[:256],
        small_dataset.x_train[:256],
        epochs=1,
        batch_size=64,
        validation_split=0.25,
        verbose=0,
    ).history
    terms = ("loss", "reconstruction_loss", "kl_loss")
    assert set(history) == {*terms, *(f"val_{term}" for term in terms)}
    for prefix in ("", "val_"):
        total = history[f"{prefix}loss"][0]
        parts = (
            history[f"{prefix}reconstruction_loss"][0] + history[f"{prefix}kl_loss"][0]
        )
        assert total == pytest.approx(parts, rel=1e-4)


def test_kl_weight_scales_only_the_kl_term(digit_batch):
    layer = loss.KLDivergence(kl_weight=0.0)
    z_mean = np.ones((2, 2), "float32")
    z = np.full((2, 2), 5.0, "float32")
    assert np.array_equal(np.asarray(layer([z_mean, z_mean, z])), z)
    assert float(layer.losses[0]) == 0.0
