"""bayes_igf1.compile: same log density and gradient as nutpie's own compilation, reused from disk."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pymc as pm
import pytest

from bayes_igf1.compile import compile_model


def _model(likelihood: str = "normal", y=None):
    rng = np.random.default_rng(3)
    y = rng.normal(1.0, 2.0, size=12) if y is None else y
    group = np.repeat([0, 1, 2], 4)
    with pm.Model(coords={"group": ["a", "b", "c"]}) as model:
        y_data = pm.Data("y_data", y)
        mu = pm.Normal("mu", 0.0, 5.0, dims="group")
        sigma = pm.HalfNormal("sigma", 2.0)
        if likelihood == "normal":
            pm.Normal("y", mu[group], sigma, observed=y_data)
        else:
            pm.StudentT("y", nu=4.0, mu=mu[group], sigma=sigma, observed=y_data)
    return model


def _logp(compiled, x):
    """Call the compiled C entry point: (return code, log density, gradient)."""
    n = compiled.n_dim
    x = np.ascontiguousarray(x, dtype=float)
    grad = np.zeros(n)
    logp = np.zeros(1)
    fn = compiled.compiled_logp_func.ctypes
    code = fn(n, x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), grad.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
              logp.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), ctypes.c_void_p(compiled.user_data.ctypes.data))
    return int(code), float(logp[0]), grad


def _expand(compiled, x):
    x = np.ascontiguousarray(x, dtype=float)
    out = np.zeros(compiled.n_expanded)
    fn = compiled.compiled_expand_func.ctypes
    code = fn(compiled.n_dim, compiled.n_expanded, x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
              out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), ctypes.c_void_p(compiled.user_data.ctypes.data))
    return int(code), out


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYES_IGF1_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BAYES_IGF1_NO_CACHE", raising=False)
    return tmp_path


def _nutpie(model):
    """nutpie's own compilation, with numba's fastmath off as in `compile_model`."""
    import nutpie
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        return nutpie.compile_pymc_model(model)


def test_same_density_gradient_and_expansion_as_nutpie(cache):
    model = _model("student")
    ours = compile_model(model)
    theirs = _nutpie(model)
    assert ours.n_dim == theirs.n_dim == 4
    rng = np.random.default_rng(0)
    for x in rng.normal(size=(5, ours.n_dim)):
        code, lp, grad = _logp(ours, x)
        code_n, lp_n, grad_n = _logp(theirs, x)
        assert code == code_n == 0
        assert lp == pytest.approx(lp_n, rel=1e-12)
        np.testing.assert_allclose(grad, grad_n, rtol=1e-12)
        np.testing.assert_allclose(_expand(ours, x)[1], _expand(theirs, x)[1], rtol=1e-12)
    # The C backend of PyTensor (another compiler) gives the same density and gradient ...
    point = {"mu": np.array([0.3, -0.2, 0.1]), "sigma_log__": np.array(0.4)}
    x = np.array([0.3, -0.2, 0.1, 0.4])
    code, lp, grad = _logp(ours, x)
    assert lp == pytest.approx(float(model.compile_logp(mode="FAST_RUN")(point)), rel=1e-12)
    dlogp = model.compile_dlogp(mode="FAST_RUN")(point)
    np.testing.assert_allclose(grad, dlogp, rtol=1e-10)
    # ... and its change from x = 0 is the one worked out with scipy (differences cancel
    # PyMC's rounded normalising constants): mu = 0 -> x[:3], sigma = 1 -> e^0.4.
    from scipy import stats

    y = model["y_data"].get_value()
    group = np.repeat([0, 1, 2], 4)

    def hand(mu, log_sigma):
        sigma = np.exp(log_sigma)
        return (stats.norm(0, 5).logpdf(mu).sum() + stats.halfnorm(scale=2.0).logpdf(sigma) + log_sigma
                + stats.t(4, loc=mu[group], scale=sigma).logpdf(y).sum())

    change = lp - _logp(ours, np.zeros(4))[1]
    assert change == pytest.approx(hand(x[:3], 0.4) - hand(np.zeros(3), 0.0), rel=1e-10)
    # A point where the density overflows: the same return code as nutpie's wrapper.
    far = np.full(ours.n_dim, 1e200)
    assert _logp(ours, far)[0] == _logp(theirs, far)[0] != 0
    # A wrong dimension is refused.
    fn = ours.compiled_logp_func.ctypes
    buf = np.zeros(8)
    ptr = buf.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    assert fn(ours.n_dim + 1, ptr, ptr, ptr, ctypes.c_void_p(ours.user_data.ctypes.data)) == -1


def test_new_data_swapped_into_the_compiled_model(cache):
    model = _model("normal")
    ours = compile_model(model)
    theirs = _nutpie(model)
    x = np.linspace(-0.5, 0.5, ours.n_dim)
    new = np.arange(12.0)
    a = _logp(ours.with_data(y_data=new), x)
    b = _logp(theirs.with_data(y_data=new), x)
    assert a[1] == pytest.approx(b[1], rel=1e-12)
    assert a[1] != pytest.approx(_logp(ours, x)[1])
    # The change of the density between two points follows the new data (worked by hand:
    # x = (mu_a, mu_b, mu_c, log sigma); differences cancel PyMC's rounded constants).
    from scipy import stats

    group = np.repeat([0, 1, 2], 4)

    def hand(x):
        mu, sigma = x[:3], np.exp(x[-1])
        return (stats.norm(0, 5).logpdf(mu).sum() + stats.halfnorm(scale=2).logpdf(sigma) + x[-1]
                + stats.norm(mu[group], sigma).logpdf(new).sum())

    swapped = ours.with_data(y_data=new)
    change = a[1] - _logp(swapped, np.zeros(4))[1]
    assert change == pytest.approx(hand(x) - hand(np.zeros(4)), rel=1e-10)


_CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_compile import _model, _logp
    from bayes_igf1.compile import compile_model
    import nutpie
    out = {{}}
    for name in sys.argv[1:]:
        model = _model(name)
        c = compile_model(model)
        x = np.linspace(-1, 1, c.n_dim)
        out[name] = {{"hits": [c.compiled_logp_func._cache_hits, c.compiled_expand_func._cache_hits],
                     "logp": _logp(c, x)[1],
                     "c_backend": float(model.compile_logp(mode="FAST_RUN")({{"mu": x[:3], "sigma_log__": x[3]}})),
                     "draws": nutpie.sample(c, draws=50, tune=50, chains=2, cores=1, seed=5, progress_bar=False)
                              .posterior["mu"].values.ravel().tolist()}}
    print(json.dumps(out))
    """
)


