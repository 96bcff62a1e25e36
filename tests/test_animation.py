"""The training animation: one frame per epoch, a GIF that survives resumes."""

import matplotlib.figure
import numpy as np
import pytest
from interrupts import StopAt
from PIL import Image

from vae_lab import animation, config, model, run_files, training


def test_gif_has_one_frame_per_epoch_across_a_resume(tmp_path, small_dataset):
    settings = config.get_preset("smoke").replace(filters=(8, 16), epochs=3)
    first = animation.TrainingAnimation(tmp_path, small_dataset.x_test, count=6)
    with pytest.raises(KeyboardInterrupt):
        training.train(
            settings,
            tmp_path,
            dataset=small_dataset,
            extra_callbacks=[first, StopAt(2)],
            verbose=0,
        )
    early = {path.name: path.read_bytes() for path in animation.frame_paths(tmp_path)}
    assert sorted(early) == ["epoch_001.png", "epoch_002.png"]
    assert not (tmp_path / run_files.ANIMATION_GIF).exists()

    second = animation.TrainingAnimation(tmp_path, small_dataset.x_test, count=6)
    training.train(settings, tmp_path, dataset=small_dataset, extra_callbacks=[second])
    frames = animation.frame_paths(tmp_path)
    assert [path.name for path in frames] == [f"epoch_00{e}.png" for e in (1, 2, 3)]
    for path in frames[:2]:
        assert path.read_bytes() == early[path.name]
    assert second.gif_path == tmp_path / run_files.ANIMATION_GIF
    with Image.open(second.gif_path) as gif:
        assert gif.n_frames == 3
        assert gif.info["loop"] == 0
        sizes = set()
        for index in range(gif.n_frames):
            gif.seek(index)
            sizes.add(gif.size)
    assert len(sizes) == 1
    # No temporary file is left behind by the atomic writes.
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


def test_fresh_start_deletes_old_frames(tmp_path):
    frame = animation.frame_path(tmp_path, 4)
    frame.parent.mkdir()
    frame.write_bytes(b"old")
    (tmp_path / run_files.ANIMATION_GIF).write_bytes(b"old")
    training.clear_run_dir(tmp_path)
    assert not frame.exists()
    assert not (tmp_path / run_files.ANIMATION_GIF).exists()


def save_frame(run_dir, epoch, shade):
    path = animation.frame_path(run_dir, epoch)
    path.parent.mkdir(exist_ok=True)
    Image.new("RGB", (40, 30), (shade, shade, shade)).save(path)


def test_write_gif_keeps_frames_of_this_run_only(tmp_path):
    for epoch in range(5):
        save_frame(tmp_path, epoch, 40 * epoch)
    (tmp_path / run_files.ANIMATION_FRAMES / "notes.png").write_bytes(b"x")
    path = animation.write_gif(tmp_path, epochs=3)
    with Image.open(path) as gif:
        assert gif.n_frames == 3
    assert animation.write_gif(tmp_path / "empty") is None
    with pytest.raises(TypeError, match="epochs must be an integer"):
        animation.write_gif(tmp_path, epochs="3")


def test_draw_frame_without_a_2d_latent_space_explains_why():
    vae = model.build_vae(latent_dim=3, filters=(4,))
    images = np.zeros((4, 28, 28, 1), "float32")
    figure = animation.draw_frame(vae, images, "Epoch 1 of 1")
    assert isinstance(figure, matplotlib.figure.Figure)
    texts = [text.get_text() for ax in figure.axes for text in ax.texts]
    assert "No manifold: the latent space is not 2-D." in texts


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"count": 20}, ValueError, r"images must hold at least count=20 images"),
        ({"count": 0}, ValueError, r"count must be at least 1 and at most 30"),
        ({"count": 2.5}, TypeError, r"count must be an integer"),
        ({"manifold_size": 1}, ValueError, r"manifold_size must be at least 2"),
        ({"seconds_per_frame": 0}, ValueError, r"seconds_per_frame must be strictly"),
        ({"images": np.zeros((12, 28, 28))}, ValueError, "reshape_images"),
        ({"images": np.full((12, 28, 28, 1), 255.0)}, ValueError, "normalize_images"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, error, message):
    arguments = {"run_dir": tmp_path, "images": np.zeros((12, 28, 28, 1))}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        animation.TrainingAnimation(**arguments)


def test_the_animation_does_not_change_the_training(tmp_path, small_dataset):
    settings = config.get_preset("smoke").replace(filters=(8, 16), epochs=2)
    plain = training.train(settings, tmp_path / "plain", dataset=small_dataset)
    animated = animation.TrainingAnimation(
        tmp_path / "animated",
        small_dataset.x_test,
        calibration_images=small_dataset.x_train[:256],
        calibration_batches=2,
    )
    watched = training.train(
        settings,
        tmp_path / "animated",
        dataset=small_dataset,
        extra_callbacks=[animated],
    )
    assert watched.history["loss"] == plain.history["loss"]
    assert watched.history["kl_loss"] == plain.history["kl_loss"]
    np.testing.assert_allclose(
        watched.history["val_loss"], plain.history["val_loss"], rtol=1e-6
    )
    for ours, theirs in zip(
        watched.model.get_weights(), plain.model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(ours, theirs)
