"""Compare finished runs side by side: the course's assignment in numbers.

`summarize_run` turns one `training.TrainingResult` into a row of plain
numbers, `format_table` lines the rows up as text, and `describe_comparison`
says in sentences what the rows show, so a notebook never quotes a number
by hand.
"""

import numpy as np

COLUMNS = (
    ("name", "Model", "{}"),
    ("parameters", "Parameters", "{:,}"),
    ("epochs", "Epochs", "{}"),
    ("loss", "Train loss", "{:.1f}"),
    ("val_loss", "Val loss", "{:.1f}"),
    ("loss_per_pixel", "Train/pixel", "{:.4f}"),
    ("val_loss_per_pixel", "Val/pixel", "{:.4f}"),
    ("seconds_per_epoch", "s/epoch", "{:.1f}"),
    ("saved_val_loss", "Val, saved", "{:.1f}"),
)


def summarize_run(name, result):
    """Returns the numbers of one finished run as a dict.

    Losses are those of the last epoch, in nats per image and per pixel.
    The time per epoch is the mean over all epochs; the first epoch also
    builds the training step, so it is the slowest. `saved_val_loss` is the
    validation loss of the model as saved in the run folder, whose
    BatchNormalization statistics were recomputed after training (see
    `vae_lab.batch_norm`); it is NaN when the run's metrics lack it.

    Args:
        name: A label for the run, such as `"baseline"`.
        result: A `training.TrainingResult` with `loss` and `val_loss` in
            its history; its `metrics` may hold `validation.loss`.

    Returns:
        A dict with the keys of `COLUMNS`.

    Raises:
        ValueError: If the history lacks the losses or has no epochs.
    """
    history = result.history
    missing = [key for key in ("loss", "val_loss") if not history.get(key)]
    if missing:
        raise ValueError(
            f"The run {name!r} has no {missing} in its history. Expected a "
            f"finished run trained with validation data. Received the keys "
            f"{sorted(history)}."
        )
    pixels = int(np.prod(result.model.input_shape[1:]))
    seconds = history.get("seconds") or [float("nan")]
    metrics = getattr(result, "metrics", None) or {}
    saved = metrics.get("validation", {}).get("loss", float("nan"))
    return {
        "name": name,
        "parameters": int(result.model.count_params()),
        "epochs": len(history["loss"]),
        "loss": float(history["loss"][-1]),
        "val_loss": float(history["val_loss"][-1]),
        "loss_per_pixel": float(history["loss"][-1]) / pixels,
        "val_loss_per_pixel": float(history["val_loss"][-1]) / pixels,
        "seconds_per_epoch": float(np.mean(seconds)),
        "saved_val_loss": float(saved),
    }


def format_table(rows):
    """Returns the rows from `summarize_run` as an aligned text table."""
    cells = [[header for _, header, _ in COLUMNS]]
    for row in rows:
        cells.append([form.format(row[key]) for key, _, form in COLUMNS])
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]
    lines = []
    for number, line in enumerate(cells):
        first = line[0].ljust(widths[0])
        rest = [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join([first, *rest]))
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def describe_comparison(first, second):
    """Says in sentences how two runs from `summarize_run` compare.

    Args:
        first: The reference run, such as the baseline.
        second: The run compared with it, such as the deeper model.

    Returns:
        A list of sentences: size, time, training loss, validation loss,
        the gap between the two losses, and the validation loss of each
        saved model when the runs' metrics hold it.
    """
    sentences = [
        f"The {second['name']} model has "
        f"{second['parameters'] / first['parameters']:.1f} times as many "
        f"parameters as the {first['name']} model and takes "
        f"{_ratio(second['seconds_per_epoch'], first['seconds_per_epoch'])} "
        f"as long per epoch.",
    ]
    for key, what in (("loss", "training"), ("val_loss", "validation")):
        sentences.append(_compare_losses(first, second, key, what))
    for run in (first, second):
        gap = run["val_loss"] - run["loss"]
        sentences.append(
            f"The {run['name']} model's validation loss is {abs(gap):.1f} nats "
            f"{'above' if gap >= 0 else 'below'} its training loss."
        )
    for run in (first, second):
        if np.isfinite(run["saved_val_loss"]):
            sentences.append(
                f"With its BatchNormalization statistics recomputed, the "
                f"{run['name']} model's validation loss is "
                f"{run['saved_val_loss']:.1f} instead of {run['val_loss']:.1f}."
            )
    return sentences


def _ratio(numerator, denominator):
    if not np.isfinite(numerator / denominator):
        return "an unknown factor"
    return f"{numerator / denominator:.1f} times"


def _compare_losses(first, second, key, what):
    difference = second[key] - first[key]
    better = second if difference < 0 else first
    worse = first if better is second else second
    return (
        f"The {better['name']} model ends with the lower {what} loss: "
        f"{better[key]:.1f} against {worse[key]:.1f} nats per image "
        f"({abs(difference) / worse[key]:.1%} lower)."
    )
