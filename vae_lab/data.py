"""Load MNIST from the repository's own file and prepare it for the model.

The course walks through three steps before any model sees a digit, and each
is a function here so a notebook can show it on its own:

1. `reshape_images`: add the channel axis, `(N, 28, 28)` -> `(N, 28, 28, 1)`,
   because Keras convolutions expect height, width and channels.
2. `normalize_images`: cast to float32 and scale `0..255` to `[0, 1]`, because
   the decoder ends in a sigmoid and the loss is a binary cross-entropy, which
   both live on `[0, 1]`.
3. `take_subset`: keep the first `size` images, as the course did when memory
   was short (10,000 training and 1,000 test images).

No download ever happens: `load_mnist` reads `data/mnist.npz` (or any npz of
the same layout) with pickling disabled and, for the bundled file, checks the
SHA-256 of every array before returning it.
"""

import hashlib
import os
import pathlib
import zipfile
from typing import NamedTuple

import numpy as np

from vae_lab import checks, errors

#: SHA-256 of each array's raw bytes in the canonical MNIST file.
MNIST_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")
#: Environment variable that points the loader at another default file.
DATA_ENV_VAR = "VAE_LAB_DATA"
REPO_DATA_PATH = pathlib.Path(__file__).resolve().parent.parent / "data" / "mnist.npz"


class Dataset(NamedTuple):
    """The four MNIST arrays, in the order `keras.datasets` returns them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def default_data_path():
    """Returns the file `load_mnist` reads when it is given no path.

    That is `$VAE_LAB_DATA` when set, else `data/mnist.npz` in the repository.
    """
    return pathlib.Path(os.environ.get(DATA_ENV_VAR) or REPO_DATA_PATH)


def load_mnist(path=None, verify_hashes=None):
    """Loads the four MNIST arrays from an npz file, without any download.

    Args:
        path: An npz file with uint8 arrays `x_train` `(N, H, W)`, `y_train`
            `(N,)`, `x_test` and `y_test`: the layout of Keras's own MNIST
            cache. Defaults to `default_data_path()`.
        verify_hashes: Whether to compare each array's SHA-256 with the
            canonical MNIST. Defaults to `True` for the repository's own file
            and `False` for a file you name (as `path` or in
            `$VAE_LAB_DATA`), so that another dataset of the same layout
            (Fashion-MNIST, say) loads too.

    Returns:
        A `Dataset` of the four arrays, unchanged.

    Raises:
        DataFileError: If the file is missing, not a readable npz, of another
            layout, or (when verified) not the canonical MNIST.
    """
    path = pathlib.Path(path) if path is not None else default_data_path()
    if verify_hashes is None:
        verify_hashes = path == REPO_DATA_PATH
    arrays = _read_npz(path)
    _check_layout(path, arrays)
    if verify_hashes:
        _check_hashes(path, arrays)
    return Dataset(*(arrays[key] for key in ARRAY_KEYS))


def _read_npz(path):
    if path.is_dir():
        raise errors.DataFileError(
            f"{path} is a folder. Expected an npz file of MNIST's layout, such "
            f"as data/mnist.npz."
        )
    if not path.is_file():
        raise errors.DataFileError(
            f"MNIST file not found: {path}. Expected the npz that ships in the "
            f"repository's data/ folder, or a path to one of the same layout "
            f"(set ${DATA_ENV_VAR} to change the default)."
        )
    try:
        # np.load would take a single .npy array, or try to unpickle any other
        # file (and then suggest allow_pickle): only a zip is an npz.
        if not zipfile.is_zipfile(path):
            raise ValueError("it is not a zip archive, as every npz is")
        # Pickling stays off: an npz from elsewhere must not run code.
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise errors.DataFileError(
            f"Could not read {path} as an npz archive of plain arrays: {error}. "
            f"The file may be truncated or not an npz; copy it again from the "
            f"repository."
        ) from None


def _check_layout(path, arrays):
    missing = [key for key in ARRAY_KEYS if key not in arrays]
    if missing:
        raise errors.DataFileError(
            f"{path} lacks the arrays {missing}. Expected the keys {ARRAY_KEYS} "
            f"(the layout of keras.datasets.mnist). Received: {sorted(arrays)}."
        )
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.ndim != 3 or images.dtype != np.uint8:
            raise errors.DataFileError(
                f"{path}: x_{split} must be uint8 grey-scale images of shape "
                f"(N, H, W), pixels in 0..255. Received: dtype={images.dtype}, "
                f"shape={images.shape}."
            )
        if len(images) == 0:
            raise errors.DataFileError(
                f"{path}: x_{split} holds no images. Expected at least one."
            )
        if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
            raise errors.DataFileError(
                f"{path}: y_{split} must hold one integer label per image, "
                f"shape ({len(images)},). Received: dtype={labels.dtype}, "
                f"shape={labels.shape}."
            )
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise errors.DataFileError(
            f"{path}: training and test images differ in size: "
            f"{arrays['x_train'].shape[1:]} and {arrays['x_test'].shape[1:]}."
        )


def _check_hashes(path, arrays):
    for key, expected in MNIST_SHA256.items():
        received = hashlib.sha256(arrays[key].tobytes()).hexdigest()
        if received != expected:
            raise errors.DataFileError(
                f"{path}: array {key} is not the canonical MNIST. Expected "
                f"SHA-256 {expected}, received {received}. Restore the file "
                f"from the repository, or pass verify_hashes=False to load "
                f"another dataset of the same layout on purpose."
            )


def reshape_images(images):
    """Adds the channel axis that Keras convolutions expect.

    Args:
        images: Array of shape `(N, H, W)`, or `(N, H, W, 1)` already.

    Returns:
        The same pixels with shape `(N, H, W, 1)`.

    Raises:
        ValueError: If `images` is not a stack of one-channel images.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        return images
    if images.ndim != 3:
        raise ValueError(
            "Expected grey-scale images of shape (N, H, W) or (N, H, W, 1). "
            f"Received: shape={images.shape}."
        )
    return images.reshape(*images.shape, 1)