def _child(cache_dir, *names, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k != "BAYES_IGF1_NO_CACHE"}
    env.update({"BAYES_IGF1_CACHE_DIR": str(cache_dir), **(extra_env or {})})
    code = _CHILD.format(tests=os.path.dirname(__file__))
    run = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, env=env, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_fresh_process_reuses_the_compiled_wrappers_and_never_confuses_models(cache):
    # A new PyTensor cache too, so that the first process compiles everything, as on a new machine.
    fresh = {"PYTENSOR_FLAGS": f"base_compiledir={cache / 'pytensor'}"}
    first = _child(cache, "normal", extra_env=fresh)
    assert first["normal"]["hits"] == [0, 0]
    second = _child(cache, "normal", "student", extra_env=fresh)
    assert second["normal"]["hits"] == [1, 1]
    # Same shapes, another likelihood: a cache miss, and its own (correct) density.
    assert second["student"]["hits"][0] == 0
    for run in (first, second):
        for res in run.values():
            assert res["logp"] == pytest.approx(res["c_backend"], rel=1e-12)
    assert second["student"]["logp"] != pytest.approx(second["normal"]["logp"])
    # Seeded sampling gives the same draws, bit for bit, from freshly compiled and cached code
    # (with numba's fastmath on they differed by ~4e-10 after 100 iterations).
    assert second["normal"]["draws"] == first["normal"]["draws"]
    off = _child(cache, "normal", extra_env={"BAYES_IGF1_NO_CACHE": "1"})
    assert off["normal"]["hits"] == [0, 0]


def test_a_graph_without_a_pytensor_key_is_compiled_but_never_stored(cache, monkeypatch):
    import bayes_igf1.compile as comp

    monkeypatch.setattr(comp, "_pytensor_key", lambda dispatcher: None)
    model = _model("normal", y=np.linspace(-2.0, 2.0, 12))
    ours = compile_model(model)
    x = np.array([0.1, 0.2, 0.3, -0.1])
    point = {"mu": x[:3], "sigma_log__": x[3]}
    assert _logp(ours, x)[1] == pytest.approx(float(model.compile_logp(mode="FAST_RUN")(point)), rel=1e-12)
    assert not (cache / "numba").exists() or not any((cache / "numba").iterdir())


