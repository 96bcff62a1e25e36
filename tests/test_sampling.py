import keras
import numpy as np

from vae_lab import model, sampling


def _sample(layer, z_mean, z_log_var):
    return np.asarray(layer([z_mean, z_log_var]))


def test_noise_is_fresh_on_every_call():
    layer = sampling.Sampling(name="z")
    zeros = np.zeros((4, 2), "float32")
    assert not np.allclose(_sample(layer, zeros, zeros), _sample(layer, zeros, zeros))


def test_samples_follow_the_mean_and_log_variance():
    layer = sampling.Sampling(seed=3)
    z_mean = np.full((20_000, 2), [1.0, -2.0], "float32")
    z_log_var = np.full((20_000, 2), [0.0, np.log(0.25)], "float32")
    z = _sample(layer, z_mean, z_log_var)
    assert np.allclose(z.mean(axis=0), [1.0, -2.0], atol=0.03)
    assert np.allclose(z.std(axis=0), [1.0, 0.5], atol=0.02)


def test_global_seed_makes_sampling_repeatable():
    draws = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        layer = sampling.Sampling()
        zeros = np.zeros((3, 2), "float32")
        draws.append(_sample(layer, zeros, zeros))
    assert np.array_equal(draws[0], draws[1])


def test_predict_twice_gives_different_z(digit_batch):
    the_encoder = model.encoder_of(model.build_vae())
    first = the_encoder.predict(digit_batch, verbose=0)
    second = the_encoder.predict(digit_batch, verbose=0)
    assert np.allclose(first[0], second[0])  # z_mean is deterministic
    assert not np.allclose(first[2], second[2])  # z is drawn afresh


def test_saved_model_reloads_in_safe_mode(tmp_path, digit_batch):
    vae = model.compile_vae(model.build_vae())
    path = tmp_path / "vae.keras"
    vae.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    layer = model.encoder_of(reloaded).get_layer("z")
    assert isinstance(layer, sampling.Sampling)
    assert layer.function is sampling.sample_z
    z_mean = model.encoder_of(vae).predict(digit_batch, verbose=0)[0]
    again = model.encoder_of(reloaded).predict(digit_batch, verbose=0)[0]
    assert np.allclose(z_mean, again, atol=1e-6)
