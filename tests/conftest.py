"""Shared fixtures: small subsets of the real MNIST, and one trained smoke run."""

import os

# Quieten TensorFlow's C++ start-up notices before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_lab import config, data  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    """The four raw arrays of the bundled MNIST, loaded once."""
    return data.load_mnist()


@pytest.fixture(scope="session")
def small_dataset():
    """512 training and 128 test images, prepared as the model expects."""
    return data.prepare_mnist(train_size=512, test_size=128)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, small_dataset):
    """One finished smoke-preset run, trained in this process."""
    from vae_lab import training

    run_dir = tmp_path_factory.mktemp("smoke_run")
    return training.train(
        config.get_preset("smoke"), run_dir, dataset=small_dataset, verbose=0
    )


@pytest.fixture
def digit_batch(small_dataset):
    """Eight real digits, float32 in [0, 1], shape (8, 28, 28, 1)."""
    return np.asarray(small_dataset.x_test[:8])
