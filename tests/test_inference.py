import numpy as np
import pytest

from vae_lab import inference, model


@pytest.fixture(scope="module")
def untrained_vae():
    return model.build_vae(seed=0)


def test_latent_grid_reads_like_a_picture():
    values, z = inference.latent_grid(n=3, span=1.0)
    assert values.tolist() == [-1.0, 0.0, 1.0]
    # Row by row from the top: the first row has the largest z[1].
    assert z[:3].tolist() == [[-1.0, 1.0], [0.0, 1.0], [1.0, 1.0]]
    assert z[-1].tolist() == [1.0, -1.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n": 1}, "n must be at least 2"), ({"span": -1.0}, "span must be strictly")],
)
def test_latent_grid_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        inference.latent_grid(**kwargs)


def test_encode_is_deterministic_and_shaped(untrained_vae, digit_batch):
    z_mean, z_log_var = inference.encode(untrained_vae, digit_batch)
    again, _ = inference.encode(untrained_vae, digit_batch)
    assert z_mean.shape == z_log_var.shape == (8, 2)
    assert np.array_equal(z_mean, again)


def test_encode_checks_images_first(untrained_vae):
    with pytest.raises(ValueError, match="Call normalize_images first"):
        inference.encode(untrained_vae, np.full((2, 28, 28, 1), 200, "uint8"))


def test_decode_checks_the_latent_shape(untrained_vae):
    with pytest.raises(ValueError, match=r"z must have shape \(N, 2\)"):
        inference.decode(untrained_vae, np.zeros((3, 5)))


def test_reconstruct_gives_pixel_probabilities(untrained_vae, digit_batch):
    images = inference.reconstruct(untrained_vae, digit_batch)
    assert images.shape == digit_batch.shape
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_manifold_is_a_square_image_of_decoded_digits(untrained_vae):
    image, values = inference.manifold(untrained_vae, n=4, span=2.0)
    assert image.shape == (4 * 28, 4 * 28)
    z = np.array([[-2.0, 2.0]], "float32")  # top-left digit
    top_left = inference.decode(untrained_vae, z)[0, ..., 0]
    np.testing.assert_allclose(image[:28, :28], top_left, atol=1e-6)
    assert values.tolist() == pytest.approx(np.linspace(-2, 2, 4).tolist())


def test_manifold_needs_a_two_dimensional_latent_space():
    with pytest.raises(ValueError, match="latent_dim=3"):
        inference.manifold(model.build_vae(latent_dim=3, filters=(4,)))


def test_interpolation_starts_and_ends_at_the_two_digits(untrained_vae, digit_batch):
    images, z = inference.interpolate(untrained_vae, digit_batch[0], digit_batch[1], 5)
    z_mean, _ = inference.encode(untrained_vae, digit_batch[:2])
    assert images.shape == (5, 28, 28, 1)
    np.testing.assert_allclose(z[0], z_mean[0], atol=1e-6)
    np.testing.assert_allclose(z[-1], z_mean[1], atol=1e-6)
    np.testing.assert_allclose(z[2], z_mean.mean(axis=0), atol=1e-5)
