"""cffi builder of the native matcher (out-of-line API mode).

Run by the hatchling build hook (``hatch_build.py``); ``python _build.py [OUTDIR]`` compiles the extension
by hand (into the package directory by default), e.g. after editing ``native/radix.c`` in a checkout.
This module must not import ``tachyon_router``: it runs inside the build environment.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from cffi import FFI  # type: ignore[import-untyped]

__all__ = ["EXTENSION_NAME", "MODULE_NAME", "compile_extension", "find_native_dir", "install_extension", "make_ffi"]

EXTENSION_NAME = "_tachyon_router_native"
MODULE_NAME = f"tachyon_router.{EXTENSION_NAME}"
NATIVE_SOURCES = ("radix.c",)
NATIVE_HEADERS = ("radix.h",)

# Declarations mirrored from native/radix.h (cffi parses no preprocessor includes).
CDEF = """
#define RADIX_LIT ...
#define RADIX_STR ...
#define RADIX_INT ...
#define RADIX_FLOAT ...
#define RADIX_UUID ...
#define RADIX_PATH ...
#define RADIX_MAX_PATH_BYTES ...
#define RADIX_MAX_ENTRIES ...
#define RADIX_MAX_TOKENS ...
#define RADIX_MAX_POOL_BYTES ...
#define RADIX_OK ...
#define RADIX_E_NOMEM ...
#define RADIX_E_INVALID ...
#define RADIX_E_TOO_BIG ...
#define RADIX_E_TOO_LONG ...
#define RADIX_E_BUDGET ...
#define RADIX_E_OUT_SMALL ...
#define RADIX_NO_MATCH ...
#define RADIX_MORE ...
#define RADIX_FIND_OUT_INTS ...
#define RADIX_SEL_TYPE_BITS ...
#define RADIX_INT_VALUE_DIGITS ...

typedef struct {
    uint32_t kind;
    uint32_t lit_off;
    uint32_t lit_len;
} radix_token;

typedef struct {
    int32_t index;
    uint32_t type_mask;
    uint64_t method_mask;
    uint32_t opaque;
    uint32_t first_token;
    uint32_t n_tokens;
} radix_entry;

typedef struct radix_tree radix_tree;

int radix_build(const radix_entry *entries, size_t n_entries, const radix_token *tokens, size_t n_tokens,
                const char *pool, size_t pool_len, radix_tree **tree);
void radix_free(radix_tree *tree);
size_t radix_out_size(const radix_tree *tree);
int32_t radix_lookup(const radix_tree *tree, const char *path, size_t len, uint64_t method_bit, uint32_t type_bit,
                     int32_t *out, size_t out_cap);
int32_t radix_find(const radix_tree *tree, const char *path, size_t len, uint64_t sel, int32_t *out);
"""

# Optimisation is part of the product (a lookup is budgeted in nanoseconds; -O3 measured ~10% faster walks than
# -O2, and these flags come after Python's own CFLAGS, so they decide); C99 keeps the core portable.
DEFAULT_CFLAGS = ("-O3", "-std=c99")


def find_native_dir(package_root: Path | None = None) -> Path:
    """Locate ``native/``: inside an unpacked sdist (``<root>/native``) or at the top of the repository."""
    root = package_root if package_root is not None else Path(__file__).resolve().parents[2]
    for candidate in (root / "native", root.parent.parent / "native"):
        if all((candidate / name).is_file() for name in NATIVE_SOURCES + NATIVE_HEADERS):
            return candidate
    raise FileNotFoundError(
        f"native sources {NATIVE_SOURCES} not found in {root / 'native'} nor {root.parent.parent / 'native'}"
    )


def make_ffi(
    native_dir: Path | None = None,
    *,
    extra_compile_args: Sequence[str] = (),
    extra_link_args: Sequence[str] = (),
) -> FFI:
    native = native_dir if native_dir is not None else find_native_dir()
    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source(
        MODULE_NAME,
        '#include "radix.h"',
        sources=[str((native / name).resolve()) for name in NATIVE_SOURCES],
        include_dirs=[str(native.resolve())],
        extra_compile_args=[*DEFAULT_CFLAGS, *extra_compile_args],
        extra_link_args=list(extra_link_args),
        # The stable ABI (cffi's generated code only uses the limited API): one ``.abi3`` extension serves
        # every CPython from the wheel's floor (3.11) on. cffi ignores it where the limited API cannot be
        # used (debug and free-threaded builds), which then get a per-version extension.
        py_limited_api=True,
    )
    return ffi


def compile_extension(
    tmpdir: Path,
    native_dir: Path | None = None,
    *,
    extra_compile_args: Sequence[str] = (),
    extra_link_args: Sequence[str] = (),
) -> Path:
    """Compile the extension under ``tmpdir`` and return the path of the built shared object."""
    ffi = make_ffi(native_dir, extra_compile_args=extra_compile_args, extra_link_args=extra_link_args)
    built = ffi.compile(tmpdir=str(tmpdir), verbose=bool(os.environ.get("TACHYON_ROUTER_VERBOSE_BUILD")))
    return Path(built)


def install_extension(built: Path, dest: Path) -> Path:
    """Copy ``built`` into ``dest`` atomically: a process that has the old extension loaded keeps its
    mapping (overwriting a loaded shared object in place crashes it). Extensions of another name (an older
    per-version ``.cpython-3XX-....so``) are removed: the import system would prefer them to ``.abi3.so``."""
    target = dest / built.name
    staging = dest / f".{built.name}.{os.getpid()}.tmp"
    shutil.copy2(built, staging)
    os.replace(staging, target)
    for stale in dest.glob(f"{EXTENSION_NAME}.*"):
        if stale.suffix in (".so", ".pyd") and stale != target:
            stale.unlink()
    return target


def _main(argv: list[str]) -> int:
    import tempfile

    dest = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        built = compile_extension(Path(tmp))
        target = install_extension(built, dest)
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv))