def normalize_images(images):
    """Casts pixels to float32 and scales them from `0..255` to `[0, 1]`.

    Args:
        images: Integer pixels in `0..255` (MNIST's uint8), or floats in that
            range.

    Returns:
        A float32 array of the same shape with values in `[0, 1]`.

    Raises:
        ValueError: If values fall outside `0..255`, are not finite, or are
            floats that already look normalised (dividing twice by 255 would
            give an almost black image without any error).
    """
    images = np.asarray(images)
    if images.dtype.kind not in "iuf":
        raise ValueError(
            f"Expected numeric pixels in 0..255. Received: dtype={images.dtype}."
        )
    # Integers are always finite; skipping them saves a third of a second on
    # the 60,000 training images.
    if images.dtype.kind == "f" and images.size and not np.all(np.isfinite(images)):
        raise ValueError("Expected finite pixels in 0..255. Received NaN or inf.")
    low, high = (images.min(), images.max()) if images.size else (0, 0)
    if low < 0 or high > 255:
        raise ValueError(
            f"Expected pixels in 0..255. Received values from {low} to {high}."
        )
    if images.dtype.kind in "iu" and 0 < high <= 1:
        raise ValueError(
            "These integer pixels never exceed 1: they look binarised (0 and 1) "
            "rather than 0..255, and dividing them by 255 would give almost "
            "blank images. Expected raw pixels in 0..255; multiply binarised "
            "images by 255 first."
        )
    if images.dtype.kind == "f" and 0 < high <= 1:
        raise ValueError(
            "These images look normalised already: float pixels with maximum "
            f"{high}. Expected raw pixels in 0..255; normalise only once."
        )
    return images.astype("float32") / np.float32(255.0)


