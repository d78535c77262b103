"""Compile a PyMC model for nutpie, with the compiled sampler entry points cached on disk.

`nutpie.compile_pymc_model` builds the model's log density and gradient with PyTensor's
numba backend (PyTensor caches those functions on disk) and then wraps them in two
``numba.cfunc`` entry points for the sampler. Those wrappers are closures over random
(``uuid4``) keys and numba dispatchers, so numba can never reuse them across processes:
in a fresh process they cost ~6 s of the ~9 s of compilation of a study-sized model.

`compile_model` does what nutpie's numba compilation does, step by step, calling nutpie's
own pieces (``_make_functions`` for the PyTensor graph functions and initial points,
``make_user_data``, ``_prepare_dims_and_coords``, ``CompiledPyMCModel``) and two of ours
instead of nutpie's wrapper factories:

* the wrappers are generated as plain source (one line per shared variable, no closures,
  no ``literal_unroll``, an explicit copy loop instead of ``out[...] = grad`` whose
  broadcasting error message alone took ~2 s to compile), with the same return codes as
  nutpie's (``-1`` wrong dimension, ``1`` exception, ``3`` non-finite gradient, ``4``
  non-finite log density);
* the keys of the shared variables are ``s0, s1, ...`` instead of random ``uuid4`` keys;
* the wrappers are compiled with ``cache=True`` under a locator of ours, whose key is a
  hash of PyTensor's own cache key of the wrapped function plus everything else the
  wrapper's code depends on (dimension, shared variables' dtypes and ranks, record
  layout, template version, numba / llvmlite / nutpie / pytensor versions).

Everything else (graph rewriting, initial points, ``with_data``, the sampler) is nutpie's,
compiled with numba's ``fastmath`` off: with it on, code compiled afresh and the same code
loaded from a cache rounded differently, and seeded draws of a first and a later run
differed (by ~4e-10 after 100 iterations; enough to move a gate decision or an HDI bound).
Off, they are identical bit for bit (tested); sampling was no slower on these models.
A model whose PyTensor function cannot be cached (PyTensor gives it no key) is compiled
the same way, only not stored. ``BAYES_IGF1_NO_CACHE=1`` turns the disk cache off;
``BAYES_IGF1_CACHE_DIR`` moves it (default ``$XDG_CACHE_HOME/bayes-igf1`` or
``~/.cache/bayes-igf1``).

This relies on private pieces of nutpie (those named above and ``address_as_void_pointer``
of ``nutpie.compile_pymc``; versions pinned in ``pyproject.toml``) and of numba (the cache
locator list ``numba.core.caching.CacheImpl._locator_classes``). They are looked up and
their signatures checked before each compilation: when one is missing or has changed, the
model is compiled by plain ``nutpie.compile_pymc_model`` (same density and draws, only no
disk cache of the wrappers) with a one-line ``RuntimeWarning`` naming what was missing.
A test compares the log density and gradient with nutpie's own compilation.

Threads: nothing of nutpie is patched (no module attribute is swapped, so another thread
never sees a half-patched nutpie). Three pieces of process-wide state remain: PyTensor's
``numba__fastmath`` flag (a global config, which PyTensor offers no per-call way to set:
``change_flags`` sets and restores it for the whole process), our cache locator in numba's
list (added once) and the key table it reads. So every compilation, ours and the fallback
alike, holds the one module-level ``_LOCK`` from start to end: two threads compiling at
the same time compile one after the other (numba compiles under a global lock anyway), and
neither restores the flag while the other still relies on it. A PyTensor compilation
outside this module that runs during ours sees ``fastmath`` off (only its rounding changes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import inspect
import os
import threading
import uuid
import warnings
from pathlib import Path
from types import SimpleNamespace
from weakref import WeakKeyDictionary

import numpy as np

#: Bump when the generated wrapper source changes: old cache entries are then ignored.
TEMPLATE_VERSION = 1

_KEYS: WeakKeyDictionary = WeakKeyDictionary()
#: Held by every compilation (ours and the fallback) from start to end: see the module docstring.
_LOCK = threading.Lock()
_locator_registered = False


def cache_dir() -> Path | None:
    """Folder of the compiled-wrapper cache, or None when caching is off."""
    if os.environ.get("BAYES_IGF1_NO_CACHE", "").strip() not in ("", "0"):
        return None
    import pytensor

    if not pytensor.config.numba__cache:
        return None
    root = os.environ.get("BAYES_IGF1_CACHE_DIR")
    if root:
        path = Path(root) / "numba"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "bayes-igf1" / "numba"
    try:
        path.mkdir(parents=True, exist_ok=True)
        writable = os.access(path, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        warnings.warn(f"bayes-igf1: cannot write the compilation cache {path}; models are compiled in every "
                      "process (set BAYES_IGF1_CACHE_DIR to a writable folder)", RuntimeWarning, stacklevel=2)
        return None
    return path


def _numba_cache_classes():
    """numba's private cache classes our locator needs: (CacheImpl, _CacheLocator)."""
    from numba.core.caching import CacheImpl, _CacheLocator

    if not isinstance(CacheImpl._locator_classes, list):
        raise TypeError("numba.core.caching.CacheImpl._locator_classes is not a list")
    return CacheImpl, _CacheLocator


