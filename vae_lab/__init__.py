"""vae_lab: a convolutional variational autoencoder on MNIST, for teaching.

The package is split into one module per idea, and importing `vae_lab` itself
stays cheap: Keras (and with it TensorFlow or JAX) is imported only by the
modules that build or train a model.

Modules:
    data: load the bundled MNIST file, reshape, normalise and subset it.
    encoder, sampling, decoder: the three parts of the model.
    loss: the reconstruction term and the KL divergence.
    model: assemble and compile the whole VAE.
    config: training settings and the named presets.
    training: train into a run folder that survives interruptions.
    plots: the figures shared by the command line and the notebooks.
    report, animation: the PDF report and the GIF of training progress.
    cli: the `vae-lab` command.
"""

__version__ = "0.1.0"