def test_an_unwritable_cache_folder_warns_and_compiles_without_it(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BAYES_IGF1_CACHE_DIR", str(blocker))
    monkeypatch.delenv("BAYES_IGF1_NO_CACHE", raising=False)
    model = _model("normal")
    with pytest.warns(RuntimeWarning, match="cannot write the compilation cache"):
        ours = compile_model(model)
    assert _logp(ours, np.zeros(4))[0] == 0


# ------------------------------------------------ nutpie internals missing: plain nutpie, one warning


def _stand_in(monkeypatch):
    """A copy of ``nutpie.compile_pymc`` put where `compile_model` looks it up.

    nutpie's own functions read their helpers from the real module's globals, so hiding a
    helper on the copy is what a renamed or removed private helper looks like to us while
    nutpie's public compilation keeps working (deleting it from the real module would
    break nutpie itself, which is not the situation the fallback is for).
    """
    import types

    import nutpie
    from nutpie import compile_pymc as cp

    copy = types.ModuleType(cp.__name__)
    copy.__dict__.update(cp.__dict__)
    monkeypatch.setattr(nutpie, "compile_pymc", copy)
    return copy


def _fallback_warnings(record):
    return [w for w in record
            if issubclass(w.category, RuntimeWarning) and "nutpie.compile_pymc_model instead" in str(w.message)]


def _is_nutpies(compiled):
    """Compiled by nutpie's own wrappers (random uuid keys, its ``logp_numba``), not ours."""
    return (compiled.compiled_logp_func.__name__ == "logp_numba"
            and not any(k.startswith("s") for k in compiled.shared_data))


def test_a_missing_nutpie_helper_falls_back_to_nutpie_with_one_warning(cache, monkeypatch):
    import warnings

    import nutpie

    model = _model("normal")
    theirs = _nutpie(model)
    monkeypatch.delattr(_stand_in(monkeypatch), "_make_functions")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ours = compile_model(model)
    (warning,) = _fallback_warnings(record)
    message = str(warning.message)
    assert "nutpie.compile_pymc._make_functions is missing" in message and "\n" not in message
    assert _is_nutpies(ours)
    for x in np.random.default_rng(1).normal(size=(3, ours.n_dim)):
        assert _logp(ours, x)[1] == pytest.approx(_logp(theirs, x)[1], rel=1e-12)
    # It samples, and gives nutpie's own draws for the same seed; with_data still works.
    kw = dict(draws=20, tune=20, chains=1, seed=4, progress_bar=False)
    a = nutpie.sample(ours, **kw).posterior["mu"].values
    b = nutpie.sample(theirs, **kw).posterior["mu"].values
    np.testing.assert_array_equal(a, b)
    new = np.arange(12.0)
    x = np.linspace(-0.5, 0.5, ours.n_dim)
    swapped = _logp(ours.with_data(y_data=new), x)[1]
    assert swapped == pytest.approx(_logp(theirs.with_data(y_data=new), x)[1], rel=1e-12)


@pytest.mark.parametrize("change", ["renamed keyword", "numba locator gone"])
def test_a_changed_nutpie_or_numba_internal_falls_back_with_one_warning(cache, monkeypatch, change):
    import warnings

    import numba.core.caching

    model = _model("normal")
    if change == "renamed keyword":
        copy = _stand_in(monkeypatch)

        def _make_functions(model, *, mode, compute_grad, join_expanded, initial_point_fn, var_names=None):
            raise AssertionError("never called with a signature we do not know")

        monkeypatch.setattr(copy, "_make_functions", _make_functions)
        expected = "nutpie.compile_pymc._make_functions has another signature"
    else:
        monkeypatch.delattr(numba.core.caching, "_CacheLocator")
        expected = "numba's cache locators are not where they were"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ours = compile_model(model)
    (warning,) = _fallback_warnings(record)
    assert expected in str(warning.message)
    assert _is_nutpies(ours)
    x = np.array([0.1, 0.2, 0.3, -0.1])
    point = {"mu": x[:3], "sigma_log__": x[3]}
    assert _logp(ours, x)[1] == pytest.approx(float(model.compile_logp(mode="FAST_RUN")(point)), rel=1e-12)


def test_models_compiled_in_threads_at_the_same_time_each_get_their_own_density(cache):
    """Two compile_model calls and nutpie's own compilation, started together in three threads.

    Nothing of nutpie is patched, so the thread compiling with nutpie directly gets nutpie's
    own wrappers; each model gets its own density; PyTensor's fastmath flag is restored.
    """
    import threading

    import nutpie
    import pytensor

    flag = pytensor.config.numba__fastmath
    models = {"normal": _model("normal"), "student": _model("student"),
              "nutpie": _model("student", y=np.linspace(-3.0, 3.0, 12))}
    start = threading.Barrier(len(models))
    results, errors = {}, []

    def run(name):
        try:
            start.wait(timeout=60)
            compile_ = nutpie.compile_pymc_model if name == "nutpie" else compile_model
            results[name] = compile_(models[name])
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append((name, err))

    threads = [threading.Thread(target=run, args=(name,)) for name in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert _is_nutpies(results["nutpie"])
    assert sorted(results["normal"].shared_data) == sorted(results["student"].shared_data) == ["s0"]
    x = np.array([0.3, -0.2, 0.1, 0.4])
    point = {"mu": x[:3], "sigma_log__": x[3]}
    densities = {}
    for name, compiled in results.items():
        code, densities[name], _ = _logp(compiled, x)
        assert code == 0
        assert densities[name] == pytest.approx(float(models[name].compile_logp(mode="FAST_RUN")(point)), rel=1e-12)
    assert len({round(v, 6) for v in densities.values()}) == 3
    assert pytensor.config.numba__fastmath == flag