def _register_locator(cache_impl, locator_base) -> None:
    """Put our cache locator in front of numba's (once per process; under ``_LOCK``)."""
    global _locator_registered
    if _locator_registered:
        return

    class _Locator(locator_base):
        """Numba cache locator for the wrappers of `compile_model`, keyed by our hash."""

        def __init__(self, py_func, py_file, key, path):
            self._py_func = py_func
            self._py_file = py_file
            self._key = key
            self._path = path

        def ensure_cache_path(self):
            pass  # made and checked by cache_dir()

        def get_cache_path(self):
            return str(self._path)

        def get_source_stamp(self):
            return 0  # the key carries every version

        def get_disambiguator(self):
            return self._key

        @classmethod
        def from_function(cls, py_func, py_file):
            entry = _KEYS.get(py_func)
            if entry is None:
                return None
            return cls(py_func, py_file, *entry)

    cache_impl._locator_classes.insert(0, _Locator)
    _locator_registered = True


def _versions() -> str:
    import llvmlite
    import numba
    import nutpie
    import pytensor

    return f"numba {numba.__version__} llvmlite {llvmlite.__version__} nutpie {nutpie.__version__} pytensor {pytensor.__version__}"


def _pytensor_key(dispatcher) -> str | None:
    """PyTensor's on-disk cache key of a compiled graph function (None: not cacheable)."""
    try:
        from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

        return CACHED_SRC_FUNCTIONS.get(getattr(dispatcher, "py_func", None))
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - other pytensor layout
        return None


def _array_lines(keys, shared_data) -> tuple[list[str], list[str]]:
    """Source lines that view each shared array from the user-data record, and their names."""
    lines, names = [], []
    for i, key in enumerate(keys):
        arr = shared_data[key]
        flat = (
            f"numba.carray(address_as_void_pointer(shared['data']['{key}'][()]), "
            f"int(shared['size']['{key}'][()]), np.{arr.dtype.name})"
        )
        if arr.ndim == 0:
            shape = "()"
        else:
            shape = "(" + "".join(f"int(shared['shape']['{key}'][{d}]), " for d in range(arr.ndim)) + ")"
        lines.append(f"        a{i} = {flat}.reshape({shape})")
        names.append(f"a{i}")
    return lines, names


_LOGP = '''
def {name}(dim, x_, out_, logp_, user_data_):
    if dim != {n_dim}:
        return -1
    try:
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_dim},))
        logp = numba.carray(logp_, (1,))
        shared = numba.carray(user_data_, (), RECORD)['shared']
{arrays}
        logp_val, grad = inner(x{args})
        logp[0] = logp_val
        finite = True
        for i in range({n_dim}):
            g = grad[i]
            out[i] = g
            if not np.isfinite(g):
                finite = False
        if not finite:
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0
'''

_EXPAND = '''
def {name}(dim, expanded, x_, out_, user_data_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_expanded}:
        return -1
    try:
        x = numba.carray(x_, ({n_dim},))
        out = numba.carray(out_, ({n_expanded},))
        shared = numba.carray(user_data_, (), RECORD)['shared']
{arrays}
        (values,) = inner(x{args})
        for i in range({n_expanded}):
            out[i] = values[i]
    except Exception:
        return -2
    return 0
'''


def _make_wrapper(template, role, inner, user_data, keys, shared_data, path, address, **sizes):
    """Generate and exec one cfunc wrapper around ``inner``; key it for the cache in ``path`` (None: off).

    ``address``: nutpie's ``address_as_void_pointer`` intrinsic.
    """
    import numba

    lines, names = _array_lines(keys, shared_data)
    inner_key = _pytensor_key(inner)
    parts = [
        f"template {TEMPLATE_VERSION}",
        role,
        _versions(),
        str(inner_key),
        repr(sorted(sizes.items())),
        repr(user_data.dtype.descr),
        repr([(k, shared_data[k].dtype.str, shared_data[k].ndim) for k in keys]),
    ]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    name = f"bayes_igf1_{role}_{digest[:16]}"
    src = template.format(name=name, arrays="\n".join(lines), args="".join(f", {a}" for a in names), **sizes)
    env = {
        "__name__": __name__,  # an importable module: numba pickles it with the cached code
        "numba": numba,
        "np": np,
        "RECORD": user_data.dtype,
        "address_as_void_pointer": address,
        "inner": inner,
    }
    local: dict = {}
    exec(compile(src, f"<bayes_igf1 {role} wrapper>", "exec"), env, local)
    func = local[name]
    if path is not None:
        if inner_key is None:
            # Not reusable (PyTensor gives the graph no key): numba still needs a place for
            # it, so it goes to a folder of this process's own that is removed at exit.
            digest, path = uuid.uuid4().hex, _scratch_dir()
        _KEYS[func] = (digest, path)
    return func


