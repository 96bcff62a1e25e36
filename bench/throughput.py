"""Training and evaluation throughput of vae_lab against the plain reference.

Every variant trains on the same real MNIST images with batch size 128. The
variants take turns, round after round (the order flips every round so that
a slow spell of the machine hits them all alike), and each variant's first
`fit` call, which traces and compiles its step, is left out. A round is one
`fit(..., epochs=1)` call over `--steps` batches, timed from outside, so the
figure includes what `fit` itself costs per call, as a user would pay it.

Variants (pick with --variants):
    reference   bench/reference_vae.py: subclassed model, own train_step.
    vae_lab     vae_lab.model.build_vae + compile_vae, fit(x, x).
    xla         vae_lab with jit_compile=True.
    spe4        vae_lab with steps_per_execution=4.
    bf16        vae_lab with dtype_policy="mixed_bfloat16" (--mixed-precision:
                the heads, the sampling layer and the sigmoid output in float32).

Run: .venv/bin/python bench/throughput.py --filters 8 16 32 64
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402

from vae_lab import data, loss, model  # noqa: E402

BATCH_SIZE = 128
#: The training loss of each model's latest round, to compare variants.
LAST_LOSS = {}


def _compile_like_vae_lab(vae, **compile_args):
    vae.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=loss.ReconstructionLoss(),
        metrics=[loss.reconstruction_metric()],
        **compile_args,
    )
    return vae


def _parameters(vae):
    if hasattr(vae, "encoder") and hasattr(vae, "decoder"):
        return int(vae.encoder.count_params() + vae.decoder.count_params())
    return int(vae.count_params())


def build_variant(name, filters):
    """Returns `(model, takes_targets)` for one variant."""
    if name == "reference":
        import reference_vae

        return reference_vae.build_reference(filters=filters), False
    if name == "vae_lab":
        return model.compile_vae(model.build_vae(filters=filters)), True
    if name == "xla":
        return _compile_like_vae_lab(
            model.build_vae(filters=filters), jit_compile=True
        ), True
    if name == "spe4":
        vae = model.build_vae(filters=filters)
        return _compile_like_vae_lab(
            vae, jit_compile=False, steps_per_execution=4
        ), True
    if name == "nometric":
        vae = model.build_vae(filters=filters)
        vae.compile(
            optimizer=keras.optimizers.Adam(learning_rate=1e-3),
            loss=loss.ReconstructionLoss(),
            jit_compile=False,
        )
        return vae, True
    if name == "bf16":
        # The package's own opt-in path (`vae-lab train --mixed-precision`).
        vae = model.build_vae(filters=filters, dtype_policy="mixed_bfloat16")
        return model.compile_vae(vae), True
    raise ValueError(f"Unknown variant {name!r}.")


def _train_once(vae, takes_targets, images):
    start = time.perf_counter()
    targets = images if takes_targets else None
    history = vae.fit(images, targets, batch_size=BATCH_SIZE, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    LAST_LOSS[id(vae)] = float(history.history["loss"][-1])
    return seconds


def _evaluate_once(vae, takes_targets, images):
    start = time.perf_counter()
    targets = images if takes_targets else None
    vae.evaluate(images, targets, batch_size=BATCH_SIZE, verbose=0)
    return time.perf_counter() - start


def alternate(models, action, images, rounds):
    """Times `action` for every model, in turns; returns seconds per model."""
    seconds = {name: [] for name in models}
    for vae, takes_targets in models.values():
        action(vae, takes_targets, images)  # warm-up: tracing, first allocations
    names = list(models)
    for round_index in range(rounds):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            seconds[name].append(action(*models[name], images))
    return seconds


def summarise(seconds, images):
    """Median images per second, the spread, and the paired ratio, per variant.

    The paired ratio compares each round of a variant with the reference's
    round of the same turn, which ran next to it under the same load, and
    takes the median over rounds: on a busy machine it is steadier than the
    ratio of two medians.
    """
    reference = seconds.get("reference")
    return {
        name: {
            "images_per_second": images / statistics.median(values),
            "fastest": images / min(values),
            "slowest": images / max(values),
            "paired_ratio": (
                statistics.median(r / v for r, v in zip(reference, values, strict=True))
                if reference
                else None
            ),
            "seconds": values,
        }
        for name, values in seconds.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--variants", nargs="+", default=["reference", "vae_lab"])
    parser.add_argument("--steps", type=int, default=8, help="batches per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--eval-steps", type=int, default=16)
    parser.add_argument("--eval-rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    filters = tuple(args.filters)
    keras.utils.set_random_seed(0)
    dataset = data.prepare_mnist(
        train_size=BATCH_SIZE * max(args.steps, args.eval_steps)
    )
    train_images = dataset.x_train[: BATCH_SIZE * args.steps]
    eval_images = dataset.x_train[: BATCH_SIZE * args.eval_steps]
    models = {}
    for name in args.variants:
        keras.utils.set_random_seed(0)  # the same initial weights where possible
        models[name] = build_variant(name, filters)
    train = summarise(
        alternate(models, _train_once, train_images, args.rounds), len(train_images)
    )
    evaluation_models = {
        k: v for k, v in models.items() if k in ("reference", "vae_lab")
    }
    evaluation = summarise(
        alternate(evaluation_models, _evaluate_once, eval_images, args.eval_rounds),
        len(eval_images),
    )
    for name, (vae, _) in models.items():
        train[name]["final_training_loss"] = LAST_LOSS.get(id(vae))
    result = {
        "backend": keras.backend.backend(),
        "filters": list(filters),
        "parameters": {name: _parameters(vae) for name, (vae, _) in models.items()},
        "train": train,
        "evaluate": evaluation,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
    }
    _print(result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(result, file, indent=2)
    return result


def _print(result):
    print(f"filters {tuple(result['filters'])}, batch {BATCH_SIZE}")
    for kind in ("train", "evaluate"):
        base = result[kind].get("reference", {}).get("images_per_second")
        for name, figures in result[kind].items():
            ratio = figures["images_per_second"] / base if base else float("nan")
            print(
                f"  {kind:8s} {name:10s} {figures['images_per_second']:8.1f} img/s "
                f"(range {figures['slowest']:.1f}-{figures['fastest']:.1f}) "
                f"x{ratio:.2f} of reference "
                f"(paired x{figures['paired_ratio'] or 0:.2f})"
                + (
                    f", last loss {figures['final_training_loss']:.1f}"
                    if figures.get("final_training_loss")
                    else ""
                )
            )


if __name__ == "__main__":
    main()
