"""The PDF report: pages, text that can be searched, and two-run comparisons."""

import shutil

import pypdf
import pytest

from vae_lab import cli, config, errors, report, run_files, training


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory, small_dataset):
    """A finished two-epoch run of the baseline model (filters 8, 16)."""
    run_dir = tmp_path_factory.mktemp("baseline")
    settings = config.get_preset("smoke").replace(filters=(8, 16), epochs=2)
    return training.train(settings, run_dir, dataset=small_dataset, verbose=0)


def pdf_text(path):
    reader = pypdf.PdfReader(path)
    return reader, [page.extract_text() for page in reader.pages]


def test_report_of_one_run(smoke_run):
    path = report.write_report(smoke_run.run_dir)
    assert path == smoke_run.run_dir / "report.pdf"
    reader, pages = pdf_text(path)
    assert len(pages) == report.page_count(1) == 7
    assert reader.metadata.title == f"VAE Lab Report: {smoke_run.run_dir.name}"
    assert "filters            (8, 16, 32, 64)" in pages[0]
    assert "status             finished" in pages[0]
    # The architecture page lists every layer with its parameters.
    assert "1,441,529 Parameters in All" in pages[1]
    assert "encoder_conv_4" in pages[1] and "decoder_output" in pages[1]
    assert "1,028,568" in pages[1] and "412,961" in pages[1]
    assert "Total Loss" in pages[2] and "KL Divergence" in pages[2]
    assert "Original" in pages[3] and "Reconstruction" in pages[3]
    assert "Latent Space" in pages[4] and "Decoded from a Grid" in pages[5]
    metrics = smoke_run.metrics
    final, validation, test = (metrics[k] for k in ("final", "validation", "test"))
    # Validation as measured on the saved model (recalibrated statistics),
    # not the last epoch's val_loss, which used the lagging ones.
    for value in (final["loss"], validation["loss"], test["loss"], test["kl_loss"]):
        assert f"{value:.2f}" in pages[6]
    assert f"{validation['loss'] / 784:.4f}" in pages[6]
    assert f"{final['val_loss']:.2f}" not in pages[6]


def test_report_compares_two_runs(smoke_run, baseline_run, tmp_path):
    output = tmp_path / "out" / "both.pdf"
    path = report.write_report([smoke_run.run_dir, baseline_run.run_dir], output)
    assert path == output
    _, pages = pdf_text(path)
    assert len(pages) == report.page_count(2) == 8
    names = [smoke_run.run_dir.name, baseline_run.run_dir.name]
    text = "\n".join(pages)
    for name in names:
        assert f"{name}: Settings" in pages[0]
        assert f"{name}: Architecture" in text
    metrics = pages[3]
    assert "Side by Side" in metrics and "difference" in metrics
    for run in (smoke_run, baseline_run):
        assert f"{run.metrics['validation']['loss']:.2f}" in metrics
    difference = (
        baseline_run.metrics["test"]["loss"] - smoke_run.metrics["test"]["loss"]
    )
    assert f"{difference:.2f}" in metrics
    assert all(f"{name}: Training" in pages[4] for name in names)
    assert all(name in pages[5] for name in names)


def test_default_comparison_path_is_in_the_first_folder(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert report.default_output([first]) == first / "report.pdf"
    assert report.default_output([first, second]) == first / "comparison-with-b.pdf"


def test_report_of_an_unfinished_run(baseline_run, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(baseline_run.run_dir, unfinished)
    (unfinished / run_files.METRICS).unlink()
    _, pages = pdf_text(report.write_report(unfinished))
    assert "unfinished (interrupted)" in pages[0]
    assert "Unfinished run: last finished epoch, no test metrics." in pages[6]
    last = baseline_run.history["val_loss"][-1]
    assert f"{last:.2f}" in pages[6]


def test_report_of_a_run_without_weights_says_to_finish_it(tmp_path):
    settings = config.get_preset("smoke")
    run_files.write_text(tmp_path / run_files.CONFIG, settings.to_json())
    with pytest.raises(errors.RunFolderError, match="holds no weights yet"):
        report.write_report(tmp_path)


@pytest.mark.parametrize(
    ("runs", "kwargs", "error", "message"),
    [
        (["missing"], {}, errors.RunFolderError, "No run folder at"),
        (["."] * 3, {}, errors.RunFolderError, "one run folder, or two to compare"),
        (["."], {"output": "report.txt"}, errors.RunFolderError, "must be a .pdf"),
        (["."], {"count": 0}, ValueError, "count must be a whole number from 1"),
        (["."], {}, errors.RunFolderError, "is not a run folder"),
    ],
)
def test_bad_report_arguments(tmp_path, monkeypatch, runs, kwargs, error, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        report.write_report(runs, **kwargs)


def test_report_command_logs_its_progress(baseline_run, tmp_path, capsys):
    output = tmp_path / "cli.pdf"
    code = cli.main(["report", str(baseline_run.run_dir), "-o", str(output)])
    assert code == 0
    assert output.is_file()
    messages = capsys.readouterr().err
    assert "Report page 1 of 7: settings" in messages
    assert "Report page 7 of 7: metrics" in messages
    assert f"Report written to {output}" in messages
    assert "glyph" not in messages  # fontTools' INFO messages stay hidden