def take_subset(images, labels, size, seed=None, name="size"):
    """Keeps `size` images and their labels.

    Args:
        images: Array whose first axis indexes images.
        labels: Array of the same length.
        size: Number of images to keep, from 1 to `len(images)`; `None`
            keeps them all.
        seed: `None` keeps the first `size` images, as the course did;
            an integer draws a random subset with that seed instead.
        name: The size's name in error messages.

    Returns:
        A tuple `(images, labels)` of length `size`.

    Raises:
        ValueError: If `size` is not an integer from 1 to `len(images)`, or
            the arrays differ in length.
    """
    if len(images) != len(labels):
        raise ValueError(
            f"images and labels must have the same length. Received: "
            f"{len(images)} images and {len(labels)} labels."
        )
    if size is None:
        return images, labels
    checks.check_int(name, size, maximum=len(images))
    if seed is None:
        return images[:size], labels[:size]
    indices = np.random.default_rng(seed).choice(len(images), size, replace=False)
    indices.sort()
    return images[indices], labels[indices]


def check_images(images, image_shape=(28, 28, 1), name="images"):
    """Checks that `images` is what the model expects, before any work.

    Args:
        images: The array to check.
        image_shape: Expected `(height, width, channels)` of one image.
        name: The argument's name, for the message.

    Returns:
        `images` as a NumPy array.

    Raises:
        ValueError: If the shape differs, the stack is empty, any pixel is not
            finite, or values fall outside `[0, 1]` (raw `0..255` pixels get
            a hint to call `normalize_images`).
    """
    images = np.asarray(images)
    image_shape = tuple(image_shape)
    if images.ndim != 4 or images.shape[1:] != image_shape:
        raise ValueError(
            f"{name} must have shape (N, {', '.join(map(str, image_shape))}). "
            f"Received: shape={images.shape}.{_shape_hint(images, image_shape)}"
        )
    if len(images) == 0:
        raise ValueError(f"{name} is empty. Expected at least one image.")
    if images.dtype.kind not in "uif":
        raise ValueError(f"{name} must be numeric. Received: dtype={images.dtype}.")
    if images.dtype.kind == "f" and not np.all(np.isfinite(images)):
        raise ValueError(f"{name} holds NaN or infinite pixels. Expected [0, 1].")
    low, high = images.min(), images.max()
    if low < 0 or high > 1:
        hint = " Call normalize_images first." if high > 1 else ""
        raise ValueError(
            f"{name} must hold pixels in [0, 1]. Received values from {low} "
            f"to {high}.{hint}"
        )
    return images


def _shape_hint(images, image_shape):
    if images.ndim == 3 and images.shape[1:] == image_shape[:2]:
        return " Use reshape_images to add the channel axis."
    if images.ndim == 4 and images.shape[-1] != image_shape[-1]:
        return (
            f" The images have {images.shape[-1]} channels; the model expects "
            f"{image_shape[-1]} (grey-scale)."
        )
    if images.ndim == 4 and images.shape[1:3] != image_shape[:2]:
        return (
            f" The images are {images.shape[1]}x{images.shape[2]} pixels; the "
            f"model was built for {image_shape[0]}x{image_shape[1]}. Build it for "
            f"this size (TrainingConfig(image_shape=...)) or resize the images."
        )
    return ""


def prepare_mnist(train_size=None, test_size=None, path=None, seed=None):
    """Loads MNIST and applies the course's preparation steps in order.

    Args:
        train_size: Training images to keep (`None`: all 60,000).
        test_size: Test images to keep (`None`: all 10,000).
        path: Passed to `load_mnist`.
        seed: Passed to `take_subset`; `None` keeps the first images.

    Returns:
        A `Dataset` whose images are float32 `(N, 28, 28, 1)` in `[0, 1]` and
        whose labels are unchanged.
    """
    raw = load_mnist(path)
    x_train, y_train = take_subset(
        raw.x_train, raw.y_train, train_size, seed, name="train_size"
    )
    x_test, y_test = take_subset(
        raw.x_test, raw.y_test, test_size, seed, name="test_size"
    )
    return Dataset(
        normalize_images(reshape_images(x_train)),
        y_train,
        normalize_images(reshape_images(x_test)),
        y_test,
    )
