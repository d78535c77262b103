"""Compile a PyMC model for nutpie, with the compiled sampler entry points cached on disk.

`nutpie.compile_pymc_model` builds the model's log density and gradient with PyTensor's
numba backend (PyTensor caches those functions on disk) and then wraps them in two
``numba.cfunc`` entry points for the sampler. Those wrappers are closures over random
(``uuid4``) keys and numba dispatchers, so numba can never reuse them across processes:
in a fresh process they cost ~6 s of the ~9 s of compilation of a study-sized model.

`compile_model` runs nutpie's own compilation with three of its helpers swapped in:

* the wrappers are generated as plain source (one line per shared variable, no closures,
  no ``literal_unroll``, an explicit copy loop instead of ``out[...] = grad`` whose
  broadcasting error message alone took ~2 s to compile), with the same return codes as
  nutpie's (``-1`` wrong dimension, ``1`` exception, ``3`` non-finite gradient, ``4``
  non-finite log density);
* the keys of the shared variables are ``s0, s1, ...`` instead of random;
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

This relies on nutpie internals (``_make_c_logp_func``, ``_make_c_expand_func``,
``uuid4`` and ``address_as_void_pointer`` of ``nutpie.compile_pymc``); the supported
nutpie versions are pinned in ``pyproject.toml`` and a test compares the log density and
gradient with nutpie's own compilation.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import threading
import uuid
import warnings
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np

#: Bump when the generated wrapper source changes: old cache entries are then ignored.
TEMPLATE_VERSION = 1

_KEYS: WeakKeyDictionary = WeakKeyDictionary()
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


def _register_locator() -> None:
    """Put our cache locator in front of numba's (once per process)."""
    global _locator_registered
    if _locator_registered:
        return
    from numba.core.caching import CacheImpl, _CacheLocator

    class _Locator(_CacheLocator):
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

    CacheImpl._locator_classes.insert(0, _Locator)
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
    except ImportError:  # pragma: no cover - other pytensor layout
        return None
    return CACHED_SRC_FUNCTIONS.get(getattr(dispatcher, "py_func", None))


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


def _make_wrapper(template, role, inner, user_data, keys, shared_data, path, **sizes):
    """Generate and exec one cfunc wrapper around ``inner``; key it for the cache in ``path`` (None: off)."""
    import numba
    from nutpie.compile_pymc import address_as_void_pointer

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
        "address_as_void_pointer": address_as_void_pointer,
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
        _register_locator()
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


def _logp_wrapper(n_dim, logp_fn, user_data, shared_keys, shared_data, *, path):
    """Stands in for nutpie's ``_make_c_logp_func``: (py_func, C signature)."""
    import numba.types as nt

    sig = nt.int64(nt.uint64, nt.CPointer(nt.double), nt.CPointer(nt.double), nt.CPointer(nt.double), nt.voidptr)
    return _make_wrapper(_LOGP, "logp", logp_fn, user_data, shared_keys, shared_data, path, n_dim=n_dim), sig


def _expand_wrapper(n_dim, n_expanded, expand_fn, user_data, shared_keys, shared_data, *, path):
    """Stands in for nutpie's ``_make_c_expand_func``: (py_func, C signature)."""
    import numba.types as nt

    sig = nt.int64(nt.uint64, nt.uint64, nt.CPointer(nt.double), nt.CPointer(nt.double), nt.voidptr)
    func = _make_wrapper(_EXPAND, "expand", expand_fn, user_data, shared_keys, shared_data, path,
                         n_dim=n_dim, n_expanded=n_expanded)
    return func, sig


class _Key:
    """Stands in for ``uuid4()``: deterministic keys s0, s1, ... of the shared variables."""

    def __init__(self, i: int):
        self.hex = f"s{i}"


def compile_model(model, *, var_names=None):
    """Compile ``model`` for nutpie (numba backend), reusing compiled wrappers from disk.

    Returns nutpie's ``CompiledPyMCModel``: sample it with `sampling.sample_compiled`,
    swap data in with ``with_data``.
    """
    import nutpie
    import pytensor
    from nutpie import compile_pymc as cp

    path = cache_dir()
    with _LOCK:
        saved = (cp._make_c_logp_func, cp._make_c_expand_func, cp.uuid4)
        counter = itertools.count()
        cp._make_c_logp_func = functools.partial(_logp_wrapper, path=path)
        cp._make_c_expand_func = functools.partial(_expand_wrapper, path=path)
        cp.uuid4 = lambda: _Key(next(counter))
        try:
            with pytensor.config.change_flags(numba__fastmath=False):
                return nutpie.compile_pymc_model(model, var_names=var_names, cache=path is not None)
        finally:
            cp._make_c_logp_func, cp._make_c_expand_func, cp.uuid4 = saved
