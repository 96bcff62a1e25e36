"""Argument checks shared by the modules: one clear message each."""

import numbers


def check_int(name, value, minimum=1, maximum=None):
    """Raises a clear error unless `value` is an integer in range.

    Args:
        name: The argument's name, for the message.
        value: The value received.
        minimum: Smallest allowed value.
        maximum: Largest allowed value, or `None` for no bound.

    Raises:
        TypeError: If `value` is not an integer (booleans included).
        ValueError: If it is out of range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise ValueError(
            f"{name} must be at least {minimum}{upper}. Received: {name}={value}."
        )


def check_fraction(name, value, low=0.0, high=1.0):
    """Raises a clear error unless `low < value < high` for a real number.

    Args:
        name: The argument's name, for the message.
        value: The value received.
        low: Exclusive lower bound.
        high: Exclusive upper bound.

    Raises:
        TypeError: If `value` is not a real number.
        ValueError: If it is out of range or not finite.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a number. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if not low < value < high:
        raise ValueError(
            f"{name} must be strictly between {low} and {high}. "
            f"Received: {name}={value}."
        )
