"""Build the Cython settlement kernels in ``ext/`` (metadata lives in pyproject.toml).

The kernel's inner loops are fixed-length loops over a tile of hours that the compiler
vectorises; ``-march=native`` lets it use the build machine's widest SIMD units. Set
``RE100SIM_PORTABLE=1`` to build a binary that runs on any x86-64 / arm64 machine instead.
"""
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

compile_args = ["-O3"]
if os.environ.get("RE100SIM_PORTABLE", "") in ("", "0"):
    compile_args.append("-march=native")

extensions = [
    Extension(
        "re100sim.ext._settle",
        ["ext/_settle.pyx"],
        include_dirs=[np.get_include()],
        extra_compile_args=compile_args,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    )
)
