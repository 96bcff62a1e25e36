"""Training settings: the course's defaults and the named presets.

The course trains with batch size 128, validation split 0.2 and a 2-D latent
space for 80 epochs on all 60,000 training images. That is the `full` preset,
meant for a GPU: on a 2-core CPU one epoch of the deeper model takes about
three minutes, so 80 epochs would take about four hours. The `cpu` preset
keeps the course's settings but uses the course's 10,000-image subset and a
few epochs, which shows a clearly organised latent space in a few minutes.
The `smoke` preset only proves that everything runs; its figures are blurs.
"""

import dataclasses
import json
import logging
import os

from vae_lab import architecture, checks

logger = logging.getLogger(__name__)

#: Environment variable that picks the preset when none is given; the test
#: harness sets it to `smoke` so that graded notebooks run quickly.
PRESET_ENV_VAR = "VAE_LAB_PRESET"
IMAGE_SHAPE = (28, 28, 1)
#: The same list as `vae_lab.model.DTYPE_POLICIES`, kept here so that
#: reading settings does not import Keras.
DTYPE_POLICIES = ("float32", "mixed_bfloat16")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run.

    Attributes:
        preset: Name of the preset this came from, for the record.
        epochs: Passes over the training images.
        batch_size: Images per gradient step.
        validation_split: Fraction of the training images held out for
            validation (the last ones, as Keras does).
        latent_dim: Size of the latent space.
        filters: Filters of the encoder's convolutions.
        train_size: Training images to use, `None` for all 60,000.
        test_size: Test images to use, `None` for all 10,000.
        seed: Seed for `keras.utils.set_random_seed`.
        learning_rate: Adam's learning rate.
        image_shape: `(height, width, channels)`; MNIST has one channel.
        dtype_policy: `"float32"`, or `"mixed_bfloat16"` to compute in
            bfloat16 with float32 weights (see `vae_lab.model.build_vae`).
    """

    preset: str = "custom"
    epochs: int = 80
    batch_size: int = 128
    validation_split: float = 0.2
    latent_dim: int = 2
    filters: tuple = architecture.DEEPER_FILTERS
    train_size: int | None = None
    test_size: int | None = None
    seed: int = 42
    learning_rate: float = 1e-3
    image_shape: tuple = IMAGE_SHAPE
    dtype_policy: str = "float32"

    def __post_init__(self):
        if self.dtype_policy not in DTYPE_POLICIES:
            raise ValueError(
                f"dtype_policy must be one of {DTYPE_POLICIES}. "
                f"Received: dtype_policy={self.dtype_policy!r}."
            )
        checks.check_int("epochs", self.epochs)
        checks.check_int("batch_size", self.batch_size)
        checks.check_fraction("validation_split", self.validation_split)
        checks.check_fraction("learning_rate", self.learning_rate, high=10.0)
        checks.check_int("seed", self.seed, minimum=0, maximum=2**32 - 1)
        for name in ("train_size", "test_size"):
            if getattr(self, name) is not None:
                checks.check_int(name, getattr(self, name))
        filters = architecture.check_architecture(
            self.latent_dim, self.filters, self.image_shape, 1
        )
        # Stored as tuples so that equal settings compare equal after JSON.
        object.__setattr__(self, "filters", filters)
        object.__setattr__(self, "image_shape", tuple(map(int, self.image_shape)))
        # NumPy numbers (np.int64(3), np.float32(0.001)) pass the checks but
        # cannot be written as JSON, so plain Python numbers are stored.
        for name in ("epochs", "batch_size", "latent_dim", "seed"):
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("validation_split", "learning_rate"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("train_size", "test_size"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, int(getattr(self, name)))
        self._check_split()

    def validation_count(self, image_count):
        """How many of `image_count` training images are held out.

        They are the last ones, and `fit(validation_split=...)` is given the
        same fraction; every count of held-out images in vae_lab comes from here.
        """
        return int(image_count * self.validation_split)

    def split_training_images(self, images):
        """Returns `(training, validation)`: the images kept and the held-out tail."""
        kept = len(images) - self.validation_count(len(images))
        return images[:kept], images[kept:]

    def _check_split(self):
        if self.train_size is None:
            return
        validation = self.validation_count(self.train_size)
        if validation < 1 or self.train_size - validation < 1:
            raise ValueError(
                f"train_size={self.train_size} with validation_split="
                f"{self.validation_split} leaves {self.train_size - validation} "
                f"training and {validation} validation images. Expected at "
                f"least one of each; use more images."
            )

    def replace(self, **changes):
        """Returns a copy with some settings changed (and checked again)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(
                f"Unknown settings {sorted(unknown)}. Expected some of "
                f"{[f.name for f in dataclasses.fields(self)]}."
            )
        return dataclasses.replace(self, **changes)

    def to_json(self):
        """Returns the settings as a JSON string."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text):
        """Reads settings written by `to_json`."""
        values = json.loads(text)
        values["filters"] = tuple(values["filters"])
        values["image_shape"] = tuple(values["image_shape"])
        return cls(**values)

    def same_architecture(self, other):
        """Whether weights trained under `other` fit a model built from self."""
        return (self.latent_dim, self.filters, self.image_shape) == (
            other.latent_dim,
            other.filters,
            other.image_shape,
        )


PRESETS = {
    "full": TrainingConfig(preset="full", epochs=80),
    # The course's 10,000/1,000 subset; 8 epochs of the deeper model take
    # about five minutes on 2 cores and already separate most digits.
    "cpu": TrainingConfig(preset="cpu", epochs=8, train_size=10_000, test_size=1_000),
    "smoke": TrainingConfig(preset="smoke", epochs=2, train_size=512, test_size=128),
}


def get_preset(name):
    """Returns the preset called `name`.

    Raises:
        ValueError: If there is no such preset.
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}. Expected one of {sorted(PRESETS)}.")
    return PRESETS[name]


def gpu_available():
    """Whether the active Keras backend sees a GPU."""
    import keras

    return bool(keras.distribution.list_devices("gpu"))


def default_preset():
    """Picks a preset for this machine and says why.

    `$VAE_LAB_PRESET` wins when set; otherwise `full` when the Keras backend
    sees a GPU, and `cpu` when it does not.

    Returns:
        A tuple `(name, reason)`.
    """
    chosen = os.environ.get(PRESET_ENV_VAR)
    if chosen:
        get_preset(chosen)
        return chosen, f"{PRESET_ENV_VAR}={chosen} is set"
    if gpu_available():
        return "full", "a GPU is visible to Keras"
    return "cpu", "no GPU is visible to Keras"


def resolve_config(preset=None, **overrides):
    """Returns the configuration for a preset with some settings overridden.

    Args:
        preset: A preset's name, or `None` to let `default_preset` choose.
        **overrides: Settings of `TrainingConfig` to change; `None` values
            are ignored, so command-line options can be passed as they are.

    Returns:
        A `TrainingConfig`.
    """
    if preset is None:
        preset, reason = default_preset()
        logger.info("Using the %r preset because %s.", preset, reason)
    config = get_preset(preset)
    changes = {key: value for key, value in overrides.items() if value is not None}
    return config.replace(**changes) if changes else config
