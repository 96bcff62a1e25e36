"""Callbacks that stop training the way a person would, shared by tests."""

import keras


class StopAt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt when `epoch` begins, like Ctrl-C would."""

    def __init__(self, epoch):
        super().__init__()
        self.stop_epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.stop_epoch:
            raise KeyboardInterrupt
