# Type stub of the compiled cffi extension (built from native/radix.c by _build.py).
from typing import Any

ffi: Any
lib: Any