_SCRATCH: list[Path] = []


def _scratch_dir() -> Path:
    if not _SCRATCH:
        import atexit
        import shutil
        import tempfile

        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="bayes-igf1-numba-")))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


def _logp_wrapper(n_dim, logp_fn, user_data, shared_keys, shared_data, *, path, address):
    """Our stand-in for nutpie's ``_make_c_logp_func``: (py_func, C signature)."""
    import numba.types as nt

    sig = nt.int64(nt.uint64, nt.CPointer(nt.double), nt.CPointer(nt.double), nt.CPointer(nt.double), nt.voidptr)
    func = _make_wrapper(_LOGP, "logp", logp_fn, user_data, shared_keys, shared_data, path, address, n_dim=n_dim)
    return func, sig


def _expand_wrapper(n_dim, n_expanded, expand_fn, user_data, shared_keys, shared_data, *, path, address):
    """Our stand-in for nutpie's ``_make_c_expand_func``: (py_func, C signature)."""
    import numba.types as nt

    sig = nt.int64(nt.uint64, nt.uint64, nt.CPointer(nt.double), nt.CPointer(nt.double), nt.voidptr)
    func = _make_wrapper(_EXPAND, "expand", expand_fn, user_data, shared_keys, shared_data, path, address,
                         n_dim=n_dim, n_expanded=n_expanded)
    return func, sig


class _Unsupported(Exception):
    """A private piece of nutpie / numba that `compile_model` uses is missing or has changed."""


#: Fields `compile_model` fills in nutpie's ``CompiledPyMCModel``.
_MODEL_FIELDS = ("dims", "compiled_logp_func", "compiled_expand_func", "initial_point_func", "shared_data",
                 "shared_var_keys", "user_data", "n_expanded", "shape_info", "logp_func", "expand_func", "_n_dim",
                 "_shapes", "_coords", "reparameterized_names")


def _parts(path) -> SimpleNamespace:
    """The private pieces `compile_model` calls, looked up and their signatures checked.

    Raises `_Unsupported` naming every missing or changed piece. ``path``: the cache
    folder (None: no disk cache, so numba's cache classes are not needed).
    """
    problems = []
    try:
        from nutpie import compile_pymc as cp
    except ImportError as err:
        raise _Unsupported(f"nutpie.compile_pymc cannot be imported ({err})") from err
    from pymc.initial_point import make_initial_point_fn

    calls = {  # name -> a call of the same shape as ours (None: only needs to exist)
        "_make_functions": ((None,), dict(mode="NUMBA", compute_grad=True, join_expanded=True,
                                          pymc_initial_point_fn=None, var_names=None)),
        "make_user_data": ((None, None), {}),
        "_prepare_dims_and_coords": ((None, None, None), {}),
        "CompiledPyMCModel": ((), dict.fromkeys(_MODEL_FIELDS)),
        "address_as_void_pointer": None,
    }
    found = {}
    for name, call in calls.items():
        obj = getattr(cp, name, None)
        if obj is None:
            problems.append(f"nutpie.compile_pymc.{name} is missing")
            continue
        if call is not None:
            try:
                inspect.signature(obj).bind(*call[0], **call[1])
            except (TypeError, ValueError):
                problems.append(f"nutpie.compile_pymc.{name} has another signature")
                continue
        found[name] = obj
    if "CompiledPyMCModel" in found and not dataclasses.is_dataclass(found["CompiledPyMCModel"]):
        problems.append("nutpie.compile_pymc.CompiledPyMCModel is no longer a dataclass")
    try:
        inspect.signature(make_initial_point_fn).bind(model=None, overrides=None, jitter_rvs=None,
                                                      default_strategy="support_point", return_transformed=True)
    except (TypeError, ValueError):
        problems.append("pymc.initial_point.make_initial_point_fn has another signature")
    cache_classes = None
    if path is not None:
        try:
            cache_classes = _numba_cache_classes()
        except (ImportError, AttributeError, TypeError) as err:
            problems.append(f"numba's cache locators are not where they were ({type(err).__name__}: {err})")
    if problems:
        raise _Unsupported("; ".join(problems))
    if cache_classes is not None:
        _register_locator(*cache_classes)
    return SimpleNamespace(
        make_functions=found["_make_functions"],
        make_user_data=found["make_user_data"],
        prepare_dims_and_coords=found["_prepare_dims_and_coords"],
        model_class=found["CompiledPyMCModel"],
        address=found["address_as_void_pointer"],
        make_initial_point_fn=make_initial_point_fn,
    )


