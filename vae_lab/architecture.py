"""The architecture's settings, the course's two variants, and their checks."""

import numbers

from vae_lab import checks

#: The course's baseline model: two convolutions.
BASELINE_FILTERS = (8, 16)
#: The course's deeper model: two more convolutions with 32 and 64 filters.
DEEPER_FILTERS = (8, 16, 32, 64)
#: Most filters one convolution may have. Far above what MNIST needs, it stops
#: a typo (6400 for 64) from building a model too large for memory.
MAX_FILTERS = 1024


def check_filters(filters):
    """Returns `filters` as a tuple of positive integers, or raises.

    Raises:
        TypeError: If `filters` is not a sequence of integers.
        ValueError: If it is empty or holds a number below 1 or above
            `MAX_FILTERS`.
    """
    if isinstance(filters, (str, bytes)) or not hasattr(filters, "__len__"):
        raise TypeError(
            "filters must be a sequence of integers such as (8, 16, 32, 64). "
            f"Received: filters={filters!r}."
        )
    if len(filters) == 0:
        raise ValueError(
            "filters must name at least one convolution, such as (8, 16). "
            "Received: filters=()."
        )
    for count in filters:
        if isinstance(count, bool) or not isinstance(count, numbers.Integral):
            raise TypeError(
                "each entry of filters must be a whole number, as in (8, 16, "
                f"32, 64). Received: filters={filters!r}, whose entry {count!r} "
                f"is of type {type(count).__name__}."
            )
        if not 1 <= count <= MAX_FILTERS:
            raise ValueError(
                f"each entry of filters must be at least 1 and at most "
                f"{MAX_FILTERS}. Received: filters={filters!r}."
            )
    return tuple(int(count) for count in filters)


def check_architecture(latent_dim, filters, image_shape, strides):
    """Checks that the settings give a model whose output matches its input.

    With stride 1 (the course's choice) every layer keeps the image size, so
    any size works. With a larger stride, each convolution divides height and
    width by `strides`, and the decoder can only multiply them back if they
    divide evenly at every layer.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If an argument is out of range, or the decoder could not
            reproduce the input size.
    """
    filters = check_filters(filters)
    checks.check_int("strides", strides)
    if len(tuple(image_shape)) != 3:
        raise ValueError(
            "image_shape must be (height, width, channels). "
            f"Received: image_shape={image_shape!r}."
        )
    for name, size in zip(("height", "width", "channels"), image_shape, strict=True):
        checks.check_int(f"image {name}", size)
    # A code wider than the image compresses nothing, and a huge one would
    # not fit in memory.
    pixels = image_shape[0] * image_shape[1] * image_shape[2]
    checks.check_int("latent_dim", latent_dim, maximum=pixels)
    scale = strides ** len(filters)
    height, width, _ = image_shape
    if height % scale or width % scale:
        raise ValueError(
            f"With strides={strides} and {len(filters)} convolutions the "
            f"encoder divides height and width by {scale}, so the decoder can "
            f"only rebuild sizes that are multiples of {scale}. Received: "
            f"image_shape={tuple(image_shape)}. Use strides=1, fewer filters, "
            f"or pad the images."
        )
    return filters
