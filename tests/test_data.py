import hashlib
import zipfile

import numpy as np
import pytest

from vae_lab import data, errors


def test_bundled_file_loads_with_the_published_layout_and_counts(mnist):
    assert mnist.x_train.shape == (60000, 28, 28)
    assert mnist.x_test.shape == (10000, 28, 28)
    assert mnist.x_train.dtype == np.uint8
    assert np.bincount(mnist.y_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]  # fmt: skip
    assert np.bincount(mnist.y_test).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
    ]  # fmt: skip


def test_hashes_in_code_match_the_bundled_arrays(mnist):
    for key, expected in data.MNIST_SHA256.items():
        assert hashlib.sha256(getattr(mnist, key).tobytes()).hexdigest() == expected


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_altered_copy_is_rejected_when_verified(tmp_path, mnist):
    x_train = mnist.x_train.copy()
    x_train[0, 0, 0] ^= 1
    path = _write_npz(tmp_path / "m.npz", **{**mnist._asdict(), "x_train": x_train})
    with pytest.raises(errors.DataFileError, match="x_train is not the canonical"):
        data.load_mnist(path, verify_hashes=True)
    # A path of one's own loads without the check, for other datasets.
    assert data.load_mnist(path).x_train[0, 0, 0] == x_train[0, 0, 0]


def test_default_path_follows_the_environment_variable(tmp_path, monkeypatch, mnist):
    x_train = mnist.x_train.copy()
    x_train[5] = 0
    path = _write_npz(tmp_path / "m.npz", **{**mnist._asdict(), "x_train": x_train})
    monkeypatch.setenv(data.DATA_ENV_VAR, str(path))
    assert data.default_data_path() == path
    # A file of one's own loads without the hash check, as a path would...
    assert not data.load_mnist().x_train[5].any()
    # ...and can be checked against the canonical MNIST on request.
    with pytest.raises(errors.DataFileError, match="Expected SHA-256 741c98"):
        data.load_mnist(verify_hashes=True)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(errors.DataFileError, match="not found: .*nothing.npz"):
        data.load_mnist(tmp_path / "nothing.npz")


def test_truncated_file_is_a_clear_error(tmp_path):
    whole = data.REPO_DATA_PATH.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(errors.DataFileError, match="truncated or not an npz"):
        data.load_mnist(path)


def test_text_file_is_not_an_npz(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(errors.DataFileError, match="Could not read"):
        data.load_mnist(path)


def test_pickled_objects_are_refused(tmp_path, mnist):
    labels = np.array([{"evil": 1}] * 3, dtype=object)
    path = _write_npz(tmp_path / "p.npz", **{**mnist._asdict(), "y_test": labels})
    with pytest.raises(errors.DataFileError, match="plain arrays"):
        data.load_mnist(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"x_train": None}, r"lacks the arrays \['x_train'\]"),
        ({"x_train": np.zeros((4, 28, 28), "float32")}, "must be uint8"),
        ({"x_test": np.zeros((4, 28, 28, 3), "uint8")}, r"shape \(N, H, W\)"),
        ({"y_train": np.zeros(3, "uint8")}, "one integer label per image"),
        ({"x_test": np.zeros((4, 27, 27), "uint8")}, "differ in size"),
    ],
)
def test_wrong_layout_is_described(tmp_path, changes, message):
    arrays = {
        "x_train": np.zeros((4, 28, 28), "uint8"),
        "y_train": np.zeros(4, "uint8"),
        "x_test": np.zeros((4, 28, 28), "uint8"),
        "y_test": np.zeros(4, "uint8"),
    }
    arrays.update(changes)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    path = _write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(errors.DataFileError, match=message):
        data.load_mnist(path)


def test_zip_with_other_members_is_a_layout_error(tmp_path):
    path = tmp_path / "z.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not arrays")
    with pytest.raises(errors.DataFileError):
        data.load_mnist(path)


def test_reshape_adds_the_channel_axis(mnist):
    images = data.reshape_images(mnist.x_test[:5])
    assert images.shape == (5, 28, 28, 1)
    assert np.array_equal(images[..., 0], mnist.x_test[:5])
    assert data.reshape_images(images) is images


@pytest.mark.parametrize("shape", [(5, 28), (5, 28, 28, 3), (28 * 28,)])
def test_reshape_rejects_other_shapes(shape):
    with pytest.raises(ValueError, match=r"Received: shape="):
        data.reshape_images(np.zeros(shape, "uint8"))


def test_normalize_scales_uint8_to_unit_interval(mnist):
    images = data.normalize_images(mnist.x_test[:100])
    assert images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0
    assert images[0, 14, 14] == pytest.approx(mnist.x_test[0, 14, 14] / 255)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.full((2, 2), 300), "0..255. Received values from 300 to 300"),
        (np.array([[0, 1]], "uint8"), "look binarised"),
        (np.full((2, 2), -1), "Received values from -1"),
        (np.array([[0.2, 0.9]], "float32"), "look normalised already"),
        (np.array([[np.nan, 3.0]]), "NaN or inf"),
        (np.array([["a"]]), "numeric pixels"),
    ],
)
def test_normalize_rejects_bad_pixels(images, message):
    with pytest.raises(ValueError, match=message):
        data.normalize_images(images)


def test_take_subset_keeps_the_first_images_like_the_course(mnist):
    images, labels = data.take_subset(mnist.x_train, mnist.y_train, 10_000)
    assert len(images) == len(labels) == 10_000
    assert np.array_equal(labels, mnist.y_train[:10_000])


def test_take_subset_with_seed_is_random_but_repeatable(mnist):
    first = data.take_subset(mnist.x_test, mnist.y_test, 50, seed=1)[1]
    again = data.take_subset(mnist.x_test, mnist.y_test, 50, seed=1)[1]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, mnist.y_test[:50])


@pytest.mark.parametrize(
    ("size", "error", "message"),
    [
        (0, ValueError, "at least 1 and at most 10000. Received: size=0"),
        (10_001, ValueError, "Received: size=10001"),
        (2.5, TypeError, "must be an integer. Received: size=2.5"),
        (True, TypeError, "size=True"),
    ],
)
def test_take_subset_rejects_bad_sizes(mnist, size, error, message):
    with pytest.raises(error, match=message):
        data.take_subset(mnist.x_test, mnist.y_test, size)


def test_prepare_mnist_gives_model_ready_arrays():
    prepared = data.prepare_mnist(train_size=100, test_size=10)
    assert prepared.x_train.shape == (100, 28, 28, 1)
    assert prepared.x_test.dtype == np.float32
    assert prepared.x_train.min() >= 0.0 and prepared.x_train.max() <= 1.0
    assert data.check_images(prepared.x_train) is not None


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 27, 27, 1)), r"shape \(N, 28, 28, 1\). Received: .*27, 27"),
        (np.zeros((2, 32, 32, 1)), r"Received: shape=\(2, 32, 32, 1\)"),
        (np.zeros((2, 28, 28, 3)), r"Received: shape=\(2, 28, 28, 3\)"),
        (np.zeros((2, 28, 28)), "Use reshape_images"),
        (np.zeros((0, 28, 28, 1)), "is empty"),
        (np.full((2, 28, 28, 1), 255, "uint8"), "Call normalize_images first"),
        (np.full((2, 28, 28, 1), np.nan), "NaN or infinite"),
        (np.full((2, 28, 28, 1), -0.5), "from -0.5"),
    ],
)
def test_check_images_names_the_problem(images, message):
    with pytest.raises(ValueError, match=message):
        data.check_images(images)