def _serialised(func):
    """``func`` called by one thread at a time (as nutpie wraps the initial-point function)."""
    lock = threading.Lock()

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with lock:
            return func(*args, **kwargs)

    return wrapper


def _compile_ours(model, parts, *, var_names, path):
    """nutpie's ``compile_pymc_model`` (numba backend, default options) with our wrappers."""
    import numba
    from numba.core.errors import NumbaError

    point_fn = parts.make_initial_point_fn(model=model, overrides=None, jitter_rvs=set(model.free_RVs),
                                           default_strategy="support_point", return_transformed=True)
    made = parts.make_functions(model, mode="NUMBA", compute_grad=True, join_expanded=True,
                                pymc_initial_point_fn=_serialised(point_fn), var_names=var_names)
    try:
        n_dim, n_expanded, logp_pt, expand_pt, initial_point_fn, shape_info, reparameterized = made
        logp_fn, expand_fn = logp_pt.vm.jit_fn, expand_pt.vm.jit_fn
        logp_shared, expand_shared = list(logp_pt.get_shared()), list(expand_pt.get_shared())
    except (AttributeError, TypeError, ValueError) as err:
        raise _Unsupported(f"nutpie.compile_pymc._make_functions returns something else "
                           f"({type(err).__name__}: {err})") from err
    shared_data, shared_var_keys = {}, {}
    for var in [*logp_shared, *expand_shared]:
        if var in shared_var_keys:
            continue
        key = f"s{len(shared_var_keys)}"  # nutpie: uuid4().hex, which numba can never cache
        value = np.array(var.get_value(), order="C", copy=True)
        value.flags.writeable = False
        shared_data[key] = value
        shared_var_keys[var] = key
    user_data = parts.make_user_data(shared_var_keys, shared_data)
    try:
        logp_raw, logp_sig = _logp_wrapper(n_dim, logp_fn, user_data, [shared_var_keys[v] for v in logp_shared],
                                           shared_data, path=path, address=parts.address)
        logp_c = numba.cfunc(logp_sig, cache=path is not None)(logp_raw)
        expand_raw, expand_sig = _expand_wrapper(n_dim, n_expanded, expand_fn, user_data,
                                                 [shared_var_keys[v] for v in expand_shared], shared_data,
                                                 path=path, address=parts.address)
        expand_c = numba.cfunc(expand_sig, cache=path is not None)(expand_raw)
    except NumbaError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _Unsupported(f"numba cannot compile the generated wrappers ({first})") from err
    try:
        dims, coords = parts.prepare_dims_and_coords(model, shape_info, reparameterized)
        return parts.model_class(
            _n_dim=n_dim,
            dims=dims,
            _coords=coords,
            _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
            compiled_logp_func=logp_c,
            compiled_expand_func=expand_c,
            initial_point_func=initial_point_fn,
            shared_data=shared_data,
            shared_var_keys=shared_var_keys,
            user_data=user_data,
            n_expanded=n_expanded,
            shape_info=shape_info,
            logp_func=logp_pt,
            expand_func=expand_pt,
            reparameterized_names=reparameterized,
        )
    except (AttributeError, TypeError, ValueError) as err:
        raise _Unsupported(f"nutpie's compiled-model record has changed ({type(err).__name__}: {err})") from err


def _fastmath_off():
    """PyTensor's ``numba__fastmath`` off (process-wide: only under ``_LOCK``)."""
    import pytensor

    try:
        return pytensor.config.change_flags(numba__fastmath=False)
    except (AttributeError, KeyError):  # pragma: no cover - a PyTensor without the flag
        return contextlib.nullcontext()


def compile_model(model, *, var_names=None):
    """Compile ``model`` for nutpie (numba backend), reusing compiled wrappers from disk.

    Returns nutpie's ``CompiledPyMCModel``: sample it with `sampling.sample_compiled`,
    swap data in with ``with_data``. When nutpie's private pieces are missing or changed,
    the model is compiled by ``nutpie.compile_pymc_model`` instead, with a warning.
    Thread-safe: compilations run one at a time (see the module docstring).
    """
    import nutpie

    path = cache_dir()
    with _LOCK, _fastmath_off():
        try:
            parts = _parts(path)
            return _compile_ours(model, parts, var_names=var_names, path=path)
        except _Unsupported as err:
            reason = " ".join(str(err).split())  # one line
        warnings.warn(f"bayes-igf1: {reason}; compiling with nutpie.compile_pymc_model instead (its sampler "
                      "entry points are then compiled again in every process)", RuntimeWarning, stacklevel=2)
        return nutpie.compile_pymc_model(model, var_names=var_names)
