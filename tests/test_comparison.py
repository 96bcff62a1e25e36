from typing import NamedTuple

import numpy as np
import pytest

from vae_lab import comparison


class _Model:
    def __init__(self, parameters):
        self.parameters = parameters
        self.input_shape = (None, 28, 28, 1)

    def count_params(self):
        return self.parameters


class _Result(NamedTuple):
    model: object
    history: dict
    metrics: dict


def _run(parameters, losses, val_losses, seconds, saved=None):
    history = {"loss": losses, "val_loss": val_losses, "seconds": seconds}
    metrics = {} if saved is None else {"validation": {"loss": saved}}
    return _Result(_Model(parameters), history, metrics)


@pytest.fixture
def rows():
    baseline = comparison.summarize_run(
        "baseline", _run(343_865, [200.0, 160.0], [190.0, 170.0], [6.0, 4.0])
    )
    deeper = comparison.summarize_run(
        "deeper",
        _run(1_441_529, [220.0, 150.0], [300.0, 210.0], [40.0, 36.0], saved=155.5),
    )
    return baseline, deeper


def test_summary_takes_the_last_epoch_and_the_mean_time(rows):
    baseline, _ = rows
    assert baseline["parameters"] == 343_865
    assert baseline["epochs"] == 2
    assert (baseline["loss"], baseline["val_loss"]) == (160.0, 170.0)
    assert baseline["loss_per_pixel"] == pytest.approx(160.0 / 784)
    assert baseline["val_loss_per_pixel"] == pytest.approx(170.0 / 784)
    assert baseline["seconds_per_epoch"] == pytest.approx(5.0)
    assert np.isnan(baseline["saved_val_loss"])


def test_summary_reads_the_saved_model_validation_loss(rows):
    assert rows[1]["saved_val_loss"] == 155.5


def test_a_run_without_validation_is_refused():
    result = _run(10, [1.0], [], [1.0])
    with pytest.raises(ValueError, match=r"The run 'x' has no \['val_loss'\]"):
        comparison.summarize_run("x", result)


def test_table_has_a_header_a_rule_and_one_aligned_row_per_run(rows):
    lines = comparison.format_table(rows).splitlines()
    assert lines[0].split()[:3] == ["Model", "Parameters", "Epochs"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].startswith("baseline") and "343,865" in lines[2]
    assert "1,441,529" in lines[3] and "0.2041" in lines[2]
    assert lines[2].endswith("nan") and lines[3].endswith("155.5")
    assert len({len(line) for line in lines}) == 1


def test_sentences_say_which_run_wins_each_loss(rows):
    sentences = comparison.describe_comparison(*rows)
    assert sentences[0].startswith("The deeper model has 4.2 times as many parameters")
    assert "7.6 times as long per epoch" in sentences[0]
    assert sentences[1].startswith("The deeper model ends with the lower training loss")
    assert "150.0 against 160.0" in sentences[1]
    assert sentences[2].startswith("The baseline model ends with the lower validation")
    assert "10.0 nats above" in sentences[3]
    assert "60.0 nats above" in sentences[4]
    assert sentences[5:] == [
        "With its BatchNormalization statistics recomputed, the deeper model's "
        "validation loss is 155.5 instead of 210.0."
    ]


def test_unknown_times_are_said_so():
    first = comparison.summarize_run("a", _run(10, [1.0], [2.0], []))
    second = comparison.summarize_run("b", _run(20, [1.0], [0.5], []))
    sentences = comparison.describe_comparison(first, second)
    assert "an unknown factor as long" in sentences[0]
    assert "0.5 nats below" in sentences[4]
